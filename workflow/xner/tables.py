"""The study's tables (``results/tables/``), from evaluation JSON and run summaries only.

- ``scores.csv``: the long table, one row per run x test language x entity type
  (LOC, ORG, PER, micro, macro) with precision, recall, F1 and support;
- ``runs.csv``: one row per run, from its ``summary.json`` (best epoch, epochs
  run, training time, parameters, ...);
- ``transfer_matrix.csv``: training run x test language, macro F1;
- ``experiments/{name}.csv``: each experiment's table, shaped like the study's.

Runs that differ only in their seed form one *setting*; a setting's value is the
mean over its seeds, with the standard deviation beside it (``_std``, NaN for a
single seed) and the number of seeds, so that differences within noise show.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from xner.errors import XnerError
from xner.labels import ENTITY_TYPES

TYPES: tuple[str, ...] = (*ENTITY_TYPES, "micro", "macro")
SCORE_COLUMNS = ("model", "train_langs", "variant", "setting", "seed", "test_lang", "split", "type")
METRICS = ("precision", "recall", "f1", "support")
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
    """A table written here (``scores.csv``, ``runs.csv``), read back as written.

    Only an empty cell is missing: a language, variant or token such as ``NA`` or
    ``None`` stays a string, and ``train_langs`` and ``test_lang`` are strings always.
    """
    return pd.read_csv(
        path, keep_default_na=False, na_values=[""], dtype={"train_langs": str, "test_lang": str}
    )


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
        for type_ in TYPES:
            entry = e["per_type"][type_] if type_ in ENTITY_TYPES else e[type_]
            rows.append({**base, "type": type_, **{m: entry[m] for m in METRICS}})
    return pd.DataFrame(rows, columns=[*SCORE_COLUMNS, *METRICS])


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


def _mean_std(values: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """Mean, std (ddof 1: NaN for one seed) and count of ``columns`` per group of ``keys``, in first order."""
    grouped = values.groupby(keys, sort=False)[columns]
    mean = grouped.mean()
    std = grouped.std(ddof=1).add_suffix("_std")
    count = grouped.size().rename("seeds")
    return pd.concat([mean, std, count], axis=1).reset_index()


def transfer_matrix(scores: pd.DataFrame, test_langs: Sequence[str] | None = None, metric: str = "macro"):
    """Training setting x test language, mean F1 of ``metric`` over seeds; and the matching std.

    Returns (mean, std) DataFrames indexed by (model, train_langs, setting).
    """
    rows = scores[scores["type"] == metric]
    table = _mean_std(rows, [*SETTING_KEY, "test_lang"], ["f1"])
    mean = table.pivot(index=SETTING_KEY, columns="test_lang", values="f1")
    std = table.pivot(index=SETTING_KEY, columns="test_lang", values="f1_std")
    order = list(test_langs) if test_langs else list(dict.fromkeys(rows["test_lang"]))
    keys = list(dict.fromkeys(zip(*(rows[k] for k in SETTING_KEY))))
    return mean.reindex(index=keys, columns=order), std.reindex(index=keys, columns=order)


def transfer_table(scores: pd.DataFrame, test_langs: Sequence[str] | None = None) -> pd.DataFrame:
    """The transfer matrix as one table: the setting, then for each test language its mean and ``_std``."""
    mean, std = transfer_matrix(scores, test_langs)
    table = mean.join(std.add_suffix("_std")).reset_index()
    return table[[*mean.index.names, *[c for lang in mean.columns for c in (lang, f"{lang}_std")]]]


def experiment_table(
    scores: pd.DataFrame, runs: pd.DataFrame, test_langs: Sequence[str], layout: str = "prf"
) -> pd.DataFrame:
    """An experiment's table: one row per setting, for each test language the layout's values.

    ``scores`` and ``runs`` hold only the experiment's runs. Columns are
    ``{lang}_{value}`` (mean over seeds), ``{lang}_{value}_std``, and ``seeds``;
    the ``summary`` layout has ``best_epoch`` and ``training_minutes`` once (not per language).
    """
    values = LAYOUTS[layout]
    wide = []
    for lang in test_langs:
        rows = scores[scores["test_lang"] == lang]
        if layout == "prf":
            part = rows[rows["type"] == "micro"].set_index(RUN_KEY)[["precision", "recall", "f1"]]
        else:
            types = [v for v in values if v in TYPES]
            part = rows[rows["type"].isin(types)].pivot(index=RUN_KEY, columns="type", values="f1")[types]
        wide.append(part.add_prefix(f"{lang}_"))
    table = pd.concat(wide, axis=1)
    run_info = runs.set_index(RUN_KEY)
    if layout == "summary":
        info = run_info[["best_epoch", "epochs_run", "training_minutes"]].reindex(table.index)
        table = pd.concat([info, table], axis=1)
    table = table.join(run_info[["setting", "seed"]]).reset_index()
    columns = [c for c in table.columns if c not in (*RUN_KEY, "setting", "seed")]
    order = list(dict.fromkeys(zip(*(table[k] for k in SETTING_KEY))))
    result = _mean_std(table, SETTING_KEY, columns)
    result = result.set_index(SETTING_KEY).reindex(order).reset_index()
    return result[[*SETTING_KEY, "seeds", *[c for c in columns for c in (c, f"{c}_std")]]]


def _format(value: float, column: str, digits: int) -> str:
    """A number for reading: counts of epochs without decimals, minutes with one, scores with ``digits``."""
    if column.endswith(("epoch", "epochs_run")):
        return f"{value:.1f}".removesuffix(".0")
    return f"{value:.{1 if column.endswith('minutes') else digits}f}"


def markdown_view(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """A table for reading: 'mean ± std' cells (std only where there are several seeds)."""
    out = table[[c for c in table.columns if not c.endswith("_std")]].copy()
    for column in out.columns:
        if f"{column}_std" not in table.columns:
            continue
        out[column] = [
            ""
            if pd.isna(mean)
            else _format(mean, column, digits)
            + ("" if pd.isna(std) else f" ± {_format(std, column, digits)}")
            for mean, std in zip(table[column], table[f"{column}_std"])
        ]
    return out


def run_labels(index: pd.Index | Iterable[tuple]) -> list[str]:
    """Readable labels for (model, train_langs, setting) keys: 'mbert · en+it', '... · frozen'."""
    labels = []
    for model, langs, setting in index:
        labels.append(f"{model} · {langs}" + ("" if setting == "base" else f" · {setting}"))
    return labels


def f1_by_type(scores: pd.DataFrame, test_langs: Sequence[str]) -> pd.DataFrame:
    """Long F1 by run label, test language and type (LOC, ORG, PER, macro), mean and std over seeds."""
    rows = scores[scores["type"].isin([*ENTITY_TYPES, "macro"]) & scores["test_lang"].isin(test_langs)]
    table = _mean_std(rows, [*SETTING_KEY, "test_lang", "type"], ["f1"])
    table["run"] = run_labels(zip(*(table[k] for k in SETTING_KEY)))
    table["type"] = pd.Categorical(table["type"], [*ENTITY_TYPES, "macro"], ordered=True)
    table["test_lang"] = pd.Categorical(table["test_lang"], list(test_langs), ordered=True)
    runs = list(dict.fromkeys(table["run"]))
    table["run"] = pd.Categorical(table["run"], runs, ordered=True)
    table = table.sort_values(["run", "test_lang", "type"]).reset_index(drop=True)
    for column in ("run", "test_lang", "type"):
        table[column] = table[column].astype(str)
    return table[["run", "test_lang", "type", "f1", "f1_std"]]
