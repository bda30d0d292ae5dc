"""xner.synthetic.results: the error-rate model and the corruption on hand-made cases, and a tiny tree that
Snakemake takes as done up to the reporting."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT, snakemake_env
from xner.bench.scale import REPORTING_RULES, planned_jobs
from xner.config import load_schema, read_configs, validate_config
from xner.evaluation.scoring import score
from xner.evaluation.spans import gold_digest
from xner.io import read_predictions_tsv, read_sentence_counts, read_sentences
from xner.labels import ENTITY_TYPES, LABELS
from xner.runs import expand_runs
from xner.synthetic.panx import generate_sentences
from xner.synthetic.results import (
    TreeSettings,
    corrupt,
    pool_choice,
    pool_error_rates,
    transfer_f1,
    write_results_tree,
)

XTREME40 = ROOT / "studies" / "xtreme40.yaml"
# what the generated tree may still plan: the reporting and the targets that gather it
REPORTING = {*REPORTING_RULES, "tables", "all"}


def test_in_language_transfer_beats_every_cross_language_one_and_f1s_span_03_to_09():
    config = validate_config(read_configs([XTREME40]), load_schema())
    f1s = {}
    for run in expand_runs(config):
        for lang in run.test_langs:
            f1s[run.model, run.train_langs, lang] = transfer_f1(run.model, run.train_langs, lang)
    for (model, train, test), f1 in f1s.items():
        if test not in train:
            assert f1 < transfer_f1(model, (test,), test), (model, train, test)
    assert 0.2 <= min(f1s.values()) < 0.4 and 0.85 < max(f1s.values()) <= 0.95
    # XLM-R trained on English: other scripts transfer worse than German
    assert transfer_f1("xlmr", ("en",), "de") > transfer_f1("xlmr", ("en",), "th")


def test_three_seeds_take_three_neighbouring_sets_of_the_pool():
    pool_f1 = [0.95, 0.88, 0.81, 0.74, 0.67]
    assert [pool_choice(pool_f1, 0.8, seed) for seed in (1, 2, 3)] == [1, 3, 2]
    # at the best end the move goes the other way, still three different sets
    assert len({pool_choice(pool_f1, 0.99, seed) for seed in (1, 2, 3)}) == 3
    assert len({pool_choice(pool_f1, 0.1, seed) for seed in (1, 2, 3)}) == 3
    assert pool_choice(pool_f1, 0.7, None) == 4


def test_the_pool_spans_the_error_rates_evenly():
    rates = pool_error_rates(TreeSettings(pool=4, lowest_f1=0.35))
    assert rates[0] == pytest.approx(0.05) and rates[-1] == pytest.approx(0.65)
    assert len(rates) == 4 and rates == sorted(rates)


def test_corruption_keeps_lengths_and_labels_and_f1_falls_with_the_rate():
    gold = [[tag for _, tag in s] for s in generate_sentences("de", "test", 400, 1)]
    assert [corrupt(tags, 0.0, random.Random(0)) for tags in gold] == gold
    f1s = []
    for rate in (0.1, 0.4, 0.7):
        rng = random.Random(0)
        pred = [corrupt(tags, rate, rng) for tags in gold]
        assert [len(p) for p in pred] == [len(g) for g in gold]
        assert {tag for p in pred for tag in p} <= set(LABELS)
        f1s.append(score(gold, pred)["micro"]["f1"])
    assert f1s == sorted(f1s, reverse=True)
    assert 0.8 < f1s[0] and f1s[-1] < 0.5


TINY = {
    "data": {"source": "huggingface", "path": None, "languages": ["de", "en", "sw"], "test_split": "test"},
    "models": {"xlmr": "xlm-roberta-base"},
    "speed": {"enabled": False},
    "report": {"title": "tiny", "page": "results-tiny"},
    "experiments": {
        "transfer": {"models": ["xlmr"], "train": ["en", "de"], "seeds": [1], "test": ["de", "en", "sw"]},
    },
}


@pytest.mark.slow
def test_a_tiny_tree_leaves_only_the_reporting_to_snakemake(tmp_path):
    configfile = tmp_path / "tiny.yaml"
    configfile.write_text(yaml.safe_dump(TINY))
    config = validate_config(read_configs([configfile]), load_schema())
    tree = tmp_path / "tree"
    made = write_results_tree(tree, config, TreeSettings(sentences=50, pool=3, workers=1))
    assert made["runs"] == 2 and made["evaluations"] == 6

    run = tree / "results" / "runs" / "xlmr" / "de" / "seed1"
    evaluation = json.loads((run / "evaluations" / "sw.json").read_text())
    assert (evaluation["model"], evaluation["train_langs"], evaluation["test_lang"]) == ("xlmr", "de", "sw")
    assert evaluation["sentences"] == 50 and "f1_ci" in evaluation["micro"] and "errors" in evaluation
    index = json.loads((run / "evaluations" / "index.json").read_text())
    assert list(index) == ["de", "en", "sw"] and index["sw"]["key"]["info"]["test_lang"] == "sw"
    _, gold, _ = read_predictions_tsv(run / "evaluations" / "sw.tsv")
    test = read_sentences(tree / "results" / "splits" / "sw" / "test.parquet")
    assert gold == test.column("tags").to_pylist()
    counts, digest = read_sentence_counts(run / "evaluations" / "sw.counts.parquet", ENTITY_TYPES)
    assert digest == gold_digest(gold) and len(counts) == 50
    assert not (tree / "synthetic-pool").exists()

    for target in ("tables", "all"):
        plan = subprocess.run(
            [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(tree)]
            + ["--configfile", str(configfile), "--replace-workflow-config", "-n", target],
            capture_output=True,
            text=True,
            env=snakemake_env(tree),
            check=True,
        )
        rules = set(planned_jobs(plan.stdout))
        assert rules and rules <= REPORTING, plan.stdout
        assert "training_curves" in rules and "scores" in rules
