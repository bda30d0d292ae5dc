"""Raw text against PAN-X tokens (``xner bench-rawtext``): what tagging plain lines costs.

PAN-X's test sentences are turned back into the plain lines a user would bring:
each sentence's tokens are detokenized by the Moses detokenizer of its language
(sacremoses ``MosesDetokenizer(lang).detokenize(tokens, unescape=False)``: no
space before ``.``, ``,``, ``)`` and the like, none after ``(``, quotes attached
to what they enclose, the text itself unchanged). Each PAN-X token is then found
back in the line (its character span), so that every gold entity has the
character span of its first and last token.

For each word tokenizer of :mod:`xner.prediction.words`, the benchmark reports
the share of sentences whose words are exactly PAN-X's tokens (on the whole
test split), and, with a trained run, micro F1 on the raw lines: the model tags
the tokenizer's words and an entity counts when its type and character span are
a gold entity's (strict IOB2 spans from :func:`xner.evaluation.spans.spans`),
against micro F1 on PAN-X's own tokens (:func:`xner.evaluation.scoring.score`,
as ``xner evaluate`` scores), on the same sentences.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xner.data.parse import read_panx_tsv
from xner.errors import XnerError
from xner.evaluation.spans import f1, spans
from xner.prediction.words import TOKENIZERS, Span, align, word_spans

logger = logging.getLogger(__name__)

LANGS: tuple[str, ...] = ("en", "de", "it", "af", "sw", "hu")
TOKENS = "PAN-X tokens"


@dataclass
class RawLine:
    """A PAN-X sentence as a plain line, with each token's character span in it."""

    line: str
    tokens: list[str]
    tags: list[str]
    token_spans: list[Span]


@functools.cache
def _detokenizer(lang: str):
    from sacremoses import MosesDetokenizer

    return MosesDetokenizer(lang=lang)


def detokenize(tokens: Sequence[str], lang: str) -> str:
    """The plain line of a sentence's tokens (the Moses detokenizer of ``lang``, the text unchanged)."""
    return _detokenizer(lang).detokenize(list(tokens), unescape=False)


def raw_lines(tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]], lang: str) -> list[RawLine]:
    """Each sentence as a detokenized line; where the detokenizer changed a token, the tokens joined by spaces."""
    lines, joined = [], 0
    for words, labels in zip(tokens, tags):
        line = detokenize(words, lang)
        found = align(line, words)
        if len(found) != len(words) or any(line[a:b] != w for (a, b), w in zip(found, words)):
            joined += 1
            line = " ".join(words)
            found = align(line, words)
        lines.append(RawLine(line, list(words), list(labels), found))
    if joined:
        logger.info(
            "%s: %d of %d sentences joined by spaces (the detokenizer changed a token)",
            lang,
            joined,
            len(lines),
        )
    return lines


def char_entities(tags: Sequence[str], word_offsets: Sequence[Span]) -> set[tuple[str, int, int]]:
    """The strict IOB2 entities of a sentence's tags as ``(type, char_start, char_end)``."""
    return {(t, word_offsets[a][0], word_offsets[b][1]) for t, a, b in spans(tags)}


def unreachable(entities: set[tuple[str, int, int]], word_offsets: Sequence[Span]) -> int:
    """How many of the entities begin or end inside a word (no tagging of these words can find them)."""
    starts, ends = {a for a, _ in word_offsets}, {b for _, b in word_offsets}
    return sum(a not in starts or b not in ends for _, a, b in entities)


def micro(gold: Sequence[set], pred: Sequence[set]) -> dict:
    """Micro precision, recall and F1 over sentences of entity sets (an entity counts where it is gold)."""
    tp = sum(len(g & p) for g, p in zip(gold, pred))
    fp = sum(len(p - g) for g, p in zip(gold, pred))
    fn = sum(len(g - p) for g, p in zip(gold, pred))
    return {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "f1": float(f1(tp, fp, fn)),
        "support": tp + fn,
    }


def first_difference(ours: Sequence[str], theirs: Sequence[str]) -> tuple[str, str]:
    """Where two word lists first part: PAN-X's token there and the tokenizer's words covering it."""
    i = next((k for k, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
    return (" ".join(theirs[i : i + 2]), " ".join(ours[i : i + 2]))


def equality(lines: Sequence[RawLine], tokenizer: str, lang: str) -> tuple[float, list[list[Span]], list]:
    """The share of lines whose words are PAN-X's tokens, each line's words, and the commonest differences."""
    equal = 0
    offsets = []
    differences: Counter = Counter()
    for raw in lines:
        found = word_spans(raw.line, tokenizer, lang)
        offsets.append(found)
        words = [raw.line[a:b] for a, b in found]
        if words == raw.tokens:
            equal += 1
        else:
            differences[first_difference(words, raw.tokens)] += 1
    common = [[panx, ours, n] for (panx, ours), n in differences.most_common(8)]
    return equal / len(lines) if lines else 0.0, offsets, common


def bench_language(
    lang: str,
    path: Path,
    tokenizers: Sequence[str],
    tagger=None,
    sample: int | None = None,
) -> dict:
    """One language's equality shares (whole split) and, with ``tagger``, F1 on the first ``sample`` sentences."""
    from xner.evaluation.scoring import score

    sentences = read_panx_tsv(path)
    lines = raw_lines(sentences.tokens, sentences.tags, lang)
    result: dict = {"lang": lang, "sentences": len(lines), "tokenizers": {}}
    chosen = lines[:sample] if sample else lines
    if tagger is not None:
        result["f1_sentences"] = len(chosen)
        start = time.perf_counter()
        prediction, _ = tagger.tag([raw.tokens for raw in chosen], progress=False)
        gold = [char_entities(raw.tags, raw.token_spans) for raw in chosen]
        on_tokens = [char_entities(t, raw.token_spans) for t, raw in zip(prediction.tags, chosen)]
        result[TOKENS] = {
            "f1": score([raw.tags for raw in chosen], prediction.tags)["micro"]["f1"],
            "f1_by_characters": micro(gold, on_tokens)["f1"],
            "seconds": time.perf_counter() - start,
        }
    for tokenizer in tokenizers:
        start = time.perf_counter()
        share, offsets, common = equality(lines, tokenizer, lang)
        entry = {"equal": share, "differences": common, "tokenize_seconds": time.perf_counter() - start}
        if tagger is not None:
            start = time.perf_counter()
            words = [[raw.line[a:b] for a, b in found] for raw, found in zip(chosen, offsets)]
            keep = [i for i, w in enumerate(words) if w]
            prediction, _ = tagger.tag([words[i] for i in keep], progress=False)
            predicted = [set() for _ in chosen]
            for i, tags in zip(keep, prediction.tags):
                predicted[i] = char_entities(tags, offsets[i])
            entry["f1"] = micro(gold, predicted)
            entry["seconds"] = time.perf_counter() - start
            # where raw text can differ at all: the sentences whose words are not PAN-X's
            other = [i for i, raw in enumerate(chosen) if words[i] != raw.tokens]
            entry["unequal"] = {
                "sentences": len(other),
                "gold_entities": sum(len(gold[i]) for i in other),
                "f1": micro([gold[i] for i in other], [predicted[i] for i in other])["f1"],
                "f1_tokens": micro([gold[i] for i in other], [on_tokens[i] for i in other])["f1"],
                "unreachable": sum(unreachable(gold[i], offsets[i]) for i in other),
            }
        result["tokenizers"][tokenizer] = entry
        logger.info(
            "%s %s: %.1f %% of sentences as PAN-X%s",
            lang,
            tokenizer,
            100 * share,
            f", F1 {100 * entry['f1']['f1']:.1f} (PAN-X tokens {100 * result[TOKENS]['f1']:.1f})"
            if tagger is not None
            else "",
        )
    return result


def bench_rawtext(
    panx_dir: str | Path,
    *,
    langs: Sequence[str] = LANGS,
    tokenizers: Sequence[str] = TOKENIZERS,
    run: str | Path | None = None,
    sample: int | None = 2000,
    settings=None,
) -> dict:
    """Every language's measurements (:func:`bench_language`) from ``panx_dir/xtreme/test-{lang}.tsv``."""
    tagger = None
    if run is not None:
        from xner.prediction.texts import Tagger

        tagger = Tagger(run, settings)
    results = []
    for lang in langs:
        path = Path(panx_dir) / "xtreme" / f"test-{lang}.tsv"
        if not path.is_file():
            raise XnerError(f"{path}: no PAN-X test split for {lang} (--panx-dir: the real PAN-X directory)")
        results.append(bench_language(lang, path, tokenizers, tagger, sample))
    return {
        "run": str(tagger.model_dir) if tagger is not None else None,
        "sample": sample,
        "tokenizers": list(tokenizers),
        "languages": results,
    }


def render(result: dict) -> str:
    """The Markdown tables of a :func:`bench_rawtext` result."""
    tokenizers = result["tokenizers"]
    out = ["Share of test sentences whose words are exactly PAN-X's tokens (%):", ""]
    out += ["| lang | sentences | " + " | ".join(tokenizers) + " |", "| --- " * (2 + len(tokenizers)) + "|"]
    for entry in result["languages"]:
        shares = [f"{100 * entry['tokenizers'][t]['equal']:.1f}" for t in tokenizers]
        out.append(f"| {entry['lang']} | {entry['sentences']} | " + " | ".join(shares) + " |")
    if result["run"] is not None:
        out += ["", "Micro F1 (%) on raw lines (entities matched by character span) and on PAN-X tokens:", ""]
        out += [
            "| lang | sentences | " + TOKENS + " | " + " | ".join(tokenizers) + " |",
            "| --- " * (3 + len(tokenizers)) + "|",
        ]
        for entry in result["languages"]:
            reference = entry[TOKENS]["f1"]
            cells = [
                f"{100 * entry['tokenizers'][t]['f1']['f1']:.1f} ({100 * (entry['tokenizers'][t]['f1']['f1'] - reference):+.1f})"
                for t in tokenizers
            ]
            out.append(
                f"| {entry['lang']} | {entry['f1_sentences']} | {100 * reference:.1f} | "
                + " | ".join(cells)
                + " |"
            )
        first = tokenizers[0]
        out += [
            "",
            f"Where the words of {first} are not PAN-X's (sentences of the F1 sample): micro F1 (%) there,"
            " and the gold entities that begin or end inside one of its words:",
            "",
            "| lang | sentences | gold entities | F1 raw | F1 tokens | inside a word |",
            "| --- " * 6 + "|",
        ]
        for entry in result["languages"]:
            u = entry["tokenizers"][first]["unequal"]
            out.append(
                f"| {entry['lang']} | {u['sentences']} | {u['gold_entities']} | {100 * u['f1']:.1f} | "
                f"{100 * u['f1_tokens']:.1f} | {u['unreachable']} |"
            )
    return "\n".join(out) + "\n"
