"""Figures: training curves, transfer heatmaps and F1-by-type bar charts (PNG).

Each figure has a ``make_*_figure`` function that builds a
:class:`matplotlib.figure.Figure` from plain DataFrames (tested on its
artists), and a ``plot_*`` function that builds it and writes it as a PNG.

Figures are made with :class:`~matplotlib.figure.Figure` directly, never with
pyplot, so no backend is selected and no global state is touched; saving to
PNG uses the Agg renderer. The PNG settings are fixed (``dpi=150``, no
``Software`` tag) so that the same input always gives the same bytes, and the
file is written atomically (:func:`xner.io.atomic_path`).

Colours are colour-blind friendly: the Okabe-Ito palette for series and
entity types, viridis for the heatmap.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from xner.io import atomic_path
from xner.reporting.languages import FAMILY_ORDER, family_order, family_spans, grouped

logger = logging.getLogger(__name__)

DPI = 150
ENTITY_TYPES_ORDER: tuple[str, ...] = ("LOC", "ORG", "PER", "macro")

# Okabe-Ito: distinguishable under the common forms of colour blindness.
BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, GREY = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#666666",
)
TYPE_COLOURS: Mapping[str, str] = MappingProxyType({"LOC": BLUE, "ORG": ORANGE, "PER": GREEN, "macro": GREY})
LANGUAGE_COLOURS: tuple[str, ...] = (ORANGE, GREEN, PURPLE, SKY, "#000000", "#F0E442")
LANGUAGE_MARKERS: tuple[str, ...] = ("s", "^", "D", "v", "P", "X", "*", "h")

# Rough width of one character of 10 pt DejaVu Sans, in inches, to size figures for their labels.
CHAR_WIDTH_IN = 0.075
HISTORY_COLUMNS: tuple[str, ...] = ("epoch", "train_loss", "val_loss", "val_f1")
SCORES_COLUMNS: tuple[str, ...] = ("run", "test_lang", "type", "f1")


def check_frame(df: pd.DataFrame, name: str, columns: Sequence[str] = ()) -> None:
    """Raise ValueError when ``df`` is empty or lacks any of ``columns``."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{name}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; has {list(df.columns)}")
    if df.empty:
        raise ValueError(f"{name}: no rows to plot")


def save_png(fig: Figure, out: str | Path) -> None:
    """Write ``fig`` to ``out`` as a PNG, atomically and with reproducible bytes."""
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    logger.info("wrote %s", out)


def upright_extra_in(labels: Sequence[str], room_in: float) -> float:
    """Extra height (inches) that x tick labels need when turned upright, 0 when they fit side by side.

    Labels are turned upright (90°) rather than slanted when the longest does not fit
    in ``room_in`` inches: slanted labels that fit still have overlapping bounding
    boxes, so their fit could not be checked.
    """
    longest = max((len(label) for label in labels), default=0) * CHAR_WIDTH_IN
    return longest if longest > room_in else 0.0


# --- training curves ---------------------------------------------------------------------------------------


def tracked_languages(history: pd.DataFrame) -> list[str]:
    """The tracked test languages of a history (``test_{lang}_f1`` or ``_loss`` columns), in column order."""
    langs = []
    for column in history.columns:
        match = re.fullmatch(r"test_(.+)_(f1|loss)", str(column))
        if match:
            langs.append(match.group(1))
    return list(dict.fromkeys(langs))


def make_training_curves_figure(history: pd.DataFrame, *, title: str, best_epoch: int) -> Figure:
    """Train and val loss against epoch (left), val F1 against epoch (right), the best epoch marked.

    ``history`` has columns ``epoch``, ``train_loss``, ``val_loss``, ``val_f1`` and
    optionally ``test_{lang}_f1`` and ``test_{lang}_loss`` for tracked test languages,
    drawn dashed (F1, right) and dotted (loss, left) and labelled by language. The best
    epoch is a vertical line in both panels, labelled ``best epoch N`` in the legends.
    Every point has a marker, so a single-epoch history shows too.
    """
    check_frame(history, "history", HISTORY_COLUMNS)
    history = history.sort_values("epoch", kind="stable")
    epochs = history["epoch"].to_numpy()
    if best_epoch not in set(epochs.tolist()):
        raise ValueError(f"best_epoch {best_epoch} is not an epoch of the history ({epochs.tolist()})")
    langs = tracked_languages(history)
    first, last = float(epochs[0]), float(epochs[-1])
    pad = max(0.5, 0.03 * (last - first))

    fig = Figure(figsize=(13, max(4.5, 2.5 + 0.25 * len(langs))), layout="constrained")
    loss_ax, f1_ax = fig.subplots(1, 2)
    fig.suptitle(title)
    size = 6 if len(epochs) <= 20 else 3
    loss_ax.plot(epochs, history["train_loss"], color=BLUE, marker="o", markersize=size, label="train loss")
    loss_ax.plot(epochs, history["val_loss"], color=VERMILLION, marker="o", markersize=size, label="val loss")
    f1_ax.plot(epochs, history["val_f1"], color=VERMILLION, marker="o", markersize=size, label="val F1")
    for i, lang in enumerate(langs):
        style = {
            "color": LANGUAGE_COLOURS[i % len(LANGUAGE_COLOURS)],
            "marker": LANGUAGE_MARKERS[i % len(LANGUAGE_MARKERS)],
            "markersize": size - 1,
        }
        if f"test_{lang}_loss" in history.columns:
            loss_ax.plot(
                epochs, history[f"test_{lang}_loss"], linestyle=":", label=f"test loss ({lang})", **style
            )
        if f"test_{lang}_f1" in history.columns:
            f1_ax.plot(epochs, history[f"test_{lang}_f1"], linestyle="--", label=f"test F1 ({lang})", **style)

    loss_ax.set_title("Loss")
    loss_ax.set_ylabel("loss")
    losses = np.concatenate([line.get_ydata() for line in loss_ax.get_lines()]).astype(float)
    top = np.nanmax(losses) if np.isfinite(losses).any() else 1.0
    loss_ax.set_ylim(0, 1.08 * top if top > 0 else 1.0)
    f1_ax.set_title("F1")
    f1_ax.set_ylabel("F1")
    f1_ax.set_ylim(0, 1.02)
    for ax in (loss_ax, f1_ax):
        ax.axvline(best_epoch, color="black", linestyle="-.", linewidth=1, label=f"best epoch {best_epoch}")
        ax.set_xlabel("epoch")
        ax.set_xlim(first - pad, last + pad)
        if len(epochs) <= 20:
            ax.set_xticks(epochs)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    return fig


def run_title(summary: Mapping) -> str:
    """The title of a run's figures, from its ``summary.json``: ``mbert trained on en+it (base)``."""
    return f"{summary['model']} trained on {summary['train_langs']} ({summary['variant']})"


def plot_training_curves(history: pd.DataFrame, out: str | Path, *, title: str, best_epoch: int) -> None:
    """Write :func:`make_training_curves_figure` to ``out`` (PNG)."""
    save_png(make_training_curves_figure(history, title=title, best_epoch=best_epoch), out)


# --- transfer heatmap --------------------------------------------------------------------------------------


def _text_colour(rgba: Sequence[float]) -> str:
    """Black or white, whichever contrasts more with a background colour (relative luminance)."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgba[:3])
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "black" if luminance > 0.179 else "white"


ANNOTATE_UP_TO = 15  # test languages: more, and the cells have no numbers (the colour bar reads them)
SMALL_CELL_IN = 0.3  # side of a cell without numbers, in inches


def family_labels(ax, langs: Sequence[str], axis: str) -> None:
    """Lines between the families of ``langs`` (the columns or rows of ``ax``) and each family's name
    beside them (above the columns, right of the rows); nothing for a single family."""
    spans = family_spans(langs)
    if len(spans) < 2:
        return
    centres = [(start + stop - 1) / 2 for _, start, stop in spans]
    names = [family for family, _, _ in spans]
    for _, start, _ in spans[1:]:
        line = ax.axvline if axis == "x" else ax.axhline
        line(start - 0.5, color="white", linewidth=3.5)
    if axis == "x":
        top = ax.secondary_xaxis("top")
        top.set_xticks(centres, names, fontsize=8)
        top.tick_params(axis="x", labelrotation=90, length=0)
    else:
        right = ax.secondary_yaxis("right")
        right.set_yticks(centres, names, fontsize=8)
        right.tick_params(axis="y", length=0)
    for spine in (top if axis == "x" else right).spines.values():
        spine.set_visible(False)


def heatmap_order(
    mean: pd.DataFrame, row_langs: Mapping[str, str] | None = None
) -> tuple[list[str], list[str], bool, bool]:
    """The rows and columns of a transfer matrix as a heatmap shows them, and whether each is grouped by family.

    Columns (test languages) keep their order up to :data:`~xner.reporting.languages.FAMILY_ORDER_FROM`
    and are grouped by family from there on; rows are then grouped the same way where ``row_langs``
    gives every row its one training language (a model trained on each language: the diagonal is
    each language's in-language score), and keep their order otherwise.
    """
    rows = [str(r) for r in mean.index]
    cols = [str(c) for c in mean.columns]
    by_family = grouped(cols)
    rows_by_family = by_family and row_langs is not None and all(row in row_langs for row in rows)
    if by_family:
        cols = family_order(cols)
    if rows_by_family:
        order = family_order(row_langs[row] for row in rows)
        rows = sorted(rows, key=lambda row: order.index(row_langs[row]))
    return rows, cols, by_family, rows_by_family


def draw_heatmap(
    ax,
    values: np.ndarray,
    rows: Sequence[str],
    cols: Sequence[str],
    *,
    spread: np.ndarray | None = None,
    annotate: bool = True,
    upright: bool = False,
    vmax: float = 1.0,
):
    """``values`` (rows x cols, in 0..``vmax``; NaN grey) on ``ax`` in viridis, each cell's value written
    in it (with ``±spread`` on a second line where given) when ``annotate``; returns the image for a
    colour bar."""
    cmap = colormaps["viridis"].with_extremes(bad="#d9d9d9")
    norm = Normalize(vmin=0.0, vmax=vmax)
    image = ax.imshow(
        np.ma.masked_invalid(values), cmap=cmap, norm=norm, aspect="auto", interpolation="nearest"
    )
    for i in range(len(rows) if annotate else 0):
        for j in range(len(cols)):
            value = values[i, j]
            if math.isnan(value):
                continue
            text = f"{value:.2f}"
            if spread is not None and not math.isnan(spread[i, j]):
                text += f"\n±{spread[i, j]:.2f}"
            colour = _text_colour(cmap(norm(value)))
            ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=9, linespacing=1.1)

    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(rows)), rows)
    if upright:
        ax.tick_params(axis="x", labelrotation=90)
    ax.set_xticks(np.arange(len(cols) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(rows) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=2 if annotate else 0.8)
    ax.tick_params(which="minor", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return image


def make_transfer_heatmap_figure(
    mean: pd.DataFrame,
    *,
    title: str,
    std: pd.DataFrame | None = None,
    value_label: str = "macro F1",
    row_langs: Mapping[str, str] | None = None,
) -> Figure:
    """A transfer matrix as a heatmap: rows are training runs, columns test languages, values in [0, 1].

    The colour scale is fixed to 0..1 (viridis, colour bar labelled ``value_label``).
    Up to :data:`ANNOTATE_UP_TO` test languages, each cell shows its value to 2
    decimals, with ``±std`` on a second line when ``std`` (same labels as ``mean``)
    is given and not NaN; the text is black or white for contrast. With more, the
    cells are smaller and have no text: the colour bar reads them. NaN cells (run
    not tested there) are grey, with no text. Rows and columns are in the order of
    :func:`heatmap_order` (``row_langs``: each row's training language, where each
    has one); languages grouped by family have lines between the families and
    the families' names above the columns (and right of the rows). The figure
    grows with the matrix, each cell keeping its size.
    """
    check_frame(mean, "mean")
    rows, cols, by_family, rows_by_family = heatmap_order(mean, row_langs)
    mean = mean.set_axis([str(r) for r in mean.index], axis=0).set_axis(
        [str(c) for c in mean.columns], axis=1
    )
    mean = mean.loc[rows, cols]
    if std is not None:
        std = std.set_axis([str(r) for r in std.index], axis=0).set_axis(
            [str(c) for c in std.columns], axis=1
        )
        std = std.reindex(index=rows, columns=cols)
    try:
        values = mean.to_numpy(dtype=float)
        spread = None if std is None else std.to_numpy(dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"transfer matrix values must be numbers: {error}") from error
    has_std = spread is not None and not np.isnan(spread).all()
    annotate = len(cols) <= ANNOTATE_UP_TO

    if annotate:
        cell_w, cell_h = 0.8, (0.6 if has_std else 0.45)
    else:
        cell_w = cell_h = SMALL_CELL_IN
    label_w = CHAR_WIDTH_IN * max(len(r) for r in rows)
    families_w = CHAR_WIDTH_IN * 0.8 * max(map(len, FAMILY_ORDER)) if by_family else 0.0
    width = max(
        6.5,
        label_w + cell_w * len(cols) + 2.2 + (families_w if rows_by_family else 0.0),
        CHAR_WIDTH_IN * 1.2 * len(title) + 0.5,
    )
    upright = upright_extra_in(cols, cell_w * 0.9)
    height = max(3.5, cell_h * len(rows) + 2.0 + upright + families_w)
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.subplots()
    fig.suptitle(title)
    image = draw_heatmap(ax, values, rows, cols, spread=spread, annotate=annotate, upright=bool(upright))
    # a colour bar about a quarter of an inch wide, however tall the figure
    aspect = 20 if annotate else max(20.0, cell_h * len(rows) / 0.25)
    fig.colorbar(image, ax=ax, label=value_label, shrink=1.0 if len(rows) > 3 else 0.9, aspect=aspect)
    if by_family:
        family_labels(ax, cols, "x")
    if rows_by_family:
        family_labels(ax, [row_langs[row] for row in rows], "y")
    ax.set_xlabel("test language")
    ax.set_ylabel("training run")
    return fig


def plot_transfer_heatmap(
    mean: pd.DataFrame,
    out: str | Path,
    *,
    title: str,
    std: pd.DataFrame | None = None,
    value_label: str = "macro F1",
    row_langs: Mapping[str, str] | None = None,
) -> None:
    """Write :func:`make_transfer_heatmap_figure` to ``out`` (PNG)."""
    save_png(
        make_transfer_heatmap_figure(
            mean, title=title, std=std, value_label=value_label, row_langs=row_langs
        ),
        out,
    )
