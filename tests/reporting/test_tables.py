"""xner.reporting.tables: table shapes and values from hand-made evaluation JSON and run summaries."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from xner.errors import XnerError
from xner.io import write_table
from xner.reporting.tables import (
    cost_note,
    cost_table,
    evaluation_minutes,
    experiment_table,
    f1_by_type,
    markdown_view,
    missing_runs,
    read_csv,
    read_experiment,
    run_labels,
    runs_table,
    scores_table,
    select_runs,
    setting_of,
    training_languages,
    transfer_matrix,
    transfer_table,
)


def entry(f1: float, support: int = 10) -> dict:
    """A score with an interval 0.02 either side."""
    return {"precision": f1, "recall": f1, "f1": f1, "support": support, "f1_ci": [f1 - 0.02, f1 + 0.02]}


def scores_of(loc, org, per, micro, macro) -> dict:
    return {
        "micro": entry(micro, 30),
        "macro": entry(macro, 30),
        "weighted": entry(micro, 30),
        "per_type": {"LOC": entry(loc), "ORG": entry(org), "PER": entry(per)},
    }


LENIENT_GAIN = 0.01  # each lenient score is the strict one plus this


def evaluation(model, langs, variant, test_lang, *f1) -> dict:
    return {
        "model": model,
        "train_langs": langs,
        "variant": variant,
        "test_lang": test_lang,
        "split": "dev",
        **scores_of(*f1),
        "lenient": scores_of(*(x + LENIENT_GAIN for x in f1)),
    }


def summary(model, langs, variant, seed, best_epoch=3, epochs=6, seconds=120.0) -> dict:
    return {
        "model": model,
        "train_langs": langs,
        "variant": variant,
        "best_epoch": best_epoch,
        "epochs_run": epochs,
        "early_stopped": epochs < 20,
        "best_val_loss": 0.1,
        "best_val_f1": 0.9,
        "wall_seconds": seconds,
        "trainable_parameters": 10,
        "total_parameters": 100,
        "device_name": "cpu",
        "device_type": "cpu",
        "precision": "fp32",
        "hyperparameters": {
            "seed": seed,
            "lr": 1e-5,
            "batch_size": 128,
            "freeze_encoder": variant.startswith("frozen"),
        },
    }


EVALS = [
    evaluation("mbert", "en", "base", "en", 0.9, 0.8, 0.95, 0.88, 0.883),
    evaluation("mbert", "en", "base", "de", 0.7, 0.6, 0.8, 0.7, 0.7),
    evaluation("mbert", "en", "seed1", "en", 0.8, 0.7, 0.85, 0.78, 0.783),
    evaluation("mbert", "en", "seed1", "de", 0.6, 0.5, 0.7, 0.6, 0.6),
    evaluation("mbert", "en+de", "base", "en", 0.9, 0.9, 0.9, 0.9, 0.9),
    evaluation("mbert", "en+de", "base", "de", 0.85, 0.85, 0.85, 0.85, 0.85),
]
SUMMARIES = [
    summary("mbert", "en", "base", 42, best_epoch=3, seconds=120),
    summary("mbert", "en", "seed1", 1, best_epoch=5, seconds=180),
    summary("mbert", "en+de", "base", 42, best_epoch=4, seconds=300),
]


@pytest.fixture
def scores():
    return scores_table(EVALS, SUMMARIES)


@pytest.mark.parametrize(
    ("variant", "setting"),
    [
        ("base", "base"),
        ("seed1", "base"),
        ("frozen-seed2", "frozen"),
        ("frozen-lr1e-4-seed12", "frozen-lr1e-4"),
    ],
)
def test_setting_strips_the_seed(variant, setting):
    assert setting_of(variant) == setting


def test_scores_long_table(scores):
    assert len(scores) == len(EVALS) * 2 * 5  # evaluations x modes x types
    assert list(scores.columns) == [
        "model", "train_langs", "variant", "setting", "seed", "test_lang", "split", "mode", "type",
        "precision", "recall", "f1", "f1_ci_low", "f1_ci_high", "support",
    ]  # fmt: skip
    row = scores[(scores.variant == "seed1") & (scores.test_lang == "de") & (scores.type == "ORG")]
    strict, lenient = row.iloc[0], row.iloc[1]
    assert (strict["mode"], strict.f1, strict.support, strict.seed, strict.setting) == (
        "strict",
        0.5,
        10,
        1,
        "base",
    )
    assert (strict.f1_ci_low, strict.f1_ci_high) == pytest.approx((0.48, 0.52))
    assert (lenient["mode"], lenient.f1) == ("lenient", pytest.approx(0.51))
    assert list(scores["type"][:5]) == ["LOC", "ORG", "PER", "micro", "macro"]


def test_markdown_shows_a_value_with_its_interval_or_its_std():
    table = pd.DataFrame(
        {
            "en_f1": [0.851, 0.8, float("nan")],
            "en_f1_std": [float("nan"), 0.004, float("nan")],
            "en_f1_ci_low": [0.846, float("nan"), float("nan")],
            "en_f1_ci_high": [0.856, float("nan"), float("nan")],
        }
    )
    assert markdown_view(table)["en_f1"].tolist() == ["0.851 [0.846, 0.856]", "0.800 ± 0.004", ""]


def test_seeds_become_mean_and_std(scores):
    mean, std = transfer_matrix(scores, ["en", "de"])
    assert list(mean.columns) == ["en", "de"]
    assert mean.loc[("mbert", "en", "base"), "en"] == pytest.approx((0.883 + 0.783) / 2)
    assert std.loc[("mbert", "en", "base"), "de"] == pytest.approx(pd.Series([0.7, 0.6]).std())
    assert math.isnan(std.loc[("mbert", "en+de", "base"), "en"])  # one seed: no std
    assert run_labels(mean.index) == ["mbert · en", "mbert · en+de"]


def test_prf_layout(scores):
    table = experiment_table(scores, runs_table(SUMMARIES), ["en", "de"], "prf")
    assert list(table.columns[:4]) == ["model", "train_langs", "setting", "seeds"]
    assert table["seeds"].tolist() == [2, 1]
    assert "en_precision" in table and "de_recall_std" in table
    assert table.loc[0, "de_f1"] == pytest.approx(0.65)
    assert table.loc[1, "en_f1"] == pytest.approx(0.9)
    # one seed: its interval; two: none (their spread is in _std)
    assert (table.loc[1, "en_f1_ci_low"], table.loc[1, "en_f1_ci_high"]) == pytest.approx((0.88, 0.92))
    assert math.isnan(table.loc[0, "en_f1_ci_low"]) and "en_precision_ci_low" not in table
    assert list(table.columns[4:9]) == [
        "en_precision",
        "en_precision_std",
        "en_recall",
        "en_recall_std",
        "en_f1",
    ]
    assert list(table.columns[9:12]) == ["en_f1_std", "en_f1_ci_low", "en_f1_ci_high"]


def test_per_type_layout(scores):
    table = experiment_table(scores, runs_table(SUMMARIES), ["en", "de"], "per_type")
    assert [c for c in table.columns if not c.endswith(("_std", "_ci_low", "_ci_high"))][4:] == [
        "en_LOC", "en_ORG", "en_PER", "en_macro", "de_LOC", "de_ORG", "de_PER", "de_macro",
    ]  # fmt: skip
    assert table.loc[0, "en_PER"] == pytest.approx(0.9)


def test_summary_layout_and_markdown(scores):
    table = experiment_table(scores, runs_table(SUMMARIES), ["en"], "summary")
    assert table.loc[0, "best_epoch"] == 4 and table.loc[0, "training_minutes"] == pytest.approx(2.5)
    view = markdown_view(table)
    assert view.loc[0, "best_epoch"] == "4 ± 1.4"
    assert view.loc[1, "best_epoch"] == "4"  # one seed: no ±
    assert view.loc[0, "en_macro"] == "0.833 ± 0.071"
    assert view.loc[1, "en_macro"] == "0.900 [0.880, 0.920]"
    assert view.loc[1, "training_minutes"] == "5.0"


def test_f1_by_type_is_long_and_ordered(scores):
    table = f1_by_type(scores, ["en", "de"])
    assert list(table.columns) == ["run", "test_lang", "type", "f1", "f1_std", "f1_ci_low", "f1_ci_high"]
    assert table["type"].tolist()[:4] == ["LOC", "ORG", "PER", "macro"]
    assert len(table) == 2 * 2 * 4  # settings x languages x types
    first = table.iloc[0]
    assert (first.run, first.test_lang, first.type) == ("mbert · en", "en", "LOC")
    assert first.f1 == pytest.approx(0.85) and first.f1_std == pytest.approx(pd.Series([0.9, 0.8]).std())
    assert math.isnan(first.f1_ci_low)  # two seeds
    single = table[(table.run == "mbert · en+de") & (table.test_lang == "de") & (table.type == "PER")].iloc[0]
    assert (single.f1_ci_low, single.f1_ci_high) == pytest.approx((0.83, 0.87))


def test_transfer_table_puts_each_language_beside_its_std_and_averages_them(scores):
    table = transfer_table(scores, ["de", "en"])
    assert list(table.columns) == [
        "model", "train_langs", "setting", "seeds",
        "de", "de_std", "de_ci_low", "de_ci_high", "en", "en_std", "en_ci_low", "en_ci_high",
        "average", "average_std", "micro_average", "micro_average_std",
        "micro_average_lenient", "micro_average_lenient_std",
    ]  # fmt: skip
    mean, _ = transfer_matrix(scores, ["de", "en"])
    assert table["de"].tolist() == pytest.approx(mean["de"].tolist())
    two_seeds, one_seed = table.iloc[0], table.iloc[1]
    # unweighted over languages: each seed's average, then the mean and std over seeds
    assert two_seeds.average == pytest.approx(((0.883 + 0.7) / 2 + (0.783 + 0.6) / 2) / 2)
    assert two_seeds.average_std == pytest.approx(pd.Series([(0.883 + 0.7) / 2, (0.783 + 0.6) / 2]).std())
    assert one_seed.micro_average == pytest.approx((0.9 + 0.85) / 2)
    assert one_seed.micro_average_lenient == pytest.approx((0.9 + 0.85) / 2 + LENIENT_GAIN)
    assert (one_seed.en_ci_low, one_seed.en_ci_high) == pytest.approx((0.88, 0.92))
    assert math.isnan(two_seeds.en_ci_low) and math.isnan(one_seed.average_std)


def test_runs_are_selected_by_run_id(scores):
    runs = runs_table(SUMMARIES)
    picked = select_runs(runs, ["mbert/en+de/base", "mbert/en/seed1"])
    assert list(zip(picked["train_langs"], picked["variant"])) == [("en", "seed1"), ("en+de", "base")]
    assert missing_runs(picked, ["mbert/en/seed1", "xlmr/en/base"]) == ["xlmr/en/base"]
    assert len(select_runs(scores, ["mbert/en/base"])) == 2 * 2 * 5
    with pytest.raises(XnerError, match="not a run id"):
        select_runs(runs, ["mbert/en"])


def test_csv_tables_read_back_as_written(tmp_path, scores):
    """Only an empty cell is missing: language codes and variants such as NA stay strings."""
    rows = scores.assign(train_langs="NA", test_lang="nan", variant="None")
    write_table(rows, tmp_path / "scores.csv")
    back = read_csv(tmp_path / "scores.csv")
    assert (back["train_langs"] == "NA").all() and (back["test_lang"] == "nan").all()
    assert (back["variant"] == "None").all()
    assert back["seed"].tolist() == rows["seed"].tolist()


def test_an_experiment_needs_every_run_in_runs_csv(tmp_path, scores):
    write_table(scores, tmp_path / "scores.csv")
    write_table(runs_table(SUMMARIES[:1]), tmp_path / "runs.csv")
    picked, runs = read_experiment(tmp_path / "scores.csv", tmp_path / "runs.csv", ["mbert/en/base"])
    assert len(picked) == 2 * 2 * 5 and runs["variant"].tolist() == ["base"]
    with pytest.raises(XnerError, match="has no row for run.s. mbert/en/seed1"):
        read_experiment(tmp_path / "scores.csv", tmp_path / "runs.csv", ["mbert/en/base", "mbert/en/seed1"])


def index_entry(model, langs, variant, lang, seconds) -> dict:
    info = {"model": model, "train_langs": langs, "variant": variant, "test_lang": lang, "split": "dev"}
    return {"key": {"info": info}, "wall_seconds": seconds}


def test_runs_table_counts_training_and_evaluation_minutes_and_the_note_sums_them():
    indexes = [
        {
            "en": index_entry("mbert", "en", "base", "en", 30.0),
            "de": index_entry("mbert", "en", "base", "de", 90.0),
        },
    ]
    minutes = evaluation_minutes(indexes)
    assert minutes == {("mbert", "en", "base"): pytest.approx(2.0)}
    runs = runs_table(SUMMARIES[:2], minutes)
    first, second = runs.iloc[0], runs.iloc[1]
    assert (first.training_minutes, first.evaluation_minutes, first.device_minutes) == pytest.approx(
        (2.0, 2.0, 4.0)
    )
    assert second.evaluation_minutes == 0.0  # no index: nothing counted
    note = cost_note(runs)
    total = runs["device_minutes"].sum()
    assert note.startswith(f"Cost: {total:.1f} device minutes (cpu) for 2 runs: ")
    cost = cost_table(runs)
    assert cost["device_type"].tolist() == ["cpu", "total"] and cost["runs"].tolist() == [2, 2]
    assert cost.iloc[-1].device_minutes == pytest.approx(total)
    gpu = runs.assign(device_type="cuda")
    assert cost_note(gpu).startswith(f"Cost: {total:.1f} GPU minutes for 2 runs")


def test_write_table_puts_the_note_under_the_markdown_only(tmp_path):
    runs = runs_table(SUMMARIES[:1])
    write_table(runs, tmp_path / "runs.csv", tmp_path / "runs.md", note="Cost: 2.0 GPU minutes.")
    assert (tmp_path / "runs.md").read_text().endswith("|\n\nCost: 2.0 GPU minutes.\n")
    assert "Cost" not in (tmp_path / "runs.csv").read_text()


def test_training_languages_of_a_model_trained_on_each_language():
    keys = [("xlmr", "af", "base"), ("xlmr", "ar", "base"), ("xlmr", "af", "base")]
    assert training_languages(keys) == {"xlmr · af": "af", "xlmr · ar": "ar"}
    assert training_languages([("xlmr", "en", "base"), ("mbert", "en", "base")]) == {}  # two models
    assert training_languages([("xlmr", "en", "base"), ("xlmr", "en+de", "base")]) == {}  # a mixture
    assert training_languages([("xlmr", "en", "base"), ("xlmr", "de", "frozen")]) == {}  # two settings
