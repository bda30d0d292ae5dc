"""xner.evaluation.evaluate on a tiny model: one load for all test languages, the same files as a single
evaluation, unchanged languages kept, changed ones redone, languages no longer tested removed, and the
per-sentence counts beside each evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import xner.models.loading
from xner.errors import XnerError
from xner.evaluation.evaluate import (
    evaluate_run,
    evaluation_files,
    experiment_evaluations,
    read_index,
    run_evaluation_files,
)
from xner.evaluation.spans import gold_digest, sentence_counts
from xner.io import read_predictions_tsv, read_sentence_counts, sentences_table, write_parquet
from xner.labels import ENTITY_TYPES
from xner.synthetic.models import TinyModelSettings, build_tiny_model
from xner.synthetic.panx import generate_sentences

INFO = {"model": "tiny", "train_langs": "en", "variant": "base"}
TIMING = ("seconds", "sentences_per_second")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Test tables for en, de and sw, and a tiny untrained model with its head, built on them."""
    root = tmp_path_factory.mktemp("corpus")
    tables = {}
    for lang in ("en", "de", "sw"):
        sentences = generate_sentences(lang, "test", 60, seed=5)
        tokens = [[t for t, _ in s] for s in sentences]
        tags = [[g for _, g in s] for s in sentences]
        tables[root / f"{lang}.parquet"] = sentences_table(list(range(len(tokens))), lang, tokens, tags)
    write_parquet(tables)
    words = [t for table in tables.values() for t in table.column("tokens").to_pylist()]
    build_tiny_model(words, root / "base", TinyModelSettings(seed=0))
    # with its (random) token-classification head saved, so that every load gives the same model
    xner.models.loading.load_model(str(root / "base")).save_pretrained(root / "model")
    xner.models.loading.load_tokenizer(str(root / "base")).save_pretrained(root / "model")
    return root


def splits_of(corpus: Path, *langs: str) -> dict[str, Path]:
    return {lang: corpus / f"{lang}.parquet" for lang in langs}


def without_timing(path: Path) -> dict:
    return {k: v for k, v in json.loads(path.read_text()).items() if k not in TIMING}


def count_loads(monkeypatch) -> list[str]:
    loads: list[str] = []
    real = xner.models.loading.load_model

    def load(path, *args, **kwargs):
        loads.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(xner.models.loading, "load_model", load)
    return loads


def run(corpus: Path, out: Path, *langs: str, **options) -> dict:
    return evaluate_run(
        corpus / "model", splits_of(corpus, *langs), out, info=INFO, split="dev", device="cpu", **options
    )


def test_the_model_is_loaded_once_and_each_language_equals_its_own_evaluation(corpus, tmp_path, monkeypatch):
    loads = count_loads(monkeypatch)
    out = tmp_path / "evaluations"
    run(corpus, out, "en", "de", "sw", max_length=64, batch_size=32)
    assert loads == [str(corpus / "model")]
    assert set(read_index(out)) == {"en", "de", "sw"}
    for lang in ("en", "de", "sw"):
        single = tmp_path / "single" / lang  # the language alone, with a model loaded for it only
        run(corpus, single, lang, max_length=64, batch_size=32)
        assert without_timing(out / f"{lang}.json") == without_timing(single / f"{lang}.json")
        assert (out / f"{lang}.tsv").read_bytes() == (single / f"{lang}.tsv").read_bytes()
    assert len(loads) == 4


def test_an_added_language_is_the_only_one_evaluated(corpus, tmp_path, monkeypatch):
    out = tmp_path / "evaluations"
    run(corpus, out, "en", "de")
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json") if p.name != "index.json"}
    loads = count_loads(monkeypatch)
    run(corpus, out, "en", "de", "sw")
    assert len(loads) == 1
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json") if p.name != "index.json"}
    assert {k: after[k] for k in before} == before  # en and de untouched
    assert "sw.json" in after
    # nothing changed: nothing is evaluated, the model is not even loaded
    run(corpus, out, "en", "de", "sw")
    assert len(loads) == 1


def test_a_changed_test_split_settings_or_model_is_evaluated_again(corpus, tmp_path, monkeypatch):
    out = tmp_path / "evaluations"
    run(corpus, out, "en", "de")
    key = read_index(out)["en"]["key"]
    loads = count_loads(monkeypatch)

    run(corpus, out, "en", "de", max_length=32)  # settings: both again
    assert len(loads) == 1 and read_index(out)["en"]["key"]["settings"]["max_length"] == 32
    run(corpus, out, "en", "de")
    assert read_index(out)["en"]["key"] == key

    changed = tmp_path / "changed"
    changed.mkdir()
    (changed / "en.parquet").write_bytes((corpus / "de.parquet").read_bytes())  # other bytes for en
    evaluate_run(
        corpus / "model",
        {"en": changed / "en.parquet", "de": corpus / "de.parquet"},
        out,
        info=INFO,
        split="dev",
        device="cpu",
    )
    index = read_index(out)
    assert index["en"]["key"]["test_sha256"] != key["test_sha256"]
    assert json.loads((out / "en.json").read_text())["sentences"] == 60

    # a retrained model (other weights) makes every language stale
    (corpus / "model2").mkdir()
    for f in (corpus / "model").iterdir():
        (corpus / "model2" / f.name).write_bytes(f.read_bytes())
    config = corpus / "model2" / "config.json"
    config.write_text(config.read_text().replace("{", '{"xner_test": 1,', 1))
    loads.clear()
    entries = evaluate_run(
        corpus / "model2", splits_of(corpus, "en", "de"), out, info=INFO, split="dev", device="cpu"
    )
    assert len(loads) == 1
    assert entries["en"]["key"]["model_sha256"] != key["model_sha256"]


def test_a_deleted_output_is_evaluated_again(corpus, tmp_path):
    out = tmp_path / "evaluations"
    run(corpus, out, "en")
    (out / "en.tsv").unlink()
    run(corpus, out, "en")
    assert (out / "en.tsv").exists()


def test_each_evaluation_has_its_per_sentence_counts_beside_it(corpus, tmp_path):
    out = tmp_path / "evaluations"
    run(corpus, out, "en", "de")
    for lang in ("en", "de"):
        files = evaluation_files(out, lang)
        _, gold, pred = read_predictions_tsv(files.tsv)
        counts, digest = read_sentence_counts(files.counts, ENTITY_TYPES)
        assert (counts == sentence_counts(gold, pred)).all() and digest == gold_digest(gold)
        assert counts.sum() > 0  # an untrained model predicts some entities, and misses the gold ones


def test_a_language_no_longer_tested_is_removed(corpus, tmp_path, monkeypatch):
    out = tmp_path / "evaluations"
    run(corpus, out, "en", "de", "sw")
    loads = count_loads(monkeypatch)
    run(corpus, out, "en", "sw")
    assert not loads  # nothing to evaluate
    assert list(read_index(out)) == ["en", "sw"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["index.json"]
        + [f"{lang}.{ext}" for lang in ("en", "sw") for ext in ("json", "tsv", "counts.parquet")]
    )


def test_the_reporting_finds_a_runs_evaluations_and_names_a_missing_one(corpus, tmp_path):
    out = tmp_path / "evaluations"
    run(corpus, out, "en", "de")
    assert list(run_evaluation_files(out)) == ["en", "de"]  # the index's languages
    assert [f.json.name for f in experiment_evaluations([out], ["de"])] == ["de.json"]
    with pytest.raises(XnerError, match=r"sw.json: no evaluation of this run on sw"):
        experiment_evaluations([out], ["en", "sw"])


def test_a_broken_index_is_named(tmp_path):
    (tmp_path / "index.json").write_text("{")
    with pytest.raises(XnerError, match="index.json: not a valid evaluations index"):
        read_index(tmp_path)


def test_the_model_card_is_rewritten_with_every_evaluation_and_changes_no_key(corpus, tmp_path, monkeypatch):
    from xner.models.card import read_metadata

    model = tmp_path / "model"
    model.mkdir()
    for f in (corpus / "model").iterdir():
        (model / f.name).write_bytes(f.read_bytes())
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({**INFO, "model_path": "tiny", "hyperparameters": {"seed": 1}}))
    out = tmp_path / "evaluations"
    splits = splits_of(corpus, "en")
    evaluate_run(model, splits, out, info=INFO, split="dev", device="cpu", summary=summary)
    card = read_metadata(model / "README.md")
    (result,) = card["model-index"][0]["results"]
    assert result["dataset"]["name"] == "PAN-X.en" and result["dataset"]["split"] == "validation"
    assert result["metrics"][0]["value"] == round(json.loads((out / "en.json").read_text())["micro"]["f1"], 4)

    # the card is not the model: the next job keeps en, evaluates de only, and lists both in the card
    loads = count_loads(monkeypatch)
    evaluate_run(
        model, splits_of(corpus, "en", "de"), out, info=INFO, split="dev", device="cpu", summary=summary
    )
    assert len(loads) == 1 and read_index(out)["en"]["wall_seconds"] > 0
    card = read_metadata(model / "README.md")
    assert [r["dataset"]["name"] for r in card["model-index"][0]["results"]] == ["PAN-X.en", "PAN-X.de"]
    assert card["language"] == ["en", "de"] and card["pipeline_tag"] == "token-classification"


def test_a_run_directory_is_evaluated_and_given_its_card_as_its_model(corpus, tmp_path):
    """The run's directory, as results/runs/MODEL/LANGS/VARIANT shows it, stands for its model/."""
    from xner.models.card import read_metadata

    run_dir = tmp_path / "runs" / "tiny" / "en" / "base"
    (run_dir / "model").mkdir(parents=True)
    for f in (corpus / "model").iterdir():
        (run_dir / "model" / f.name).write_bytes(f.read_bytes())
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({**INFO, "model_path": "tiny", "hyperparameters": {"seed": 1}}))
    by_run = evaluate_run(
        run_dir,
        splits_of(corpus, "en"),
        tmp_path / "a",
        info=INFO,
        split="dev",
        device="cpu",
        summary=summary,
    )
    by_model = run(corpus, tmp_path / "b", "en")
    assert by_run["en"]["key"] == by_model["en"]["key"]  # the same model files
    assert read_metadata(run_dir / "model" / "README.md")["model-index"][0]["results"]
    assert sorted(p.name for p in run_dir.iterdir()) == ["model"]
