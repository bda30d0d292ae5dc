"""The benchmark's quality check: the same recipe trained under each batching policy and by the Trainer."""

from __future__ import annotations

import logging
import math
import statistics
from collections.abc import Sequence
from dataclasses import replace

import torch

from xner.bench.measure import xner_predict, xner_settings
from xner.bench.trainer import make_trainer
from xner.evaluation.scoring import score
from xner.models.features import (
    encode,
)
from xner.runs import TrainSettings

logger = logging.getLogger(__name__)


def quality_check(
    model,
    init,
    tokenizer,
    data,
    train_enc,
    features,
    settings,
    device,
    work_dir,
    peers: Sequence[str] = ("trainer",),
    progress=logger.info,
) -> dict:
    """Validation F1 after ``quality_epochs`` epochs of xner's loop under each batching policy and of
    the Trainer peers, per seed, all from the same weights with the same hyperparameters
    (``quality_batch_size``), all scored by xner's word-level predict and seqeval.

    Verdicts: each policy against ``random`` (the standard sampler in the same loop)
    is within noise when the difference of the means is at most max(2 SE, 0.005);
    xner's default policy against the default Trainer, at most max(2 SE, 0.01).
    The standard error comes from the seeds' spread.
    """
    from xner.training.train import make_optimizer, train_one_epoch

    settings = replace(settings, batch_size=settings.quality_batch_size)
    val_enc = encode(tokenizer, *data.val, max_length=settings.max_length)
    pad_id = tokenizer.pad_token_id
    seeds = [settings.seed + 100 + k for k in range(settings.quality_seeds)]
    f1: dict[str, list[float]] = {f"xner_{b}": [] for b in settings.batchings} | {p: [] for p in peers}
    for seed in seeds:
        for batching in settings.batchings:
            model.load_state_dict(init)
            torch.manual_seed(seed)
            train_settings = xner_settings(settings, seed, batching)
            optimizer = make_optimizer(model, train_settings, device)
            for epoch in range(1, settings.quality_epochs + 1):
                train_one_epoch(
                    model,
                    optimizer,
                    train_enc,
                    train_settings,
                    epoch=epoch,
                    pad_id=pad_id,
                    device=device,
                    precision=settings.precision,
                    overhead_tokens=settings.microbatch_overhead,
                )
            f1[f"xner_{batching}"].append(_val_f1(model, val_enc, data, settings, device, pad_id))
        for peer in peers:
            model.load_state_dict(init)
            trainer, _ = make_trainer(
                model,
                tokenizer,
                features,
                replace(settings, seed=seed),
                device,
                work_dir,
                peer=peer,
                num_train_epochs=settings.quality_epochs,
            )
            trainer.train()
            f1[peer].append(_val_f1(model, val_enc, data, settings, device, pad_id))
        progress(f"quality seed {seed}: val F1 " + ", ".join(f"{k} {v[-1]:.4f}" for k, v in f1.items()))
    model.load_state_dict(init)
    default = f"xner_{TrainSettings().batching}"
    comparisons = []
    if "xner_random" in f1:
        comparisons += [
            (name, "xner_random", 0.005) for name in f1 if name.startswith("xner_") and name != "xner_random"
        ]
    if default in f1 and "trainer" in f1:
        comparisons.append((default, "trainer", 0.01))
    return {
        "epochs": settings.quality_epochs,
        "seeds": seeds,
        "batch_size": settings.batch_size,
        "lr": settings.lr,
        "val_sentences": len(data.val[0]),
        "default": default,
        "val_f1": f1,
        "mean": {k: statistics.fmean(v) for k, v in f1.items()},
        "std": {k: statistics.stdev(v) if len(v) > 1 else 0.0 for k, v in f1.items()},
        "comparisons": [compare_means(f1[a], f1[b], a, b, floor) for a, b, floor in comparisons],
    }


def compare_means(a: Sequence[float], b: Sequence[float], name_a: str, name_b: str, floor: float) -> dict:
    """Whether mean(a) and mean(b) agree within max(2 standard errors of the difference, ``floor``)."""
    std_a = statistics.stdev(a) if len(a) > 1 else 0.0
    std_b = statistics.stdev(b) if len(b) > 1 else 0.0
    standard_error = math.sqrt(std_a**2 / len(a) + std_b**2 / len(b))
    difference = statistics.fmean(a) - statistics.fmean(b)
    tolerance = max(2 * standard_error, floor)
    return {
        "policy": name_a,
        "reference": name_b,
        "difference": difference,
        "standard_error": standard_error,
        "tolerance": tolerance,
        "within_noise": abs(difference) <= tolerance,
    }


def _val_f1(model, val_enc, data, settings, device, pad_id) -> float:
    """Micro F1 on the validation sentences, predicted as ``xner evaluate`` predicts."""
    tags = xner_predict(model, val_enc, settings, device, pad_id).tags
    return score(data.val[1], tags)["micro"]["f1"]
