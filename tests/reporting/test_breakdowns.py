"""Breakdown figures: F1 by type and the errors, faceted (not shrunk) at many test languages and settings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_figures import (
    TYPES,
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
