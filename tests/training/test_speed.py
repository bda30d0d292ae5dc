"""xner.training.speed: the speed table's timing job (`xner speed`), the table, and its configuration.

No test here asserts a time: the timings are only checked to be present and consistent.
"""

from __future__ import annotations

import csv
import json

import pytest

from conftest import CORES, run_xner
from xner.config import validate_config
from xner.errors import ConfigError, XnerError
from xner.io import sentences_table, write_parquet
from xner.runs import TrainSettings, speed_hparams, speed_models
from xner.synthetic.models import TinyModelSettings, build_tiny_model
from xner.synthetic.panx import generate_sentences
from xner.training.speed import measure_speed, speed_table


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    root = tmp_path_factory.mktemp("speed")
    tables = {}
    for split, n in (("train", 150), ("val", 40)):
        pairs = generate_sentences("en", split, n, seed=2)
        tokens, tags = [[w for w, _ in s] for s in pairs], [[t for _, t in s] for s in pairs]
        tables[root / f"{split}.parquet"] = sentences_table(list(range(n)), "en", tokens, tags)
    write_parquet(tables)
    build_tiny_model(
        tables[root / "train.parquet"].column("tokens").to_pylist(), root / "tiny", TinyModelSettings()
    )
    return root


def _speed(splits, out, sentences):
    return run_xner(
        "speed",
        "--model-path",
        str(splits / "tiny"),
        "--model-name",
        "tiny",
        "--train",
        str(splits / "train.parquet"),
        "--val",
        str(splits / "val.parquet"),
        "--sentences",
        str(sentences),
        "--batch-size",
        "16",
        "--eval-batch-size",
        "16",
        "--lr",
        "1e-3",
        "--out",
        str(out),
        "--threads",
        str(CORES),
    )


@pytest.mark.slow
def test_speed_times_an_epoch_with_validation_and_inference(splits, tmp_path):
    result = _speed(splits, tmp_path / "tiny.json", 100)
    assert result.returncode == 0, result.stderr[-3000:]
    speed = json.loads((tmp_path / "tiny.json").read_text())
    assert speed["model"] == "tiny" and speed["model_type"] == "bert"
    assert speed["train_sentences"] == 100 and speed["inference_sentences"] == 100
    assert speed["val_sentences"] == 40 and speed["batch_size"] == 16
    assert speed["epoch_seconds"] == pytest.approx(speed["train_seconds"] + speed["val_seconds"])
    assert 0 < speed["train_seconds"] < speed["epoch_seconds"]
    assert speed["inference_seconds"] > 0 and speed["train_peak_memory_mib"] > 0
    assert 0 <= speed["val_f1"] <= 1 and speed["device_type"] == "cpu"

    # The table: the study's numbers beside xner's, by kind of model.
    table_csv, table_md = tmp_path / "speed.csv", tmp_path / "speed.md"
    made = run_xner(
        "speed-table", str(tmp_path / "tiny.json"), "--csv", str(table_csv), "--md", str(table_md)
    )
    assert made.returncode == 0, made.stderr[-3000:]
    with open(table_csv, newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["model"] == "tiny" and row["study_epoch_seconds"] == "79-83"
    assert float(row["epoch_seconds"]) == pytest.approx(speed["epoch_seconds"])
    assert "| tiny |" in table_md.read_text() and "RTX 3090" in table_md.read_text()


@pytest.mark.slow
def test_fewer_sentences_than_asked_are_timed_and_said(splits, tmp_path):
    result = _speed(splits, tmp_path / "tiny.json", 16000)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "fewer than the 16000 asked for" in result.stderr
    assert json.loads((tmp_path / "tiny.json").read_text())["train_sentences"] == 150


def test_no_sentences_to_time_is_refused_before_anything_loads(tmp_path):
    with pytest.raises(XnerError, match="sentences to time must be positive, not 0"):
        measure_speed(
            str(tmp_path / "no-model"), tmp_path / "a", tmp_path / "b", TrainSettings(), sentences=0
        )


def test_the_study_numbers_follow_the_kind_of_model():
    rows = [
        {"model": "mdeberta", "model_type": "deberta-v2", "epoch_seconds": 3.0},
        {"model": "mbert", "model_type": "bert", "epoch_seconds": 2.0},
    ]
    table = speed_table(rows)
    assert table["study_epoch_seconds"].tolist() == ["111", "79-83"]
    assert table["study_inference_seconds"].tolist() == ["37", "28-30"]
    assert table["epoch_seconds"].tolist() == [3.0, 2.0]


def _config(**speed):
    return validate_config(
        {
            "data": {"languages": ["en", "de"]},
            "models": {"a": "x/a", "b": {"path": "x/b", "batch_size": 8, "lr": 3e-5}},
            "speed": speed,
        }
    )


def test_speed_config_defaults_and_per_model_settings():
    config = _config()
    assert config["speed"] == {
        "enabled": True,
        "lang": "en",
        "sentences": 16000,
        "batch_size": 64,
        "models": None,
    }
    assert speed_models(config) == ["a", "b"]
    assert speed_models(_config(models=["b"])) == ["b"]
    assert speed_models(_config(enabled=False)) == []
    hparams = speed_hparams(config, "b")
    assert hparams["lr"] == 3e-5 and hparams["batch_size"] == 64 and hparams["eval_batch_size"] == 64


@pytest.mark.parametrize(
    ("speed", "key", "message"),
    [
        ({"lang": "sw"}, "speed.lang", "not in data.languages"),
        ({"models": ["a", "c"]}, "speed.models[1]", "not a configured model"),
        ({"batch_size": 0}, "speed.batch_size", "minimum"),
    ],
)
def test_bad_speed_config_names_the_key(speed, key, message):
    with pytest.raises(ConfigError, match=message) as error:
        _config(**speed)
    assert key in str(error.value)
