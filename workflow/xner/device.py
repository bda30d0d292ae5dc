"""Where and how the model computes: device, precision, host-to-device copies, timing and memory.

The one home of these concerns, shared by training, evaluation, the speed table
and the benchmark, and of the forward pass with its summed token loss
(:func:`forward_loss`): training loss and validation loss are the same
computation by construction. It imports nothing else of the package.

Precision: ``auto`` means bf16 autocast on CUDA and fp32 elsewhere; ``bf16``
autocasts on any device; ``fp32`` never does. TF32 matrix products are allowed on
CUDA whatever the precision.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import math
import os
import platform
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

PRECISIONS: tuple[str, ...] = ("auto", "bf16", "fp32")


def pick_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA where there is a GPU, else the CPU; or the device named (``cpu``, ``cuda:1``)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def resolve_precision(device: torch.device, precision: str) -> str:
    """What a precision setting means on a device: ``bf16`` or ``fp32``."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}")
    return "bf16" if precision == "bf16" or (device.type == "cuda" and precision == "auto") else "fp32"


def prepare_device(name: str, precision: str) -> tuple[torch.device, str]:
    """The device (TF32 allowed on CUDA) and the precision the setting means there (``bf16`` or ``fp32``)."""
    device = pick_device(name)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return device, resolve_precision(device, precision)


def autocast(device: torch.device, precision: str):
    """The autocast context of a precision setting on a device (none for fp32)."""
    if resolve_precision(device, precision) == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def to_device(batch: dict[str, np.ndarray], device: torch.device) -> dict[str, torch.Tensor]:
    """Move a collated batch to the device (pinned memory and non-blocking copies on CUDA)."""
    out = {}
    for key, array in batch.items():
        tensor = torch.from_numpy(array)
        if device.type == "cuda":
            tensor = tensor.pin_memory().to(device, non_blocking=True)
        out[key] = tensor
    return out


def forward_loss(
    model, batch: dict[str, np.ndarray], device: torch.device, precision: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """The forward pass over a collated (micro-)batch: fp32 logits and the loss summed over its labels.

    ``batch`` holds ``input_ids``, ``attention_mask`` and ``labels``; labels of
    -100 (sub-tokens after a word's first, special tokens, padding) are ignored.
    Training divides the sum as its batching policy says; prediction divides it
    by all labelled sub-tokens.
    """
    inputs = to_device(batch, device)
    labels = inputs.pop("labels")
    with autocast(device, precision):
        logits = model(**inputs).logits
    logits = logits.float()
    loss = torch.nn.functional.cross_entropy(
        logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=-100, reduction="sum"
    )
    return logits, loss


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's model name (:func:`cpu_model_name`)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return cpu_model_name()


def cpu_model_name() -> str:
    """The CPU's model name from /proc/cpuinfo (the platform's processor string elsewhere)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "cpu"


def library_versions() -> dict[str, str]:
    """Versions of Python, torch, transformers and CUDA (xner's own is added by the caller)."""
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "cuda": torch.version.cuda or "",
    }


class PeakMemory:
    """Peak memory while the block runs: CUDA's allocator peak, or the process's resident set on CPU.

    On CPU a thread samples the resident set size every 5 ms, so the peak of a
    block is its own even after a bigger one (the process's maximum is not).
    """

    def __init__(self, device: torch.device):
        self.device = device
        self.peak_bytes = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        release_memory()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            self.peak_bytes = _rss()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak_bytes = max(self.peak_bytes, _rss())

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak_bytes = torch.cuda.max_memory_allocated(self.device)
        else:
            self._stop.set()
            self._thread.join()
            self.peak_bytes = max(self.peak_bytes, _rss())

    @property
    def mib(self) -> float:
        return self.peak_bytes / 2**20


@contextlib.contextmanager
def timed(device: torch.device) -> Iterator[dict]:
    """Time a block on the device (synchronised at both ends) and its peak memory: ``seconds``, ``peak_mib``."""
    box: dict = {}
    with PeakMemory(device) as memory:
        synchronize(device)
        start = time.perf_counter()
        yield box
        synchronize(device)
        box["seconds"] = time.perf_counter() - start
    box["peak_mib"] = memory.mib


def release_memory() -> None:
    """Collect garbage and hand freed heap back to the system, so that a peak is not an earlier one's."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def matmul_rate(device: torch.device, dtype: torch.dtype, n: int | None = None, repeats: int = 10) -> float:
    """The best rate (FLOP/s) of ``repeats`` square matrix products of size ``n`` (best of three timings)."""
    n = n or (8192 if device.type == "cuda" else 1024)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(2):
        a @ b
    best = math.inf
    for _ in range(3):
        synchronize(device)
        start = time.perf_counter()
        for _ in range(repeats):
            a @ b
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 * repeats / best
