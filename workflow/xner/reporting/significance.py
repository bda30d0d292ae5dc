"""Whether two settings of an experiment differ: the significance table (``results/tables/significance/``).

A *setting* is a run without its seed: the model, the training mixture and the
grid point (the variant without its seed, whose hyperparameters differ from
the model's defaults). Two settings are comparable when they differ in exactly
one factor: the model (same mixture and grid point), the mixture (same model
and point), or one hyperparameter (same model and mixture). Pairs that differ
in more than one factor would confound their effects and are left out.

Which comparable pairs are compared (config key ``experiments.NAME.compare``,
:func:`compared_pairs`): ``reference`` (the default) compares each setting with
the one that holds the reference level of the factor they differ in, the
factor's level in the experiment's first setting (its first model, mixture and
grid value), so the comparisons grow linearly with the settings; ``all``
compares every comparable pair, and they grow with the square.

Each comparison, on each test language both settings were evaluated on, gets:

- at the level of sentences, for each pair of seeds (the same seed where both
  have it, else in the order of the seeds): the difference in micro F1
  (strict IOB2), its paired bootstrap interval and the p-value of a paired
  approximate randomisation test over the test sentences
  (:func:`xner.evaluation.bootstrap.paired_differences`, all comparisons on a
  language from one set of resamples);
- at the level of seeds, where both settings have at least two: the
  difference of the seed means, Welch's t interval and t-test over the seeds'
  F1, so that a difference that holds for one seed pair only shows as such.

Holm's correction runs over all comparisons of the experiment at one level.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xner.errors import XnerError
from xner.evaluation.bootstrap import TEST, BootstrapSettings, holm, paired_differences
from xner.evaluation.evaluate import EvaluationFiles
from xner.evaluation.spans import f1, gold_digest, sentence_counts
from xner.io import read_predictions_tsv, read_sentence_counts
from xner.labels import ENTITY_TYPES
from xner.reporting.tables import run_labels, setting_of

ALPHA = 0.05  # the level at which a Holm-adjusted p-value counts as significant
COMPARE = ("reference", "all")  # which comparable pairs are compared (compared_pairs)
SEED_TEST = "Welch's t-test over seeds"
COLUMNS = (
    "factor",
    "a",
    "b",
    "test_lang",
    "level",
    "seeds_a",
    "seeds_b",
    "f1_a",
    "f1_b",
    "std_a",
    "std_b",
    "difference",
    "difference_ci_low",
    "difference_ci_high",
    "p_value",
    "p_holm",
    "significant",
    "test",
)


@dataclass(frozen=True)
class Setting:
    """A run without its seed."""

    model: str
    train_langs: str
    setting: str  # the variant without its seed (xner.reporting.tables.setting_of)
    hparams: tuple[tuple[str, Any], ...]  # sorted hyperparameters, without the seed

    @classmethod
    def of(cls, model: str, train_langs: str, setting: str, hparams: Mapping[str, Any]) -> Setting:
        return cls(
            model, train_langs, setting, tuple(sorted((k, v) for k, v in hparams.items() if k != "seed"))
        )

    @property
    def label(self) -> str:
        """'mbert · en+it', 'mbert · en · frozen' (:func:`xner.reporting.tables.run_labels`)."""
        return run_labels([(self.model, self.train_langs, self.setting)])[0]


def differing_factors(a: Setting, b: Setting) -> list[str]:
    """The factors in which two settings differ: ``model``, ``train``, hyperparameter names.

    Settings of different models are compared at the same grid point only (the
    same variant): otherwise ``setting`` is one more factor.
    """
    factors = []
    if a.model != b.model:
        factors.append("model")
    if a.train_langs != b.train_langs:
        factors.append("train")
    if a.setting != b.setting or (a.model == b.model and a.hparams != b.hparams):
        if a.model == b.model:
            ha, hb = dict(a.hparams), dict(b.hparams)
            factors += [key for key in sorted(set(ha) | set(hb)) if ha.get(key) != hb.get(key)] or ["setting"]
        else:
            factors.append("setting")
    return factors


def one_factor_pairs(settings: Sequence[Setting]) -> Iterator[tuple[str, Setting, Setting]]:
    """``(factor, a, b)`` for each pair of distinct settings (in the order given) that differ in one factor."""
    unique = list(dict.fromkeys(settings))
    for a, b in combinations(unique, 2):
        factors = differing_factors(a, b)
        if len(factors) == 1:
            yield factors[0], a, b


def factor_level(setting: Setting, factor: str) -> Any:
    """The level of ``factor`` (a name :func:`differing_factors` gives) that ``setting`` holds."""
    if factor == "model":
        return setting.model
    if factor == "train":
        return setting.train_langs
    if factor == "setting":
        return setting.setting
    return dict(setting.hparams).get(factor)


def compared_pairs(
    settings: Sequence[Setting], compare: str = "reference"
) -> list[tuple[str, Setting, Setting]]:
    """``(factor, a, b)`` of the comparisons made (in the order of :func:`one_factor_pairs`).

    ``all``: every pair that differs in one factor. ``reference``: those where
    one of the two holds the reference level of that factor, its level in the
    first setting; each setting is then compared at most once per factor.
    """
    if compare not in COMPARE:
        raise ValueError(f"unknown comparison {compare!r}; known: {', '.join(COMPARE)}")
    pairs = list(one_factor_pairs(settings))
    if compare == "all" or not pairs:
        return pairs
    first = settings[0]
    return [
        (factor, a, b)
        for factor, a, b in pairs
        if factor_level(first, factor) in (factor_level(a, factor), factor_level(b, factor))
    ]


@dataclass(frozen=True)
class Evaluated:
    """One run's predictions on one test language, as per-sentence counts summed over the entity types
    (:func:`xner.evaluation.spans.sentence_counts`), all that micro F1 and its tests need: a transfer
    matrix of 120 runs on 40 languages of 10,000 sentences holds them in 0.6 GB."""

    setting: Setting
    seed: int
    test_lang: str
    counts: np.ndarray  # (sentences, 3): true positives, false positives, misses; strict IOB2

    @property
    def f1(self) -> float:
        tp, fp, fn = self.counts.sum(axis=0)
        return float(f1(tp, fp, fn))


def micro_counts(counts: np.ndarray) -> np.ndarray:
    """Per-sentence counts of shape (sentences, types, 3) summed over the types, compactly: (sentences, 3)."""
    return counts.sum(axis=1).astype(np.int32)


def sentence_counts_of(files: EvaluationFiles) -> tuple[np.ndarray, str]:
    """An evaluation's per-sentence strict counts and its gold tags' digest: from its counts file, or, for an
    evaluation made before those were written, from its predictions TSV."""
    if files.counts.exists():
        return read_sentence_counts(files.counts, ENTITY_TYPES)
    _, gold, pred = read_predictions_tsv(files.tsv)
    return sentence_counts(gold, pred), gold_digest(gold)


def load_evaluated(
    evaluations: Sequence[EvaluationFiles], summaries: Sequence[str | Path]
) -> list[Evaluated]:
    """The runs' evaluations: each JSON's run and language, its per-sentence counts, the run's summary.

    The runs tested on one language must share its gold tags, sentence for sentence.
    """
    runs = {}
    for path in summaries:
        summary = json.loads(Path(path).read_text(encoding="utf-8"))
        runs[(summary["model"], summary["train_langs"], summary["variant"])] = summary
    gold_of: dict[str, tuple[Path, str]] = {}
    evaluated = []
    for files in evaluations:
        info = json.loads(files.json.read_text(encoding="utf-8"))
        key = (info["model"], info["train_langs"], info["variant"])
        summary = runs.get(key)
        if summary is None:
            raise XnerError(f"{files.json}: no summary.json given for run {'/'.join(key)}")
        counts, digest = sentence_counts_of(files)
        lang = info["test_lang"]
        first = gold_of.setdefault(lang, (files.json, digest))
        if first[1] != digest:
            raise XnerError(
                f"{files.json}: its gold tags differ from those of {first[0]}: "
                f"the runs were not evaluated on the same {lang} test sentences"
            )
        hparams = summary["hyperparameters"]
        setting = Setting.of(info["model"], info["train_langs"], setting_of(info["variant"]), hparams)
        evaluated.append(Evaluated(setting, int(hparams["seed"]), lang, micro_counts(counts)))
    return evaluated


def _seed_pairs(a: Sequence[Evaluated], b: Sequence[Evaluated]) -> list[tuple[Evaluated, Evaluated]]:
    """The same seed where both have it; the others in the order of their seeds."""
    by_seed_a, by_seed_b = {e.seed: e for e in a}, {e.seed: e for e in b}
    shared = sorted(set(by_seed_a) & set(by_seed_b))
    rest_a = [by_seed_a[s] for s in sorted(by_seed_a) if s not in shared]
    rest_b = [by_seed_b[s] for s in sorted(by_seed_b) if s not in shared]
    return [(by_seed_a[s], by_seed_b[s]) for s in shared] + list(zip(rest_a, rest_b))


def _seed_level(a: Sequence[Evaluated], b: Sequence[Evaluated], confidence: float) -> dict:
    from scipy import stats

    fa, fb = np.array([e.f1 for e in a]), np.array([e.f1 for e in b])
    difference = float(fa.mean() - fb.mean())
    if fa.std() == 0 and fb.std() == 0:  # no spread at all: the t-test is undefined
        low = high = difference
        p_value = 1.0 if difference == 0 else 0.0
    else:
        result = stats.ttest_ind(fa, fb, equal_var=False)
        interval = result.confidence_interval(confidence)
        low, high, p_value = float(interval.low), float(interval.high), float(result.pvalue)
    return {
        "level": "seeds",
        "seeds_a": " ".join(str(e.seed) for e in a),
        "seeds_b": " ".join(str(e.seed) for e in b),
        "f1_a": float(fa.mean()),
        "f1_b": float(fb.mean()),
        "std_a": float(fa.std(ddof=1)),
        "std_b": float(fb.std(ddof=1)),
        "difference": difference,
        "difference_ci_low": low,
        "difference_ci_high": high,
        "p_value": p_value,
        "test": SEED_TEST,
    }


def significance_table(
    evaluated: Sequence[Evaluated], settings: BootstrapSettings | None = None, compare: str = "reference"
) -> pd.DataFrame:
    """The compared pairs (:func:`compared_pairs`) of the experiment's settings on each shared test language
    (:data:`COLUMNS`).

    ``evaluated``: the experiment's runs on its test languages, in run order.
    """
    settings = settings or BootstrapSettings()
    groups: dict[tuple[Setting, str], list[Evaluated]] = {}
    for e in evaluated:
        groups.setdefault((e.setting, e.test_lang), []).append(e)
    langs = list(dict.fromkeys(e.test_lang for e in evaluated))
    comparisons = [
        (factor, a, b, lang, groups[(a, lang)], groups[(b, lang)])
        for factor, a, b in compared_pairs([e.setting for e in evaluated], compare)
        for lang in langs
        if groups.get((a, lang)) and groups.get((b, lang))
    ]
    # the sentence-level tests, all comparisons on one test language from one set of resamples
    differences = {}
    for lang in langs:
        seed_pairs = list(
            dict.fromkeys(
                (id(x), id(y))
                for *_, test_lang, runs_a, runs_b in comparisons
                if test_lang == lang
                for x, y in _seed_pairs(runs_a, runs_b)
            )
        )
        systems = {id(e): e for e in evaluated if e.test_lang == lang}
        order = list(dict.fromkeys(i for pair in seed_pairs for i in pair))
        position = {i: k for k, i in enumerate(order)}
        found = paired_differences(
            [systems[i].counts for i in order], [(position[x], position[y]) for x, y in seed_pairs], settings
        )
        differences.update(zip(seed_pairs, found))
    rows = []
    for factor, a, b, lang, runs_a, runs_b in comparisons:
        base = {"factor": factor, "a": a.label, "b": b.label, "test_lang": lang}
        for x, y in _seed_pairs(runs_a, runs_b):
            d = differences[(id(x), id(y))]
            rows.append(
                {
                    **base,
                    "level": "sentences",
                    "seeds_a": str(x.seed),
                    "seeds_b": str(y.seed),
                    "f1_a": x.f1,
                    "f1_b": y.f1,
                    "std_a": float("nan"),
                    "std_b": float("nan"),
                    "difference": d.difference,
                    "difference_ci_low": d.interval[0],
                    "difference_ci_high": d.interval[1],
                    "p_value": d.p_value,
                    "test": TEST,
                }
            )
        if len(runs_a) >= 2 and len(runs_b) >= 2:
            rows.append({**base, **_seed_level(runs_a, runs_b, settings.confidence)})
    table = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("p_holm", "significant")])
    table["p_holm"] = float("nan")
    for level in ("sentences", "seeds"):
        members = table["level"] == level
        if members.any():
            table.loc[members, "p_holm"] = holm(table.loc[members, "p_value"].tolist())
    table["significant"] = table["p_holm"] < ALPHA
    return table[list(COLUMNS)]


def verdicts(table: pd.DataFrame) -> dict[tuple[str, str, str], pd.Series]:
    """The row that decides each comparison ``(a, b, test_lang)``: at the level of seeds where there is one,
    else its single seed pair (comparisons with several seed pairs but no seed-level row are left out)."""
    decided = {}
    for key, rows in table.groupby(["a", "b", "test_lang"], sort=False):
        seeds = rows[rows["level"] == "seeds"]
        if len(seeds):
            decided[key] = seeds.iloc[0]
        elif len(rows) == 1:
            decided[key] = rows.iloc[0]
    return decided


def markdown_view(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The significance table for reading: 'difference [low, high]', p-values, yes/no."""

    def number(x: float) -> str:
        return "" if pd.isna(x) else f"{x:+.{digits}f}"

    def p(x: float) -> str:
        return "" if pd.isna(x) else (f"{x:.3f}" if x >= 0.001 else "< 0.001")

    def mean(x: float, std: float) -> str:
        return f"{x:.{digits}f}" + ("" if pd.isna(std) else f" ± {std:.{digits}f}")

    return pd.DataFrame(
        {
            "factor": table["factor"],
            "a": table["a"],
            "b": table["b"],
            "test_lang": table["test_lang"],
            "level": table["level"],
            "seeds (a / b)": table["seeds_a"] + " / " + table["seeds_b"],
            "F1 a": [mean(x, s) for x, s in zip(table["f1_a"], table["std_a"])],
            "F1 b": [mean(x, s) for x, s in zip(table["f1_b"], table["std_b"])],
            "a − b [interval]": [
                f"{number(d)} [{number(lo)}, {number(hi)}]"
                for d, lo, hi in zip(
                    table["difference"], table["difference_ci_low"], table["difference_ci_high"]
                )
            ],
            "p": [p(x) for x in table["p_value"]],
            "p (Holm)": [p(x) for x in table["p_holm"]],
            "significant": ["yes" if s else "no" for s in table["significant"]],
        }
    )


def resolution_warning(table: pd.DataFrame, resamples: int) -> str:
    """A sentence saying that no comparison at the level of sentences can be significant, where that is so.

    The randomisation test's p-value is never below 1 / (resamples + 1), and Holm's
    correction multiplies the smallest by the number of comparisons m: when m /
    (resamples + 1) is at least :data:`ALPHA`, no difference, however large, is
    significant. Empty when the test can reach significance.
    """
    m = int((table["level"] == "sentences").sum())
    if m == 0 or m / (resamples + 1) < ALPHA:
        return ""
    needed = int(np.ceil(m / ALPHA))
    return (
        f"With {resamples} resamples no p-value of the randomisation test is below 1/{resamples + 1}, so after "
        f"Holm's correction over these {m} comparisons at the level of sentences none can be significant at "
        f"{ALPHA}, however large: set evaluation.bootstrap_resamples to at least {needed}."
    )


COMPARED = {
    "reference": "Compared: each setting against the one that differs from it only in the reference level of "
    "one factor (the factor's level in the experiment's first setting: its first model, mixture or grid value).",
    "all": "Compared: every pair of settings that differ in one factor (the model, the mixture or one "
    "hyperparameter).",
}


def note(table: pd.DataFrame, settings: BootstrapSettings, compare: str = "reference") -> str:
    """What the table's comparisons and tests are, for under it."""
    if table.empty:
        return "No two settings of this experiment differ in one factor only: nothing to compare."
    text = (
        f"{COMPARED[compare]} Micro F1 (strict IOB2) of a minus b on the same test sentences. Level sentences: one row per seed "
        f"pair, {settings.confidence:.0%} paired bootstrap interval and {TEST} ({settings.resamples} resamples, "
        f"seed {settings.seed}). Level seeds (settings with two or more seeds): seed means ± std, Welch's t "
        f"interval and test with the seeds as samples. p (Holm): Holm's correction over all comparisons of "
        f"the experiment at that level; significant: p (Holm) < {ALPHA}."
    )
    warning = resolution_warning(table, settings.resamples)
    return f"{text} {warning}" if warning else text


def mark_experiment_table(
    table: pd.DataFrame, view: pd.DataFrame, significance: pd.DataFrame, test_langs: Sequence[str]
) -> tuple[pd.DataFrame, str]:
    """An experiment table's Markdown view with the significance table's outcomes, and the note under it.

    In each micro F1 column (layout ``prf``) the best setting is bold and a
    setting significantly below it is marked †; the note lists every
    significant difference, whatever the layout.
    """
    labels = run_labels(zip(*(table[k] for k in ("model", "train_langs", "setting"))))
    decided = verdicts(significance)

    def verdict(a: str, b: str, lang: str) -> pd.Series | None:
        row = decided.get((a, b, lang))
        return decided.get((b, a, lang)) if row is None else row

    view = view.copy()
    marked = False
    for lang in test_langs:
        column = f"{lang}_f1"
        if column not in table.columns or table[column].isna().all():
            continue
        marked = True
        view[column] = view[column].astype(str)
        best = table[column].idxmax()
        view.loc[best, column] = f"**{view.loc[best, column]}**"
        for i in table.index:
            row = None if i == best else verdict(labels[best], labels[i], lang)
            if row is not None and row["significant"]:
                view.loc[i, column] = f"{view.loc[i, column]} †"
    found = [
        f"{lang}: {row['a']} − {row['b']} = {row['difference']:+.3f} (p Holm {row['p_holm']:.2g}, {row['level']})"
        for (_, _, lang), row in decided.items()
        if row["significant"]
    ]
    parts = []
    if marked:
        parts.append(
            "Bold: the best micro F1 on a test language; †: significantly below it (of the settings the "
            "significance table compares with it)."
        )
    if not decided:
        parts.append("No two settings of this experiment differ in one factor only: nothing is compared.")
    elif found:
        parts.append(
            "Significant differences in micro F1 (Holm-adjusted p < 0.05): " + "; ".join(found) + "."
        )
    else:
        parts.append(
            f"None of the {len(decided)} comparisons of settings that differ in one factor is significant "
            "(Holm-adjusted p < 0.05; see the significance table)."
        )
    return view, " ".join(parts)
