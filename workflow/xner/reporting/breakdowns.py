"""Figures that break an experiment's scores down: F1 by entity type, and its errors (PNG).

Like :mod:`xner.reporting.figures` (whose helpers they use), each has a
``make_*_figure`` function that builds a :class:`~matplotlib.figure.Figure` and a
``plot_*`` function that writes it as a PNG.

Both stay readable however many test languages and settings there are: they
facet instead of shrinking. Bars of F1 by type wrap onto further panels beyond
:data:`LANGS_PER_PANEL` test languages, and the errors figure puts two test
languages side by side beyond it. Where bars (one per setting and language) would
make a figure taller than :data:`MAX_BAR_HEIGHT_IN` (a model trained on each of
40 languages), both become heatmaps of setting x test language, one per entity
type (or error class). From
:data:`~xner.reporting.languages.FAMILY_ORDER_FROM` test languages on, languages
are grouped by family as in the transfer heatmap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from xner.reporting.figures import (
    ANNOTATE_UP_TO,
    BLUE,
    CHAR_WIDTH_IN,
    ENTITY_TYPES_ORDER,
    GREEN,
    GREY,
    LANGUAGE_COLOURS,
    LANGUAGE_MARKERS,
    PURPLE,
    SCORES_COLUMNS,
    SKY,
    SMALL_CELL_IN,
    TYPE_COLOURS,
    VERMILLION,
    check_frame,
    draw_heatmap,
    family_labels,
    heatmap_order,
    save_png,
    upright_extra_in,
)
from xner.reporting.languages import display_order, family_spans, grouped, language_blocks

# Test languages in one panel of bars: more wrap onto further panels (the errors figure: two a row).
LANGS_PER_PANEL = 10
# The tallest figure of bars, in inches (9,000 pixels): taller, and it is heatmaps of setting x test
# language instead, one per type or class.
MAX_BAR_HEIGHT_IN = 60.0


def _heatmap_grid(
    frames: Sequence[tuple[str, pd.DataFrame]],
    *,
    title: str,
    value_label: str,
    ncols: int,
    row_langs: Mapping[str, str] | None,
    own_scales: bool = False,
) -> Figure:
    """One heatmap per (panel title, run x column frame, values in 0..1), ``ncols`` a row, one colour bar;
    with ``own_scales``, each its own colour bar from 0 to its largest value (rounded up to a tenth).

    Rows and columns in the order of :func:`~xner.reporting.figures.heatmap_order` (that of the first
    frame), with the families marked where grouped; numbers in the cells while they fit.
    """
    first = frames[0][1]
    rows, cols, by_family, rows_by_family = heatmap_order(first, row_langs)
    annotate = len(cols) <= ANNOTATE_UP_TO
    cell_w, cell_h = (0.8, 0.45) if annotate else (SMALL_CELL_IN, SMALL_CELL_IN)
    nrows = math.ceil(len(frames) / ncols)
    label_w = CHAR_WIDTH_IN * max(len(r) for r in rows)
    families_w = 1.0 if by_family else 0.0
    panel_w = label_w + cell_w * len(cols) + 0.6 + (families_w if rows_by_family else 0.0)
    panel_h = cell_h * len(rows) + 1.0 + families_w
    width = max(7.0, panel_w * ncols + 1.5, CHAR_WIDTH_IN * 1.2 * len(title) + 0.5)
    fig = Figure(figsize=(width, 1.0 + panel_h * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    fig.suptitle(title)
    image = None
    for ax, (name, frame) in zip(axes, frames):
        frame = frame.reindex(index=rows)
        columns = cols if list(frame.columns) == list(first.columns) else [str(c) for c in frame.columns]
        values = frame.reindex(columns=columns).to_numpy(dtype=float)
        upright = bool(upright_extra_in(columns, cell_w * 0.9))
        largest = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
        vmax = max(0.1, math.ceil(largest * 10 - 1e-9) / 10) if own_scales else 1.0
        image = draw_heatmap(
            ax, values, rows, columns, annotate=len(columns) <= ANNOTATE_UP_TO, upright=upright, vmax=vmax
        )
        if own_scales:
            fig.colorbar(image, ax=ax, label=value_label, aspect=40)
        ax.set_title(name)
        if by_family and columns is cols:
            family_labels(ax, cols, "x")
        if rows_by_family:
            family_labels(ax, [row_langs[row] for row in rows], "y")
    for ax in axes[len(frames) :]:
        ax.set_visible(False)
    if not own_scales:
        fig.colorbar(image, ax=list(axes[: len(frames)]), label=value_label, shrink=0.6, aspect=40)
    return fig


# --- F1 by entity type -------------------------------------------------------------------------------------


def make_f1_by_type_figure(
    scores: pd.DataFrame, *, title: str, run_langs: Mapping[str, str] | None = None
) -> Figure:
    """Grouped bars of F1 by test language and entity type, one panel per run (and group of languages).

    ``scores`` is long: columns ``run`` (label), ``test_lang``, ``type`` (``LOC``,
    ``ORG``, ``PER``, ``macro``) and ``f1``, optionally ``f1_ci_low`` and
    ``f1_ci_high`` (an interval: asymmetric error bars) and ``f1_std`` (± std where
    there is no interval); no error bar where neither is given. Panels are stacked
    vertically in order of appearance of the runs, share the y axis (0..1) and are
    titled by run; within a panel, groups are the run's test languages in order of
    appearance (by family from :data:`~xner.reporting.languages.FAMILY_ORDER_FROM`
    on, dotted lines between families), with one bar per type in the order above.
    Beyond :data:`LANGS_PER_PANEL` test languages, each run has several panels
    (titled with their first and last language), all as wide. One legend for the
    figure. The figure grows with the numbers of runs and languages.

    Where that figure would be taller than :data:`MAX_BAR_HEIGHT_IN`: one heatmap of
    run x test language per type instead (``run_langs``: each run's one training language, to order the rows
    by family as the transfer heatmap does).
    """
    check_frame(scores, "scores", SCORES_COLUMNS)
    frame = pd.DataFrame(
        {
            "run": scores["run"].astype(str).to_numpy(),
            "test_lang": scores["test_lang"].astype(str).to_numpy(),
            "type": scores["type"].astype(str).to_numpy(),
            "f1": pd.to_numeric(scores["f1"]).to_numpy(dtype=float),
        }
    )
    for column in ("f1_std", "f1_ci_low", "f1_ci_high"):
        if column in scores.columns:
            frame[column] = pd.to_numeric(scores[column]).to_numpy(dtype=float)
    unknown = sorted(set(frame["type"]) - set(ENTITY_TYPES_ORDER))
    if unknown:
        raise ValueError(f"scores: unknown entity type(s) {unknown}; expected {list(ENTITY_TYPES_ORDER)}")
    duplicated = frame.duplicated(["run", "test_lang", "type"])
    if duplicated.any():
        first = frame.loc[duplicated, ["run", "test_lang", "type"]].iloc[0].tolist()
        raise ValueError(f"scores: more than one row for run, test_lang, type = {first}")

    runs = list(dict.fromkeys(frame["run"]))
    all_langs = display_order(frame["test_lang"])
    types = [t for t in ENTITY_TYPES_ORDER if t in set(frame["type"])]
    indexed = frame.set_index(["run", "test_lang", "type"])
    panels = language_blocks(all_langs, LANGS_PER_PANEL)
    per_panel = len(panels[0])
    wrapped = len(panels) > 1

    bar_w = 0.8 / len(types)
    group_in = 0.3 * len(types) + 0.4
    width = max(7.0, 1.5 + group_in * per_panel, CHAR_WIDTH_IN * 1.2 * len(title) + 0.5)
    # the axes get the figure's width less room for the y labels and the legend
    upright = upright_extra_in(all_langs, 0.9 * (width - 2.5) / per_panel)
    height = 1.6 + (2.0 + upright) * len(runs) * len(panels)
    if height > MAX_BAR_HEIGHT_IN:
        frames = [
            (
                "macro F1" if type_ == "macro" else f"F1 of {type_}",
                frame[frame["type"] == type_]
                .pivot(index="run", columns="test_lang", values="f1")
                .reindex(index=runs, columns=all_langs),
            )
            for type_ in types
        ]
        return _heatmap_grid(frames, title=title, value_label="F1", ncols=2, row_langs=run_langs)
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(len(runs) * len(panels), 1, sharey=True, squeeze=False)[:, 0]
    fig.suptitle(title)

    for k, ax in enumerate(axes):
        run, panel = runs[k // len(panels)], panels[k % len(panels)]
        present = set(frame.loc[frame["run"] == run, "test_lang"])
        langs = [lang for lang in panel if lang in present]
        x = np.arange(len(langs))
        for t, type_ in enumerate(types):
            keys = [(run, lang, type_) for lang in langs]
            rows = indexed.reindex(keys)
            heights = rows["f1"].to_numpy(dtype=float)
            yerr = _error_bars(rows, heights)
            ax.bar(
                x + (t - (len(types) - 1) / 2) * bar_w,
                heights,
                width=bar_w,
                color=TYPE_COLOURS[type_],
                label=type_,
                yerr=yerr,
                error_kw={"ecolor": "black", "elinewidth": 0.8, "capsize": 2},
            )
        ax.set_title(f"{run} ({panel[0]}–{panel[-1]})" if wrapped else run)
        ax.set_xticks(x, langs)
        if upright:
            ax.tick_params(axis="x", labelrotation=90)
        ax.set_xlim(-0.6, max(per_panel if wrapped else len(langs), 1) - 0.4)
        if grouped(all_langs):
            for _, start, _ in family_spans(langs)[1:]:
                ax.axvline(start - 0.5, color="black", linestyle=":", linewidth=0.8)
        ax.set_ylim(0, 1)
        ax.set_ylabel("F1")
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    axes[-1].set_xlabel("test language")

    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", title="entity type")
    return fig


def _error_bars(rows: pd.DataFrame, heights: np.ndarray) -> np.ndarray | None:
    """(2, bars) distances below and above each bar: its interval where given, else its std; None if neither."""
    nan = np.full(len(heights), np.nan)
    low = heights - rows["f1_ci_low"].to_numpy(dtype=float) if "f1_ci_low" in rows.columns else nan
    high = rows["f1_ci_high"].to_numpy(dtype=float) - heights if "f1_ci_high" in rows.columns else nan
    std = rows["f1_std"].to_numpy(dtype=float) if "f1_std" in rows.columns else nan
    has_interval = ~(np.isnan(low) | np.isnan(high))
    errors = np.stack([np.where(has_interval, low, std), np.where(has_interval, high, std)])
    return None if np.isnan(errors).all() else errors


def plot_f1_by_type(
    scores: pd.DataFrame, out: str | Path, *, title: str, run_langs: Mapping[str, str] | None = None
) -> None:
    """Write :func:`make_f1_by_type_figure` to ``out`` (PNG)."""
    save_png(make_f1_by_type_figure(scores, title=title, run_langs=run_langs), out)


# --- error analysis ----------------------------------------------------------------------------------------

ERROR_COLOURS: Mapping[str, str] = MappingProxyType(
    {
        "correct": GREEN,
        "wrong type": PURPLE,
        "wrong boundaries": SKY,
        "wrong boundaries and type": BLUE,
        "missed": VERMILLION,
        "spurious": GREY,
    }
)


def make_errors_figure(
    errors: pd.DataFrame, lengths: pd.DataFrame, *, title: str, run_langs: Mapping[str, str] | None = None
) -> Figure:
    """What each run gets wrong, a pair of panels per test language (one pair a row, two beyond
    :data:`LANGS_PER_PANEL` test languages).

    Left: a horizontal bar per run of its gold entities by class (``errors``:
    columns ``run``, ``test_lang``, ``class``, ``share``, the five gold classes of
    :data:`ERROR_COLOURS` stacked to 1), with its spurious entities per gold entity
    stacked after them. Right: micro F1 by sentence-length bin (``lengths``:
    ``run``, ``test_lang``, ``bin``, ``f1``), a line per run.

    Where that figure would be taller than :data:`MAX_BAR_HEIGHT_IN`: one heatmap of
    run x test language per class
    (its share; spurious entities per gold entity), and one of run x length bin of
    micro F1, its mean over the test languages; each with its own colour scale, from
    0 to its largest value, so that rare outcomes show.
    """
    check_frame(errors, "errors", ("run", "test_lang", "class", "share"))
    check_frame(lengths, "lengths", ("run", "test_lang", "bin", "f1"))
    langs = display_order(errors["test_lang"].astype(str))
    runs = list(dict.fromkeys(errors["run"].astype(str)))
    shares = errors.assign(run=errors["run"].astype(str), test_lang=errors["test_lang"].astype(str))
    shares = shares.set_index(["test_lang", "run", "class"])["share"]
    bins = list(dict.fromkeys(lengths["bin"].astype(str)))
    lengths = lengths.assign(
        run=lengths["run"].astype(str),
        test_lang=lengths["test_lang"].astype(str),
        bin=lengths["bin"].astype(str),
    )
    per_row = 1 if len(langs) <= LANGS_PER_PANEL else 2
    nrows = math.ceil(len(langs) / per_row)
    height = 1.2 + (0.8 + 0.35 * len(runs)) * nrows
    if height > MAX_BAR_HEIGHT_IN:
        return _errors_heatmaps(shares, lengths, runs, langs, bins, title=title, run_langs=run_langs)
    longest = max(map(len, runs))
    width = max(10.0, 7.0 + CHAR_WIDTH_IN * longest, CHAR_WIDTH_IN * 1.2 * len(title) / per_row + 0.5)
    fig = Figure(figsize=(width * per_row, height), layout="constrained")
    grid = fig.subplots(nrows, 2 * per_row, squeeze=False, width_ratios=[3, 2] * per_row)
    pairs = [(row[2 * k], row[2 * k + 1]) for row in grid for k in range(per_row)]
    fig.suptitle(title)
    for (left, right), lang in zip(pairs, langs):
        y = np.arange(len(runs))[::-1]
        start = np.zeros(len(runs))
        for name, colour in ERROR_COLOURS.items():
            values = np.array([shares.get((lang, run, name), np.nan) for run in runs], dtype=float)
            values = np.nan_to_num(values)
            left.barh(y, values, left=start, color=colour, label=name, height=0.7)
            start += values
        left.set_yticks(y, runs)
        left.set_xlim(0, max(1.0, float(start.max()) * 1.02))
        left.set_title(f"{lang}: entities by outcome")
        left.axvline(1.0, color="black", linewidth=0.8)
        left.set_xlabel("share of gold entities (spurious: per gold entity)")
        for i, run in enumerate(runs):
            part = lengths[(lengths["test_lang"] == lang) & (lengths["run"] == run)]
            f1 = part.set_index("bin")["f1"].reindex(bins).to_numpy(dtype=float)
            right.plot(
                np.arange(len(bins)),
                f1,
                marker=LANGUAGE_MARKERS[i % len(LANGUAGE_MARKERS)],
                color=LANGUAGE_COLOURS[i % len(LANGUAGE_COLOURS)],
                label=run,
            )
        right.set_xticks(np.arange(len(bins)), bins)
        right.tick_params(axis="x", labelrotation=45)
        right.set_ylim(0, 1)
        right.set_ylabel("micro F1")
        right.set_title(f"{lang}: F1 by sentence length (words)")
        right.grid(alpha=0.3)
    for left, right in pairs[len(langs) :]:
        left.set_visible(False)
        right.set_visible(False)
    handles, labels = pairs[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower left", ncols=3, title="outcome")
    handles, labels = pairs[0][1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower right", title="run")
    return fig


def _errors_heatmaps(
    shares: pd.Series,
    lengths: pd.DataFrame,
    runs: Sequence[str],
    langs: Sequence[str],
    bins: Sequence[str],
    *,
    title: str,
    run_langs: Mapping[str, str] | None,
) -> Figure:
    """The errors figure of many runs: a heatmap of run x test language per class, and of F1 by length."""
    frames = [
        (
            "spurious entities per gold entity" if name == "spurious" else f"share of gold entities: {name}",
            shares.xs(name, level="class").unstack("test_lang").reindex(index=runs, columns=langs),
        )
        for name in ERROR_COLOURS
    ]
    by_length = lengths.groupby(["run", "bin"], sort=False)["f1"].mean().unstack("bin").reindex(index=runs)
    frames.append(("micro F1 by sentence length (words), mean over test languages", by_length[list(bins)]))
    return _heatmap_grid(frames, title=title, value_label="", ncols=2, row_langs=run_langs, own_scales=True)


def plot_errors(
    errors: pd.DataFrame,
    lengths: pd.DataFrame,
    out: str | Path,
    *,
    title: str,
    run_langs: Mapping[str, str] | None = None,
) -> None:
    """Write :func:`make_errors_figure` to ``out`` (PNG)."""
    save_png(make_errors_figure(errors, lengths, title=title, run_langs=run_langs), out)
