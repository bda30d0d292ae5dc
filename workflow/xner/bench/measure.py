"""How ``xner bench`` measures: its sentences, one measurement and its summary, FLOPs and model FLOPs
utilisation, and xner's own prediction and training settings for a benchmark."""

from __future__ import annotations

import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from xner.bench.settings import BenchSettings
from xner.evaluation.inference import predict
from xner.models.features import Encoded
from xner.runs import TrainSettings

logger = logging.getLogger(__name__)


@dataclass
class BenchData:
    """Sentences (tokens, tags) for training, validation and inference, and where they came from."""

    train: tuple[list[list[str]], list[list[str]]]
    val: tuple[list[list[str]], list[list[str]]]
    test: tuple[list[list[str]], list[list[str]]]
    source: str


def _sample(sentences, n: int, seed: int) -> tuple[list[list[str]], list[list[str]]]:
    """``n`` sentences drawn without replacement (in source order); all of them if fewer."""
    tokens, tags = sentences.tokens, sentences.tags
    if n < len(tokens):
        keep = np.sort(np.random.default_rng(seed).choice(len(tokens), size=n, replace=False))
        tokens, tags = [tokens[i] for i in keep], [tags[i] for i in keep]
    return list(tokens), list(tags)


def load_bench_data(panx_dir: str | Path | None, settings: BenchSettings, lang: str = "en") -> BenchData:
    """Real PAN-X sentences from ``panx_dir`` (``xtreme/{split}-en.tsv`` or ``panx_dataset/en.tar.gz``),
    else the synthetic demo sentences (:mod:`xner.synthetic.panx`), which the JSON then names as the source."""
    from xner.data.parse import Sentences, read_archive_member, read_panx_tsv
    from xner.data.sources import local_panx

    parts = {
        "train": settings.train_sentences,
        "dev": settings.val_sentences,
        "test": settings.test_sentences,
    }
    found = local_panx(panx_dir, lang) if panx_dir else None
    if found is not None and found.kind == "tsv_directory":
        read = {split: read_panx_tsv(Path(found.location) / f"{split}-{lang}.tsv") for split in parts}
        source = found.location
    elif found is not None:
        read = {split: read_archive_member(Path(found.location), split, lang) for split in parts}
        source = found.location
    else:
        from xner.synthetic.panx import generate_sentences

        read = {}
        for split, n in parts.items():
            sentences = generate_sentences(lang, split, min(n, 20000), settings.seed)
            read[split] = Sentences(
                [[w for w, _ in s] for s in sentences], [[t for _, t in s] for s in sentences]
            )
        source = "synthetic demo sentences (xner.synthetic.panx)"
    logger.info("bench data: %s", source)
    sampled = {split: _sample(read[split], n, settings.seed) for split, n in parts.items()}
    return BenchData(sampled["train"], sampled["dev"], sampled["test"], source)


def non_embedding_parameters(model) -> int:
    return sum(p.numel() for name, p in model.named_parameters() if "embeddings" not in name)


def model_flops(model, lengths: np.ndarray, training: bool) -> float:
    """Useful FLOPs: 2 per parameter and sub-token forward (6 with backward), plus each window's attention."""
    config = model.config
    params = non_embedding_parameters(model)
    lengths = np.asarray(lengths, dtype=np.float64)
    dense = 2 * params * lengths.sum()
    attention = 4 * config.num_hidden_layers * config.hidden_size * (lengths**2).sum()
    return float((dense + attention) * (3 if training else 1))


@dataclass
class Measurement:
    seconds: float
    tokens: int  # non-padding sub-tokens
    padded_tokens: int
    peak_mib: float
    loss: float = float("nan")
    tags: list[list[str]] | None = field(default=None, repr=False)


def xner_settings(settings: BenchSettings, seed: int, batching: str | None = None) -> TrainSettings:
    """xner's hyperparameters for the benchmark's settings; ``batching`` None is xner's default."""
    return TrainSettings(
        lr=settings.lr,
        batch_size=settings.batch_size,
        weight_decay=settings.weight_decay,
        max_length=settings.max_length,
        eval_batch_size=settings.eval_batch_size,
        precision=settings.precision,
        seed=seed,
        **({} if batching is None else {"batching": batching}),
    )


def spread(values: Sequence[float]) -> dict:
    return {
        "values": [float(v) for v in values],
        "median": float(statistics.median(values)),
        "min": float(min(values)),
        "max": float(max(values)),
    }


def summarize(measurements: list[Measurement], sentences: int, flops: float) -> dict:
    """One peer's timings; its ``mfu`` is added by :func:`add_mfu` once the peak rate is known."""
    seconds = [m.seconds for m in measurements]
    median = statistics.median(seconds)
    return {
        "seconds": spread(seconds),
        "sentences_per_second": sentences / median,
        "tokens_per_second": measurements[0].tokens / median,
        "tokens": measurements[0].tokens,
        "padded_tokens": measurements[0].padded_tokens,
        "padding_fraction": 1 - measurements[0].tokens / measurements[0].padded_tokens,
        "peak_memory_mib": max(m.peak_mib for m in measurements),
        "loss": [m.loss for m in measurements],
        "model_flops": flops,
    }


# the two measurements of the matrix-product rate differ by more than this factor: said in the report
MATMUL_DISAGREEMENT = 1.5


def matmul_summary(dtype: str, rates: Sequence[float]) -> dict:
    """The matrix-product rate measured before and after the timings; the peak is the higher.

    A machine that was slowed down while one of them ran (a noisy neighbour, a throttled core)
    gives a low rate, and MFU against it would read above 100 %: the higher is the better estimate
    of what the machine can do, and a large disagreement is reported rather than hidden.
    """
    peak = max(rates)
    return {
        "dtype": dtype,
        "flops_per_second": peak,
        "measurements": [float(r) for r in rates],
        "consistent": peak <= MATMUL_DISAGREEMENT * min(rates),
    }


def add_mfu(architectures: dict, peak_rate: float) -> None:
    """Set each summary's model FLOPs utilisation: its model FLOPs per median second over ``peak_rate``."""
    for arch in architectures.values():
        for task in ("train", "inference"):
            for summary in arch[task].values():
                summary["mfu"] = summary["model_flops"] / summary["seconds"]["median"] / peak_rate


def xner_predict(model, encoded: Encoded, settings: BenchSettings, device, pad_id: int):
    """xner's word-level prediction (:func:`xner.evaluation.inference.predict`) with the benchmark's settings."""
    return predict(
        model,
        encoded,
        batch_size=settings.eval_batch_size,
        pad_id=pad_id,
        device=device,
        precision=settings.precision,
        overhead_tokens=settings.microbatch_overhead,
    )
