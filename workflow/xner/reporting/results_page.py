"""A study's results as one Markdown page with its figures (``results/report/{page}.md`` and ``{page}/``).

The page is written from the study's own tables and figures only (``scores.csv``,
``runs.csv``, ``cost.csv``, ``data_stats.csv``, each experiment's table,
significance table and figures), never typed by hand, so that it can be
regenerated from cached results and says exactly what the tables say:

- the data: sentences per language and split, as the runs saw them;
- the transfer table: micro F1 (strict IOB2) of every setting on every test
  language, with its bootstrap interval (one seed) or ± std over seeds;
- strict and lenient (XTREME's) micro F1 side by side;
- per experiment: its description, figures and the outcome of every
  comparison its significance table decides;
- the times: training and evaluation minutes of every run, and the total.

A study of many test languages keeps the page readable: beyond
:data:`PAGE_LANGS` test languages, the tables of settings x test languages are
split into tables of at most that many languages each (the languages grouped by
family from :data:`~xner.reporting.languages.FAMILY_ORDER_FROM` on, as in the
figures), after one table of each setting's averages; beyond
:data:`PAGE_COMPARISONS` comparisons, an experiment's comparisons are counted per
pair of settings instead of listed (its significance table lists them).

The figures are copied beside the page into a folder named like it
(``results-cpu.md`` and ``results-cpu/``), so that the two can be moved
together, e.g. into ``docs/``; the copies are palette PNGs (256 colours), about
a third of the size, small enough to commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xner import __version__
from xner.io import atomic_directory, atomic_path, markdown_table, write_text
from xner.reporting.languages import display_order, family_of, language_blocks
from xner.reporting.significance import markdown_view as significance_view
from xner.reporting.significance import resolution_warning, verdicts
from xner.reporting.tables import in_mode, markdown_view, read_csv, run_labels, transfer_table

# Test languages in one table of the page: more are split into several tables.
PAGE_LANGS = 10
# Comparisons an experiment's section lists: more are counted per factor and test language.
PAGE_COMPARISONS = 100

MODES_NOTE = (
    "strict: seqeval's strict mode with the IOB2 scheme (an entity counts only with its exact span and "
    "type), the study's score; lenient: seqeval's default mode, as XTREME scores PAN-X."
)


@dataclass(frozen=True)
class StudyTables:
    """The study's tables the page is written from (``results/tables/``)."""

    scores: pd.DataFrame  # scores.csv
    runs: pd.DataFrame  # runs.csv
    cost: pd.DataFrame  # cost.csv
    data_stats: pd.DataFrame  # data_stats.csv


@dataclass(frozen=True)
class Experiment:
    """What the page shows of one experiment: its description, significance table and figures."""

    name: str
    description: str
    significance: Path
    figures: Sequence[Path] = field(default_factory=tuple)


def figure_name(experiment: str, figure: Path) -> str:
    """The file name of an experiment's figure in the page's folder: ``zero-shot-transfer.png``."""
    return f"{experiment}-{figure.name}"


def _settings(scores: pd.DataFrame) -> list[str]:
    keys = dict.fromkeys(zip(scores["model"], scores["train_langs"], scores["setting"]))
    return run_labels(keys)


def _split_by_language(view: pd.DataFrame, langs: Sequence[str], first: Sequence[str]) -> str:
    """``view`` (columns ``first``, then one per test language) as Markdown: one table, or beyond
    :data:`PAGE_LANGS` languages one table per block of languages (each with the columns ``first``),
    headed by its languages' families."""
    if len(langs) <= PAGE_LANGS:
        return markdown_table(view[[*first, *langs]])
    parts = []
    for block in language_blocks(display_order(langs), PAGE_LANGS):
        families = ", ".join(dict.fromkeys(family_of(lang) for lang in block))
        parts.append(
            f"Test languages {block[0]} to {block[-1]} ({families}):\n\n"
            + markdown_table(view[[*first, *block]])
        )
    return "\n".join(parts)


def transfer_section(scores: pd.DataFrame, test_langs: Sequence[str]) -> str:
    """Micro F1 (strict) per setting and test language, with its interval or ± std over seeds.

    Beyond :data:`PAGE_LANGS` test languages: a table of each setting's averages, then
    one table per block of test languages (:func:`_split_by_language`).
    """
    table = transfer_table(scores, test_langs, metric="micro", mode="strict")
    cells = [f"{lang}{end}" for lang in test_langs for end in ("", "_std", "_ci_low", "_ci_high")]
    view = markdown_view(table[["seeds", *[c for c in cells if c in table.columns]]])
    view.insert(0, "setting", run_labels(zip(table["model"], table["train_langs"], table["setting"])))
    averages = pd.DataFrame(
        {
            "average": [f"{v:.3f}" for v in table["micro_average"]],
            "average, lenient": [f"{v:.3f}" for v in table["micro_average_lenient"]],
        }
    )
    view = pd.concat([view.reset_index(drop=True), averages], axis=1)
    langs = [lang for lang in test_langs if lang in view.columns]
    if len(langs) <= PAGE_LANGS:
        text = markdown_table(view)
    else:
        text = markdown_table(view[["setting", "seeds", *averages.columns]]) + "\n"
        text += _split_by_language(view, langs, ["setting"])
    return (
        text
        + "\nMicro F1 (strict IOB2) on each test language: for one seed, its 95% bootstrap interval over "
        "the test sentences in brackets; for several seeds, their mean ± std. average: the unweighted "
        "mean over the test languages (lenient: the same in seqeval's default mode, XTREME's number).\n"
    )


def modes_section(scores: pd.DataFrame, test_langs: Sequence[str]) -> str:
    """Strict and lenient micro F1 side by side (means over seeds), one cell per setting and language."""
    means = {}
    for mode in ("strict", "lenient"):
        rows = in_mode(scores, mode)
        rows = rows[rows["type"] == "micro"]
        means[mode] = rows.groupby(["model", "train_langs", "setting", "test_lang"], sort=False)["f1"].mean()
    keys = list(dict.fromkeys(zip(scores["model"], scores["train_langs"], scores["setting"])))
    rows = []
    for label, key in zip(run_labels(keys), keys):
        row = {"setting": label}
        for lang in test_langs:
            strict, lenient = (means[mode].get((*key, lang)) for mode in ("strict", "lenient"))
            row[lang] = "" if strict is None else f"{strict:.3f} / {lenient:.3f}"
        rows.append(row)
    view = pd.DataFrame(rows, columns=["setting", *test_langs])
    return (
        _split_by_language(view, list(test_langs), ["setting"])
        + f"\nEach cell: strict / lenient micro F1. {MODES_NOTE}\n"
    )


def data_section(data_stats: pd.DataFrame, test_langs: Sequence[str]) -> str:
    """Sentences per language and split (train, val, test) as the runs saw them, and the budgeted mixtures."""
    single = data_stats[data_stats["split"].isin(["train", "val", "test"])]
    table = single.pivot(index="langs", columns="split", values="sentences")
    table = table.reindex(display_order(single["langs"]))[["train", "val", "test"]]
    text = markdown_table(table.reset_index().rename(columns={"langs": "language"}))
    mixtures = data_stats[~data_stats["split"].isin(["train", "val", "test"])]
    if len(mixtures):
        text += "\nTraining mixtures (train + val sentences, budgets applied): " + ", ".join(
            f"{row.langs} {row.sentences}" for row in mixtures.itertuples()
        )
        text += ".\n"
    return text


def significance_section(table: pd.DataFrame, resamples: int) -> str:
    """Each comparison the significance table decides (at the level of seeds where there is one); beyond
    :data:`PAGE_COMPARISONS`, counted per pair of settings instead."""
    decided = verdicts(table)
    if not decided:
        return "No two settings of this experiment differ in one factor only: nothing is compared.\n"
    rows = pd.DataFrame(list(decided.values()))
    found = int(rows["significant"].sum())
    if len(rows) <= PAGE_COMPARISONS:
        text = markdown_table(
            significance_view(rows)[
                ["a", "b", "test_lang", "level", "a − b [interval]", "p (Holm)", "significant"]
            ]
        )
    else:
        significant = rows["significant"].astype(bool)
        rows = rows.assign(
            significant=significant, a_higher=significant & (rows["difference"].astype(float) > 0)
        )
        pairs = rows.groupby(["factor", "a", "b"], sort=False)
        view = pd.DataFrame(
            {
                "test languages": pairs.size(),
                "significant": pairs["significant"].sum(),
                "of which a higher": pairs["a_higher"].sum(),
                "mean a − b": pairs["difference"].mean().map(lambda d: f"{float(d):+.3f}"),
            }
        ).reset_index()
        text = (
            f"{len(rows)} comparisons, too many to list here (the experiment's significance table lists "
            "them), counted per pair of settings: on how many test languages they differ significantly, "
            "and on how many of those a is the higher; mean a − b: the mean difference in micro F1 over "
            "the test languages.\n\n" + markdown_table(view)
        )
    return (
        text
        + f"\n{found} of {len(rows)} comparisons significant (micro F1, strict; Holm-adjusted p < 0.05 over "
        "the experiment's comparisons; a paired randomisation test over the test sentences for one seed "
        "pair, Welch's t-test over seeds where both settings have several). "
        + resolution_warning(table, resamples)
        + "\n"
    )


def times_section(runs: pd.DataFrame, cost: pd.DataFrame) -> str:
    """Every run's epochs and minutes, and the study's total."""
    view = pd.DataFrame(
        {
            "run": [f"{m}/{t}/{v}" for m, t, v in zip(runs["model"], runs["train_langs"], runs["variant"])],
            "best epoch / run": [f"{b} / {e}" for b, e in zip(runs["best_epoch"], runs["epochs_run"])],
            "val F1": [f"{v:.3f}" for v in runs["best_val_f1"]],
            "training minutes": [f"{v:.1f}" for v in runs["training_minutes"]],
            "evaluation minutes": [f"{v:.1f}" for v in runs["evaluation_minutes"]],
            "device": runs["device_name"],
        }
    )
    total = cost[cost["device_type"] == "total"].iloc[0]
    return markdown_table(view) + (
        f"\nIn all: {int(total['runs'])} runs, {total['training_minutes']:.1f} minutes of training and "
        f"{total['evaluation_minutes']:.1f} of evaluation (the work itself; data preparation, fetching the "
        "model and the tables and figures come on top).\n"
    )


def render(
    title: str,
    tables: StudyTables,
    experiments: Sequence[Experiment],
    test_langs: Sequence[str],
    folder: str,
    resamples: int,
) -> str:
    """The page's Markdown; figures are linked as ``{folder}/{figure_name}``."""
    scores, runs = tables.scores, tables.runs
    models = ", ".join(
        f"{model} ({parameters / 1e6:.1f} M parameters)"
        for model, parameters in dict(zip(runs["model"], runs["total_parameters"])).items()
    )
    devices = ", ".join(dict.fromkeys(runs["device_name"]))
    recipes = (
        "learning rate "
        + ", ".join(f"{lr:g}" for lr in dict.fromkeys(runs["lr"]))
        + "; batch size "
        + ", ".join(str(size) for size in dict.fromkeys(runs["batch_size"]))
    )
    lines = [
        f"# {title}",
        "",
        f"*Written by `xner results-page` (xner {__version__}) from this study's tables and figures; "
        "regenerate it from them, do not edit it by hand.*",
        "",
        f"{len(runs)} runs of {models} on {devices} ({recipes}), tested on {', '.join(test_langs)}. "
        + MODES_NOTE,
        "",
        "## Data",
        "",
        data_section(tables.data_stats, test_langs),
        "## Transfer",
        "",
        transfer_section(scores, test_langs),
        "### Strict and lenient",
        "",
        modes_section(scores, test_langs),
        "## Experiments",
        "",
    ]
    for experiment in experiments:
        lines += [f"### {experiment.name}", "", experiment.description.strip(), ""]
        lines += [
            f"![{experiment.name}: {f.stem}]({folder}/{figure_name(experiment.name, f)})"
            for f in experiment.figures
        ]
        lines += ["", "Comparisons:", "", significance_section(read_csv(experiment.significance), resamples)]
    lines += ["## Times", "", times_section(runs, tables.cost)]
    return "\n".join(lines)


def write_page(
    out: str | Path,
    title: str,
    tables: StudyTables,
    experiments: Sequence[Experiment],
    test_langs: Sequence[str],
    resamples: int,
) -> None:
    """Write the page ``out`` and its figures into the folder beside it named like it; both or neither.

    ``resamples``: those of the significance tables' randomisation tests (config key
    evaluation.bootstrap_resamples), to say where they cannot reach significance.
    """
    out = Path(out)
    folder = out.with_suffix("")
    text = render(title, tables, experiments, test_langs, folder.name, resamples)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_directory(folder) as figures, atomic_path(out) as page:
        for experiment in experiments:
            for figure in experiment.figures:
                web_copy(figure, figures / figure_name(experiment.name, figure))
        write_text(page, text)


def web_copy(png: Path, out: Path) -> None:
    """A copy of a figure as a palette PNG (256 colours, no dithering): the same picture, a third the size."""
    from PIL import Image

    with Image.open(png) as image:
        image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            out, optimize=True
        )


def experiments_from(
    names: Sequence[str],
    descriptions: Mapping[str, str],
    significance: Sequence[Path],
    figures: Sequence[Path],
) -> list[Experiment]:
    """Each experiment's inputs, found by name: ``.../significance/NAME.csv``, ``.../figures/NAME/*.png``."""
    by_name = {Path(p).stem: Path(p) for p in significance}
    return [
        Experiment(
            name,
            descriptions.get(name, ""),
            by_name[name],
            tuple(Path(f) for f in figures if Path(f).parent.name == name),
        )
        for name in names
    ]
