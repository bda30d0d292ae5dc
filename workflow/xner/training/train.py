"""Fine-tuning one run (``results/runs/{model}/{langs}/{variant}/``).

The semantics are the study's: AdamW, early stopping on validation loss, and
ReduceLROnPlateau on validation loss; at the end the weights of the best epoch
(lowest validation loss) are restored from a real copy, not from a reference to
the live weights, and saved. Validation F1 is computed every epoch like the test
scores (strict IOB2 on words). Test languages can be tracked every epoch
(``track_test_langs``) but never steer model selection.

It is fast by default: batches (random by default; ``batching`` chooses), each
computed in micro-batches of similar length that waste little on padding,
fused AdamW, bf16 autocast and TF32 on CUDA, and no host synchronisation per
step beyond what the progress bar shows.

At the end of every epoch a checkpoint (model, optimizer, scheduler, early
stopping, best weights, history, random states) goes to ``resume/checkpoint.pt``
in the run directory; a job killed and started again continues from its last
completed epoch and, on CPU, ends with the same scores as an uninterrupted run.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import logging
import math
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from xner import __version__
from xner.device import device_name, forward_loss, library_versions, prepare_device
from xner.evaluation.inference import predict
from xner.evaluation.scoring import score
from xner.io import atomic_directory, atomic_path, read_sentences, write_json
from xner.labels import LABELS
from xner.models.card import write_card
from xner.models.features import (
    MICROBATCH_OVERHEAD_TOKENS,
    Encoded,
    batching_policy,
    collate,
    encode,
    microbatches,
    pad_multiple,
    training_batches,
)
from xner.models.loading import count_parameters, freeze_encoder, load_model, load_tokenizer
from xner.runs import TrainSettings
from xner.training.embedding_backward import one_embedding_backward
from xner.training.events import EVENTS_PREFIX, EventWriter

logger = logging.getLogger(__name__)

CHECKPOINT = "resume/checkpoint.pt"


@dataclass
class EarlyStopping:
    """Stop after ``patience`` epochs in a row without a lower validation loss."""

    patience: int
    best_loss: float = math.inf
    best_epoch: int = 0
    bad_epochs: int = 0

    def step(self, loss: float, epoch: int) -> bool:
        """Record an epoch's loss; return whether it is the best so far."""
        if loss < self.best_loss:
            self.best_loss, self.best_epoch, self.bad_epochs = loss, epoch, 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.bad_epochs >= self.patience


@dataclass
class RunData:
    """The sentences of a run: training and validation mixtures, and tracked test languages."""

    train: tuple[list[list[str]], list[list[str]]]
    val: tuple[list[list[str]], list[list[str]]]
    tracked: dict[str, tuple[list[list[str]], list[list[str]]]] = field(default_factory=dict)
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    # sentences read from each table of the training and validation mixtures, by path as given
    tables: dict[str, int] = field(default_factory=dict)


def load_run_data(train: Sequence[Path], val: Sequence[Path], tracked: Mapping[str, Path]) -> RunData:
    """Read and concatenate the split tables (in the order given)."""
    sizes: dict[str, dict[str, int]] = {}
    tables: dict[str, int] = {}

    def read(paths: Sequence[Path], name: str, record: bool = True):
        tokens, tags = [], []
        for path in paths:
            table = read_sentences(path)
            tokens += table.column("tokens").to_pylist()
            tags += table.column("tags").to_pylist()
            if record:
                tables[str(path)] = table.num_rows
        sizes[name] = {"sentences": len(tokens), "words": sum(map(len, tokens))}
        return tokens, tags

    return RunData(
        train=read(train, "train"),
        val=read(val, "val"),
        tracked={lang: read([path], f"test_{lang}", record=False) for lang, path in tracked.items()},
        sizes=sizes,
        tables=tables,
    )


def make_optimizer(model, settings: TrainSettings, device: torch.device) -> torch.optim.Optimizer:
    """AdamW over the trainable parameters, fused (one kernel for all of them) on CUDA and CPU."""
    return torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=settings.lr,
        weight_decay=settings.weight_decay,
        fused=device.type in ("cuda", "cpu"),
    )


def fingerprint(model_path: str, settings: TrainSettings, inputs: Sequence[Path]) -> str:
    """What a checkpoint must match to be resumed: model, hyperparameters, input bytes."""
    digest = hashlib.sha256(json.dumps([model_path, asdict(settings)], sort_keys=True).encode())
    for path in inputs:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def train(
    model_path: str,
    data: RunData,
    out_dir: str | Path,
    settings: TrainSettings,
    *,
    device: str = "auto",
    run_info: Mapping | None = None,
    resume_key: str = "",
    load_from: str | None = None,
) -> dict:
    """Fine-tune ``model_path`` on ``data``; write ``model/``, ``history.csv`` and ``summary.json`` to out_dir.

    Returns the summary. ``resume_key`` (see :func:`fingerprint`) guards the resume
    checkpoint: one made for other settings or data is not resumed. ``load_from``
    is where to load ``model_path`` from when that is elsewhere (the directory its
    manifest records, see :mod:`xner.models.hub`).
    """
    out_dir = Path(out_dir)
    wall_start = time.perf_counter()
    dev, precision = prepare_device(device, settings.precision)
    torch.manual_seed(settings.seed)

    # Model and data
    tokenizer = load_tokenizer(load_from or model_path)
    model = load_model(load_from or model_path, from_scratch=settings.from_scratch).to(dev)
    if settings.freeze_encoder:
        freeze_encoder(model)
    trainable, total = count_parameters(model)
    logger.info("%s on %s (%s): %d of %d parameters trainable", model_path, dev, precision, trainable, total)
    pad_id = tokenizer.pad_token_id
    train_enc = encode(tokenizer, *data.train, max_length=settings.max_length)
    val_enc = encode(tokenizer, *data.val, max_length=settings.max_length)
    tracked_enc = {
        lang: encode(tokenizer, *sents, max_length=settings.max_length)
        for lang, sents in data.tracked.items()
    }
    logger.info(
        "train: %d windows, %d sub-tokens; val: %d windows", len(train_enc), train_enc.n_tokens, len(val_enc)
    )

    optimizer = make_optimizer(model, settings, dev)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=settings.lr_factor, patience=settings.lr_patience
    )
    stopper = EarlyStopping(settings.patience)
    history: list[dict] = []
    best_state: dict[str, torch.Tensor] | None = None
    first_epoch = 1

    # Resume from the last completed epoch, if a checkpoint for this very run exists
    checkpoint_path = out_dir / CHECKPOINT
    resumed = resume(checkpoint_path, resume_key, model, optimizer, scheduler, dev)
    if resumed is not None:
        last_epoch, stopper, best_state, history = resumed
        first_epoch = last_epoch + 1
        logger.info("resuming after epoch %d from %s", last_epoch, checkpoint_path)

    # TensorBoard: train loss per step, the epoch's numbers at its last step (global optimiser steps)
    if resumed is None:
        for old in out_dir.glob(f"{EVENTS_PREFIX}*"):  # an earlier run's curves
            old.unlink()
    events = EventWriter(out_dir)
    global_step = sum(len(epoch_plan(train_enc, settings, e, dev)) for e in range(1, first_epoch))
    if resumed is not None:
        events.session_start(global_step + 1)

    def log_step_losses(losses: list[float]) -> None:
        nonlocal global_step
        for loss in losses:
            global_step += 1
            events.scalars(global_step, {"train/loss": loss})

    for epoch in range(first_epoch, settings.epochs + 1):
        if history and stopper.should_stop:
            break
        epoch_start = time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]
        train_loss, tokens, train_seconds = train_one_epoch(
            model,
            optimizer,
            train_enc,
            settings,
            epoch=epoch,
            pad_id=pad_id,
            device=dev,
            precision=precision,
            on_step_losses=log_step_losses,
        )

        val = predict(
            model,
            val_enc,
            batch_size=settings.eval_batch_size,
            pad_id=pad_id,
            device=dev,
            precision=precision,
        )
        val_f1 = score(data.val[1], val.tags)["micro"]["f1"]
        row = {"epoch": epoch, "train_loss": train_loss, "val_loss": val.loss, "val_f1": val_f1, "lr": lr}
        for lang, enc in tracked_enc.items():
            test = predict(
                model,
                enc,
                batch_size=settings.eval_batch_size,
                pad_id=pad_id,
                device=dev,
                precision=precision,
            )
            row[f"test_{lang}_loss"] = test.loss
            row[f"test_{lang}_f1"] = score(data.tracked[lang][1], test.tags)["micro"]["f1"]

        scheduler.step(val.loss)
        if stopper.step(val.loss, epoch):
            # A real copy: later epochs must not change the best weights.
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        row["seconds"] = time.perf_counter() - epoch_start
        row["tokens_per_second"] = tokens / train_seconds if train_seconds else float("nan")
        history.append(row)
        events.scalars(
            global_step,
            {
                "epoch/train_loss": train_loss,
                "epoch/val_loss": val.loss,
                "epoch/val_f1": val_f1,
                "epoch/lr": lr,
                **{f"epoch/test_{lang}_f1": row[f"test_{lang}_f1"] for lang in tracked_enc},
            },
        )
        logger.info(
            "epoch %d: train loss %.4f, val loss %.4f, val F1 %.4f, lr %.2e, %.1f s%s",
            epoch,
            train_loss,
            val.loss,
            val_f1,
            lr,
            row["seconds"],
            " (best)" if stopper.best_epoch == epoch else "",
        )
        save_checkpoint(
            checkpoint_path,
            {
                "key": resume_key,
                "epoch": epoch,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "stopper": asdict(stopper),
                "best_state": best_state,
                "history": history,
                "rng_cpu": torch.get_rng_state(),
                "rng_cuda": torch.cuda.get_rng_state_all() if dev.type == "cuda" else None,
            },
        )

    events.close()

    # Restore the best epoch and save it
    assert best_state is not None, "no epoch was trained"
    model.load_state_dict(best_state)
    early_stopped = stopper.should_stop and len(history) < settings.epochs
    summary = {
        **(run_info or {}),
        "model_path": model_path,
        "best_epoch": stopper.best_epoch,
        "best_val_loss": stopper.best_loss,
        "best_val_f1": history[stopper.best_epoch - 1]["val_f1"],
        "epochs_run": len(history),
        "early_stopped": early_stopped,
        "trainable_parameters": trainable,
        "total_parameters": total,
        "wall_seconds": time.perf_counter() - wall_start,
        "device_name": device_name(dev),
        "device_type": dev.type,
        "precision": precision,
        "hyperparameters": asdict(settings),
        "data": {
            **data.sizes,
            "tables": data.tables,
            "train_windows": len(train_enc),
            "train_subtokens": train_enc.n_tokens,
            "windowed_sentences": train_enc.windowed_sentences,
        },
        "versions": versions(),
        "labels": list(LABELS),
    }
    save_run(out_dir, model, tokenizer, history, summary)
    shutil.rmtree(checkpoint_path.parent, ignore_errors=True)
    return summary


def train_one_epoch(
    model,
    optimizer,
    encoded: Encoded,
    settings: TrainSettings,
    *,
    epoch: int,
    pad_id: int,
    device,
    precision: str,
    overhead_tokens: int | None = None,
    on_step_losses: Callable[[list[float]], None] | None = None,
) -> tuple[float, int, float]:
    """One pass over the training windows; returns mean loss per labelled sub-token, tokens, seconds.

    ``on_step_losses`` receives each step's mean loss per labelled sub-token, in order, a few
    steps at a time (where the progress bar synchronises with the device anyway).

    Each batch is one optimiser step, computed in micro-batches of similar length
    (:func:`xner.models.features.microbatches`; ``overhead_tokens`` defaults to the
    device's :data:`MICROBATCH_OVERHEAD_TOKENS`) whose gradients add up to the
    whole batch's; the word-embedding gradient is written once per step
    (:func:`xner.training.embedding_backward.one_embedding_backward`).
    """
    model.train()
    start = time.perf_counter()
    batches = epoch_plan(encoded, settings, epoch, device, overhead_tokens)
    multiple = pad_multiple(device.type)
    loss_sum = torch.zeros((), device=device)
    label_count = 0
    tokens = int(encoded.lengths.sum())
    params = [p for p in model.parameters() if p.requires_grad]
    counts = batch_label_counts(encoded, batches)
    divisors = loss_divisors(counts, batching_policy(settings.batching).per_epoch_mean)
    seen = 0
    # the steps' loss tensors, kept until the next synchronisation: (their micro-batches' sums, labels)
    pending: list[torch.Tensor] = []
    pending_steps: list[tuple[int, int]] = []
    bar = tqdm(batches, desc=f"epoch {epoch}", unit="batch", mininterval=1 if sys.stderr.isatty() else 30)
    for step, batch in enumerate(bar, start=1):
        seen += sum(int(encoded.lengths[group].sum()) for group in batch)
        # mean over the labelled sub-tokens of the whole batch, whatever its micro-batches;
        # a batch without any (possible only in odd data) adds nothing
        n_labels, divisor = counts[step - 1], divisors[step - 1]
        inputs = [collate(encoded, group, pad_id, multiple) for group in batch]
        with one_embedding_backward(model, [x["input_ids"] for x in inputs], device):
            for x in inputs:
                _, loss_total = forward_loss(model, x, device, precision)
                (loss_total / divisor).backward()
                loss_sum += loss_total.detach()
                pending.append(loss_total.detach())
        pending_steps.append((len(inputs), n_labels))
        if settings.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, settings.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        label_count += n_labels
        if step % 25 == 0 or step == len(batches):  # the only host synchronisation
            if on_step_losses is not None:
                on_step_losses(step_means(torch.stack(pending).tolist(), pending_steps))
            pending.clear()
            pending_steps.clear()
            mean_loss = loss_sum.item() / max(label_count, 1)
            bar.set_postfix(
                loss=f"{mean_loss:.4f}", tok_s=int(seen / (time.perf_counter() - start)), refresh=False
            )
    bar.close()
    seconds = time.perf_counter() - start
    return loss_sum.item() / max(label_count, 1), tokens, seconds


def step_means(sums: Sequence[float], steps: Sequence[tuple[int, int]]) -> list[float]:
    """Each step's mean loss per labelled sub-token, from its micro-batches' loss sums (in order) and
    ``steps``: (micro-batches, labelled sub-tokens) per step."""
    means, start = [], 0
    for count, labels in steps:
        means.append(sum(sums[start : start + count]) / max(labels, 1))
        start += count
    return means


def epoch_plan(
    encoded: Encoded,
    settings: TrainSettings,
    epoch: int,
    device: torch.device,
    overhead_tokens: int | None = None,
) -> list[list[np.ndarray]]:
    """The epoch's batches, each a list of micro-batches (window indices); depends on seed and epoch only."""
    rng = np.random.default_rng([settings.seed, epoch])
    if overhead_tokens is None:
        overhead_tokens = MICROBATCH_OVERHEAD_TOKENS.get(device.type, 0)
    return [
        microbatches(encoded.lengths, batch, overhead_tokens)
        for batch in training_batches(encoded.lengths, settings.batch_size, rng, settings.batching)
    ]


def batch_label_counts(encoded: Encoded, batches: list[list[np.ndarray]]) -> list[int]:
    """The labelled sub-tokens of each batch (a list of micro-batches)."""
    return [int(encoded.label_counts[np.concatenate(batch)].sum()) for batch in batches]


def loss_divisors(counts: Sequence[int], per_epoch_mean: bool) -> list[float]:
    """What each batch's summed loss is divided by, given its labelled sub-tokens (``counts``):
    its own count, or the epoch's mean per batch.

    The first is the usual mean loss per batch; under length-bucketed batches it
    makes a word in a batch of short sentences weigh more than one in a batch of
    long sentences. The second weighs every labelled sub-token of the epoch alike.
    A batch without labels (possible only in odd data) is divided by 1 and adds nothing.
    """
    if per_epoch_mean:
        mean = sum(counts) / max(len(counts), 1)
        return [max(mean, 1.0)] * len(counts)
    return [float(max(c, 1)) for c in counts]


CHECKPOINT_KEYS = (
    "key",
    "epoch",
    "model",
    "optimizer",
    "scheduler",
    "stopper",
    "best_state",
    "history",
    "rng_cpu",
    "rng_cuda",
)


def resume(
    path: Path, resume_key: str, model, optimizer, scheduler, device: torch.device
) -> tuple[int, EarlyStopping, dict[str, torch.Tensor], list[dict]] | None:
    """Apply a resume checkpoint to a fresh model, optimizer and scheduler; return what else it holds.

    Returns ``(epoch, stopper, best_state, history)``, or None when there is no
    checkpoint or it is ignored: one that does not load with
    ``torch.load(weights_only=True)`` (which runs no code: only tensors and plain
    data), was made for other settings or data, or does not fit this model. An
    ignored checkpoint is reported and never half-applied: the model, optimizer,
    scheduler and random state are put back as they were.
    """
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated, not a checkpoint, or holding more than tensors and plain data
        logger.warning("ignoring %s: it does not load safely (%s)", path, str(error).splitlines()[0][:200])
        return None
    if not isinstance(state, dict) or sorted(state) != sorted(CHECKPOINT_KEYS):
        logger.warning("ignoring %s: not a checkpoint of xner train", path)
        return None
    if state["key"] != resume_key:
        logger.warning("ignoring %s: it was made for other settings or data", path)
        return None
    before = (
        {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()},
        copy.deepcopy(optimizer.state_dict()),
        copy.deepcopy(scheduler.state_dict()),
        torch.get_rng_state(),
    )
    try:
        if sorted(state["best_state"]) != sorted(before[0]):
            raise ValueError("its best weights are not this model's")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        stopper = EarlyStopping(**state["stopper"])
        torch.set_rng_state(state["rng_cpu"])
        if device.type == "cuda" and state["rng_cuda"] is not None:
            torch.cuda.set_rng_state_all(state["rng_cuda"])
        return int(state["epoch"]), stopper, state["best_state"], list(state["history"])
    except Exception as error:
        model.load_state_dict(before[0])
        optimizer.load_state_dict(before[1])
        scheduler.load_state_dict(before[2])
        torch.set_rng_state(before[3])
        logger.warning("ignoring %s: it does not fit this run (%s)", path, str(error).splitlines()[0][:200])
        return None


def save_checkpoint(path: Path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def versions() -> dict[str, str]:
    """Library versions and xner's, for summary.json."""
    return {**library_versions(), "xner": __version__}


def save_run(out_dir: Path, model, tokenizer, history: list[dict], summary: dict) -> None:
    """Write model/ (save_pretrained, with tokenizer, and its card), history.csv and summary.json."""
    with atomic_directory(out_dir / "model") as tmp_dir:
        model.save_pretrained(tmp_dir)
        tokenizer.save_pretrained(tmp_dir)
        write_card(tmp_dir, summary, {})  # xner evaluate adds the scores
    columns = list(dict.fromkeys(k for row in history for k in row))
    with atomic_path(out_dir / "history.csv") as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(history)
    write_json(out_dir / "summary.json", summary)
