"""Figures: valid, reproducible PNGs, with the expected titles, labels, legends, marks and no overlapping text."""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.text import Text

from xner.reporting.figures import (
    DPI,
    make_training_curves_figure,
    make_transfer_heatmap_figure,
    plot_training_curves,
    plot_transfer_heatmap,
    tracked_languages,
)
from xner.reporting.languages import FAMILY_ORDER, family_order, family_spans

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TYPES = ["LOC", "ORG", "PER", "macro"]


# --- helpers -----------------------------------------------------------------------------------------------


def check_png(path: Path, min_width: int = 600) -> tuple[int, int]:
    """The file is a PNG that reads back as an image at least ``min_width`` wide; its (height, width)."""
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    height, width = image.shape[:2]
    assert width > min_width and height > 300
    return height, width


def check_reproducible(plot, tmp_path: Path, *args, **kwargs) -> Path:
    """Plot twice to two files; both valid PNGs with the same bytes. Returns the first."""
    first, second = tmp_path / "a" / "figure.png", tmp_path / "b" / "figure.png"
    plot(*args, first, **kwargs)
    plot(*args, second, **kwargs)
    check_png(first)
    assert first.read_bytes() == second.read_bytes()
    assert sorted(p.name for p in first.parent.iterdir()) == ["figure.png"]  # no temporary file left
    return first


def rendered(fig: Figure) -> Figure:
    FigureCanvasAgg(fig).draw()
    return fig


def drawn_tick_labels(axis) -> list[Text]:
    """An axis' tick labels that are drawn: visible, non-empty, at a tick within the view limits."""
    lo, hi = sorted(axis.get_view_interval())
    eps = (hi - lo) * 1e-9
    return [
        tick.label1
        for tick in axis.get_major_ticks()
        if tick.label1.get_visible() and tick.label1.get_text() and lo - eps <= tick.get_loc() <= hi + eps
    ]


def visible_texts(fig: Figure) -> list[Text]:
    """Every text drawn on a figure: titles, axis labels, tick labels, annotations and legends."""
    texts = [fig._suptitle] if fig._suptitle is not None else []
    legends = list(fig.legends)
    for ax in fig.axes:
        texts += [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        texts += drawn_tick_labels(ax.xaxis) + drawn_tick_labels(ax.yaxis)
        if ax.get_legend() is not None:
            legends.append(ax.get_legend())
    for legend in legends:
        texts += [legend.get_title(), *legend.get_texts()]
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def overlapping(texts: list[Text], fig: Figure) -> list[tuple[str, str]]:
    """Pairs of texts whose drawn bounding boxes overlap."""
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    return [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2) if _intersect(box_a, box_b)]


def _intersect(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def tick_label_overlaps(fig: Figure) -> list[tuple[str, str]]:
    """Overlapping pairs among each axis' drawn tick labels."""
    found = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            found += overlapping(drawn_tick_labels(axis), fig)
    return found


def outside_figure(fig: Figure) -> list[str]:
    """Texts drawn (partly) outside the figure."""
    renderer = fig.canvas.get_renderer()
    bbox = fig.bbox
    out = []
    for text in visible_texts(fig):
        box = text.get_window_extent(renderer)
        if box.x0 < bbox.x0 - 1 or box.x1 > bbox.x1 + 1 or box.y0 < bbox.y0 - 1 or box.y1 > bbox.y1 + 1:
            out.append(text.get_text())
    return out


def legend_texts(fig: Figure) -> list[str]:
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]
    return [t.get_text() for legend in legends for t in legend.get_texts()]


def bars_of(ax) -> list[BarContainer]:
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def axes_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


# --- data --------------------------------------------------------------------------------------------------


def history(epochs: int = 4, tracked: tuple[str, ...] = ()) -> pd.DataFrame:
    e = np.arange(1, epochs + 1)
    data = {
        "epoch": e,
        "train_loss": 1.0 / e,
        "val_loss": 0.9 / e + 0.05 * (e == epochs),
        "val_f1": 0.5 + 0.1 * np.log(e),
        "lr": 1e-5 * np.ones(epochs),
    }
    for i, lang in enumerate(tracked):
        data[f"test_{lang}_loss"] = 1.2 / e + 0.1 * i
        data[f"test_{lang}_f1"] = 0.4 + 0.05 * i + 0.05 * np.log(e)
    return pd.DataFrame(data)


def matrix(n_runs: int, n_langs: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    runs = [f"xlm-roberta-base · en+{'+'.join(['de', 'fr', 'it'][: i % 3 + 1])} ({i})" for i in range(n_runs)]
    langs = ["en", "de", "fr", "it", "es", "nl", "sw", "zh"][:n_langs]
    mean = pd.DataFrame(rng.uniform(0, 1, (n_runs, n_langs)), index=runs, columns=langs)
    std = pd.DataFrame(rng.uniform(0, 0.05, (n_runs, n_langs)), index=runs, columns=langs)
    return mean, std


# --- training curves ---------------------------------------------------------------------------------------


def test_training_curves_png_is_valid_and_reproducible(tmp_path):
    path = check_reproducible(
        plot_training_curves, tmp_path, history(tracked=("de",)), title="t", best_epoch=3
    )
    height, width = check_png(path)
    assert width > height  # two panels side by side


def test_training_curves_content():
    fig = make_training_curves_figure(history(tracked=("de", "sw")), title="mbert on en (full)", best_epoch=3)
    assert fig.get_suptitle() == "mbert on en (full)"
    loss_ax, f1_ax = fig.axes
    assert [loss_ax.get_xlabel(), f1_ax.get_xlabel()] == ["epoch", "epoch"]
    assert loss_ax.get_ylabel() == "loss" and f1_ax.get_ylabel() == "F1"
    loss_labels = [t.get_text() for t in loss_ax.get_legend().get_texts()]
    f1_labels = [t.get_text() for t in f1_ax.get_legend().get_texts()]
    assert loss_labels == ["train loss", "val loss", "test loss (de)", "test loss (sw)", "best epoch 3"]
    assert f1_labels == ["val F1", "test F1 (de)", "test F1 (sw)", "best epoch 3"]
    for ax in (loss_ax, f1_ax):
        lines = {line.get_label(): line for line in ax.get_lines()}
        best = lines["best epoch 3"]
        assert list(best.get_xdata()) == [3, 3]
    f1_lines = {line.get_label(): line for line in f1_ax.get_lines()}
    loss_lines = {line.get_label(): line for line in loss_ax.get_lines()}
    assert f1_lines["test F1 (de)"].get_linestyle() == "--"
    assert loss_lines["test loss (sw)"].get_linestyle() == ":"
    assert f1_lines["val F1"].get_linestyle() == "-"
    np.testing.assert_allclose(f1_lines["val F1"].get_ydata(), history()["val_f1"])
    assert not overlapping(visible_texts(rendered(fig)), fig)


def test_training_curves_sorts_by_epoch_and_handles_one_epoch(tmp_path):
    fig = make_training_curves_figure(history(4).iloc[::-1], title="t", best_epoch=2)
    line = fig.axes[0].get_lines()[0]
    assert list(line.get_xdata()) == [1, 2, 3, 4]
    one = history(1, tracked=("de",))
    fig = make_training_curves_figure(one, title="one epoch", best_epoch=1)
    assert all(line.get_marker() not in (None, "None", "") for line in fig.axes[1].get_lines()[:2])
    for ax in fig.axes:
        assert [t.get_text() for t in ax.get_xticklabels()] == ["1"]  # whole epochs only
        lo, hi = ax.get_xlim()
        assert lo < 1 < hi
    train = fig.axes[0].get_lines()[0]
    assert fig.axes[0].get_ylim()[1] > train.get_ydata()[0]  # the point is not clipped at the top
    plot_training_curves(one, tmp_path / "one.png", title="one epoch", best_epoch=1)
    check_png(tmp_path / "one.png")


def test_tracked_languages():
    assert tracked_languages(history(tracked=("de", "zh_yue"))) == ["de", "zh_yue"]
    assert tracked_languages(history()) == []


def test_training_curves_bad_input(tmp_path):
    with pytest.raises(ValueError, match="no rows"):
        plot_training_curves(history().iloc[:0], tmp_path / "x.png", title="t", best_epoch=1)
    with pytest.raises(ValueError, match="val_f1"):
        make_training_curves_figure(history().drop(columns="val_f1"), title="t", best_epoch=1)
    with pytest.raises(ValueError, match="best_epoch 9"):
        make_training_curves_figure(history(), title="t", best_epoch=9)
    assert not (tmp_path / "x.png").exists()


# --- transfer heatmap --------------------------------------------------------------------------------------


def small_matrix() -> tuple[pd.DataFrame, pd.DataFrame]:
    runs = ["mbert · en", "mbert · en+it"]
    mean = pd.DataFrame([[0.912, 0.55, np.nan], [0.88, 0.1, 0.7]], index=runs, columns=["en", "it", "sw"])
    std = pd.DataFrame([[0.021, np.nan, np.nan], [0.0, 0.01, 0.03]], index=runs, columns=["en", "it", "sw"])
    return mean, std


def test_heatmap_png_is_valid_and_reproducible(tmp_path):
    mean, std = small_matrix()
    check_reproducible(plot_transfer_heatmap, tmp_path, mean, title="transfer", std=std)


def test_heatmap_content():
    mean, std = small_matrix()
    fig = make_transfer_heatmap_figure(mean, title="EXP: macro F1", std=std, value_label="macro F1")
    ax, colorbar_ax = fig.axes
    assert fig.get_suptitle() == "EXP: macro F1"
    assert ax.get_xlabel() == "test language" and ax.get_ylabel() == "training run"
    assert colorbar_ax.get_ylabel() == "macro F1"
    image = ax.get_images()[0]
    assert image.get_clim() == (0.0, 1.0)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["en", "it", "sw"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["mbert · en", "mbert · en+it"]
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax.texts}
    assert texts[(0, 0)].get_text() == "0.91\n±0.02"
    assert texts[(0, 1)].get_text() == "0.55"  # std NaN: value only
    assert (0, 2) not in texts  # NaN cell: no text
    assert len(ax.texts) == 5
    assert texts[(1, 1)].get_text() == "0.10\n±0.01"
    # contrast: dark viridis (low values) gets white text, bright (high values) black
    assert texts[(1, 1)].get_color() == "white" and texts[(0, 0)].get_color() == "black"


def test_heatmap_without_std():
    mean, _ = small_matrix()
    fig = make_transfer_heatmap_figure(mean, title="t", value_label="F1")
    assert sorted(axes_texts(fig.axes[0])) == ["0.10", "0.55", "0.70", "0.88", "0.91"]
    assert fig.axes[1].get_ylabel() == "F1"


def test_heatmap_row_never_tested(tmp_path):
    mean, std = small_matrix()
    mean.loc["mbert · en"] = np.nan
    fig = make_transfer_heatmap_figure(mean, title="t", std=std)
    assert sorted(axes_texts(fig.axes[0])) == ["0.10\n±0.01", "0.70\n±0.03", "0.88\n±0.00"]
    plot_transfer_heatmap(mean, tmp_path / "nan.png", title="t", std=std)
    check_png(tmp_path / "nan.png")


def test_heatmap_many_runs_no_overlapping_text(tmp_path):
    mean, std = matrix(8, 6)
    fig = rendered(
        make_transfer_heatmap_figure(mean, title="EXP: macro F1 by run and test language", std=std)
    )
    assert len(fig.axes[0].texts) == 48
    assert not tick_label_overlaps(fig)
    assert not overlapping(visible_texts(fig), fig)
    assert not outside_figure(fig)
    plot_transfer_heatmap(mean, tmp_path / "big.png", title="t", std=std)
    check_png(tmp_path / "big.png")


def test_heatmap_long_labels_rotated_without_overlap():
    mean, std = matrix(3, 6)
    mean.columns = std.columns = [f"language number {i}" for i in range(6)]
    fig = rendered(make_transfer_heatmap_figure(mean, title="t", std=std))
    assert all(t.get_rotation() == 90 for t in fig.axes[0].get_xticklabels())
    assert not overlapping(visible_texts(fig), fig)
    assert not outside_figure(fig)


def test_heatmap_bad_input(tmp_path):
    with pytest.raises(ValueError, match="no rows"):
        plot_transfer_heatmap(pd.DataFrame(), tmp_path / "x.png", title="t")
    with pytest.raises(ValueError, match="numbers"):
        make_transfer_heatmap_figure(pd.DataFrame({"en": ["a"]}), title="t")
    assert not (tmp_path / "x.png").exists()


# --- the transfer heatmap at 40 languages ------------------------------------------------------------------

XTREME = (
    "af ar bg bn de el en es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr ms my nl pt ru sw ta te th tl tr "
    "ur vi yo zh"
).split()


def every_language_matrix(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """xlmr trained on each of the 40 languages x tested on each, rows and columns alphabetical; the
    in-language score is 0.95, every other below 0.9."""
    rng = np.random.default_rng(seed)
    rows = [f"xlmr · {lang}" for lang in XTREME]
    values = rng.uniform(0.2, 0.9, (40, 40))
    np.fill_diagonal(values, 0.95)
    mean = pd.DataFrame(values, index=rows, columns=XTREME)
    std = pd.DataFrame(rng.uniform(0, 0.05, (40, 40)), index=rows, columns=XTREME)
    return mean, std, dict(zip(rows, XTREME))


def family_lines(ax) -> tuple[list[float], list[float]]:
    """The x of the vertical and the y of the horizontal lines drawn between families."""
    vertical = [line.get_xdata()[0] for line in ax.get_lines() if line.get_xdata()[0] == line.get_xdata()[1]]
    horizontal = [
        line.get_ydata()[0] for line in ax.get_lines() if line.get_ydata()[0] == line.get_ydata()[1]
    ]
    return vertical, horizontal


def test_heatmap_of_40_languages_groups_them_by_family_without_numbers():
    mean, std, row_langs = every_language_matrix()
    fig = make_transfer_heatmap_figure(mean, title="matrix: macro F1", std=std, row_langs=row_langs)
    ax = fig.axes[0]
    order = family_order(XTREME)
    assert [t.get_text() for t in ax.get_xticklabels()] == order
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"xlmr · {lang}" for lang in order]
    assert not ax.texts  # no numbers in the cells: the colour bar reads them
    # rows ordered as the columns: the diagonal is each language's in-language score
    np.testing.assert_allclose(np.diag(ax.get_images()[0].get_array()), 0.95)
    # a line between each pair of neighbouring families, both ways; the families named above the columns
    starts = [start - 0.5 for _, start, _ in family_spans(order)[1:]]
    vertical, horizontal = family_lines(ax)
    assert vertical == starts and horizontal == starts and len(starts) == len(FAMILY_ORDER) - 1
    (top,) = [child for child in ax.child_axes if child.get_xticklabels()]
    assert [t.get_text() for t in top.get_xticklabels()] == list(FAMILY_ORDER)
    width, height = fig.get_size_inches() * DPI
    assert max(width, height) < 4000  # cells keep their size: not 12,000 pixels a side
    rendered(fig)
    assert not tick_label_overlaps(fig) and not outside_figure(fig)
    families = [tick.label2 for tick in top.xaxis.get_major_ticks() if tick.label2.get_visible()]
    assert len(families) == len(FAMILY_ORDER) and not overlapping(families + [fig._suptitle], fig)


def test_heatmap_of_40_test_languages_leaves_rows_of_several_models_in_their_order():
    mean, std, _ = every_language_matrix()
    mean, std = mean.iloc[:3], std.iloc[:3]
    mean.index = std.index = ["mbert · en", "xlmr · en", "mdeberta · en"]
    fig = make_transfer_heatmap_figure(mean, title="zero-shot", std=std)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["mbert · en", "xlmr · en", "mdeberta · en"]
    assert [t.get_text() for t in ax.get_xticklabels()] == family_order(XTREME)
    vertical, horizontal = family_lines(ax)
    assert len(vertical) == len(FAMILY_ORDER) - 1 and not horizontal


def test_heatmap_of_a_few_languages_keeps_their_order_and_numbers():
    langs = ["en", "it", "af", "sw", "de", "hu"]  # the study's, not in family order
    mean, std = matrix(3, 6)
    mean.columns = std.columns = langs
    fig = make_transfer_heatmap_figure(mean, title="t", std=std, row_langs=dict(zip(mean.index, "abc")))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == langs
    assert [t.get_text() for t in ax.get_yticklabels()] == list(mean.index)
    assert len(ax.texts) == 18 and family_lines(ax) == ([], [])
    assert not ax.child_axes
