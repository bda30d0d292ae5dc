"""What ``xner bench`` measures and how: its settings, its sentences, one measurement and its summary, FLOPs."""

from __future__ import annotations

import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from xner.evaluation.inference import predict
from xner.models.architectures import CPU_ARCHITECTURES, GPU_ARCHITECTURES
from xner.models.features import BATCHING, MICROBATCH_OVERHEAD_TOKENS, Encoded
from xner.runs import TrainSettings

logger = logging.getLogger(__name__)


TRAIN_PEERS: tuple[str, ...] = ("trainer", "trainer_grouped", "trainer_pad256")


# Peers too slow to time on a pretrained encoder on CPU, and not needed there: padding to 256
# costs the same whatever the weights.
RANDOM_INIT_ONLY_PEERS: tuple[str, ...] = ("trainer_pad256",)


# A pretrained encoder is fine-tuned for two epochs in the quality check (the standard recipe's
# budget), a randomly initialised one for ``quality_epochs``.
QUALITY_EPOCHS_PRETRAINED = 2


INFERENCE_PEERS: tuple[str, ...] = ("trainer_predict",)


PEER_HELP = {
    "xner": "xner's training loop with its default batching, each batch cut into micro-batches where that saves padding",
    "trainer": "Trainer, DataCollatorForTokenClassification, default random sampler",
    "trainer_grouped": 'Trainer, DataCollatorForTokenClassification, train_sampling_strategy="group_by_length"',
    "trainer_pad256": "Trainer, DataCollatorForTokenClassification padding every sentence to 256",
    "trainer_predict": "Trainer.predict with DataCollatorForTokenClassification, argmax on first sub-tokens",
}


@dataclass(frozen=True)
class BenchSettings:
    """What ``xner bench`` measures; zeros and empty tuples take the device's defaults."""

    device: str = "auto"
    architectures: tuple[str, ...] = ()  # CPU: small-bert; CUDA: the three base-size shapes
    train_sentences: int = 0  # CPU: 4000; CUDA: 16000 (the study's English training split)
    test_sentences: int = 0  # CPU: 4000; CUDA: the whole test set (10,000)
    val_sentences: int = 1000  # for the quality check
    batch_size: int = 64
    eval_batch_size: int = 64
    max_length: int = 256
    repetitions: int = 3
    lr: float = 0.0  # CPU: 1e-3 (a random small encoder); CUDA: 1e-4
    weight_decay: float = 0.01
    precision: str = "auto"  # bf16 on CUDA, fp32 on CPU
    quality_epochs: int = 3  # random-initialised encoders; pretrained ones train QUALITY_EPOCHS_PRETRAINED
    quality_seeds: int = 3
    quality_batch_size: int = 32
    quality: bool = True
    batchings: tuple[str, ...] = ()  # xner's batching policies to time and to check (default: all)
    peers: tuple[str, ...] = TRAIN_PEERS
    microbatch_overhead: int = -1  # xner's micro-batch cost (features.MICROBATCH_OVERHEAD_TOKENS if < 0)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("train_sentences", "test_sentences"):  # 0: the device's default
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, not {getattr(self, name)}")
        for name in ("val_sentences", "repetitions", "batch_size", "eval_batch_size", "quality_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)}")
        if self.quality and (self.quality_epochs < 1 or self.quality_seeds < 1):
            raise ValueError("quality_epochs and quality_seeds must be at least 1")

    def resolved(self, device: torch.device) -> BenchSettings:
        cuda = device.type == "cuda"
        return replace(
            self,
            architectures=self.architectures or (GPU_ARCHITECTURES if cuda else CPU_ARCHITECTURES),
            train_sentences=self.train_sentences or (16000 if cuda else 4000),
            test_sentences=self.test_sentences or (10**9 if cuda else 4000),
            lr=self.lr or (1e-4 if cuda else 1e-3),
            batchings=self.batchings or tuple(BATCHING),
            precision=self.precision if self.precision != "auto" else ("bf16" if cuda else "fp32"),
            microbatch_overhead=(
                self.microbatch_overhead
                if self.microbatch_overhead >= 0
                else MICROBATCH_OVERHEAD_TOKENS.get(device.type, 0)
            ),
        )


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

    parts = {
        "train": settings.train_sentences,
        "dev": settings.val_sentences,
        "test": settings.test_sentences,
    }
    root = Path(panx_dir) if panx_dir else None
    if root is not None and (root / "xtreme" / f"train-{lang}.tsv").exists():
        read = {split: read_panx_tsv(root / "xtreme" / f"{split}-{lang}.tsv") for split in parts}
        source = str(root / "xtreme")
    elif root is not None and (root / "panx_dataset" / f"{lang}.tar.gz").exists():
        archive = root / "panx_dataset" / f"{lang}.tar.gz"
        read = {split: read_archive_member(archive, split, lang) for split in parts}
        source = str(archive)
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
