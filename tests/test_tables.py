"""xner.tables: table shapes and values from hand-made evaluation JSON and run summaries."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from xner.errors import XnerError
from xner.io import write_table
from xner.tables import (
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
    transfer_matrix,
    transfer_table,
)


def entry(f1: float, support: int = 10) -> dict:
    return {"precision": f1, "recall": f1, "f1": f1, "support": support}


def evaluation(model, langs, variant, test_lang, loc, org, per, micro, macro) -> dict:
    return {
        "model": model,
        "train_langs": langs,
        "variant": variant,
        "test_lang": test_lang,
        "split": "dev",
        "micro": entry(micro, 30),
        "macro": entry(macro, 30),
        "weighted": entry(micro, 30),
        "per_type": {"LOC": entry(loc), "ORG": entry(org), "PER": entry(per)},
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
    assert len(scores) == len(EVALS) * 5
    assert list(scores.columns) == [
        "model", "train_langs", "variant", "setting", "seed", "test_lang", "split", "type",
        "precision", "recall", "f1", "support",
    ]  # fmt: skip
    row = scores[(scores.variant == "seed1") & (scores.test_lang == "de") & (scores.type == "ORG")].iloc[0]
    assert (row.f1, row.support, row.seed, row.setting) == (0.5, 10, 1, "base")
    assert list(scores["type"][:5]) == ["LOC", "ORG", "PER", "micro", "macro"]


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


def test_per_type_layout(scores):
    table = experiment_table(scores, runs_table(SUMMARIES), ["en", "de"], "per_type")
    assert [c for c in table.columns if not c.endswith("_std")][4:] == [
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
    assert view.loc[1, "training_minutes"] == "5.0"


def test_f1_by_type_is_long_and_ordered(scores):
    table = f1_by_type(scores, ["en", "de"])
    assert list(table.columns) == ["run", "test_lang", "type", "f1", "f1_std"]
    assert table["type"].tolist()[:4] == ["LOC", "ORG", "PER", "macro"]
    assert len(table) == 2 * 2 * 4  # settings x languages x types
    first = table.iloc[0]
    assert (first.run, first.test_lang, first.type) == ("mbert · en", "en", "LOC")
    assert first.f1 == pytest.approx(0.85) and first.f1_std == pytest.approx(pd.Series([0.9, 0.8]).std())


def test_transfer_table_puts_each_language_beside_its_std(scores):
    table = transfer_table(scores, ["de", "en"])
    assert list(table.columns) == ["model", "train_langs", "setting", "de", "de_std", "en", "en_std"]
    mean, _ = transfer_matrix(scores, ["de", "en"])
    assert table["de"].tolist() == mean["de"].tolist()


def test_runs_are_selected_by_run_id(scores):
    runs = runs_table(SUMMARIES)
    picked = select_runs(runs, ["mbert/en+de/base", "mbert/en/seed1"])
    assert list(zip(picked["train_langs"], picked["variant"])) == [("en", "seed1"), ("en+de", "base")]
    assert missing_runs(picked, ["mbert/en/seed1", "xlmr/en/base"]) == ["xlmr/en/base"]
    assert len(select_runs(scores, ["mbert/en/base"])) == 2 * 5
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
    assert len(picked) == 2 * 5 and runs["variant"].tolist() == ["base"]
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
