"""The GPU code paths (marker cuda, run by `make gpu-check`; skipped without a GPU): a bf16 training step,
fused AdamW, predictions equal to the CPU's, and a run killed in its second epoch resuming on the GPU."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import ROOT
from xner.io import sentences_table, write_parquet
from xner.synthetic.models import TinyModelSettings, build_tiny_model
from xner.synthetic.panx import generate_sentences

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Train, val and test tables (enough sentences for a GPU epoch of seconds) and a tiny model."""
    root = tmp_path_factory.mktemp("cuda")
    tables = {}
    for split, n in (("train", 6000), ("val", 300), ("test", 1000)):
        sentences = generate_sentences("en", split, n, seed=7)
        tokens, tags = [[t for t, _ in s] for s in sentences], [[g for _, g in s] for s in sentences]
        tables[root / f"{split}.parquet"] = sentences_table(list(range(n)), "en", tokens, tags)
    write_parquet(tables)
    words = tables[root / "train.parquet"].column("tokens").to_pylist()
    build_tiny_model(words, root / "tiny", TinyModelSettings(seed=0))
    return root


def test_a_bf16_training_step_with_fused_adamw_changes_the_weights(corpus):
    from xner.device import forward_loss, prepare_device
    from xner.io import read_sentences
    from xner.models.features import collate, encode
    from xner.models.loading import load_model, load_tokenizer
    from xner.runs import TrainSettings
    from xner.training.train import make_optimizer

    device, precision = prepare_device("cuda", "auto")
    assert precision == "bf16" and torch.backends.cuda.matmul.allow_tf32
    tokenizer = load_tokenizer(str(corpus / "tiny"))
    model = load_model(str(corpus / "tiny"), seed=0).to(device)
    optimizer = make_optimizer(model, TrainSettings(lr=1e-3), device)
    assert optimizer.defaults["fused"] is True
    table = read_sentences(corpus / "train.parquet")
    encoded = encode(
        tokenizer, table.column("tokens").to_pylist()[:32], table.column("tags").to_pylist()[:32]
    )
    batch = collate(encoded, np.arange(len(encoded)), tokenizer.pad_token_id, 8)
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    logits, loss = forward_loss(model, batch, device, precision)  # under bf16 autocast
    assert logits.dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    optimizer.step()
    changed = [k for k, v in model.named_parameters() if not torch.equal(v, before[k])]
    assert len(changed) == len(before)


def test_predictions_on_the_gpu_equal_the_cpus(corpus):
    from xner.evaluation.inference import predict
    from xner.io import read_sentences
    from xner.models.features import encode
    from xner.models.loading import load_model, load_tokenizer

    tokenizer = load_tokenizer(str(corpus / "tiny"))
    model = load_model(str(corpus / "tiny"), seed=0)
    table = read_sentences(corpus / "test.parquet")
    encoded = encode(tokenizer, table.column("tokens").to_pylist(), None, max_length=64)
    cpu = predict(model, encoded, batch_size=64, pad_id=tokenizer.pad_token_id, device=torch.device("cpu"))
    gpu = predict(
        model.to("cuda"), encoded, batch_size=64, pad_id=tokenizer.pad_token_id, device=torch.device("cuda")
    )  # bf16 autocast, padding to multiples of 8
    words = [(a, b) for s, t in zip(cpu.tags, gpu.tags) for a, b in zip(s, t)]
    assert sum(a == b for a, b in words) / len(words) >= 0.995


def _train(corpus: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "xner", "train", "--model-path", str(corpus / "tiny"),
        "--train", str(corpus / "train.parquet"), "--val", str(corpus / "val.parquet"), "--out-dir", str(out),
        "--lr", "2e-3", "--batch-size", "8", "--epochs", "3", "--max-length", "64", "--seed", "5",
        "--device", "cuda",
    ]  # fmt: skip


def test_a_run_killed_in_its_second_epoch_resumes_on_the_gpu_to_the_same_result(corpus, tmp_path):
    import csv

    env = {**os.environ, "PYTHONPATH": str(ROOT / "workflow")}
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(_train(corpus, whole), env=env, check=True, capture_output=True)
    process = subprocess.Popen(_train(corpus, killed), env=env, stderr=subprocess.DEVNULL)
    checkpoint = killed / "resume" / "checkpoint.pt"
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.3)  # inside epoch 2 (of seconds, at 750 steps)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert torch.load(checkpoint, weights_only=True)["epoch"] == 1, "the kill must land in epoch 2"
    again = subprocess.run(_train(corpus, killed), env=env, check=True, capture_output=True, text=True)
    assert "resuming after epoch 1" in again.stderr

    def history(run: Path) -> list[dict]:
        with open(run / "history.csv") as f:
            return list(csv.DictReader(f))

    a, b = history(whole), history(killed)
    assert [r["epoch"] for r in a] == [r["epoch"] for r in b]
    for x, y in zip(a, b):  # bf16 kernels need not be bit-reproducible
        assert float(x["val_loss"]) == pytest.approx(float(y["val_loss"]), rel=0.02, abs=1e-3)
    best = [
        int(__import__("json").loads((r / "summary.json").read_text())["best_epoch"]) for r in (whole, killed)
    ]
    assert best[0] == best[1]
