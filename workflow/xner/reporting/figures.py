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


def _check_frame(df: pd.DataFrame, name: str, columns: Sequence[str] = ()) -> None:
    """Raise ValueError when ``df`` is empty or lacks any of ``columns``."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{name}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; has {list(df.columns)}")
    if df.empty:
        raise ValueError(f"{name}: no rows to plot")


def _save(fig: Figure, out: str | Path) -> None:
    """Write ``fig`` to ``out`` as a PNG, atomically and with reproducible bytes."""
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    logger.info("wrote %s", out)


def _upright_extra_in(labels: Sequence[str], room_in: float) -> float:
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
    _check_frame(history, "history", HISTORY_COLUMNS)
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
    _save(make_training_curves_figure(history, title=title, best_epoch=best_epoch), out)


# --- transfer heatmap --------------------------------------------------------------------------------------


def _text_colour(rgba: Sequence[float]) -> str:
    """Black or white, whichever contrasts more with a background colour (relative luminance)."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgba[:3])
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "black" if luminance > 0.179 else "white"


def make_transfer_heatmap_figure(
    mean: pd.DataFrame, *, title: str, std: pd.DataFrame | None = None, value_label: str = "macro F1"
) -> Figure:
    """A transfer matrix as a heatmap: rows are training runs, columns test languages, values in [0, 1].

    The colour scale is fixed to 0..1 (viridis, colour bar labelled ``value_label``).
    Each cell shows its value to 2 decimals, with ``±std`` on a second line when
    ``std`` (same labels as ``mean``) is given and not NaN; the text is black or white
    for contrast. NaN cells (run not tested there) are grey, with no text.
    """
    _check_frame(mean, "mean")
    if std is not None:
        std = std.reindex(index=mean.index, columns=mean.columns)
    try:
        values = mean.to_numpy(dtype=float)
        spread = None if std is None else std.to_numpy(dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"transfer matrix values must be numbers: {error}") from error
    rows = [str(r) for r in mean.index]
    cols = [str(c) for c in mean.columns]
    has_std = spread is not None and not np.isnan(spread).all()

    cell_w, cell_h = 0.8, (0.6 if has_std else 0.45)
    label_w = CHAR_WIDTH_IN * max(len(r) for r in rows)
    width = max(6.5, label_w + cell_w * len(cols) + 2.2, CHAR_WIDTH_IN * 1.2 * len(title) + 0.5)
    upright = _upright_extra_in(cols, cell_w * 0.9)
    height = max(3.5, cell_h * len(rows) + 2.0 + upright)
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.subplots()
    fig.suptitle(title)

    cmap = colormaps["viridis"].with_extremes(bad="#d9d9d9")
    norm = Normalize(vmin=0.0, vmax=1.0)
    image = ax.imshow(
        np.ma.masked_invalid(values), cmap=cmap, norm=norm, aspect="auto", interpolation="nearest"
    )
    fig.colorbar(image, ax=ax, label=value_label, shrink=1.0 if len(rows) > 3 else 0.9)

    for i in range(len(rows)):
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
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="minor", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
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
) -> None:
    """Write :func:`make_transfer_heatmap_figure` to ``out`` (PNG)."""
    _save(make_transfer_heatmap_figure(mean, title=title, std=std, value_label=value_label), out)


# --- F1 by entity type -------------------------------------------------------------------------------------


def make_f1_by_type_figure(scores: pd.DataFrame, *, title: str) -> Figure:
    """Grouped bars of F1 by test language and entity type, one panel per run.

    ``scores`` is long: columns ``run`` (label), ``test_lang``, ``type`` (``LOC``,
    ``ORG``, ``PER``, ``macro``) and ``f1``, optionally ``f1_ci_low`` and
    ``f1_ci_high`` (an interval: asymmetric error bars) and ``f1_std`` (± std where
    there is no interval); no error bar where neither is given. Panels are stacked vertically in order of appearance of the runs, share the
    y axis (0..1) and are titled by run; within a panel, groups are the run's test
    languages in order of appearance, with one bar per type in the order above. One
    legend for the figure. The figure grows with the numbers of runs and languages.
    """
    _check_frame(scores, "scores", SCORES_COLUMNS)
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
    all_langs = list(dict.fromkeys(frame["test_lang"]))
    types = [t for t in ENTITY_TYPES_ORDER if t in set(frame["type"])]
    indexed = frame.set_index(["run", "test_lang", "type"])

    bar_w = 0.8 / len(types)
    group_in = 0.3 * len(types) + 0.4
    width = max(7.0, 1.5 + group_in * len(all_langs), CHAR_WIDTH_IN * 1.2 * len(title) + 0.5)
    # the axes get the figure's width less room for the y labels and the legend
    upright = _upright_extra_in(all_langs, 0.9 * (width - 2.5) / len(all_langs))
    height = 1.6 + (2.0 + upright) * len(runs)
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(len(runs), 1, sharey=True, squeeze=False)[:, 0]
    fig.suptitle(title)

    for ax, run in zip(axes, runs):
        present = set(frame.loc[frame["run"] == run, "test_lang"])
        langs = [lang for lang in all_langs if lang in present]
        x = np.arange(len(langs))
        for k, type_ in enumerate(types):
            keys = [(run, lang, type_) for lang in langs]
            rows = indexed.reindex(keys)
            heights = rows["f1"].to_numpy(dtype=float)
            yerr = _error_bars(rows, heights)
            ax.bar(
                x + (k - (len(types) - 1) / 2) * bar_w,
                heights,
                width=bar_w,
                color=TYPE_COLOURS[type_],
                label=type_,
                yerr=yerr,
                error_kw={"ecolor": "black", "elinewidth": 0.8, "capsize": 2},
            )
        ax.set_title(run)
        ax.set_xticks(x, langs)
        if upright:
            ax.tick_params(axis="x", labelrotation=90)
        ax.set_xlim(-0.6, max(len(langs), 1) - 0.4)
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


def plot_f1_by_type(scores: pd.DataFrame, out: str | Path, *, title: str) -> None:
    """Write :func:`make_f1_by_type_figure` to ``out`` (PNG)."""
    _save(make_f1_by_type_figure(scores, title=title), out)


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


def make_errors_figure(errors: pd.DataFrame, lengths: pd.DataFrame, *, title: str) -> Figure:
    """What each run gets wrong, one row of panels per test language.

    Left: a horizontal bar per run of its gold entities by class (``errors``:
    columns ``run``, ``test_lang``, ``class``, ``share``, the five gold classes of
    :data:`ERROR_COLOURS` stacked to 1), with its spurious entities per gold entity
    stacked after them. Right: micro F1 by sentence-length bin (``lengths``:
    ``run``, ``test_lang``, ``bin``, ``f1``), a line per run.
    """
    _check_frame(errors, "errors", ("run", "test_lang", "class", "share"))
    _check_frame(lengths, "lengths", ("run", "test_lang", "bin", "f1"))
    langs = list(dict.fromkeys(errors["test_lang"].astype(str)))
    runs = list(dict.fromkeys(errors["run"].astype(str)))
    longest = max(map(len, runs))
    width = max(10.0, 7.0 + CHAR_WIDTH_IN * longest, CHAR_WIDTH_IN * 1.2 * len(title) + 0.5)
    fig = Figure(figsize=(width, 1.2 + (0.8 + 0.35 * len(runs)) * len(langs)), layout="constrained")
    axes = fig.subplots(len(langs), 2, squeeze=False, width_ratios=[3, 2])
    fig.suptitle(title)
    shares = errors.assign(run=errors["run"].astype(str), test_lang=errors["test_lang"].astype(str))
    shares = shares.set_index(["test_lang", "run", "class"])["share"]
    bins = list(dict.fromkeys(lengths["bin"].astype(str)))
    for (left, right), lang in zip(axes, langs):
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
            part = lengths[(lengths["test_lang"].astype(str) == lang) & (lengths["run"].astype(str) == run)]
            f1 = part.set_index(part["bin"].astype(str))["f1"].reindex(bins).to_numpy(dtype=float)
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
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower left", ncols=3, title="outcome")
    handles, labels = axes[0, 1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower right", title="run")
    return fig


def plot_errors(errors: pd.DataFrame, lengths: pd.DataFrame, out: str | Path, *, title: str) -> None:
    """Write :func:`make_errors_figure` to ``out`` (PNG)."""
    _save(make_errors_figure(errors, lengths, title=title), out)
