"""What ``xner bench`` measures: its settings (the one home of the benchmark's defaults, which the command
line reads) and the peers it compares; light, so that building the command line imports no torch."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from xner.models.architectures import CPU_ARCHITECTURES, GPU_ARCHITECTURES
from xner.models.features import BATCHING, MICROBATCH_OVERHEAD_TOKENS

if TYPE_CHECKING:
    import torch


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
