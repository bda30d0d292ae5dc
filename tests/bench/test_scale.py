"""xner.bench.scale: the parsing, summing and report on hand-made cases, and `xner bench-scale` on a tiny study.

No test here asserts a time: the targets are checked by `make bench-scale` only.
"""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import run_xner
from xner.bench.scale import (
    REPORTING_RULES,
    TARGETS,
    check_targets,
    planned_jobs,
    read_benchmarks,
    rule_summary,
    scale_markdown,
)

DRY_RUN = """Building DAG of jobs...
Job stats:
job                   count
------------------  -------
scores                    1
training_curves         126
all                       1
total                   128

Reasons:
"""

BENCHMARK_HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def test_the_plan_is_read_from_the_job_stats():
    assert planned_jobs(DRY_RUN) == {"scores": 1, "training_curves": 126, "all": 1}
    assert planned_jobs("Nothing to be done.") == {}


def test_benchmark_files_are_summed_per_rule(tmp_path):
    files = {
        "scores.tsv": (7.5, 300.0),
        "significance/matrix.tsv": (120.0, 2500.0),
        "significance/zero-shot.tsv": (20.0, 900.0),
        "training_curves/xlmr/en/seed1.tsv": (3.0, 200.0),
        "training_curves/xlmr/en/seed2.tsv": (4.0, 210.0),
    }
    for name, (seconds, rss) in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(BENCHMARK_HEADER + f"{seconds}\t0:00:01\t{rss}\t1\t1\t1\t1\t1\t1\t{seconds / 4}\n")
    jobs = read_benchmarks(tmp_path)
    assert len(jobs) == 5
    rules = {row["rule"]: row for row in rule_summary(jobs)}
    assert [row["rule"] for row in rule_summary(jobs)] == ["scores", "significance", "training_curves"]
    assert rules["significance"]["seconds"] == pytest.approx(140.0)
    assert rules["significance"]["cpu_seconds"] == pytest.approx(35.0)
    assert rules["significance"]["slowest_job"] == "matrix" and rules["significance"]["max_rss_mb"] == 2500.0
    assert (
        rules["training_curves"]["jobs"] == 2 and rules["training_curves"]["slowest_job"] == "xlmr/en/seed2"
    )


def hand_made_result(tables_seconds: float, job_rss: float) -> dict:
    step = {"max_rss_mb": 150.0, "returncode": 0, "load_before": 1.0, "load_after": 6.5}
    return {
        "config": "studies/xtreme40.yaml",
        "command": "xner bench-scale",
        "date": "2026-12-05 17:00 UTC",
        "settings": {"cores": 2},
        "machine": {"cores": 2, "usable_cores": 2, "cpu": "a CPU", "memory_gb": 24.0, "python": "3.11"},
        "counts": {
            "languages": 40,
            "runs": 126,
            "evaluations": 5040,
            "sentences": 10000,
            "pool": 10,
            "tree_gb": 9.5,
        },
        "steps": {
            "dry_run_empty": {**step, "seconds": 3.0, "jobs": {"train": 126, "all": 1}},
            "generate": {"seconds": 900.0},
            "dry_run_tree": {**step, "seconds": 4.0, "jobs": {"scores": 1, "all": 1}},
            "tables": {**step, "seconds": tables_seconds, "jobs": {"scores": 1}},
            "report": {**step, "seconds": 30.0},
        },
        "rules": [
            {
                "rule": "scores",
                "jobs": 1,
                "seconds": 10.0,
                "slowest_job": "scores",
                "slowest_seconds": 10.0,
                "max_rss_mb": job_rss,
                "cpu_seconds": 4.0,
            },
        ],
        "comparisons": {"matrix": 6240, "zero-shot": 240},
        "report_mb": 12.0,
        "failed_steps": [],
    }


def test_each_target_holds_or_not_and_the_report_says_so():
    result = hand_made_result(tables_seconds=300.0, job_rss=500.0)
    result["targets"] = check_targets(result)
    assert [t["holds"] for t in result["targets"]] == [True, True, True, True]
    assert result["targets"][2]["value"] == pytest.approx(330.0)

    slow = hand_made_result(tables_seconds=TARGETS["after_gpu_seconds"], job_rss=5000.0)
    slow["targets"] = check_targets(slow)
    assert [t["holds"] for t in slow["targets"]] == [True, True, False, False]
    text = scale_markdown(slow)
    for words in ("dry run, empty directory", "snakemake tables", "snakemake --report", "scores", "**NO**"):
        assert words in text
    assert "matrix 6,240" in text and "5,040 evaluations" in text and "reporting rules only" in text
    assert "1.0 → 6.5" in text and "10.0 s of wall time, 4.0 CPU seconds" in text


@pytest.mark.slow
def test_bench_scale_on_a_tiny_study_writes_every_step_and_verdict(tmp_path):
    config = {
        "data": {
            "source": "huggingface",
            "path": None,
            "languages": ["de", "en", "sw"],
            "test_split": "test",
        },
        "models": {"xlmr": "xlm-roberta-base", "mbert": "bert-base-multilingual-cased"},
        "speed": {"enabled": False},
        "report": {"title": "tiny", "page": "results-tiny"},
        "experiments": {
            "zero-shot": {
                "models": ["mbert", "xlmr"],
                "train": ["en"],
                "seeds": [1],
                "test": ["de", "en", "sw"],
            },
        },
    }
    configfile = tmp_path / "tiny.yaml"
    configfile.write_text(yaml.safe_dump(config))
    out = tmp_path / "out"
    done = run_xner(
        "bench-scale", "--config", str(configfile), "--out", str(out), "--sentences", "40", "--pool", "3"
    )
    assert done.returncode == 0, done.stderr
    result = json.loads((out / "bench-scale.json").read_text())
    assert not (out / "tree").exists()  # removed without --keep
    assert result["counts"]["runs"] == 2 and result["counts"]["evaluations"] == 6
    assert set(result["steps"]["dry_run_tree"]["jobs"]) <= {*REPORTING_RULES, "all"}
    assert {row["rule"] for row in result["rules"]} >= {
        "scores",
        "significance",
        "training_curves",
        "results_page",
    }
    assert result["comparisons"] == {"zero-shot": 3}  # xlmr against mbert on 3 languages
    assert len(result["targets"]) == 4 and not result["failed_steps"]
    text = (out / "bench-scale.md").read_text()
    for words in (
        "dry run, empty directory",
        "dry run, generated tree",
        "snakemake tables",
        "report.html",
        "holds",
    ):
        assert words in text
