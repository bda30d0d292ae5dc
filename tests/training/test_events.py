"""xner.training.events: TensorBoard event files written by hand, read back by TensorBoard's own reader."""

from __future__ import annotations

import struct

import pytest

from xner.training.events import EVENTS_PREFIX, EventWriter, crc32c, masked_crc, record

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def read_scalars(log_dir) -> dict[str, list[tuple[int, float]]]:
    """Every scalar TensorBoard shows for a folder: tag -> [(step, value)]."""
    accumulator = event_accumulator.EventAccumulator(str(log_dir))
    accumulator.Reload()
    return {
        tag: [(e.step, e.value) for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]
    }


def test_crc32c_and_the_tfrecord_framing():
    assert crc32c(b"123456789") == 0xE3069283  # the check value of CRC-32C (Castagnoli)
    assert crc32c(b"") == 0
    data = b"abc"
    framed = record(data)
    assert struct.unpack("<Q", framed[:8])[0] == 3
    assert struct.unpack("<I", framed[8:12])[0] == masked_crc(framed[:8])
    assert framed[12:15] == data and struct.unpack("<I", framed[15:])[0] == masked_crc(data)


def test_scalars_are_read_back_by_tensorboard(tmp_path):
    with EventWriter(tmp_path) as writer:
        for step in range(1, 4):
            writer.scalars(step, {"train/loss": 1 / step})
        writer.scalars(3, {"epoch/val_f1": 0.25, "epoch/val_loss": float("nan")})
    assert writer.path.name.startswith(EVENTS_PREFIX)
    scalars = read_scalars(tmp_path)
    assert set(scalars) == {"train/loss", "epoch/val_f1"}  # NaN is not written
    assert [s for s, _ in scalars["train/loss"]] == [1, 2, 3]
    assert [v for _, v in scalars["train/loss"]] == pytest.approx([1, 0.5, 1 / 3])
    assert scalars["epoch/val_f1"] == [(3, 0.25)]


def test_a_resumed_run_replaces_the_killed_jobs_steps(tmp_path):
    """A job killed after logging steps 1-5 (its epoch ended at 3) and one resumed at step 4: one curve."""
    with EventWriter(tmp_path) as killed:
        for step in range(1, 6):
            killed.scalars(step, {"train/loss": float(step)})
    with EventWriter(tmp_path) as resumed:  # a new file, as a new job writes
        resumed.session_start(4)
        for step in range(4, 7):
            resumed.scalars(step, {"train/loss": 10.0 + step})
    assert len(list(tmp_path.glob(f"{EVENTS_PREFIX}*"))) == 2
    assert read_scalars(tmp_path)["train/loss"] == [
        (1, 1.0),
        (2, 2.0),
        (3, 3.0),
        (4, 14.0),
        (5, 15.0),
        (6, 16.0),
    ]
