"""The study's tables (``results/tables/``), from evaluation JSON and run summaries only.

- ``scores.csv``: the long table, one row per run x test language x mode
  (strict IOB2, and lenient as XTREME scores) x entity type (LOC, ORG, PER,
  micro, macro) with precision, recall, F1, its bootstrap interval and support;
- ``runs.csv``: one row per run, from its ``summary.json`` (best epoch, epochs
  run, training time, parameters, ...);
- ``transfer_matrix.csv``: training run x test language, macro F1, and the
  unweighted averages over test languages (macro and micro F1; micro F1 in
  lenient mode too, the number XTREME reports for PAN-X);
- ``experiments/{name}.csv``: each experiment's table, shaped like the study's.

Runs that differ only in their seed form one *setting*; a setting's value is the
mean over its seeds, with the standard deviation beside it (``_std``, NaN for a
single seed) and the number of seeds, so that differences within noise show.
A single run's F1 has its interval beside it (``_ci_low``, ``_ci_high``: the
bootstrap over test sentences); a mean over several seeds has its std instead
(the interval of one evaluation says nothing of the seeds' spread).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from xner.errors import XnerError
from xner.io import write_table
from xner.labels import ENTITY_TYPES

logger = logging.getLogger(__name__)

TYPES: tuple[str, ...] = (*ENTITY_TYPES, "micro", "macro")
SCORE_COLUMNS = ("model", "train_langs", "variant", "setting", "seed", "test_lang", "split", "mode", "type")
METRICS = ("precision", "recall", "f1", "f1_ci_low", "f1_ci_high", "support")
MODES = ("strict", "lenient")
RUN_KEY = ["model", "train_langs", "variant"]
SETTING_KEY = ["model", "train_langs", "setting"]

# Experiment table layouts: which values per test language.
LAYOUTS: dict[str, tuple[str, ...]] = {
    "prf": ("precision", "recall", "f1"),  # micro precision, recall, F1
    "per_type": ("LOC", "ORG", "PER", "macro"),  # F1 per entity type, and macro F1
    "summary": ("best_epoch", "epochs_run", "training_minutes", "macro"),  # epochs, training time, macro F1
}


def setting_of(variant: str) -> str:
    """The variant without its seed: runs that differ only in their seed share a setting."""
    rest = re.sub(r"(?:^|-)seed-?\d+", "", variant).strip("-")
    return rest or "base"


def read_json(paths: Iterable[str | Path]) -> list[dict]:
    return [json.loads(Path(p).read_text(encoding="utf-8")) for p in paths]


def read_csv(path: str | Path) -> pd.DataFrame:
    """A table written here (``scores.csv``, ``runs.csv``, a significance table), read back as written.

    Only an empty cell is missing: a language, variant or token such as ``NA`` or
    ``None`` stays a string, and ``train_langs``, ``test_lang`` and the seeds of a
    comparison (``seeds_a``, ``seeds_b``: ``1`` or ``1,2,3``) are strings always.
    """
    strings = ("train_langs", "test_lang", "seeds_a", "seeds_b")
    return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=dict.fromkeys(strings, str))


def select_runs(table: pd.DataFrame, runs: Sequence[str]) -> pd.DataFrame:
    """The rows of ``table`` of the runs ``runs`` (run ids ``model/train_langs/variant``), in table order."""
    keys = [run.split("/") for run in runs]
    bad = [run for run, key in zip(runs, keys) if len(key) != len(RUN_KEY)]
    if bad:
        raise XnerError(f"not a run id (model/train_langs/variant): {', '.join(bad)}")
    return table.merge(pd.DataFrame(keys, columns=RUN_KEY), on=RUN_KEY, how="inner", sort=False)


def missing_runs(table: pd.DataFrame, runs: Sequence[str]) -> list[str]:
    """The run ids of ``runs`` that have no row in ``table``, sorted."""
    present = {"/".join(key) for key in zip(*(table[k] for k in RUN_KEY))}
    return sorted(set(runs) - present)


def read_experiment(
    scores_path: str | Path, runs_path: str | Path, runs: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An experiment's rows of ``scores.csv`` and ``runs.csv``; every run must have a row in ``runs.csv``."""
    scores = select_runs(read_csv(scores_path), runs)
    run_rows = select_runs(read_csv(runs_path), runs)
    missing = missing_runs(run_rows, runs)
    if missing:
        raise XnerError(f"{runs_path} has no row for run(s) {', '.join(missing)}")
    return scores, run_rows


def scores_table(evaluations: Sequence[dict], summaries: Sequence[dict]) -> pd.DataFrame:
    """The long scores table from evaluation JSON (and the runs' summaries, for their seeds)."""
    seeds = {(s["model"], s["train_langs"], s["variant"]): s["hyperparameters"]["seed"] for s in summaries}
    rows = []
    for e in evaluations:
        key = (e["model"], e["train_langs"], e["variant"])
        base = {
            "model": e["model"],
            "train_langs": e["train_langs"],
            "variant": e["variant"],
            "setting": setting_of(e["variant"]),
            "seed": seeds.get(key),
            "test_lang": e["test_lang"],
            "split": e["split"],
        }
        for mode in MODES:
            scores = e if mode == "strict" else e["lenient"]
            for type_ in TYPES:
                entry = scores["per_type"][type_] if type_ in ENTITY_TYPES else scores[type_]
                low, high = entry.get("f1_ci", (float("nan"), float("nan")))
                rows.append(
                    {
                        **base,
                        "mode": mode,
                        "type": type_,
                        **{m: entry[m] for m in ("precision", "recall", "f1", "support")},
                        "f1_ci_low": low,
                        "f1_ci_high": high,
                    }
                )
    return pd.DataFrame(rows, columns=[*SCORE_COLUMNS, *METRICS])


def write_study_tables(
    evaluations: Sequence[str | Path],
    summaries: Sequence[str | Path],
    indexes: Sequence[Mapping],
    test_langs: Sequence[str] | None,
    *,
    scores_out: Path,
    runs_out: Path,
    transfer_out: Path,
    cost_out: Path,
) -> None:
    """The study's tables from evaluation JSON, run summaries and evaluation indexes: scores, runs, the
    transfer matrix and the cost, each as CSV and as Markdown beside it (``.md``)."""

    summary_rows = read_json(summaries)
    scores = scores_table(read_json(evaluations), summary_rows)
    runs = runs_table(summary_rows, evaluation_minutes(indexes))
    transfer = transfer_table(scores, test_langs)
    write_table(scores, scores_out, scores_out.with_suffix(".md"), view=markdown_view(scores))
    note = cost_note(runs)
    write_table(runs, runs_out, runs_out.with_suffix(".md"), note=note)
    write_table(cost_table(runs), cost_out, cost_out.with_suffix(".md"), note=note)
    write_table(
        transfer,
        transfer_out,
        transfer_out.with_suffix(".md"),
        note=TRANSFER_NOTE,
        view=markdown_view(transfer),
    )
    logger.info("%d scores of %d runs -> %s", len(scores), len(runs), scores_out)


def in_mode(scores: pd.DataFrame, mode: str = "strict") -> pd.DataFrame:
    """The rows of the long scores table in one mode (``strict`` or ``lenient``)."""
    return scores[scores["mode"] == mode]


def evaluation_minutes(indexes: Iterable[Mapping]) -> dict[tuple[str, str, str], float]:
    """Minutes each run (model, train_langs, variant) spent in evaluation, from its evaluations index.

    Every evaluation an index records counts, including those kept from an earlier job.
    """
    minutes: dict[tuple[str, str, str], float] = {}
    for index in indexes:
        for entry in index.values():
            info = entry["key"]["info"]
            key = (info["model"], info["train_langs"], info["variant"])
            minutes[key] = minutes.get(key, 0.0) + entry["wall_seconds"] / 60
    return minutes


def runs_table(
    summaries: Sequence[dict], evaluation: Mapping[tuple[str, str, str], float] | None = None
) -> pd.DataFrame:
    """One row per run: what its summary.json says about training, and its cost in device minutes.

    ``evaluation``: minutes spent evaluating each run (:func:`evaluation_minutes`); missing ones count 0.
    """
    evaluation = evaluation or {}
    rows = []
    for s in summaries:
        evaluation_minutes = evaluation.get((s["model"], s["train_langs"], s["variant"]), 0.0)
        rows.append(
            {
                "model": s["model"],
                "train_langs": s["train_langs"],
                "variant": s["variant"],
                "setting": setting_of(s["variant"]),
                "seed": s["hyperparameters"]["seed"],
                "best_epoch": s["best_epoch"],
                "epochs_run": s["epochs_run"],
                "early_stopped": s["early_stopped"],
                "best_val_loss": s["best_val_loss"],
                "best_val_f1": s["best_val_f1"],
                "training_minutes": s["wall_seconds"] / 60,
                "evaluation_minutes": evaluation_minutes,
                "device_minutes": s["wall_seconds"] / 60 + evaluation_minutes,
                "device_type": s["device_type"],
                "trainable_parameters": s["trainable_parameters"],
                "total_parameters": s["total_parameters"],
                "device_name": s["device_name"],
                "precision": s["precision"],
                "lr": s["hyperparameters"]["lr"],
                "batch_size": s["hyperparameters"]["batch_size"],
                "freeze_encoder": s["hyperparameters"]["freeze_encoder"],
            }
        )
    return pd.DataFrame(rows)


COST_COLUMNS = ("runs", "training_minutes", "evaluation_minutes", "device_minutes")


def cost_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The study's cost: runs and minutes per device type, and a ``total`` row."""
    minutes = list(COST_COLUMNS[1:])
    per_type = runs.groupby("device_type", sort=True)[minutes].sum()
    per_type.insert(0, "runs", runs.groupby("device_type", sort=True).size())
    total = pd.DataFrame(
        [[len(runs), *(runs[c].sum() for c in minutes)]], columns=list(COST_COLUMNS), index=["total"]
    )
    table = pd.concat([per_type, total]).rename_axis("device_type").reset_index()
    return table.astype({"runs": int})


def cost_note(runs: pd.DataFrame) -> str:
    """One sentence for under the runs table: the study's device minutes (GPU minutes where all ran on CUDA)."""
    if runs.empty:
        return "No runs."
    total, training, evaluation = (
        runs[c].sum() for c in ("device_minutes", "training_minutes", "evaluation_minutes")
    )
    types = sorted(set(runs["device_type"]))
    unit = "GPU minutes" if types == ["cuda"] else "device minutes (" + ", ".join(types) + ")"
    return (
        f"Cost: {total:.1f} {unit} for {len(runs)} runs: {training:.1f} in training, {evaluation:.1f} in "
        "evaluation (wall time of the work itself; a SLURM allocation also counts start-up and loading)."
    )


def _mean_std(
    values: pd.DataFrame, keys: list[str], columns: list[str], intervals: Sequence[str] = ()
) -> pd.DataFrame:
    """Mean, std (ddof 1: NaN for one seed) and count of ``columns`` per group of ``keys``, in first order.

    ``intervals``: columns among ``columns`` with ``_ci_low`` and ``_ci_high``
    beside them in ``values``; those are kept for groups of one (one seed) and
    NaN for larger ones.
    """
    grouped = values.groupby(keys, sort=False)
    mean = grouped[columns].mean()
    std = grouped[columns].std(ddof=1).add_suffix("_std")
    count = grouped.size().rename("seeds")
    parts = [mean, std, count]
    bounds = [f"{c}{end}" for c in intervals for end in ("_ci_low", "_ci_high")]
    if bounds:
        first = grouped[bounds].first()
        parts.append(first.where(np.broadcast_to((count == 1).to_numpy()[:, None], first.shape)))
    return pd.concat(parts, axis=1).reset_index()


def _value_order(columns: Sequence[str], table_columns) -> list[str]:
    """Each value column followed by those of its ``_std``, ``_ci_low`` and ``_ci_high`` present."""
    return [
        c
        for column in columns
        for c in (column, f"{column}_std", f"{column}_ci_low", f"{column}_ci_high")
        if c in table_columns
    ]


def transfer_matrix(
    scores: pd.DataFrame,
    test_langs: Sequence[str] | None = None,
    metric: str = "macro",
    mode: str = "strict",
):
    """Training setting x test language, mean F1 of ``metric`` (in ``mode``) over seeds; and the matching std.

    Returns (mean, std) DataFrames indexed by (model, train_langs, setting).
    """
    rows = in_mode(scores, mode)
    rows = rows[rows["type"] == metric]
    table = _mean_std(rows, [*SETTING_KEY, "test_lang"], ["f1"])
    mean = table.pivot(index=SETTING_KEY, columns="test_lang", values="f1")
    std = table.pivot(index=SETTING_KEY, columns="test_lang", values="f1_std")
    order = list(test_langs) if test_langs else list(dict.fromkeys(rows["test_lang"]))
    keys = list(dict.fromkeys(zip(*(rows[k] for k in SETTING_KEY))))
    return mean.reindex(index=keys, columns=order), std.reindex(index=keys, columns=order)


TRANSFER_NOTE = (
    "Each test language: macro F1 (strict IOB2), mean ± std over seeds, or for one seed its bootstrap "
    "interval over the test sentences. average: the unweighted mean over the test languages of macro F1; "
    "micro_average: of micro F1; micro_average_lenient: of micro F1 in seqeval's default (lenient) mode, "
    "the number XTREME reports for PAN-X."
)
# The transfer table's averages over test languages: column -> (metric, mode).
AVERAGES: dict[str, tuple[str, str]] = {
    "average": ("macro", "strict"),
    "micro_average": ("micro", "strict"),
    "micro_average_lenient": ("micro", "lenient"),  # XTREME's PAN-X score
}


def transfer_table(
    scores: pd.DataFrame, test_langs: Sequence[str] | None = None, metric: str = "macro", mode: str = "strict"
) -> pd.DataFrame:
    """The transfer matrix as one table: the setting; per test language F1 of ``metric`` in ``mode``
    (macro, strict by default), its ``_std`` and, for a single seed, its interval; then the unweighted
    averages over the test languages (:data:`AVERAGES`), each a mean over seeds of the runs' averages
    with its ``_std``.
    """
    langs = list(test_langs) if test_langs else list(dict.fromkeys(scores["test_lang"]))
    rows = in_mode(scores, mode)
    cells = rows[(rows["type"] == metric) & rows["test_lang"].isin(langs)].pivot(
        index=[*RUN_KEY, "setting"], columns="test_lang", values=["f1", "f1_ci_low", "f1_ci_high"]
    )
    columns = {}  # built whole, then framed once: a frame grown column by column fragments at 40 languages
    for lang in langs:
        for value, suffix in (("f1", ""), ("f1_ci_low", "_ci_low"), ("f1_ci_high", "_ci_high")):
            columns[f"{lang}{suffix}"] = (
                cells[(value, lang)]
                if (value, lang) in cells.columns
                else pd.Series(float("nan"), cells.index)
            )
    for column, (metric, mode) in AVERAGES.items():
        part = in_mode(scores, mode)
        part = part[(part["type"] == metric) & part["test_lang"].isin(langs)]
        columns[column] = part.groupby([*RUN_KEY, "setting"], sort=False)["f1"].mean().reindex(cells.index)
    wide = pd.DataFrame(columns, index=cells.index)
    run_order = list(dict.fromkeys(zip(*(rows[k] for k in [*RUN_KEY, "setting"]))))
    wide = wide.reindex(run_order).reset_index()
    values = [*langs, *AVERAGES]
    table = _mean_std(wide, SETTING_KEY, values, intervals=langs)
    return table[[*SETTING_KEY, "seeds", *_value_order(values, table.columns)]]


def experiment_table(
    scores: pd.DataFrame, runs: pd.DataFrame, test_langs: Sequence[str], layout: str = "prf"
) -> pd.DataFrame:
    """An experiment's table: one row per setting, for each test language the layout's values.

    ``scores`` and ``runs`` hold only the experiment's runs. Columns are
    ``{lang}_{value}`` (mean over seeds), ``{lang}_{value}_std``, and ``seeds``;
    the ``summary`` layout has ``best_epoch`` and ``training_minutes`` once (not per language).
    """
    values = LAYOUTS[layout]
    wide, intervals = [], []
    strict = in_mode(scores, "strict")
    for lang in test_langs:
        rows = strict[strict["test_lang"] == lang]
        if layout == "prf":
            part = rows[rows["type"] == "micro"].set_index(RUN_KEY)
            part = part[["precision", "recall", "f1", "f1_ci_low", "f1_ci_high"]]
            intervals.append(f"{lang}_f1")
        else:
            types = [v for v in values if v in TYPES]
            picked = rows[rows["type"].isin(types)]
            part = pd.concat(
                [
                    picked.pivot(index=RUN_KEY, columns="type", values=value)[types].add_suffix(suffix)
                    for value, suffix in (("f1", ""), ("f1_ci_low", "_ci_low"), ("f1_ci_high", "_ci_high"))
                ],
                axis=1,
            )
            intervals += [f"{lang}_{t}" for t in types]
        wide.append(part.add_prefix(f"{lang}_"))
    table = pd.concat(wide, axis=1)
    run_info = runs.set_index(RUN_KEY)
    if layout == "summary":
        info = run_info[["best_epoch", "epochs_run", "training_minutes"]].reindex(table.index)
        table = pd.concat([info, table], axis=1)
    table = table.join(run_info[["setting", "seed"]]).reset_index()
    columns = [
        c
        for c in table.columns
        if c not in (*RUN_KEY, "setting", "seed") and not c.endswith(("_ci_low", "_ci_high"))
    ]
    order = list(dict.fromkeys(zip(*(table[k] for k in SETTING_KEY))))
    result = _mean_std(table, SETTING_KEY, columns, intervals)
    result = result.set_index(SETTING_KEY).reindex(order).reset_index()
    return result[[*SETTING_KEY, "seeds", *_value_order(columns, result.columns)]]


def _format(value: float, column: str, digits: int) -> str:
    """A number for reading: counts of epochs without decimals, minutes with one, scores with ``digits``."""
    if column.endswith(("epoch", "epochs_run")):
        return f"{value:.1f}".removesuffix(".0")
    return f"{value:.{1 if column.endswith('minutes') else digits}f}"


def markdown_view(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """A table for reading: 'mean ± std' cells (std only where there are several seeds), and
    'value [low, high]' where a value has its interval (``_ci_low``, ``_ci_high``)."""
    extra = ("_std", "_ci_low", "_ci_high")
    out = table[[c for c in table.columns if not c.endswith(extra)]].copy()
    missing = pd.Series(float("nan"), index=table.index)
    for column in out.columns:
        if not any(f"{column}{end}" in table.columns for end in extra):
            continue
        std, low, high = (table.get(f"{column}{end}", missing) for end in extra)
        cells = []
        for value, s, lo, hi in zip(table[column], std, low, high):
            if pd.isna(value):
                cells.append("")
                continue
            cell = _format(value, column, digits)
            if not pd.isna(s):
                cell += f" ± {_format(s, column, digits)}"
            if not (pd.isna(lo) or pd.isna(hi)):
                cell += f" [{_format(lo, column, digits)}, {_format(hi, column, digits)}]"
            cells.append(cell)
        out[column] = cells
    return out


def run_labels(index: pd.Index | Iterable[tuple]) -> list[str]:
    """Readable labels for (model, train_langs, setting) keys: 'mbert · en+it', '... · frozen'."""
    labels = []
    for model, langs, setting in index:
        labels.append(f"{model} · {langs}" + ("" if setting == "base" else f" · {setting}"))
    return labels


def training_languages(keys: Iterable[tuple[str, str, str]]) -> dict[str, str]:
    """Each setting's label -> its training language, where the (model, train_langs, setting) keys are one
    model and setting trained on one language each (as when a model is trained on every language); else
    empty. Figures order such rows as their test languages, so that the diagonal is in-language."""
    keys = list(dict.fromkeys(keys))
    if len({(model, setting) for model, _, setting in keys}) != 1 or any(
        "+" in langs for _, langs, _ in keys
    ):
        return {}
    return dict(zip(run_labels(keys), (langs for _, langs, _ in keys)))


def f1_by_type(scores: pd.DataFrame, test_langs: Sequence[str]) -> pd.DataFrame:
    """Long F1 by run label, test language and type (LOC, ORG, PER, macro), strict: mean and std over seeds,
    and for a single seed its interval (``f1_ci_low``, ``f1_ci_high``)."""
    rows = in_mode(scores, "strict")
    rows = rows[rows["type"].isin([*ENTITY_TYPES, "macro"]) & rows["test_lang"].isin(test_langs)]
    table = _mean_std(rows, [*SETTING_KEY, "test_lang", "type"], ["f1"], intervals=["f1"])
    table["run"] = run_labels(zip(*(table[k] for k in SETTING_KEY)))
    table["type"] = pd.Categorical(table["type"], [*ENTITY_TYPES, "macro"], ordered=True)
    table["test_lang"] = pd.Categorical(table["test_lang"], list(test_langs), ordered=True)
    runs = list(dict.fromkeys(table["run"]))
    table["run"] = pd.Categorical(table["run"], runs, ordered=True)
    table = table.sort_values(["run", "test_lang", "type"]).reset_index(drop=True)
    for column in ("run", "test_lang", "type"):
        table[column] = table[column].astype(str)
    return table[["run", "test_lang", "type", "f1", "f1_std", "f1_ci_low", "f1_ci_high"]]


def _label(evaluation: Mapping) -> str:
    """The readable label of an evaluation's setting ('mbert · en+it')."""
    return run_labels([(evaluation["model"], evaluation["train_langs"], setting_of(evaluation["variant"]))])[
        0
    ]


# The classes of the error analysis in the errors figure: each gold entity is in exactly one of the first five.
ERROR_CLASSES: tuple[str, ...] = (
    "correct",
    "wrong type",
    "wrong boundaries",
    "wrong boundaries and type",
    "missed",
    "spurious",
)


def error_table(evaluations: Sequence[dict]) -> pd.DataFrame:
    """Long: ``run`` (label), ``test_lang``, ``class`` (:data:`ERROR_CLASSES`), ``count`` summed over seeds,
    and ``share``: the count per gold entity (the first five classes sum to 1)."""
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for e in evaluations:
        label = _label(e)
        errors = e["errors"]
        confusion = errors["confusion"]
        values = {
            "correct": sum(confusion[t][t] for t in confusion),
            "wrong type": sum(confusion[g][p] for g in confusion for p in confusion[g] if g != p),
            "wrong boundaries": sum(errors["boundary_errors"].values()),
            "wrong boundaries and type": sum(errors["boundary_and_type_errors"].values()),
            "missed": sum(errors["missed"].values()),
            "spurious": sum(errors["spurious"].values()),
        }
        total = counts.setdefault((label, e["test_lang"]), dict.fromkeys(ERROR_CLASSES, 0))
        for name, value in values.items():
            total[name] += value
    rows = []
    for (label, lang), values in counts.items():
        gold = sum(values[c] for c in ERROR_CLASSES[:-1])
        for name in ERROR_CLASSES:
            share = values[name] / gold if gold else float("nan")
            rows.append(
                {"run": label, "test_lang": lang, "class": name, "count": values[name], "share": share}
            )
    return pd.DataFrame(rows, columns=["run", "test_lang", "class", "count", "share"])


def length_table(evaluations: Sequence[dict]) -> pd.DataFrame:
    """Long: ``run`` (label), ``test_lang``, ``bin`` (sentence length, words), ``f1`` (mean over seeds),
    ``sentences`` and ``support`` (gold entities) of the bin."""
    rows = []
    for e in evaluations:
        label = _label(e)
        for entry in e["errors"]["by_length"]:
            rows.append({"run": label, "test_lang": e["test_lang"], **entry})
    frame = pd.DataFrame(rows, columns=["run", "test_lang", "bin", "sentences", "support", "predicted", "f1"])
    grouped = frame.groupby(["run", "test_lang", "bin"], sort=False)
    return grouped.agg(
        f1=("f1", "mean"), sentences=("sentences", "first"), support=("support", "first")
    ).reset_index()
