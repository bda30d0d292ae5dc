"""xner.reporting.significance: which settings are compared, and the table of paired tests on hand-made predictions."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from xner.errors import XnerError
from xner.evaluation.bootstrap import BootstrapSettings
from xner.evaluation.evaluate import evaluation_files
from xner.evaluation.spans import gold_digest, sentence_counts
from xner.io import write_predictions_tsv, write_sentence_counts
from xner.labels import ENTITY_TYPES
from xner.reporting.significance import (
    COLUMNS,
    Evaluated,
    Setting,
    compared_pairs,
    differing_factors,
    load_evaluated,
    mark_experiment_table,
    micro_counts,
    one_factor_pairs,
    significance_table,
)
from xner.reporting.tables import markdown_view

BERT = {"lr": 1e-5, "batch_size": 128, "seed": 42}
DEBERTA = {"lr": 1e-5, "batch_size": 64, "seed": 42}  # its own default batch size
SETTINGS = BootstrapSettings(resamples=300, seed=1)


def setting(model, langs, defaults, slug="base", **grid):
    return Setting.of(model, langs, slug, {**defaults, **grid})


def test_a_setting_drops_the_seed():
    a = Setting.of("mbert", "en", "base", {**BERT, "seed": 1})
    b = Setting.of("mbert", "en", "base", {**BERT, "seed": 2})
    assert a == b and dict(a.hparams) == {"lr": 1e-5, "batch_size": 128}
    assert a.label == "mbert · en" and setting("mbert", "en", BERT, "lr1e-4").label == "mbert · en · lr1e-4"


def test_models_with_their_own_defaults_differ_in_the_model_only():
    assert differing_factors(setting("mbert", "en", BERT), setting("mdeberta", "en", DEBERTA)) == ["model"]
    # different models at different grid points: two factors
    lr = setting("mdeberta", "en", DEBERTA, "lr1e-4", lr=1e-4)
    assert differing_factors(setting("mbert", "en", BERT), lr) == ["model", "setting"]


def test_pairs_of_one_factor_only():
    settings = [
        setting("mbert", "en", BERT),
        setting("mdeberta", "en", DEBERTA),
        setting("mbert", "en+de", BERT),
        setting("mdeberta", "en+de", DEBERTA),
        setting("mbert", "en", BERT, "lr1e-4", lr=1e-4),
        setting("mbert", "en", BERT, "lr1e-4", lr=1e-4),  # a second seed of the same setting: one setting
    ]
    pairs = [(f, a.model, a.train_langs, b.model, b.train_langs) for f, a, b in one_factor_pairs(settings)]
    assert pairs == [
        ("model", "mbert", "en", "mdeberta", "en"),
        ("train", "mbert", "en", "mbert", "en+de"),
        ("lr", "mbert", "en", "mbert", "en"),
        ("train", "mdeberta", "en", "mdeberta", "en+de"),
        ("model", "mbert", "en+de", "mdeberta", "en+de"),
    ]  # never mbert/en vs mdeberta/en+de (two factors), nor lr1e-4 vs the other model or mixture


def test_against_the_reference_each_setting_is_compared_once_per_factor():
    settings = [
        setting("mbert", "en", BERT),  # the reference: first model, first mixture, the default lr
        setting("mdeberta", "en", DEBERTA),
        setting("mbert", "en+de", BERT),
        setting("mdeberta", "en+de", DEBERTA),
        setting("mbert", "en", BERT, "lr1e-4", lr=1e-4),
    ]
    pairs = [(f, a.model, a.train_langs, b.model, b.train_langs) for f, a, b in compared_pairs(settings)]
    assert pairs == [
        ("model", "mbert", "en", "mdeberta", "en"),
        ("train", "mbert", "en", "mbert", "en+de"),
        ("lr", "mbert", "en", "mbert", "en"),
        ("train", "mdeberta", "en", "mdeberta", "en+de"),  # mixture against the reference mixture en
        ("model", "mbert", "en+de", "mdeberta", "en+de"),  # model against the reference model mbert
    ]
    assert compared_pairs(settings, "all") == list(one_factor_pairs(settings))
    with pytest.raises(ValueError, match="unknown comparison 'best'"):
        compared_pairs(settings, "best")


def test_a_transfer_matrix_gets_linearly_many_comparisons_against_the_reference():
    # one model trained on each of 40 languages: every two settings differ in the mixture only
    settings = [setting("xlmr", f"l{k:02d}", BERT) for k in range(40)]
    assert len(list(one_factor_pairs(settings))) == 40 * 39 // 2
    reference = compared_pairs(settings)
    assert len(reference) == 39 and all(a.train_langs == "l00" for _, a, _ in reference)
    # three models on each: 39 per model (mixtures) + 2 per mixture (models)
    grid = [setting(m, f"l{k:02d}", BERT) for m in ("mbert", "xlmr", "mdeberta") for k in range(40)]
    assert len(compared_pairs(grid)) == 3 * 39 + 2 * 40


def test_two_grid_values_are_two_factors():
    a = setting("mbert", "en", BERT, "lr1e-4", lr=1e-4)
    b = setting("mbert", "en", BERT, "bs32", batch_size=32)
    assert differing_factors(a, b) == ["batch_size", "lr"]
    assert list(one_factor_pairs([a, b])) == []


# --- the table, on hand-made predictions --------------------------------------------------------------

GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "O"], ["B-LOC", "O"]] * 100


def with_errors(every: int, offset: int = 0) -> list[list[str]]:
    """The gold tags with one sentence in ``every`` (from ``offset``) predicted all O."""
    return [["O"] * len(g) if (i - offset) % every == 0 else list(g) for i, g in enumerate(GOLD)]


def evaluated(slug: str, seed: int, pred, lang: str = "en", langs: str = "en") -> Evaluated:
    hparams = {**BERT, "seed": seed, **({"lr": 1e-4} if slug == "lr1e-4" else {})}
    return Evaluated(
        Setting.of("mbert", langs, slug, hparams), seed, lang, micro_counts(sentence_counts(GOLD, pred))
    )


def test_identical_systems_differ_by_nothing_with_p_one():
    pred = with_errors(4)
    table = significance_table([evaluated("base", 42, pred), evaluated("lr1e-4", 42, pred)], SETTINGS)
    (row,) = table.itertuples()
    assert (row.factor, row.a, row.b, row.level) == ("lr", "mbert · en", "mbert · en · lr1e-4", "sentences")
    assert row.difference == 0 and row.difference_ci_low == 0 == row.difference_ci_high
    assert row.p_value == 1.0 and row.p_holm == 1.0 and not row.significant
    assert list(table.columns) == list(COLUMNS)


def test_a_system_better_on_every_sentence_is_significant():
    table = significance_table(
        [evaluated("base", 42, GOLD), evaluated("lr1e-4", 42, with_errors(3))], SETTINGS
    )
    (row,) = table.itertuples()
    assert row.f1_a == 1.0 and row.difference > 0.2 and row.difference_ci_low > 0
    assert row.p_value == pytest.approx(1 / (SETTINGS.resamples + 1)) and row.significant


def test_holm_runs_over_every_comparison_of_the_experiment():
    runs = [
        evaluated("base", 42, with_errors(5)),
        evaluated("lr1e-4", 42, with_errors(5, offset=1)),  # as good, on other sentences
        evaluated("base", 42, GOLD, lang="de"),
        evaluated("lr1e-4", 42, with_errors(2), lang="de"),
    ]
    table = significance_table(runs, SETTINGS)
    assert table["test_lang"].tolist() == ["en", "de"]
    en, de = table["p_value"].tolist()
    assert de < en  # Holm: the smaller p times 2, the other times 1 but never below the first
    assert table["p_holm"].tolist() == pytest.approx([max(en, 2 * de), 2 * de])
    assert table["significant"].tolist() == [False, True]


def test_several_seeds_are_compared_seed_pair_by_seed_pair_and_over_seeds():
    runs = [
        evaluated("base", 1, with_errors(10)),
        evaluated("base", 2, with_errors(11)),
        evaluated("base", 3, with_errors(13)),
        evaluated("lr1e-4", 1, with_errors(4)),
        evaluated("lr1e-4", 2, with_errors(5)),
        evaluated("lr1e-4", 3, with_errors(4, offset=2)),
    ]
    table = significance_table(runs, SETTINGS)
    sentences, seeds = table[table.level == "sentences"], table[table.level == "seeds"]
    assert (
        sentences["seeds_a"].tolist() == ["1", "2", "3"] == sentences["seeds_b"].tolist()
    )  # same seeds paired
    (row,) = seeds.itertuples()
    assert (row.seeds_a, row.seeds_b) == ("1 2 3", "1 2 3")
    assert row.f1_a == pytest.approx(sentences["f1_a"].mean()) and row.std_a > 0
    assert row.difference == pytest.approx(sentences["difference"].mean())
    assert row.difference_ci_low < row.difference < row.difference_ci_high
    assert row.p_value < 0.05 and row.test == "Welch's t-test over seeds"
    assert row.p_holm == row.p_value  # the only seed-level comparison


def test_settings_differing_in_two_factors_are_not_compared():
    runs = [evaluated("base", 42, GOLD), evaluated("lr1e-4", 42, GOLD, langs="en+de")]
    assert significance_table(runs, SETTINGS).empty


def write_run(root, variant, seed, pred, lang="en", counts=True):
    """A run's evaluation on ``lang`` as xner evaluate writes it (JSON, TSV, counts), and its summary."""
    info = {"model": "mbert", "train_langs": "en", "variant": variant, "test_lang": lang}
    run = root / variant
    files = evaluation_files(run / "evaluations", lang)
    files.json.parent.mkdir(parents=True, exist_ok=True)
    files.json.write_text(json.dumps(info))
    write_predictions_tsv(files.tsv, [["w"] * len(g) for g in GOLD], GOLD, pred)
    if counts:
        write_sentence_counts(files.counts, sentence_counts(GOLD, pred), ENTITY_TYPES, gold_digest(GOLD))
    summary = {**info, "hyperparameters": {**BERT, "seed": seed, **({"lr": 1e-4} if "lr" in variant else {})}}
    (run / "summary.json").write_text(json.dumps(summary))
    return files, run / "summary.json"


def test_runs_are_read_from_their_evaluation_json_and_counts(tmp_path):
    a = write_run(tmp_path, "base", 42, with_errors(3))
    b = write_run(tmp_path, "lr1e-4-seed7", 7, GOLD)
    runs = load_evaluated([a[0], b[0]], [a[1], b[1]])
    assert [(r.setting.setting, r.seed) for r in runs] == [("base", 42), ("lr1e-4", 7)]
    assert runs[1].f1 == 1.0 and runs[0].counts.shape == (len(GOLD), 3)  # summed over the types
    assert (runs[0].counts == sentence_counts(GOLD, with_errors(3)).sum(axis=1)).all()
    with pytest.raises(XnerError, match="no summary.json given for run mbert/en/base"):
        load_evaluated([a[0]], [b[1]])


def test_an_evaluation_without_counts_is_read_from_its_predictions(tmp_path):
    # evaluations made before the counts were written beside them
    a = write_run(tmp_path, "base", 42, with_errors(3), counts=False)
    with_counts = write_run(tmp_path / "again", "base", 42, with_errors(3))
    (old,) = load_evaluated([a[0]], [a[1]])
    (new,) = load_evaluated([with_counts[0]], [with_counts[1]])
    assert (old.counts == new.counts).all()


def test_runs_tested_on_other_sentences_are_refused(tmp_path):
    a = write_run(tmp_path, "base", 42, GOLD)
    b = write_run(tmp_path, "lr1e-4", 42, GOLD)
    other = [list(reversed(g)) for g in GOLD]
    write_sentence_counts(b[0].counts, sentence_counts(other, other), ENTITY_TYPES, gold_digest(other))
    with pytest.raises(XnerError, match="its gold tags differ from those of .*base/evaluations/en.json"):
        load_evaluated([a[0], b[0]], [a[1], b[1]])


def test_the_experiment_table_marks_the_best_and_what_is_significantly_below_it():
    table = pd.DataFrame(
        {
            "model": ["mbert"] * 3,
            "train_langs": ["en", "en", "en+de"],
            "setting": ["base", "lr1e-4", "base"],
            "seeds": [1, 1, 1],
            "en_f1": [0.80, 0.90, 0.89],
            "en_f1_std": [float("nan")] * 3,
        }
    )
    significance = pd.DataFrame(
        [
            {"a": "mbert · en", "b": "mbert · en · lr1e-4", "test_lang": "en", "level": "sentences",
             "difference": -0.1, "p_holm": 0.001, "significant": True},
            {"a": "mbert · en", "b": "mbert · en+de", "test_lang": "en", "level": "sentences",
             "difference": -0.09, "p_holm": 0.002, "significant": True},
        ]
    )  # fmt: skip
    view, note = mark_experiment_table(table, markdown_view(table), significance, ["en"])
    # the best (lr1e-4) and en+de differ in two factors: not compared, so no mark on en+de
    assert view["en_f1"].tolist() == ["0.800 †", "**0.900**", "0.890"]
    assert "Bold: the best micro F1" in note and "en: mbert · en − mbert · en · lr1e-4 = -0.100" in note
    _, none = mark_experiment_table(
        table, markdown_view(table), significance.assign(significant=False), ["en"]
    )
    assert "None of the 2 comparisons" in none


def test_a_test_that_cannot_reach_significance_after_holm_says_so():
    from xner.reporting.significance import resolution_warning

    def table(m: int) -> pd.DataFrame:
        return pd.DataFrame({"level": ["sentences"] * m + ["seeds"]})

    # 60 comparisons: no p-value below 1/1001, times 60 is above 0.05
    warning = resolution_warning(table(60), 1000)
    assert "none can be significant" in warning and "at least 1200" in warning
    assert resolution_warning(table(60), 10_000) == ""
    assert resolution_warning(table(18), 1000) == ""  # 18/1001 < 0.05
    assert resolution_warning(table(0), 10) == ""


def test_the_comparisons_are_the_config_schemas():
    from xner.config import experiment_choice
    from xner.reporting.significance import COMPARE
    from xner.reporting.tables import LAYOUTS

    assert experiment_choice("compare") == (COMPARE, "reference")
    assert set(experiment_choice("table")[0]) == set(LAYOUTS) and experiment_choice("table")[1] == "prf"
