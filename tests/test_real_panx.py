"""The real PAN-X files (../shared/panx, or XNER_PANX_DIR): both layouts, exact counts, awkward tokens.

Skipped cleanly where the data is absent.
"""

from __future__ import annotations

import pytest

from conftest import independent_count
from xner.data.download import download_language
from xner.data.parse import parse_language
from xner.data.statistics import count
from xner.io import read_sentences

pytestmark = pytest.mark.realdata

SPLITS = ("train", "dev", "test")


@pytest.fixture(scope="module")
def parsed(panx_dir, tmp_path_factory):
    """Every language parsed from the XTREME layout, and the archive languages from panx_dataset too."""
    root = tmp_path_factory.mktemp("real")
    out = {}
    for source, path in (("local", panx_dir / "xtreme"), ("panx_dataset", panx_dir / "panx_dataset")):
        langs = sorted(
            {p.name.split("-")[1].split(".")[0] for p in (panx_dir / "xtreme").glob("train-*.tsv*")}
        )
        if source == "panx_dataset":
            langs = sorted(p.name.removesuffix(".tar.gz") for p in path.glob("*.tar.gz"))
        for lang in langs:
            raw = root / source / "raw" / lang
            download_language(source, lang, raw, path=str(path))
            paths = {split: root / source / "data" / lang / f"{split}.parquet" for split in SPLITS}
            parse_language(raw, paths)
            out[source, lang] = paths
    return out


def test_both_layouts_give_identical_parquet(parsed):
    archive_langs = [lang for source, lang in parsed if source == "panx_dataset"]
    assert set(archive_langs) >= {"en", "de", "af", "sw"}
    for lang in archive_langs:
        for split in SPLITS:
            a = parsed["local", lang][split].read_bytes()
            b = parsed["panx_dataset", lang][split].read_bytes()
            assert a == b, (lang, split)


def test_counts_equal_an_independent_count_of_the_files(parsed, panx_dir):
    local_langs = [lang for source, lang in parsed if source == "local"]
    assert len(local_langs) >= 6
    for lang in local_langs:
        for split in SPLITS:
            ours = count([read_sentences(parsed["local", lang][split])])
            theirs = independent_count([panx_dir / "xtreme" / f"{split}-{lang}.tsv"])
            assert {k: v for k, v in ours.items() if v or k in theirs} == theirs, (lang, split)


def test_published_sentence_counts(parsed):
    expected = {
        "en": (20000, 10000, 10000),
        "de": (20000, 10000, 10000),
        "af": (5000, 1000, 1000),
        "sw": (1000,) * 3,
    }
    for lang, sizes in expected.items():
        got = tuple(read_sentences(parsed["local", lang][split]).num_rows for split in SPLITS)
        assert got == sizes, lang


def test_missing_value_lookalikes_are_tokens(parsed):
    def tokens(lang, split):
        return {
            t
            for sentence in read_sentences(parsed["local", lang][split]).column("tokens").to_pylist()
            for t in sentence
        }

    assert "NA" in tokens("en", "dev")
    assert "None" in tokens("de", "test")


def system_errors(gold: list[list[str]], seed: int) -> list[list[str]]:
    """Predictions with the errors NER systems make: wrong types, shifted boundaries, missed and
    spurious entities, and stray I- tags (which strict IOB2 and the lenient mode read differently)."""
    import random

    rng = random.Random(seed)
    types = ("LOC", "ORG", "PER")
    pred = []
    for tags in gold:
        tags = list(tags)
        for i, tag in enumerate(tags):
            r = rng.random()
            if tag != "O" and r < 0.05:
                tags[i] = tag[:2] + rng.choice(types)  # wrong type
            elif tag.startswith("B-") and r < 0.08:
                tags[i] = "I-" + tag[2:]  # an entity begun with I-
            elif tag != "O" and r < 0.1:
                tags[i] = "O"  # missed or shortened
            elif tag == "O" and r < 0.02:
                tags[i] = rng.choice(("B-", "I-")) + rng.choice(types)  # spurious or extended
        pred.append(tags)
    return pred


def test_xners_span_counts_give_seqevals_scores_on_real_sentences(parsed):
    """The independent check of the metric: xner's own span reading against seqeval, both modes, every type."""
    from seqeval.metrics import f1_score

    from xner.evaluation.scoring import check_counts, score
    from xner.evaluation.spans import scores_from_counts, sentence_counts

    for (source, lang), paths in parsed.items():
        if source != "local":
            continue
        gold = read_sentences(paths["test"]).column("tags").to_pylist()
        pred = system_errors(gold, seed=len(lang))
        for mode in ("strict", "lenient"):
            counts = sentence_counts(gold, pred, mode=mode)
            check_counts(counts, score(gold, pred, mode), mode)  # raises on any disagreement
        lenient = scores_from_counts(sentence_counts(gold, pred, mode="lenient").sum(axis=0))
        assert lenient["micro"] == pytest.approx(f1_score(gold, pred), abs=1e-12), lang
