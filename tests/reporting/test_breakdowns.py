"""Breakdown figures: F1 by type and the errors, faceted (not shrunk) at many test languages and settings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_figures import (
    TYPES,
    XTREME,
    bars_of,
    check_png,
    check_reproducible,
    legend_texts,
    outside_figure,
    overlapping,
    rendered,
    tick_label_overlaps,
    visible_texts,
)

from xner.reporting.breakdowns import (
    make_errors_figure,
    make_f1_by_type_figure,
    plot_errors,
    plot_f1_by_type,
)
from xner.reporting.figures import DPI
from xner.reporting.languages import family_order


def scores(n_runs: int, n_langs: int, with_std: bool = True, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    langs = ["en", "de", "fr", "it", "es", "nl", "sw", "zh"][:n_langs]
    rows = [
        {"run": f"mbert · en+it ({r})", "test_lang": lang, "type": t, "f1": rng.uniform(0.3, 0.95)}
        for r in range(n_runs)
        for lang in langs
        for t in TYPES
    ]
    df = pd.DataFrame(rows)
    if with_std:
        df["f1_std"] = rng.uniform(0, 0.05, len(df))
    return df


# --- F1 by type --------------------------------------------------------------------------------------------


def test_f1_by_type_png_is_valid_and_reproducible(tmp_path):
    path = check_reproducible(plot_f1_by_type, tmp_path, scores(2, 3), title="by type")
    height, width = check_png(path)
    assert height > 600


def test_f1_by_type_content():
    df = scores(2, 3)
    fig = make_f1_by_type_figure(df, title="EXP: F1 by type")
    assert fig.get_suptitle() == "EXP: F1 by type"
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["mbert · en+it (0)", "mbert · en+it (1)"]
    assert legend_texts(fig) == TYPES
    assert len(fig.legends) == 1 and all(ax.get_legend() is None for ax in fig.axes)
    assert fig.axes[-1].get_xlabel() == "test language"
    for r, ax in enumerate(fig.axes):
        assert ax.get_ylim() == (0.0, 1.0) and ax.get_ylabel() == "F1"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["en", "de", "fr"]
        assert [c.get_label() for c in bars_of(ax)] == TYPES
        assert sum(len(c.patches) for c in bars_of(ax)) == 3 * 4
        for c in bars_of(ax):
            assert c.errorbar is not None
        # bar heights are the scores, grouped by language, types in order within a group
        bars = sorted((p for c in bars_of(ax) for p in c.patches), key=lambda p: p.get_x())
        expected = df[df["run"] == f"mbert · en+it ({r})"]["f1"].to_numpy()
        np.testing.assert_allclose([p.get_height() for p in bars], expected)
    assert fig.axes[0].get_shared_y_axes().joined(fig.axes[0], fig.axes[1])


def test_f1_by_type_orders_and_optional_std():
    df = scores(1, 2, with_std=False).iloc[::-1]  # types given in reverse: still LOC, ORG, PER, macro
    fig = make_f1_by_type_figure(df, title="t")
    ax = fig.axes[0]
    assert [c.get_label() for c in bars_of(ax)] == TYPES
    assert [t.get_text() for t in ax.get_xticklabels()] == ["de", "en"]  # order of appearance
    assert all(c.errorbar is None for c in bars_of(ax))
    all_nan = scores(1, 2).assign(f1_std=np.nan)
    assert all(c.errorbar is None for c in bars_of(make_f1_by_type_figure(all_nan, title="t").axes[0]))


def test_f1_by_type_missing_scores(tmp_path):
    df = scores(2, 3)
    df = df[~((df["run"] == "mbert · en+it (1)") & (df["test_lang"] == "de"))]  # run 1 not tested on de
    df = df[~((df["run"] == "mbert · en+it (0)") & (df["test_lang"] == "fr") & (df["type"] == "ORG"))]
    fig = rendered(make_f1_by_type_figure(df, title="t"))
    first, second = fig.axes
    assert [t.get_text() for t in first.get_xticklabels()] == ["en", "de", "fr"]
    assert [t.get_text() for t in second.get_xticklabels()] == ["en", "fr"]
    org = {p.get_x(): p.get_height() for p in bars_of(first)[1].patches}
    assert np.isnan(sorted(org.items())[-1][1])  # no ORG score on fr: no bar
    plot_f1_by_type(df, tmp_path / "missing.png", title="t")
    check_png(tmp_path / "missing.png")


def test_f1_by_type_accepts_categoricals():
    df = scores(1, 2)
    for column in ("run", "test_lang", "type"):
        df[column] = pd.Categorical(df[column])
    fig = make_f1_by_type_figure(df, title="t")
    assert sum(len(c.patches) for c in bars_of(fig.axes[0])) == 2 * 4


def test_f1_by_type_many_runs_readable(tmp_path):
    small = make_f1_by_type_figure(scores(2, 2), title="t")
    fig = rendered(make_f1_by_type_figure(scores(8, 6), title="EXP: F1 by test language and entity type"))
    assert len(fig.axes) == 8
    assert sum(len(c.patches) for ax in fig.axes for c in bars_of(ax)) == 8 * 6 * 4
    width, height = fig.get_size_inches()
    small_width, small_height = small.get_size_inches()
    assert height > 3 * small_height and width > small_width
    assert not tick_label_overlaps(fig)
    assert not overlapping(visible_texts(fig), fig)
    assert not outside_figure(fig)
    plot_f1_by_type(scores(8, 6), tmp_path / "big.png", title="t")
    check_png(tmp_path / "big.png")


def test_f1_by_type_long_labels_upright_without_overlap():
    df = scores(3, 6)
    df["test_lang"] = "the language called " + df["test_lang"]
    fig = rendered(make_f1_by_type_figure(df, title="t"))
    assert all(t.get_rotation() == 90 for ax in fig.axes for t in ax.get_xticklabels())
    assert not overlapping(visible_texts(fig), fig)
    assert not outside_figure(fig)


def test_f1_by_type_bad_input(tmp_path):
    with pytest.raises(ValueError, match="no rows"):
        plot_f1_by_type(scores(1, 1).iloc[:0], tmp_path / "x.png", title="t")
    with pytest.raises(ValueError, match="test_lang"):
        make_f1_by_type_figure(scores(1, 1).drop(columns="test_lang"), title="t")
    with pytest.raises(ValueError, match="unknown entity type"):
        make_f1_by_type_figure(scores(1, 1).assign(type="MISC"), title="t")
    with pytest.raises(ValueError, match="more than one row"):
        make_f1_by_type_figure(pd.concat([scores(1, 1), scores(1, 1)]), title="t")
    assert not (tmp_path / "x.png").exists()


def test_f1_by_type_error_bars_are_the_interval_where_there_is_one():
    df = scores(1, 2).assign(f1=0.5, f1_std=0.1, f1_ci_low=0.45, f1_ci_high=0.6)
    df.loc[df["test_lang"] == "de", ["f1_ci_low", "f1_ci_high"]] = np.nan  # several seeds on de: ± std
    fig = make_f1_by_type_figure(df, title="t")
    for container in bars_of(fig.axes[0]):
        lines = container.errorbar.lines[2][0].get_segments()
        spans = sorted((round(seg[0][1], 6), round(seg[1][1], 6)) for seg in lines)
        assert spans == [(0.4, 0.6), (0.45, 0.6)]  # de: 0.5 ± 0.1; en: [0.45, 0.6]


# --- errors ------------------------------------------------------------------------------------------------

CLASSES = ["correct", "wrong type", "wrong boundaries", "wrong boundaries and type", "missed", "spurious"]


def error_frames(runs: int, langs: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    shares = [0.7, 0.05, 0.1, 0.05, 0.1, 0.2]
    errors = pd.DataFrame(
        [
            {"run": f"mbert · en+it ({r})", "test_lang": f"l{k}", "class": c, "count": 10, "share": s}
            for r in range(runs)
            for k in range(langs)
            for c, s in zip(CLASSES, shares)
        ]
    )
    bins = ["1-5", "6-10", "11-15", ">15"]
    lengths = pd.DataFrame(
        [
            {"run": f"mbert · en+it ({r})", "test_lang": f"l{k}", "bin": b, "f1": 0.9 - 0.1 * i}
            for r in range(runs)
            for k in range(langs)
            for i, b in enumerate(bins)
        ]
    )
    return errors, lengths


def test_errors_figure_stacks_the_outcomes_and_draws_f1_by_length(tmp_path):
    errors, lengths = error_frames(3, 2)
    fig = rendered(make_errors_figure(errors, lengths, title="demo: errors"))
    assert len(fig.axes) == 2 * 2  # a row per language, outcomes and F1 by length
    left, right = fig.axes[0], fig.axes[1]
    assert [c.get_label() for c in bars_of(left)] == CLASSES
    ends = [c.patches[0].get_x() + c.patches[0].get_width() for c in bars_of(left)]
    assert ends[-2] == pytest.approx(1.0) and ends[-1] == pytest.approx(
        1.2
    )  # gold classes to 1, spurious after
    assert [t.get_text() for t in right.get_xticklabels()] == ["1-5", "6-10", "11-15", ">15"]
    assert len(right.get_lines()) == 3
    np.testing.assert_allclose(right.get_lines()[0].get_ydata(), [0.9, 0.8, 0.7, 0.6])
    assert not overlapping(visible_texts(fig), fig) and not outside_figure(fig)
    check_reproducible(plot_errors, tmp_path, errors, lengths, title="demo: errors")


# --- at 40 test languages ----------------------------------------------------------------------------------


def many_scores(runs: list[str], langs: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        [
            {"run": run, "test_lang": lang, "type": t, "f1": rng.uniform(0.3, 0.95), "f1_std": 0.02}
            for run in runs
            for lang in langs
            for t in TYPES
        ]
    )


def heatmap_axes(fig) -> list:
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_images() and ax.get_title()]


def test_f1_by_type_of_40_languages_wraps_them_onto_panels_of_10_in_family_order():
    runs = ["mbert · en", "xlmr · en", "mdeberta · en"]
    fig = make_f1_by_type_figure(many_scores(runs, XTREME), title="zero-shot: F1 by type")
    assert len(fig.axes) == 3 * 4  # 4 panels of 10 languages per run, not one panel 60 inches wide
    order = family_order(XTREME)
    for r, run in enumerate(runs):
        panels = fig.axes[4 * r : 4 * r + 4]
        labels = [[t.get_text() for t in ax.get_xticklabels()] for ax in panels]
        assert sum(labels, []) == order and all(len(part) == 10 for part in labels)
        assert [ax.get_title() for ax in panels][0] == f"{run} ({order[0]}–{order[9]})"
        assert {ax.get_xlim() for ax in panels} == {(-0.6, 9.6)}  # every panel's bars as wide
    width, height = fig.get_size_inches() * DPI
    assert width < 3000 and height < 6000
    # dotted lines between the families of a panel: af de en nl | es fr it pt | el | bg
    first = fig.axes[0]
    dotted = [line.get_xdata()[0] for line in first.get_lines() if line.get_linestyle() == ":"]
    assert dotted == [3.5, 7.5, 8.5]


def test_f1_by_type_of_40_settings_is_a_heatmap_per_type_rows_like_columns():
    runs = [f"xlmr · {lang}" for lang in XTREME]
    fig = make_f1_by_type_figure(
        many_scores(runs, XTREME), title="matrix: F1 by type", run_langs=dict(zip(runs, XTREME))
    )
    panels = heatmap_axes(fig)
    assert [ax.get_title() for ax in panels] == ["F1 of LOC", "F1 of ORG", "F1 of PER", "macro F1"]
    order = family_order(XTREME)
    for ax in panels:
        assert [t.get_text() for t in ax.get_xticklabels()] == order
        assert [t.get_text() for t in ax.get_yticklabels()] == [f"xlmr · {lang}" for lang in order]
        assert not ax.texts and not bars_of(ax)
    assert max(fig.get_size_inches() * DPI) < 6000


def languages_of(frames: tuple[pd.DataFrame, ...], langs: list[str]) -> None:
    """Rename error_frames' test languages l0, l1, ... to ``langs``, in place."""
    names = dict(zip([f"l{k}" for k in range(len(langs))], langs))
    for frame in frames:
        frame["test_lang"] = frame["test_lang"].map(names)


def test_errors_of_many_languages_sit_two_a_row_in_family_order():
    langs = XTREME[:17]  # grouped by family from 16 on; two a row beyond 10
    errors, lengths = error_frames(3, len(langs))
    languages_of((errors, lengths), langs)
    fig = make_errors_figure(errors, lengths, title="zero-shot: errors")
    assert len(fig.axes) == 9 * 4  # 9 rows of two languages, each two panels
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2 * 17  # the last row's second language left empty
    titles = [ax.get_title().split(":")[0] for ax in visible[::2]]
    assert titles == family_order(langs)
    assert fig.get_size_inches()[1] * DPI < 12000


def test_errors_of_many_settings_are_heatmaps_per_class_each_on_its_own_scale():
    langs = XTREME[:16]  # grouped by family; 20 settings on 16 languages: bars would be 62 inches tall
    runs = [f"xlmr · {lang}" for lang in XTREME[:20]]
    errors, lengths = error_frames(20, 16)
    languages_of((errors, lengths), langs)
    names = dict(zip([f"mbert · en+it ({r})" for r in range(20)], runs))
    errors["run"], lengths["run"] = errors["run"].map(names), lengths["run"].map(names)
    fig = make_errors_figure(errors, lengths, title="matrix: errors", run_langs=dict(zip(runs, XTREME[:20])))
    panels = heatmap_axes(fig)
    assert len(panels) == 7  # six classes and F1 by length
    assert panels[0].get_title() == "share of gold entities: correct"
    assert panels[-1].get_title().startswith("micro F1 by sentence length")
    assert [t.get_text() for t in panels[-1].get_xticklabels()] == ["1-5", "6-10", "11-15", ">15"]
    # a class of shares 0.05 on a scale to 0.1, not lost at the bottom of 0..1
    wrong_type = panels[1].get_images()[0]
    assert wrong_type.get_clim() == (0.0, 0.1)
    assert [t.get_text() for t in panels[0].get_yticklabels()] == [
        f"xlmr · {lang}" for lang in family_order(XTREME[:20])
    ]
