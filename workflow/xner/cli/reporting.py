"""The reporting commands: scores, tables, significance, figures, the results page (rules in report.smk; code in xner.reporting)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from xner.cli.options import (
    add_bootstrap_options,
    add_experiment_runs,
    add_run_evaluations,
    add_table_outputs,
    add_test_langs,
    bootstrap,
    parse_pairs,
)
from xner.config import experiment_choice
from xner.errors import XnerError

logger = logging.getLogger("xner")


def _add_scores(p: argparse.ArgumentParser) -> None:
    """collect evaluation JSON and run summaries into the long scores table

    Write scores (one row per run x test language x mode: strict IOB2 and lenient x entity type: LOC, ORG,
    PER, micro, macro, with precision, recall, F1, its bootstrap interval, support), runs (one row per run,
    from summary.json, with its minutes of training and evaluation), the transfer matrix (run x test
    language, macro F1, and the unweighted averages over the test languages: macro, micro, and micro in
    lenient mode as XTREME reports PAN-X) and the study's cost (minutes per device type and in total),
    each as CSV and Markdown.
    """
    add_run_evaluations(p, "every run's evaluations directory (each language in its index.json)")
    p.add_argument("--summaries", required=True, nargs="+", type=Path, help="summary.json of every run")
    add_test_langs(p, required=False)
    p.add_argument("--scores-out", required=True, type=Path, help="output: scores.csv (and .md beside it)")
    p.add_argument("--runs-out", required=True, type=Path, help="output: runs.csv (and .md)")
    p.add_argument("--transfer-out", required=True, type=Path, help="output: transfer_matrix.csv (and .md)")
    p.add_argument("--cost-out", required=True, type=Path, help="output: cost.csv (and .md)")
    p.set_defaults(func=_run_scores)


def _run_scores(args: argparse.Namespace) -> None:
    from xner.evaluation.evaluate import read_index, run_evaluation_files
    from xner.reporting.tables import write_study_tables

    order = {lang: k for k, lang in enumerate(args.test_langs or [])}
    evaluations = []
    for directory in args.run_evaluations:
        files = run_evaluation_files(directory)
        langs = sorted(files, key=lambda lang: order.get(lang, len(order)))  # stable: the index's order after
        evaluations += [files[lang].json for lang in langs]
    write_study_tables(
        evaluations,
        args.summaries,
        [read_index(d) for d in args.run_evaluations],
        args.test_langs,
        scores_out=args.scores_out,
        runs_out=args.runs_out,
        transfer_out=args.transfer_out,
        cost_out=args.cost_out,
    )


def _add_experiment_table(p: argparse.ArgumentParser) -> None:
    """one experiment's table, shaped like the study's

    Write an experiment's table (CSV with mean and std over seeds; Markdown with mean ± std): one row per
    setting (runs that differ only in their seed), per test language the values of the layout: prf (micro
    precision, recall, F1), per_type (F1 of LOC, ORG, PER and macro F1), summary (best epoch, epochs run,
    training minutes, macro F1).
    """
    layouts, default = experiment_choice("table")
    add_experiment_runs(p)
    p.add_argument("--runs-table", required=True, type=Path, help="runs.csv (made by xner scores)")
    p.add_argument(
        "--layout", choices=layouts, default=default, help="experiments.NAME.table (default: %(default)s)"
    )
    p.add_argument(
        "--significance",
        type=Path,
        help="the experiment's significance table (made by xner significance): its outcomes marked in the "
        "Markdown",
    )
    add_table_outputs(p)
    p.set_defaults(func=_run_experiment_table)


def _run_experiment_table(args: argparse.Namespace) -> None:
    from xner.io import write_table
    from xner.reporting.tables import experiment_table, markdown_view, read_csv, read_experiment

    scores, runs = read_experiment(args.scores, args.runs_table, args.runs)
    table = experiment_table(scores, runs, args.test_langs, args.layout)
    view, note = markdown_view(table), None
    if args.significance:
        from xner.reporting.significance import mark_experiment_table

        view, note = mark_experiment_table(table, view, read_csv(args.significance), args.test_langs)
    write_table(table, args.csv, args.md, note=note, view=view)


def _add_significance(p: argparse.ArgumentParser) -> None:
    """whether an experiment's settings differ: paired tests on the same test sentences, Holm-corrected

    For every pair of the experiment's settings (runs without their seed) that differ in one factor (the
    model, the training mixture, or one hyperparameter), on each test language both were evaluated on: the
    difference in micro F1 (strict IOB2), its paired bootstrap interval and a paired approximate
    randomisation test over the test sentences, per seed pair; where both settings have two or more seeds,
    also Welch's t-test over the seeds' F1. Holm's correction over all comparisons at each level. Reads each
    evaluation JSON and the predictions TSV beside it.
    """
    compare, default = experiment_choice("compare")
    add_run_evaluations(p, "the evaluations directories of the experiment's runs")
    add_test_langs(p, required=True)
    p.add_argument("--summaries", required=True, nargs="+", type=Path, help="summary.json of its runs")
    p.add_argument(
        "--compare",
        choices=compare,
        default=default,
        help="experiments.NAME.compare: which settings that differ in one factor are compared: reference, each "
        "against the one holding the factor's reference level (its level in the first run's setting); all, "
        "every pair (default: %(default)s)",
    )
    add_bootstrap_options(p)
    add_table_outputs(p)
    p.set_defaults(func=_run_significance)


def _run_significance(args: argparse.Namespace) -> None:
    from xner.evaluation.evaluate import experiment_evaluations
    from xner.io import write_table
    from xner.reporting.significance import (
        load_evaluated,
        markdown_view,
        note,
        resolution_warning,
        significance_table,
    )

    settings = bootstrap(args)
    evaluated = load_evaluated(experiment_evaluations(args.run_evaluations, args.test_langs), args.summaries)
    table = significance_table(evaluated, settings, args.compare)
    write_table(table, args.csv, args.md, note=note(table, settings, args.compare), view=markdown_view(table))
    if resolution_warning(table, settings.resamples):
        logger.warning(resolution_warning(table, settings.resamples))
    logger.info(
        "%d comparisons, %d significant after Holm's correction -> %s",
        len(table),
        int(table["significant"].sum()),
        args.csv,
    )


def _add_plot_curves(p: argparse.ArgumentParser) -> None:
    """training curves of runs (losses and val F1 per epoch, best epoch marked), one PNG per run

    Plot each run's train and val loss and val F1 against epoch, with the best epoch marked: the run in
    the i-th --run-dirs (its history.csv and summary.json) to the i-th --out, all in one process.
    """
    p.add_argument(
        "--run-dirs", required=True, nargs="+", type=Path, metavar="DIR", help="the runs' directories"
    )
    p.add_argument("--out", required=True, nargs="+", type=Path, help="output PNG of each run, in order")
    p.set_defaults(func=_run_plot_curves)


def _run_plot_curves(args: argparse.Namespace) -> None:
    import pandas as pd

    from xner.reporting.figures import plot_training_curves, run_title

    if len(args.run_dirs) != len(args.out):
        raise XnerError(f"{len(args.run_dirs)} --run-dirs but {len(args.out)} --out: give one output per run")
    for run_dir, out in zip(args.run_dirs, args.out):
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        history = pd.read_csv(run_dir / "history.csv")
        plot_training_curves(history, out, title=run_title(summary), best_epoch=summary["best_epoch"])
    logger.info("training curves of %d runs", len(args.out))


def _add_plot_experiment(p: argparse.ArgumentParser) -> None:
    """an experiment's transfer heatmap and F1-by-type bar chart

    Plot an experiment's transfer matrix (run x test language, macro F1) as a heatmap and its F1 by test
    language and entity type as a grouped bar chart (means over seeds, std as error). From 16 test
    languages on, they are grouped by family and the heatmap's cells have no numbers; beyond 10, the bars
    wrap onto panels of at most 10 languages, or become a heatmap per type where they would not fit
    (docs/evaluation.md, "Many languages").
    """
    add_experiment_runs(p)
    p.add_argument("--title", required=True, help="the experiment's name")
    p.add_argument("--heatmap", required=True, type=Path, help="output PNG")
    p.add_argument("--bars", required=True, type=Path, help="output PNG")
    p.set_defaults(func=_run_plot_experiment)


def _run_plot_experiment(args: argparse.Namespace) -> None:
    from xner.reporting.breakdowns import plot_f1_by_type
    from xner.reporting.figures import plot_transfer_heatmap
    from xner.reporting.tables import (
        f1_by_type,
        read_csv,
        run_labels,
        select_runs,
        training_languages,
        transfer_matrix,
    )

    scores = select_runs(read_csv(args.scores), args.runs)
    mean, std = transfer_matrix(scores, args.test_langs)
    row_langs = training_languages(mean.index)
    mean.index = std.index = run_labels(mean.index)
    plot_transfer_heatmap(
        mean,
        args.heatmap,
        title=f"{args.title}: macro F1 by training run and test language",
        std=std,
        row_langs=row_langs,
    )
    plot_f1_by_type(
        f1_by_type(scores, args.test_langs),
        args.bars,
        title=f"{args.title}: F1 by test language and entity type",
        run_langs=row_langs,
    )


def _add_plot_errors(p: argparse.ArgumentParser) -> None:
    """an experiment's error analysis: entities by outcome and F1 by sentence length, per test language

    Plot, for each test language, each setting's gold entities by outcome (right, wrong type, wrong
    boundaries, both, missed) and its spurious entities per gold entity, summed over seeds; and micro F1
    by sentence-length bin (mean over seeds). Reads the "errors" entry of each evaluation JSON.
    """
    add_run_evaluations(p, "the evaluations directories of the experiment's runs")
    add_test_langs(p, required=True)
    p.add_argument("--title", required=True, help="the experiment's name")
    p.add_argument("--out", required=True, type=Path, help="output PNG")
    p.set_defaults(func=_run_plot_errors)


def _run_plot_errors(args: argparse.Namespace) -> None:
    from xner.evaluation.evaluate import experiment_evaluations
    from xner.reporting.breakdowns import plot_errors
    from xner.reporting.tables import error_table, length_table, read_json, setting_of, training_languages

    files = experiment_evaluations(args.run_evaluations, args.test_langs)
    evaluations = read_json(f.json for f in files)
    plot_errors(
        error_table(evaluations),
        length_table(evaluations),
        args.out,
        title=f"{args.title}: errors (strict IOB2 spans) by test language",
        run_langs=training_languages(
            (e["model"], e["train_langs"], setting_of(e["variant"])) for e in evaluations
        ),
    )


def _add_results_page(p: argparse.ArgumentParser) -> None:
    """a study's results as one Markdown page with its figures, from its tables

    Write OUT (Markdown) and, in the folder beside it named like it, the experiments' figures: the data,
    the transfer table (micro F1 with intervals or ± std over seeds), strict and lenient side by side,
    each experiment's figures and significance outcomes, and every run's times. Reads only the
    study's tables and figures; written whole or not at all.
    """
    p.add_argument("--title", required=True, help="the page's title")
    p.add_argument("--scores", required=True, type=Path, help="scores.csv (made by xner scores)")
    p.add_argument("--runs-table", required=True, type=Path, help="runs.csv (made by xner scores)")
    p.add_argument("--cost", required=True, type=Path, help="cost.csv (made by xner scores)")
    p.add_argument("--data-stats", required=True, type=Path, help="data_stats.csv (made by xner stats)")
    p.add_argument("--experiments", nargs="*", default=[], help="the experiments, in page order")
    p.add_argument(
        "--describe", nargs="*", default=[], metavar="NAME=TEXT", help="each experiment's description"
    )
    p.add_argument(
        "--significance", nargs="*", default=[], type=Path, help="significance/NAME.csv of each experiment"
    )
    p.add_argument(
        "--figures", nargs="*", default=[], type=Path, help="the experiments' figures, NAME/FIGURE.png"
    )
    add_test_langs(p, required=True)
    add_bootstrap_options(p)
    p.add_argument(
        "--out", required=True, type=Path, help="output: the page (its figures go to OUT without .md)"
    )
    p.set_defaults(func=_run_results_page)


def _run_results_page(args: argparse.Namespace) -> None:
    import pandas as pd

    from xner.reporting.results_page import StudyTables, experiments_from, write_page
    from xner.reporting.tables import read_csv

    missing = sorted(set(args.experiments) - {path.stem for path in args.significance})
    if missing:
        raise XnerError(f"--significance has no table for the experiment(s) {', '.join(missing)}")
    tables = StudyTables(
        scores=read_csv(args.scores),
        runs=read_csv(args.runs_table),
        cost=pd.read_csv(args.cost),
        data_stats=pd.read_csv(args.data_stats, keep_default_na=False, dtype={"langs": str}),
    )
    write_page(
        args.out,
        args.title,
        tables,
        experiments=experiments_from(
            args.experiments,
            parse_pairs(args.describe, "--describe", "NAME=TEXT"),
            args.significance,
            args.figures,
        ),
        test_langs=args.test_langs,
        resamples=args.bootstrap_resamples,
    )


COMMANDS = (
    _add_scores,
    _add_experiment_table,
    _add_significance,
    _add_plot_curves,
    _add_plot_experiment,
    _add_plot_errors,
    _add_results_page,
)
