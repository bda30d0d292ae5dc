"""xner.reporting.results_page: a study's page from hand-made tables (the demo's page is checked end to end)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from PIL import Image
from test_tables import EVALS, SUMMARIES

from xner.reporting.languages import family_order
from xner.reporting.results_page import (
    Experiment,
    StudyTables,
    data_section,
    modes_section,
    significance_section,
    transfer_section,
)
from xner.reporting.results_page import write_page as write_results_page
from xner.reporting.tables import cost_table, runs_table, scores_table


@pytest.fixture
def scores() -> pd.DataFrame:
    return scores_table(EVALS, SUMMARIES)


def test_the_transfer_table_shows_intervals_for_one_seed_and_std_for_several(scores):
    text = transfer_section(scores, ["en", "de"])
    lines = text.splitlines()
    assert lines[0] == "| setting | seeds | en | de | average | average, lenient |"
    # mbert · en has two seeds (base is seed 42, seed1): mean ± std of micro F1, no interval
    assert "| mbert · en | 2 | 0.830 ± 0.071 | 0.650 ± 0.071 | 0.740 | 0.750 |" in lines
    # one seed: micro F1 and its interval
    assert "| mbert · en+de | 1 | 0.900 [0.880, 0.920] | 0.850 [0.830, 0.870] | 0.875 | 0.885 |" in lines


def test_strict_and_lenient_sit_side_by_side(scores):
    lines = modes_section(scores, ["en", "de"]).splitlines()
    assert lines[0] == "| setting | en | de |"
    assert "| mbert · en+de | 0.900 / 0.910 | 0.850 / 0.860 |" in lines


def test_the_data_table_has_a_row_per_language_and_names_the_mixtures():
    stats = pd.DataFrame(
        [
            ("en", "train", 16000),
            ("en", "val", 4000),
            ("en", "test", 1000),
            ("sw", "train", 800),
            ("sw", "val", 200),
            ("sw", "test", 1000),
            ("en@2000+sw@100", "train+val", 2625),
        ],
        columns=["langs", "split", "sentences"],
    )
    text = data_section(stats, ["en", "sw"])
    assert "| en | 16000 | 4000 | 1000 |" in text and "| sw | 800 | 200 | 1000 |" in text
    assert "en@2000+sw@100 2625" in text


def test_only_the_deciding_comparisons_are_shown():
    rows = [
        # two seed pairs and the seed-level row: the seed-level row decides
        ("train", "m · en", "m · en+de", "de", "sentences", "1", "1", 0.1, 0.2, 0.04, False),
        ("train", "m · en", "m · en+de", "de", "sentences", "2", "2", 0.1, 0.2, 0.03, False),
        ("train", "m · en", "m · en+de", "de", "seeds", "1,2", "1,2", -0.1, 0.001, 0.002, True),
    ]
    columns = ["factor", "a", "b", "test_lang", "level", "seeds_a", "seeds_b", "difference", "p_value"]
    columns += ["p_holm", "significant"]
    table = pd.DataFrame(rows, columns=columns)
    for column in ("f1_a", "f1_b", "std_a", "std_b", "difference_ci_low", "difference_ci_high"):
        table[column] = 0.5
    text = significance_section(table, resamples=1000)
    assert text.count("| m · en | m · en+de | de |") == 1 and "| seeds |" in text
    assert "1 of 1 comparisons significant" in text
    assert "none can be significant" not in text
    assert "nothing is compared" in significance_section(table.iloc[0:0], resamples=1000)


def test_the_page_and_its_figures_are_written_together(tmp_path: Path, scores):
    runs = runs_table(SUMMARIES)
    (tmp_path / "figures" / "demo").mkdir(parents=True)
    figure = tmp_path / "figures" / "demo" / "transfer.png"
    Image.new("RGB", (40, 30), (0, 120, 200)).save(figure)  # few colours: the palette copy is exact
    significance = tmp_path / "significance.csv"
    significance.write_text("factor,a,b,test_lang,level,significant\n")
    stats = pd.DataFrame(
        [("en", s, 10) for s in ("train", "val", "test")], columns=["langs", "split", "sentences"]
    )
    experiment = Experiment("demo", "A demo.", significance, (figure,))
    out = tmp_path / "report" / "page.md"
    tables = StudyTables(scores, runs, cost_table(runs), stats)
    write_results_page(out, "A study", tables, [experiment], ["en", "de"], resamples=1000)
    text = out.read_text()
    assert text.startswith("# A study\n") and "### demo\n\nA demo.\n" in text
    assert "![demo: transfer](page/demo-transfer.png)" in text
    copy = tmp_path / "report" / "page" / "demo-transfer.png"
    with Image.open(figure) as original, Image.open(copy) as web:
        assert web.mode == "P" and web.size == original.size
        assert web.convert("RGB").tobytes() == original.convert("RGB").tobytes()
    assert "In all: 3 runs, 10.0 minutes of training" in text
    # a figure that cannot be copied: neither the page nor its folder is changed
    figure.unlink()
    with pytest.raises(FileNotFoundError):
        write_results_page(out, "Another", tables, [experiment], ["en"], resamples=1000)
    assert out.read_text() == text and [p.name for p in out.parent.iterdir()] == ["page", "page.md"]


XTREME = (
    "af ar bg bn de el en es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr ms my nl pt ru sw ta te th tl tr "
    "ur vi yo zh"
).split()


def scores_on(langs: list[str], scores: pd.DataFrame) -> pd.DataFrame:
    """The hand-made scores on English, copied onto each of ``langs``."""
    english = scores[scores["test_lang"] == "en"]
    return pd.concat([english.assign(test_lang=lang) for lang in langs], ignore_index=True)


def test_at_40_languages_the_tables_are_split_into_blocks_of_10_in_family_order(scores):
    many = scores_on(XTREME, scores)
    lines = transfer_section(many, XTREME).splitlines()
    assert lines[0] == "| setting | seeds | average | average, lenient |"
    headers = [line for line in lines if line.startswith("| setting |")][1:]
    order = family_order(XTREME)
    assert headers == [f"| setting | {' | '.join(order[i : i + 10])} |" for i in range(0, 40, 10)]
    assert "Test languages af to bg (Germanic, Romance, Hellenic, Slavic):" in lines
    assert max(map(len, lines)) < 400  # not one table 40 languages wide
    modes = modes_section(many, XTREME).splitlines()
    assert [line for line in modes if line.startswith("| setting |")] == headers
    # a few languages: one table, in their order, as before
    assert transfer_section(scores, ["en", "de"]).splitlines()[0].startswith("| setting | seeds | en | de |")


def test_many_comparisons_are_counted_per_pair_of_settings():
    columns = ["factor", "a", "b", "test_lang", "level", "seeds_a", "seeds_b", "difference", "p_value"]
    rows = [
        ("train", "m · en", f"m · {b}", lang, "seeds", "1,2", "1,2", diff, 0.01, 0.01 if sig else 0.5, sig)
        for b, diff, sig in (("de", 0.1, True), ("sw", -0.1, False), ("it", -0.1, True))
        for lang in XTREME
    ]
    table = pd.DataFrame(rows, columns=[*columns, "p_holm", "significant"])
    for column in ("f1_a", "f1_b", "std_a", "std_b", "difference_ci_low", "difference_ci_high"):
        table[column] = 0.5
    text = significance_section(table, resamples=1000)
    assert "120 comparisons, too many to list here" in text
    assert "| train | m · en | m · de | 40 | 40 | 40 | +0.100 |" in text
    assert "| train | m · en | m · sw | 40 | 0 | 0 | -0.100 |" in text
    assert "| train | m · en | m · it | 40 | 40 | 0 | -0.100 |" in text  # significant, b higher
    assert "80 of 120 comparisons significant" in text
    assert "m · en | m · de | de |" in significance_section(table.iloc[:100], resamples=1000)  # 100: listed
