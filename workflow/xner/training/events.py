"""TensorBoard event files, written without TensorBoard: ``tensorboard --logdir results/runs`` shows
every run of a study while it trains.

An event file is a sequence of records (TFRecord framing: the length as a little-endian uint64, its
masked CRC-32C, the bytes, their masked CRC-32C), each an ``Event`` protocol buffer: the first says
which file version it is, the others hold scalar summaries (a tag and a float) at a step and a wall
time. Only these few fields are written, encoded by hand here, so that training needs neither
tensorboard nor tensorflow installed (the GPU machines and conda environments of the jobs lack them);
viewing them needs ``tensorboard``, which xner installs.

A run that resumes after epoch E writes a ``SessionLog.START`` event at the first step after epoch E,
so that TensorBoard drops what the killed job had logged past that point and draws one curve.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from pathlib import Path

FILE_VERSION = "brain.Event:2"
EVENTS_PREFIX = "events.out.tfevents."
SESSION_START = 1  # SessionLog.SessionStatus.START


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as TFRecord uses it."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(data: bytes) -> bytes:
    """One TFRecord: length, its masked CRC, the data, its masked CRC."""
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc(length)) + data + struct.pack("<I", masked_crc(data))


# --- the few protocol-buffer fields of an Event ------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _key(field, 2) + _varint(len(payload)) + payload


def event(wall_time: float, step: int, body: bytes = b"") -> bytes:
    """An ``Event``: wall_time (field 1, double), step (2, int64) and one of its bodies."""
    return _key(1, 1) + struct.pack("<d", wall_time) + _key(2, 0) + _varint(step) + body


def file_version_body(version: str = FILE_VERSION) -> bytes:
    return _length_delimited(3, version.encode())  # Event.file_version


def scalar_body(tag: str, value: float) -> bytes:
    """``Event.summary`` (field 5) holding one ``Summary.Value`` with ``tag`` and ``simple_value``."""
    value_proto = _length_delimited(1, tag.encode()) + _key(2, 5) + struct.pack("<f", value)
    return _length_delimited(5, _length_delimited(1, value_proto))


def session_start_body() -> bytes:
    """``Event.session_log`` (field 7) with status START: TensorBoard drops the events of older files at
    this step and after."""
    return _length_delimited(7, _key(1, 0) + _varint(SESSION_START))


class EventWriter:
    """Scalars into a new event file in ``log_dir``, flushed after every write (a job may be killed)."""

    def __init__(self, log_dir: str | Path) -> None:
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # nanoseconds in the name: TensorBoard reads a folder's files in name order, and a resumed
        # job's file must come after the killed job's, even within one second
        now = time.time_ns()
        name = f"{EVENTS_PREFIX}{now}.{socket.gethostname()}.{os.getpid()}.xner"
        self.path = self.log_dir / name
        self._file = open(self.path, "xb")
        self._write(event(now / 1e9, 0, file_version_body()))

    def _write(self, data: bytes) -> None:
        self._file.write(record(data))
        self._file.flush()

    def scalars(self, step: int, values: dict[str, float], wall_time: float | None = None) -> None:
        """Several scalars at one step (NaN values are skipped: TensorBoard cannot draw them)."""
        now = time.time() if wall_time is None else wall_time
        for tag, value in values.items():
            if value == value:  # not NaN
                self._write(event(now, step, scalar_body(tag, float(value))))

    def session_start(self, step: int) -> None:
        """Mark a resume at ``step``, the first step of the resumed epoch: what an earlier, killed job
        logged at this step or later is dropped."""
        self._write(event(time.time(), step, session_start_body()))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
