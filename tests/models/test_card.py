"""xner.models.card: the card's YAML metadata and body from a hand-made summary and evaluations."""

from __future__ import annotations

from xner.models.card import metadata, read_metadata, render, write_card

SUMMARY = {
    "model": "xlmr",
    "train_langs": "en+de",
    "variant": "lr2e-5",
    "model_path": "FacebookAI/xlm-roberta-base",
    "model_commit": "e73636d4f797dec63c3081bb6ed5c7b0bb3f2089",
    "best_epoch": 4,
    "epochs_run": 7,
    "best_val_loss": 0.1234,
    "best_val_f1": 0.8765,
    "wall_seconds": 600,
    "device_name": "NVIDIA H200",
    "device_type": "cuda",
    "precision": "bf16",
    "hyperparameters": {"lr": 2e-5, "batch_size": 32, "seed": 42},
    "data": {"train": {"sentences": 32000, "words": 250000}, "val": {"sentences": 8000, "words": 60000}},
    "versions": {"torch": "2.13.0", "xner": "0.1.0"},
}


def entry(f1: float) -> dict:
    return {
        "precision": f1 + 0.01,
        "recall": f1 - 0.01,
        "f1": f1,
        "support": 100,
        "f1_ci": [f1 - 0.02, f1 + 0.02],
    }


def evaluation(f1: float) -> dict:
    scores = {
        "micro": entry(f1),
        "macro": entry(f1 - 0.01),
        "per_type": {t: entry(f1) for t in ("LOC", "ORG", "PER")},
    }
    return {**scores, "split": "dev", "sentences": 10000, "lenient": {**scores, "micro": entry(f1 + 0.003)}}


def test_metadata_before_and_after_evaluation():
    before = metadata(SUMMARY, {})
    assert before["base_model"] == "FacebookAI/xlm-roberta-base" and "model-index" not in before
    assert before["language"] == ["en", "de"] and before["pipeline_tag"] == "token-classification"
    after = metadata(SUMMARY, {"en": evaluation(0.85), "sw": evaluation(0.61)})
    assert after["language"] == ["en", "de", "sw"]
    (index,) = after["model-index"]
    assert index["name"] == "xner-xlmr-en+de-lr2e-5"
    sw = index["results"][1]
    assert sw["dataset"] == {
        "name": "PAN-X.sw",
        "type": "google/xtreme",
        "config": "PAN-X.sw",
        "split": "validation",
    }
    assert [m["value"] for m in sw["metrics"]] == [0.61, 0.62, 0.6, 0.613]


def test_a_local_base_model_is_not_named_as_a_hub_model():
    assert "base_model" not in metadata({**SUMMARY, "model_path": "results/models/tiny-bert"}, {})


def test_the_card_reads_back_and_says_how_the_run_was_made(tmp_path):
    path = write_card(tmp_path, SUMMARY, {"en": evaluation(0.85)})
    assert path == tmp_path / "README.md"
    assert read_metadata(path) == metadata(SUMMARY, {"en": evaluation(0.85)})
    text = path.read_text(encoding="utf-8")
    assert "| en | dev | 10000 | 0.850 [0.830, 0.870] | 0.853 [0.833, 0.873] |" in text
    assert "best epoch: 4 of 7" in text and "`lr=2e-05`" in text and "commit `e73636d" in text
    assert "snakemake --profile profiles/local results/runs/xlmr/en+de/lr2e-5/summary.json" in text
    assert "Not evaluated yet" in render(SUMMARY, {})


def test_a_run_without_its_identity_still_gets_a_card():
    """xner train called by hand without --model-name, --train-langs and --variant."""
    bare = {k: v for k, v in SUMMARY.items() if k not in ("model", "train_langs", "variant")}
    text = render({**bare, "model": "", "train_langs": "", "variant": ""}, {})
    assert metadata(bare, {})["language"] == [] and "# xner run model/?/base" in text


def test_budgets_are_no_languages_and_the_body_names_them():
    summary = {**SUMMARY, "train_langs": "en@2000+de"}
    assert metadata(summary, {"de": evaluation(0.7)})["language"] == ["en", "de"]
    text = render(summary, {})
    assert "# xner run xlmr/en@2000+de/lr2e-5" in text
    assert "in en (a stratified sample of 2000 of its training sentences) and de," in text
    assert "in en and de," in render(SUMMARY, {})
