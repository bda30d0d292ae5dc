"""xner.training.train on a tiny model: selection of the best epoch, early stopping, learning-rate reduction,
frozen encoder, resume after a kill, and that training learns at all."""

from __future__ import annotations

import copy
import csv
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import xner.training.train
from conftest import ROOT
from xner.evaluation.evaluate import evaluate_run
from xner.evaluation.inference import Prediction
from xner.io import sentences_table, write_parquet
from xner.models.features import BATCHING, IGNORE
from xner.models.loading import load_model
from xner.synthetic.models import TinyModelSettings, build_tiny_model
from xner.synthetic.panx import generate_sentences
from xner.training.train import RunData, TrainSettings, load_run_data, train

FAST = TrainSettings(lr=2e-3, batch_size=16, epochs=3, patience=3, max_length=64, eval_batch_size=64, seed=1)


def as_lists(sentences):
    return [[t for t, _ in s] for s in sentences], [[g for _, g in s] for s in sentences]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Synthetic train/val/test tables for en and de, and a tiny model built on them."""
    root = tmp_path_factory.mktemp("corpus")
    tables = {}
    for lang in ("en", "de"):
        for split, n in (("train", 400), ("val", 100), ("test", 150)):
            tokens, tags = as_lists(generate_sentences(lang, split, n, seed=3))
            tables[root / lang / f"{split}.parquet"] = sentences_table(list(range(n)), lang, tokens, tags)
    write_parquet(tables)
    build_tiny_model(
        [
            t
            for (path, table) in tables.items()
            if path.stem == "train"
            for t in table.column("tokens").to_pylist()
        ],
        root / "tiny",
        TinyModelSettings(seed=0),
    )
    return root


def run_data(corpus: Path, langs=("en",)) -> RunData:
    return load_run_data(
        [corpus / lang / "train.parquet" for lang in langs],
        [corpus / lang / "val.parquet" for lang in langs],
        {},
    )


def read_history(path: Path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f))


def scripted_predict(losses):
    """A stand-in for xner.training.train.predict that returns the given validation losses, one per call."""
    it = iter(losses)

    def fake(model, encoded, **kwargs):
        tags = [["O"] * int(n) for n in encoded.n_words]
        probabilities = [np.ones(int(n)) for n in encoded.n_words]
        return Prediction(tags=tags, loss=next(it), seconds=0.0, tokens=0, probabilities=probabilities)

    return fake


@pytest.mark.slow
def test_early_stopping_and_lr_reduction_on_scripted_losses(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(xner.training.train, "predict", scripted_predict([1.0, 0.8, 0.9, 0.85, 0.95, 0.5]))
    settings = replace(FAST, epochs=10, patience=3, lr_patience=1, lr_factor=0.1)
    summary = train(str(corpus / "tiny"), run_data(corpus), tmp_path, settings)
    history = read_history(tmp_path / "history.csv")
    # epoch 2 is best; epochs 3, 4, 5 are worse: early stop after epoch 5 (never sees the 0.5)
    assert [int(r["epoch"]) for r in history] == [1, 2, 3, 4, 5]
    assert (summary["best_epoch"], summary["epochs_run"], summary["early_stopped"]) == (2, 5, True)
    # ReduceLROnPlateau(patience=1): the second bad epoch in a row (4) cuts the rate for epoch 5
    assert [float(r["lr"]) for r in history] == pytest.approx([2e-3, 2e-3, 2e-3, 2e-3, 2e-4])
    assert [float(r["val_loss"]) for r in history] == [1.0, 0.8, 0.9, 0.85, 0.95]


@pytest.mark.slow
def test_the_best_epoch_is_restored_not_the_last(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(xner.training.train, "predict", scripted_predict([1.0, 0.5, 0.9, 0.95]))
    snapshots = []
    original = xner.training.train.train_one_epoch

    def recording(model, *args, **kwargs):
        result = original(model, *args, **kwargs)
        snapshots.append(copy.deepcopy(model.state_dict()))
        return result

    monkeypatch.setattr(xner.training.train, "train_one_epoch", recording)
    summary = train(str(corpus / "tiny"), run_data(corpus), tmp_path, replace(FAST, epochs=4, patience=5))
    assert summary["best_epoch"] == 2 and summary["epochs_run"] == 4
    saved = load_model(tmp_path / "model").state_dict()
    assert all(torch.equal(saved[k], snapshots[1][k].cpu()) for k in saved)
    assert not all(torch.equal(saved[k], snapshots[3][k].cpu()) for k in saved)


@pytest.mark.slow
def test_frozen_encoder_leaves_encoder_weights_bit_identical(corpus, tmp_path):
    summary = train(
        str(corpus / "tiny"), run_data(corpus), tmp_path, replace(FAST, epochs=1, freeze_encoder=True)
    )
    before = load_model(corpus / "tiny")
    after = load_model(tmp_path / "model")
    assert summary["trainable_parameters"] < summary["total_parameters"] / 10
    prefix = after.base_model_prefix
    encoder = [k for k in after.state_dict() if k.startswith(prefix)]
    head = [k for k in after.state_dict() if not k.startswith(prefix)]
    assert encoder and head
    assert all(torch.equal(after.state_dict()[k], before.state_dict()[k]) for k in encoder)
    assert not all(torch.equal(after.state_dict()[k], before.state_dict()[k]) for k in head)


@pytest.mark.slow
def test_a_tiny_run_clearly_beats_an_untrained_model(corpus, tmp_path):
    data = run_data(corpus, ("en", "de"))
    train(str(corpus / "tiny"), data, tmp_path / "run", replace(FAST, epochs=6))
    scores = {}
    for name, model_dir in (("trained", tmp_path / "run" / "model"), ("untrained", corpus / "tiny")):
        evaluate_run(
            model_dir,
            {"en": corpus / "en" / "test.parquet"},
            tmp_path / name,
            info={},
            split="dev",
            max_length=64,
        )
        scores[name] = json.loads((tmp_path / name / "en.json").read_text())["micro"]["f1"]
    assert scores["trained"] > 0.5
    assert scores["trained"] > scores["untrained"] + 0.4, scores


@pytest.mark.slow
def test_saved_run_loads_with_transformers_and_pipeline(corpus, tmp_path):
    from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

    summary = train(str(corpus / "tiny"), run_data(corpus), tmp_path, replace(FAST, epochs=1))
    model = AutoModelForTokenClassification.from_pretrained(tmp_path / "model")
    assert list(model.config.id2label.values()) == ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    tagger = pipeline(
        "token-classification", model=model, tokenizer=AutoTokenizer.from_pretrained(tmp_path / "model")
    )
    assert isinstance(tagger("Anna visited Berlin ."), list)
    assert summary["versions"]["torch"] == torch.__version__
    assert summary["hyperparameters"]["lr"] == FAST.lr
    train_table, val_table = (str(corpus / "en" / f"{split}.parquet") for split in ("train", "val"))
    assert summary["data"]["tables"] == {train_table: 400, val_table: 100}
    assert not (tmp_path / "resume").exists()  # the resume checkpoint is removed once the run is saved


def _train_command(corpus: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "xner", "train", "--model-path", str(corpus / "tiny"),
        "--train", str(corpus / "en" / "train.parquet"), str(corpus / "de" / "train.parquet"),
        "--val", str(corpus / "en" / "val.parquet"), "--out-dir", str(out),
        "--lr", "2e-3", "--batch-size", "8", "--epochs", "3", "--max-length", "64", "--seed", "5",
    ]  # fmt: skip


@pytest.mark.slow
def test_a_run_killed_in_its_second_epoch_resumes_to_the_same_result(corpus, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "workflow"), "OMP_NUM_THREADS": "1"}
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(_train_command(corpus, whole), env=env, check=True, capture_output=True)

    process = subprocess.Popen(_train_command(corpus, killed), env=env, stderr=subprocess.PIPE, text=True)
    checkpoint = killed / "resume" / "checkpoint.pt"
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # well inside epoch 2
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert torch.load(checkpoint, weights_only=True)["epoch"] == 1, "the kill must land in epoch 2"
    assert not (killed / "history.csv").exists()

    again = subprocess.run(
        _train_command(corpus, killed), env=env, check=True, capture_output=True, text=True
    )
    assert "resuming after epoch 1" in again.stderr
    columns = ("epoch", "train_loss", "val_loss", "val_f1", "lr")
    rows = [[{c: r[c] for c in columns} for r in read_history(d / "history.csv")] for d in (whole, killed)]
    assert rows[0] == rows[1]
    a, b = (load_model(d / "model").state_dict() for d in (whole, killed))
    assert all(torch.equal(a[k], b[k]) for k in a)

    # TensorBoard shows one curve per run: the killed job's steps past its checkpoint are dropped
    from test_events import read_scalars

    curves = [read_scalars(d) for d in (whole, killed)]
    assert curves[0] == curves[1]
    steps = [step for step, _ in curves[0]["train/loss"]]
    assert steps == list(range(1, len(steps) + 1))
    assert {"epoch/train_loss", "epoch/val_loss", "epoch/val_f1", "epoch/lr"} <= set(curves[0])
    assert [step for step, _ in curves[0]["epoch/val_f1"]][-1] == steps[-1]  # the epoch's last step
    assert len(curves[0]["epoch/val_f1"]) == 3


@pytest.mark.slow
def test_tracked_test_languages_are_recorded_but_never_select_the_model(corpus, tmp_path, monkeypatch):
    # Per epoch, predict() is called for val, then for each tracked language.
    monkeypatch.setattr(xner.training.train, "predict", scripted_predict([0.5, 9.0, 0.9, 0.01, 0.95, 0.001]))
    data = load_run_data(
        [corpus / "en" / "train.parquet"],
        [corpus / "en" / "val.parquet"],
        {"de": corpus / "de" / "test.parquet"},
    )
    summary = train(str(corpus / "tiny"), data, tmp_path, replace(FAST, epochs=3, patience=5))
    history = read_history(tmp_path / "history.csv")
    assert [float(r["test_de_loss"]) for r in history] == [9.0, 0.01, 0.001]
    assert "test_de_f1" in history[0]
    assert summary["best_epoch"] == 1  # by val loss alone


def _without_dropout(model):
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    return model


@pytest.mark.slow
@pytest.mark.parametrize("batching", list(BATCHING))
def test_micro_batches_take_the_same_step_as_whole_batches(corpus, batching):
    """Under every batching policy, micro-batches (gradients accumulated) change no step, dropout aside."""
    from xner.models.features import encode
    from xner.models.loading import load_tokenizer
    from xner.training.train import epoch_plan, train_one_epoch

    tokenizer = load_tokenizer(corpus / "tiny")
    tokens, tags = run_data(corpus).train
    # a few long sentences among short ones, so that batches do split
    tokens = [t * (6 if i % 50 == 0 else 1) for i, t in enumerate(tokens)]
    tags = [t * (6 if i % 50 == 0 else 1) for i, t in enumerate(tags)]
    encoded = encode(tokenizer, tokens, tags, max_length=128)
    settings = replace(FAST, batch_size=32, lr=1e-3, batching=batching)
    cpu = torch.device("cpu")
    split_plan = epoch_plan(encoded, settings, 1, cpu, overhead_tokens=0)
    assert any(len(batch) > 1 for batch in split_plan)
    assert all(len(batch) == 1 for batch in epoch_plan(encoded, settings, 1, cpu, overhead_tokens=10**9))

    weights, losses = [], []
    for overhead in (0, 10**9):
        model = _without_dropout(load_model(corpus / "tiny", seed=0))
        optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr)
        loss, _, _ = train_one_epoch(
            model,
            optimizer,
            encoded,
            settings,
            epoch=1,
            pad_id=tokenizer.pad_token_id,
            device=cpu,
            precision="fp32",
            overhead_tokens=overhead,
        )
        weights.append(model.state_dict())
        losses.append(loss)
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    for key in weights[0]:
        torch.testing.assert_close(weights[0][key], weights[1][key], rtol=1e-4, atol=1e-5, msg=key)
    # and the step really moved the weights
    start = load_model(corpus / "tiny", seed=0).state_dict()
    assert not torch.allclose(weights[0]["classifier.weight"], start["classifier.weight"])


def test_the_sentences_read_from_each_table_are_recorded(tmp_path):
    tables = {
        tmp_path / "en" / "train@3.parquet": 3,
        tmp_path / "de" / "train.parquet": 5,
        tmp_path / "en" / "val@3.parquet": 1,
        tmp_path / "sw" / "test.parquet": 2,
    }
    write_parquet(
        {path: sentences_table(list(range(n)), "en", [["a"]] * n, [["O"]] * n) for path, n in tables.items()}
    )
    paths = list(tables)
    data = load_run_data(paths[:2], paths[2:3], {"sw": paths[3]})
    assert data.tables == {str(path): n for path, n in list(tables.items())[:3]}  # tracked tests aside
    assert data.sizes["train"]["sentences"] == 8 and data.sizes["test_sw"]["sentences"] == 2


def test_loss_divisors_per_batch_or_per_epoch():
    from xner.models.features import Encoded
    from xner.training.train import batch_label_counts, loss_divisors

    def window(labelled: int) -> np.ndarray:
        return np.array([IGNORE] + [0] * labelled + [IGNORE])

    labels = [window(n) for n in (1, 1, 10, 10, 0)]
    encoded = Encoded([np.zeros(len(x)) for x in labels], labels, [], np.arange(5), np.ones(5))
    batches = [[np.array([0, 1])], [np.array([2]), np.array([3])], [np.array([4])]]
    # the usual mean per batch: a short batch's words weigh ten times more
    assert loss_divisors(batch_label_counts(encoded, batches), per_epoch_mean=False) == [2.0, 20.0, 1.0]
    # the epoch's mean per batch: 22 labelled sub-tokens over 3 batches, every word alike
    assert loss_divisors(batch_label_counts(encoded, batches), per_epoch_mean=True) == [22 / 3] * 3


class Payload:
    """Pickles to a call of ``os.system``: what a planted checkpoint could do under weights_only=False."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _fresh_objects(corpus: Path):
    model = load_model(corpus / "tiny", seed=0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
    return model, optimizer, scheduler


def test_a_checkpoint_that_would_run_code_is_ignored_and_runs_none(corpus, tmp_path, caplog):
    from xner.training.train import resume

    marker = tmp_path / "ran"
    path = tmp_path / "checkpoint.pt"
    torch.save({"key": "k", "epoch": 1, "payload": Payload(marker)}, path)
    model, optimizer, scheduler = _fresh_objects(corpus)
    assert resume(path, "k", model, optimizer, scheduler, torch.device("cpu")) is None
    assert not marker.exists()
    assert "does not load safely" in caplog.text


def test_a_checkpoint_for_another_model_is_ignored_and_never_half_applied(corpus, tmp_path, caplog):
    from xner.training.train import EarlyStopping, resume

    model, optimizer, scheduler = _fresh_objects(corpus)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    good = {
        "key": "k",
        "epoch": 1,
        "model": {k: v + 1 for k, v in state.items()},
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "stopper": {"patience": 3, "best_loss": 0.5, "best_epoch": 1, "bad_epochs": 0},
        "best_state": state,
        "history": [{"epoch": 1, "val_loss": 0.5}],
        "rng_cpu": torch.get_rng_state(),
        "rng_cuda": None,
    }
    path = tmp_path / "checkpoint.pt"
    cpu = torch.device("cpu")
    # the weights load, then the optimizer does not: the model must be put back
    torch.save({**good, "optimizer": {"state": {}, "param_groups": []}}, path)
    assert resume(path, "k", model, optimizer, scheduler, cpu) is None
    assert all(torch.equal(model.state_dict()[k], state[k]) for k in state)
    assert "does not fit this run" in caplog.text
    # made for other settings: ignored as such
    torch.save({**good, "key": "other"}, path)
    assert resume(path, "k", model, optimizer, scheduler, cpu) is None
    assert "made for other settings or data" in caplog.text
    # a checkpoint of this run resumes, read with weights_only=True
    torch.save(good, path)
    epoch, stopper, best, history = resume(path, "k", model, optimizer, scheduler, cpu)
    assert (epoch, stopper, history) == (1, EarlyStopping(3, 0.5, 1, 0), [{"epoch": 1, "val_loss": 0.5}])
    assert all(torch.equal(model.state_dict()[k], state[k] + 1) for k in state)


def test_step_means_split_the_micro_batch_sums_by_step():
    from xner.training.train import step_means

    # three steps: one micro-batch, two, and one without labelled sub-tokens (adds nothing, no division by 0)
    assert step_means([4.0, 1.0, 2.0, 0.0], [(1, 2), (2, 3), (1, 0)]) == [2.0, 1.0, 0.0]
    assert step_means([], []) == []
