"""The Hugging Face ``Trainer`` peers of ``xner bench``: features, collator, trainers, word tags, timed runs."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import torch

from xner.bench.measure import Measurement
from xner.bench.settings import BenchSettings
from xner.device import timed
from xner.labels import LABEL_TO_ID, LABELS
from xner.models.features import (
    IGNORE,
)

logger = logging.getLogger(__name__)


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


def trainer_inference(model, tokenizer, features, settings, device, out_dir: str) -> Measurement:
    trainer, counting = make_trainer(model, tokenizer, [], settings, device, out_dir, peer="trainer")
    with timed(device) as box:
        output = trainer.predict(features)
        tags = trainer_word_tags(output.predictions, output.label_ids)
    tokens = sum(len(f["input_ids"]) for f in features)
    loss = float(output.metrics.get("test_loss", float("nan")))
    return Measurement(box["seconds"], tokens, counting.padded_tokens, box["peak_mib"], loss, tags)
