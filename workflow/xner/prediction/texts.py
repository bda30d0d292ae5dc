"""Tagging new text with a trained run (``xner predict``): readers, the prediction, writers.

Inputs (:data:`INPUT_FORMATS`), read as UTF-8, each error naming its file and line:

- ``text``: one sentence per line, split into words by a word tokenizer
  (:mod:`xner.prediction.words`; by default ``xner``'s rules, close to PAN-X's
  tokens; ``whitespace`` splits on whitespace only); blank lines are skipped;
  each word is the line sliced by its character offsets, which it keeps;
- ``conll``: ``token<TAB>tag`` or ``token`` lines, a blank line between
  sentences (PAN-X's layout, and the evaluation TSV's ``token<TAB>gold<TAB>pred``
  whose last column is dropped); tags, where present, are kept as ``gold``;
- ``jsonl``: one JSON object per line with a ``tokens`` list of strings.

Prediction is :func:`xner.evaluation.inference.predict`, the path of ``xner evaluate``
(windows for long sentences, micro-batches, device and precision). Outputs
(:data:`OUTPUT_FORMATS`): ``jsonl``, one object per sentence with ``source``,
``line`` (where the sentence begins), ``tokens``, ``tags``, ``gold`` (CoNLL
input with tags) and ``entities`` (strict IOB2 spans: ``type``, ``start`` and
``end`` word indices, inclusive, ``text``, for text input ``char_start`` and
``char_end`` in the line, and ``score``, the mean probability of its words'
tags); or ``tsv``, ``token<TAB>tag`` per word (``token<TAB>gold<TAB>tag``
where the input had tags, the evaluation TSV's layout).
"""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from xner.errors import DataFormatError, XnerError
from xner.evaluation.spans import spans
from xner.labels import LABELS
from xner.prediction.words import DEFAULT_TOKENIZER, word_spans

logger = logging.getLogger(__name__)

INPUT_FORMATS: tuple[str, ...] = ("text", "conll", "jsonl")
OUTPUT_FORMATS: tuple[str, ...] = ("jsonl", "tsv")
EXTENSIONS: dict[str, str] = {
    ".txt": "text",
    ".tsv": "conll",
    ".conll": "conll",
    ".iob": "conll",
    ".iob2": "conll",
    ".jsonl": "jsonl",
}
STDIN = "-"


@dataclass
class Sentence:
    """One sentence to tag, and where it came from."""

    source: str
    line: int  # the line where it begins (1-based)
    tokens: list[str]
    gold: list[str] | None = None  # the input's tags (CoNLL input)
    text: str | None = None  # the line itself (text input)
    offsets: list[tuple[int, int]] = field(default_factory=list)  # each word's [start, end) in text


def input_format(path: str, given: str | None) -> str:
    """The format of an input: ``given``, else guessed from the extension (``text`` for stdin)."""
    if given:
        return given
    if path == STDIN:
        return "text"
    suffixes = [s.lower() for s in Path(path).suffixes if s.lower() != ".gz"]
    found = EXTENSIONS.get(suffixes[-1]) if suffixes else None
    if found is None:
        raise XnerError(
            f"{path}: cannot tell the input format from its name; give --input-format "
            f"({', '.join(INPUT_FORMATS)})"
        )
    return found


def _lines(path: str, stream: IO[bytes]) -> Iterator[tuple[int, str]]:
    """Numbered lines without their line ending; invalid UTF-8 is an error naming the line."""
    for number, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DataFormatError(path, number, f"not valid UTF-8 ({e.reason} at byte {e.start})") from None
        yield number, line.rstrip("\n").removesuffix("\r")


def read_text(
    path: str, stream: IO[bytes], tokenizer: str = DEFAULT_TOKENIZER, lang: str | None = None
) -> Iterator[Sentence]:
    for number, line in _lines(path, stream):
        offsets = word_spans(line, tokenizer, lang)
        if offsets:
            yield Sentence(path, number, [line[a:b] for a, b in offsets], text=line, offsets=offsets)


def read_conll(path: str, stream: IO[bytes]) -> Iterator[Sentence]:
    tokens: list[str] = []
    tags: list[str] = []
    start = 0
    columns: int | None = None  # 1 (tokens) or 2 (tokens and tags), the same in every line
    for number, line in _lines(path, stream):
        if not line.strip():
            if tokens:
                yield Sentence(path, start, tokens, tags if columns == 2 else None)
            tokens, tags = [], []
            continue
        parts = line.split("\t")
        if len(parts) == 3:  # an evaluation TSV: token, gold, pred
            parts = parts[:2]
        if len(parts) > 2:
            raise DataFormatError(
                path, number, f"expected token or token<TAB>tag; found {len(parts)} columns"
            )
        if not parts[0].strip():
            raise DataFormatError(path, number, "empty token")
        if columns is None:
            columns = len(parts)
        elif len(parts) != columns:
            raise DataFormatError(
                path, number, f"{len(parts)} column(s) where the lines before have {columns}"
            )
        if columns == 2 and parts[1] not in LABELS:
            raise DataFormatError(path, number, f"unknown tag {parts[1]!r}; known: {', '.join(LABELS)}")
        if not tokens:
            start = number
        tokens.append(parts[0])
        if columns == 2:
            tags.append(parts[1])
    if tokens:
        yield Sentence(path, start, tokens, tags if columns == 2 else None)


def read_jsonl(path: str, stream: IO[bytes]) -> Iterator[Sentence]:
    for number, line in _lines(path, stream):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataFormatError(path, number, f"not JSON ({e.msg})") from None
        tokens = item.get("tokens") if isinstance(item, dict) else None
        if not isinstance(tokens, list) or not tokens:
            raise DataFormatError(path, number, 'expected an object with a non-empty "tokens" list')
        if not all(isinstance(t, str) and t.strip() for t in tokens):
            raise DataFormatError(path, number, '"tokens" must hold non-empty strings')
        yield Sentence(path, number, tokens)


def read_inputs(
    inputs: Sequence[str],
    given_format: str | None = None,
    tokenizer: str = DEFAULT_TOKENIZER,
    lang: str | None = None,
) -> list[Sentence]:
    """Every sentence of the inputs, in order (``-``: standard input)."""
    sentences: list[Sentence] = []
    for path in inputs or [STDIN]:
        fmt = input_format(path, given_format)
        if path != STDIN and not Path(path).is_file():
            raise XnerError(f"{path}: no such input file")
        stream = sys.stdin.buffer if path == STDIN else open(path, "rb")  # noqa: SIM115
        try:
            if fmt == "text":
                sentences += read_text(path, stream, tokenizer, lang)
            elif fmt == "conll":
                sentences += read_conll(path, stream)
            else:
                sentences += read_jsonl(path, stream)
        finally:
            if path != STDIN:
                stream.close()
    return sentences


def entities(sentence: Sentence, tags: Sequence[str], probabilities: Sequence[float]) -> list[dict]:
    """The strict IOB2 entities of a sentence's predicted tags, in order of their first word."""
    found = []
    for type_, first, last in sorted(spans(tags), key=lambda s: s[1]):
        entity = {"type": type_, "start": first, "end": last}
        if sentence.text is not None:
            char_start, char_end = sentence.offsets[first][0], sentence.offsets[last][1]
            entity.update(text=sentence.text[char_start:char_end], char_start=char_start, char_end=char_end)
        else:
            entity["text"] = " ".join(sentence.tokens[first : last + 1])
        entity["score"] = round(float(sum(probabilities[first : last + 1]) / (last - first + 1)), 4)
        found.append(entity)
    return found


def write_jsonl(out: IO[str], sentences: Sequence[Sentence], tags, probabilities) -> None:
    for sentence, t, p in zip(sentences, tags, probabilities):
        item = {"source": sentence.source, "line": sentence.line, "tokens": sentence.tokens, "tags": list(t)}
        if sentence.gold is not None:
            item["gold"] = sentence.gold
        item["entities"] = entities(sentence, t, p)
        out.write(json.dumps(item, ensure_ascii=False) + "\n")


def write_tsv(out: IO[str], sentences: Sequence[Sentence], tags) -> None:
    for s, (sentence, t) in enumerate(zip(sentences, tags)):
        if s:
            out.write("\n")
        gold = sentence.gold
        for i, (token, tag) in enumerate(zip(sentence.tokens, t)):
            out.write("\t".join([token, *([gold[i]] if gold is not None else []), tag]) + "\n")


@dataclass(frozen=True)
class PredictSettings:
    """How ``xner predict`` runs: the options of ``xner evaluate`` that apply."""

    max_length: int = 256
    eval_batch_size: int = 256
    device: str = "auto"
    precision: str = "auto"


class Tagger:
    """A trained model, loaded once, that tags lists of words as ``xner evaluate`` does."""

    def __init__(self, model_dir: str | Path, settings: PredictSettings | None = None) -> None:
        from xner.device import prepare_device
        from xner.model_sources import model_directory
        from xner.models.loading import load_model, load_tokenizer

        self.model_dir = model_directory(model_dir)
        self.settings = settings or PredictSettings()
        self.device, self.precision = prepare_device(self.settings.device, self.settings.precision)
        self.tokenizer = load_tokenizer(str(self.model_dir))
        self.model = load_model(str(self.model_dir)).to(self.device)

    def tag(self, words: Sequence[Sequence[str]], progress: bool | None = None):
        """The :class:`xner.evaluation.inference.Prediction` for each sentence's words (and the encoding)."""
        from xner.evaluation.inference import predict
        from xner.models.features import encode

        encoded = encode(self.tokenizer, words, None, max_length=self.settings.max_length)
        prediction = predict(
            self.model,
            encoded,
            batch_size=self.settings.eval_batch_size,
            pad_id=self.tokenizer.pad_token_id,
            device=self.device,
            precision=self.precision,
            progress=len(words) > 1000 if progress is None else progress,
        )
        return prediction, encoded


def predict_files(
    model_dir: str | Path,
    inputs: Sequence[str],
    *,
    output: str | Path | None = None,
    input_format: str | None = None,
    output_format: str = "jsonl",
    tokenizer: str = DEFAULT_TOKENIZER,
    lang: str | None = None,
    settings: PredictSettings | None = None,
) -> dict:
    """Tag every sentence of ``inputs`` with the model in ``model_dir``; write to ``output`` (stdout if None).

    ``model_dir``: a model directory, or a run directory holding one in ``model/``.
    ``tokenizer`` and ``lang``: how raw text is split into words
    (:func:`xner.prediction.words.word_spans`). Returns the counts of sentences,
    words and entities per type.
    """
    from xner.io import atomic_path
    from xner.model_sources import model_directory

    model_directory(model_dir)  # a clear error before reading the inputs
    sentences = read_inputs(inputs, input_format, tokenizer, lang)
    if not sentences:
        raise XnerError(f"{', '.join(inputs or [STDIN])}: no sentence to tag")
    prediction, encoded = Tagger(model_dir, settings).tag([s.tokens for s in sentences])

    def write(out: IO[str]) -> None:
        if output_format == "jsonl":
            write_jsonl(out, sentences, prediction.tags, prediction.probabilities)
        else:
            write_tsv(out, sentences, prediction.tags)

    if output is None:
        write(sys.stdout)
        sys.stdout.flush()
    else:
        with atomic_path(output) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
            write(f)
    types = Counter(span[0] for tags in prediction.tags for span in spans(tags))
    counts = {
        "sentences": len(sentences),
        "words": sum(len(s.tokens) for s in sentences),
        "entities": dict(sorted(types.items())),
        "words_without_subtokens": encoded.words_without_subtokens,
    }
    logger.info(
        "%d sentences, %d words: %d entities (%s) in %.1f s%s",
        counts["sentences"],
        counts["words"],
        sum(types.values()),
        ", ".join(f"{t} {n}" for t, n in counts["entities"].items()) or "none",
        prediction.seconds,
        f" -> {output}" if output else "",
    )
    return counts
