"""End-to-end Snakemake runs: the plan of the default config, the demo, bad input, the real data.

Each run works in its own temporary directory (``snakemake -d``), never in the checkout.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from conftest import CORES, ROOT, independent_count, run_xner, snakemake_env

pytestmark = pytest.mark.slow


def snakemake(
    workdir: Path, *args: str, configfile: Path | None = None, snakefile: Path = ROOT / "Snakefile"
) -> subprocess.CompletedProcess:
    """Run snakemake on a Snakefile (the checkout's) in ``workdir``, offline, with the test's Python first on PATH."""
    env = snakemake_env(workdir)
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(snakefile),
        "-d",
        str(workdir),
        "--cores",
        str(CORES),
    ]
    if configfile is not None:
        command += ["--configfile", str(configfile), "--replace-workflow-config"]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env, check=False)


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


def read_stats(workdir: Path) -> dict[tuple[str, str], dict[str, int]]:
    with open(workdir / "results" / "tables" / "data_stats.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {
        (r["langs"], r["split"]): {k: int(v) for k, v in r.items() if k not in ("langs", "split")}
        for r in rows
    }


def check_evaluation(eval_dir: Path, lang: str, counts: dict[str, int]) -> dict:
    """An evaluation JSON has the documented fields, counts every gold word, and equals seqeval on its TSV."""
    from seqeval.metrics import f1_score, precision_score, recall_score
    from seqeval.scheme import IOB2

    from xner.io import read_predictions_tsv

    result = json.loads((eval_dir / f"{lang}.json").read_text())
    for key in ("model", "train_langs", "variant", "test_lang", "split", "sentences", "words", "loss"):
        assert key in result
    assert (result["scheme"], result["mode"], result["test_lang"]) == ("IOB2", "strict", lang)
    assert set(result["per_type"]) == {"LOC", "ORG", "PER"}
    tokens, gold, pred = read_predictions_tsv(eval_dir / f"{lang}.tsv")
    assert result["sentences"] == len(tokens) == counts["sentences"]
    assert result["words"] == sum(map(len, tokens)) == counts["tokens"]
    assert all(len(g) == len(p) == len(t) for t, g, p in zip(tokens, gold, pred))
    strict = {"mode": "strict", "scheme": IOB2}
    assert result["micro"]["f1"] == pytest.approx(f1_score(gold, pred, **strict))
    assert result["micro"]["precision"] == pytest.approx(precision_score(gold, pred, **strict))
    assert result["micro"]["recall"] == pytest.approx(recall_score(gold, pred, **strict))
    # XTREME's score: seqeval's default (lenient) mode, recomputed from the TSV
    assert result["lenient"]["micro"]["f1"] == pytest.approx(f1_score(gold, pred))
    # xner's own span counts give seqeval's totals, in both modes
    from xner.evaluation.scoring import check_counts, score
    from xner.evaluation.spans import sentence_counts

    for mode in ("strict", "lenient"):
        check_counts(sentence_counts(gold, pred, mode=mode), score(gold, pred, mode), mode)
    # every F1 has an interval that holds it
    for scores in (result, result["lenient"]):
        for entry in (scores["micro"], scores["macro"], *scores["per_type"].values()):
            low, high = entry["f1_ci"]
            assert low <= entry["f1"] <= high
    assert result["bootstrap"]["resamples"] == 1000 and result["bootstrap"]["confidence"] == 0.95
    errors = result["errors"]
    gold_entities = sum(v["support"] for v in result["per_type"].values())
    classified = sum(map(sum, (d.values() for d in errors["confusion"].values())))
    classified += sum(
        sum(errors[k].values()) for k in ("boundary_errors", "boundary_and_type_errors", "missed")
    )
    assert classified == gold_entities
    assert sum(b["sentences"] for b in errors["by_length"]) == result["sentences"]
    return result


def job_counts(output: str) -> dict[str, int]:
    """The jobs of a plan, by rule, from snakemake's 'Job stats' table (none: nothing to do)."""
    if "Job stats:" not in output:
        return {}
    table = output.split("Job stats:")[1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)}


def test_dry_run_of_the_default_config_needs_no_network_or_data(tmp_path):
    result = snakemake(tmp_path, "-n", configfile=ROOT / "config.yaml")
    assert result.returncode == 0, result.stderr
    counts = job_counts(result.stdout + result.stderr)
    assert counts["download"] == counts["parse"] == counts["split"] == 6
    assert counts["data_stats"] == counts["models"] == 1
    assert counts["train"] == counts["evaluate"] == 22  # every run of the study once, evaluated in one job
    assert "export_evaluation" not in counts  # the reporting reads each run's evaluations in place
    assert counts["experiment_table"] == counts["experiment_figures"] == 5
    assert counts["training_curves"] == 1 and counts["scores"] == 1  # every run's curves in one job
    assert not (tmp_path / "results").exists()


def test_invalid_config_stops_before_any_job(tmp_path):
    config = write_config(tmp_path / "c.yaml", {"split": {"val_fraction": 1.5}})
    result = snakemake(tmp_path, configfile=config)
    assert result.returncode != 0
    assert "invalid configuration: config key 'split.val_fraction'" in result.stderr
    assert not (tmp_path / "results").exists()


def copy_workflow(dest: Path) -> Path:
    """A copy of the workflow (Snakefile, workflow/, configs), so a test may change its code."""
    for name in ("Snakefile", "config.yaml"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("workflow", "demo", "profiles", "envs"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    return dest / "Snakefile"


def test_demo_end_to_end(tmp_path):
    snakefile = copy_workflow(tmp_path)
    demo_config = tmp_path / "demo" / "config.yaml"
    result = snakemake(
        tmp_path,
        "--profile",
        str(tmp_path / "profiles" / "local"),
        configfile=demo_config,
        snakefile=snakefile,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = tmp_path / "results"
    stats = read_stats(tmp_path)
    demo = yaml.safe_load(demo_config.read_text())
    langs = demo["data"]["languages"]
    assert list(stats) == [(lang, split) for lang in langs for split in ("train", "val", "test")] + [
        ("en", "train+val"),
        ("en+de", "train+val"),
    ]
    for lang in langs:
        assert stats[lang, "train"]["sentences"] == 1200 and stats[lang, "val"]["sentences"] == 300
        assert stats[lang, "test"]["sentences"] == 500  # PAN-X dev of the synthetic data
    en, de = stats["en", "train+val"], stats["de", "train"]
    assert stats["en+de", "train+val"]["tokens"] == en["tokens"] + de["tokens"] + stats["de", "val"]["tokens"]
    manifest = json.loads((results / "raw" / "en" / "manifest.json").read_text())
    assert manifest["source"] == "panx_dataset" and manifest["format"] == "panx_archive"
    assert (results / "tables" / "data_stats.md").read_text().startswith("| langs | split |")

    # Every run is evaluated on every test language, and the scores agree with the predictions TSV.
    for mixture in ("en", "en+de"):
        run = results / "runs" / "tiny" / mixture / "base"
        assert {p.name for p in run.iterdir()} >= {"model", "history.csv", "summary.json", "train.log"}
        history = run / "history.csv"
        assert "test_sw_f1" in history.read_text().splitlines()[0]  # track_test_langs in the demo
        for lang in langs:
            check_evaluation(
                results / "runs" / "tiny" / mixture / "base" / "evaluations", lang, stats[lang, "test"]
            )
    en_scores = json.loads(
        (results / "runs" / "tiny" / "en" / "base" / "evaluations" / "en.json").read_text()
    )
    assert en_scores["micro"]["f1"] > 0.5
    # each run's model card, with its scores on every test language
    from xner.models.card import read_metadata

    for mixture in ("en", "en+de"):
        card = read_metadata(results / "runs" / "tiny" / mixture / "base" / "model" / "README.md")
        (index,) = card["model-index"]
        assert [r["dataset"]["name"] for r in index["results"]] == [f"PAN-X.{lang}" for lang in langs]
        for lang, result in zip(langs, index["results"]):
            scores = json.loads(
                (results / "runs" / "tiny" / mixture / "base" / "evaluations" / f"{lang}.json").read_text()
            )
            assert result["metrics"][0]["value"] == round(scores["micro"]["f1"], 4)

    # Tables and figures
    with open(results / "tables" / "scores.csv", newline="") as f:
        scores = list(csv.DictReader(f))
    assert len(scores) == 2 * 3 * 2 * 5  # runs x test languages x modes x (LOC, ORG, PER, micro, macro)
    with open(results / "tables" / "runs.csv", newline="") as f:
        runs = list(csv.DictReader(f))
    for run in runs:  # each run's cost: its training and its evaluation on three languages
        assert float(run["training_minutes"]) > 0 and float(run["evaluation_minutes"]) > 0
        assert float(run["device_minutes"]) == pytest.approx(
            float(run["training_minutes"]) + float(run["evaluation_minutes"])
        )
    with open(results / "tables" / "cost.csv", newline="") as f:
        *_, total = list(csv.DictReader(f))
    assert (total["device_type"], total["runs"]) == ("total", "2")
    assert float(total["device_minutes"]) == pytest.approx(sum(float(r["device_minutes"]) for r in runs))
    assert (results / "tables" / "runs.md").read_text().rstrip().splitlines()[-1].startswith("Cost: ")
    table = (results / "tables" / "experiments" / "demo.md").read_text()
    assert table.startswith("| model | train_langs | setting | seeds | en_LOC |") and "sw_macro" in table
    assert re.search(r"\| 0\.\d{3} \[0\.\d{3}, 0\.\d{3}\] \|", table)  # one seed: F1 [interval]
    assert "comparisons of settings that differ in one factor" in table or "Significant differences" in table
    # the one comparison of the demo (en against en+de) on each test language
    with open(results / "tables" / "significance" / "demo.csv", newline="") as f:
        significance = list(csv.DictReader(f))
    assert [(r["factor"], r["a"], r["b"], r["test_lang"]) for r in significance] == [
        ("train", "tiny · en", "tiny · en+de", lang) for lang in langs
    ]
    for row in significance:
        assert float(row["difference_ci_low"]) <= float(row["difference"]) <= float(row["difference_ci_high"])
        assert 0 < float(row["p_value"]) <= float(row["p_holm"]) <= 1
    with open(results / "tables" / "transfer_matrix.csv", newline="") as f:
        transfer = list(csv.DictReader(f))
    for row in transfer:  # the unweighted average over the test languages
        assert float(row["average"]) == pytest.approx(sum(float(row[lang]) for lang in langs) / len(langs))
        assert float(row["micro_average_lenient"]) > 0
    for png in (
        "figures/demo/transfer.png",
        "figures/demo/f1_by_type.png",
        "figures/demo/errors.png",
        "figures/runs/tiny/en/base.png",
    ):
        assert (results / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    # The results page: the tables' numbers, and its figures beside it
    page = (results / "report" / "results.md").read_text()
    assert page.startswith("# xner: cross-lingual NER on PAN-X\n") and "### demo" in page
    en_f1 = json.loads((results / "runs" / "tiny" / "en" / "base" / "evaluations" / "en.json").read_text())[
        "micro"
    ]
    low, high = en_f1["f1_ci"]
    assert f"| tiny · en | 1 | {en_f1['f1']:.3f} [{low:.3f}, {high:.3f}] |" in page
    assert sorted(p.name for p in (results / "report" / "results").glob("*.png")) == [
        "demo-errors.png",
        "demo-f1_by_type.png",
        "demo-transfer.png",
    ]
    assert "](results/demo-transfer.png)" in page

    # The speed table: the tiny model timed on the English training split, the study beside it
    with open(results / "tables" / "speed.csv", newline="") as f:
        (speed,) = list(csv.DictReader(f))
    assert speed["model"] == "tiny" and int(speed["train_sentences"]) == demo["speed"]["sentences"]
    assert float(speed["epoch_seconds"]) > float(speed["train_seconds"]) > 0
    assert speed["study_epoch_seconds"] == "79-83"

    # The report
    report = snakemake(
        tmp_path, "--report", str(tmp_path / "report.html"), configfile=demo_config, snakefile=snakefile
    )
    assert report.returncode == 0, report.stderr[-3000:]
    assert (tmp_path / "report.html").stat().st_size > 10_000
    html = (tmp_path / "report.html").read_text(errors="replace")
    assert "significance/demo.csv" in html and "errors.png" in html  # the report shows them

    # xner predict with the demo's model on its evaluation TSV gives that evaluation's predictions back
    en_tsv = results / "runs" / "tiny" / "en" / "base" / "evaluations" / "en.tsv"
    model = results / "runs" / "tiny" / "en" / "base" / "model"
    again = run_xner("predict", str(model), str(en_tsv), "--output-format", "tsv", "--max-length", "64")
    assert again.returncode == 0, again.stderr
    assert again.stdout == en_tsv.read_text(encoding="utf-8")

    # Texts tagged by a trained run (config section predict): only the predict jobs run.
    (tmp_path / "text.txt").write_text(
        "Anna Kowalski visited Berlin .\n\nMaria lives in Oslo\n", encoding="utf-8"
    )
    with_predict = write_config(
        tmp_path / "predict.yaml",
        {**demo, "predict": {"inputs": {"text": "text.txt"}, "runs": ["tiny/en+de/base"]}},
    )
    tagged = snakemake(tmp_path, "predict", configfile=with_predict, snakefile=snakefile)
    assert tagged.returncode == 0, tagged.stderr[-3000:]
    assert set(job_counts(tagged.stdout + tagged.stderr)) - {"total"} == {"predict_run", "predict"}
    lines = (results / "predict" / "tiny" / "en+de" / "base" / "text.jsonl").read_text().splitlines()
    assert [json.loads(line)["line"] for line in lines] == [1, 3]
    bad = write_config(
        tmp_path / "bad.yaml", {**demo, "predict": {"inputs": {"t": "text.txt"}, "runs": ["tiny/de/base"]}}
    )
    refused = snakemake(tmp_path, "predict", "-n", configfile=bad, snakefile=snakefile)
    said = refused.stdout + refused.stderr  # Snakemake's error (a WorkflowError naming the key)
    assert refused.returncode != 0 and "invalid configuration: config key 'predict.runs[0]'" in said
    assert "tiny/en/base" in said

    # Cached results: without checkpoints, a change to the plotting code reruns only reporting jobs.
    for model in results.glob("runs/*/*/*/model"):
        shutil.rmtree(model)
    plots = tmp_path / "workflow" / "xner" / "reporting" / "figures.py"
    plots.write_text(plots.read_text() + "\n# a change to the plotting code\n")
    plan = snakemake(tmp_path, "tables", "-n", configfile=demo_config, snakefile=snakefile)
    assert plan.returncode == 0, plan.stderr[-3000:]
    jobs = job_counts(plan.stdout + plan.stderr)
    assert set(jobs) - {"total"} == {
        "experiment_figures",
        "experiment_errors",
        "training_curves",
        "results_page",  # it shows the figures
        "tables",
    }, plan.stdout + plan.stderr
    rerun = snakemake(tmp_path, "tables", configfile=demo_config, snakefile=snakefile)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert not list(results.glob("runs/*/*/*/model"))  # nothing was retrained

    # Then nothing is left to do.
    again = snakemake(tmp_path, "-n", configfile=demo_config, snakefile=snakefile)
    assert "Nothing to be done" in again.stdout + again.stderr


def _local_panx(directory: Path, lang: str = "en", dev: str = "x\tO\n") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"train-{lang}.tsv").write_text("".join(f"w{i}\tO\nv\tB-LOC\n\n" for i in range(30)))
    (directory / f"dev-{lang}.tsv").write_text(dev)
    (directory / f"test-{lang}.tsv").write_text("t\tO\n")
    return directory


def test_bad_input_fails_naming_file_and_line_and_leaves_no_output(tmp_path):
    data = _local_panx(tmp_path / "panx", dev="a\tO\n\nb\tB-PER\nc\tI-PERS\n")
    config = write_config(
        tmp_path / "c.yaml", {"data": {"source": "local", "path": str(data), "languages": ["en"]}}
    )
    result = snakemake(tmp_path, configfile=config)
    assert result.returncode != 0
    log = (tmp_path / "results" / "logs" / "parse" / "en.log").read_text()
    assert f"{data / 'dev-en.tsv'}), line 4: unknown tag 'I-PERS'" in log
    assert not list((tmp_path / "results").glob("data/en/*.parquet"))
    assert not (tmp_path / "results" / "tables").exists()


def test_missing_input_file_is_named_before_any_job(tmp_path):
    data = _local_panx(tmp_path / "panx")
    (data / "test-en.tsv").unlink()
    config = write_config(
        tmp_path / "c.yaml", {"data": {"source": "local", "path": str(data), "languages": ["en"]}}
    )
    result = snakemake(tmp_path, configfile=config)
    assert result.returncode != 0
    assert "MissingInputException" in result.stderr and str(data / "test-en.tsv") in result.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.realdata
@pytest.mark.parametrize("source", ["local", "panx_dataset"])
def test_real_data_pipeline_counts_equal_an_independent_count(tmp_path, panx_dir, source):
    xtreme = panx_dir / "xtreme"
    if source == "local":
        path = xtreme
        langs = sorted({p.name.split("-")[1].split(".")[0] for p in xtreme.glob("train-*.tsv*")})
    else:
        path = panx_dir / "panx_dataset"
        langs = sorted(p.name.removesuffix(".tar.gz") for p in path.glob("*.tar.gz"))
    mixtures = [langs[:2], langs[1:4], langs]
    config = {
        "data": {"source": source, "path": str(path), "languages": langs},
        "models": {"m": "some/model"},
        "experiments": {"e": {"models": ["m"], "train": ["+".join(m) for m in mixtures], "test": langs}},
    }
    result = snakemake(tmp_path, "data", configfile=write_config(tmp_path / "c.yaml", config))
    assert result.returncode == 0, result.stderr[-3000:]
    stats = read_stats(tmp_path)

    def ours(key):
        return {k: v for k, v in stats[key].items() if v}

    def theirs(paths):
        return {k: v for k, v in independent_count(paths).items() if v}

    for lang in langs:
        train_val = {k: stats[lang, "train"][k] + stats[lang, "val"][k] for k in stats[lang, "train"]}
        expected = theirs([xtreme / f"train-{lang}.tsv"])
        assert {k: v for k, v in train_val.items() if v and k != "unique_tokens"} == {
            k: v for k, v in expected.items() if k != "unique_tokens"
        }
        assert ours((lang, "test")) == theirs([xtreme / f"dev-{lang}.tsv"])
    for mixture in mixtures:
        assert ours(("+".join(mixture), "train+val")) == theirs(
            [xtreme / f"train-{lang}.tsv" for lang in mixture]
        )


def test_archive_url_is_fetched_once_for_all_languages(tmp_path):
    from xner.synthetic.panx import DemoSettings, write_panx_archive

    served = tmp_path / "served"
    write_panx_archive(
        served / "panx_dataset.tar", DemoSettings(languages=("en", "sw"), train=60, dev=20, test=20)
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/panx_dataset.tar"
        config = {"data": {"source": "panx_dataset", "path": url, "languages": ["en", "sw"]}}
        result = snakemake(tmp_path / "run", configfile=write_config(tmp_path / "c.yaml", config))
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "run" / "results"
    archive = (run / "raw" / "panx_dataset.tar").read_bytes()
    assert archive == (served / "panx_dataset.tar").read_bytes()
    assert (run / "raw" / "panx_dataset.tar.sha256").read_text().split()[0] == hashlib.sha256(
        archive
    ).hexdigest()
    assert result.stderr.count("rule fetch_panx_archive") == 1
    stats = read_stats(tmp_path / "run")
    assert stats["sw", "train"]["sentences"] + stats["sw", "val"]["sentences"] == 60


@pytest.mark.realdata
def test_real_data_tiny_model_evaluations_match_the_source_files(tmp_path, panx_dir):
    """A tiny model trained for two epochs on real en; evaluated on en, de, sw: every word of the PAN-X
    dev files is in the TSV, in order, and the scores equal seqeval recomputed from it."""
    config = {
        "data": {"source": "local", "path": str(panx_dir / "xtreme"), "languages": ["en", "de", "sw"]},
        "training": {"lr": 2.0e-3, "batch_size": 64, "epochs": 2, "max_length": 128},
        "models": {"tiny": "results/models/tiny-bert"},
        "experiments": {"real": {"models": ["tiny"], "train": ["en"], "test": ["en", "de", "sw"]}},
    }
    result = snakemake(tmp_path, configfile=write_config(tmp_path / "c.yaml", config))
    assert result.returncode == 0, result.stderr[-3000:]
    eval_dir = tmp_path / "results" / "runs" / "tiny" / "en" / "base" / "evaluations"
    for lang in ("en", "de", "sw"):
        source = panx_dir / "xtreme" / f"dev-{lang}.tsv"
        scores = check_evaluation(eval_dir, lang, independent_count([source]))
        assert scores["split"] == "dev"
        expected = [line.split("\t") for line in source.read_text(encoding="utf-8").split("\n") if line]
        got = [
            line.split("\t")[:2]
            for line in (eval_dir / f"{lang}.tsv").read_text(encoding="utf-8").split("\n")
            if line
        ]
        assert got == expected  # word for word, gold tags included, in source order
    assert json.loads((eval_dir / "en.json").read_text())["micro"]["f1"] > 0.3


def test_without_keep_checkpoints_models_are_deleted_once_evaluated(tmp_path):
    demo = yaml.safe_load((ROOT / "demo" / "config.yaml").read_text())
    demo["data"]["languages"] = ["en", "sw"]
    demo["training"].update(epochs=1)
    demo["keep_checkpoints"] = False
    demo["track_test_langs"] = False
    demo["experiments"] = {
        "small": {"models": ["tiny"], "train": ["sw"], "test": ["en", "sw"], "table": "prf"}
    }
    config = write_config(tmp_path / "c.yaml", demo)
    result = snakemake(tmp_path, configfile=config)
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "results" / "runs" / "tiny" / "sw" / "base"
    assert not (run / "model").exists()
    assert (run / "history.csv").exists() and (run / "summary.json").exists()
    assert (tmp_path / "results" / "runs" / "tiny" / "sw" / "base" / "evaluations" / "en.json").exists()
    assert (tmp_path / "results" / "tables" / "experiments" / "small.csv").exists()
    again = snakemake(tmp_path, "-n", configfile=config)
    assert "Nothing to be done" in again.stdout + again.stderr


def test_an_added_test_language_is_evaluated_alone_without_retraining(tmp_path):
    demo = yaml.safe_load((ROOT / "demo" / "config.yaml").read_text())
    demo["data"]["languages"] = ["en", "sw"]
    demo["training"].update(epochs=1)
    demo["track_test_langs"] = False
    demo["speed"] = {"enabled": False}
    demo["experiments"] = {"small": {"models": ["tiny"], "train": ["sw"], "test": ["sw"], "table": "prf"}}
    config = write_config(tmp_path / "c.yaml", demo)
    first = snakemake(tmp_path, configfile=config)
    assert first.returncode == 0, first.stderr[-3000:]
    run = tmp_path / "results" / "runs" / "tiny" / "sw" / "base"
    evals = run / "evaluations"
    summary, sw = (run / "summary.json").read_bytes(), (evals / "sw.json").read_bytes()

    demo["experiments"]["small"]["test"] = ["sw", "en"]
    config = write_config(tmp_path / "c.yaml", demo)
    plan = snakemake(tmp_path, "-n", configfile=config)
    jobs = job_counts(plan.stdout + plan.stderr)
    assert "train" not in jobs and jobs["evaluate"] == 1, jobs
    second = snakemake(tmp_path, configfile=config)
    assert second.returncode == 0, second.stderr[-3000:]
    log = (tmp_path / "results" / "logs" / "evaluate" / "tiny" / "sw" / "base.log").read_text()
    assert "kept (model, test split and settings unchanged): sw" in log and "evaluating en" in log
    assert (run / "summary.json").read_bytes() == summary  # not retrained
    assert (evals / "sw.json").read_bytes() == sw  # not evaluated again
    assert json.loads((evals / "en.json").read_text())["test_lang"] == "en"


# The demo's plan (demo/config.yaml, nothing made yet), job for job: budgets add no job to it.
DEMO_PLAN = {
    "demo_data": 1,
    "download": 3,
    "parse": 3,
    "split": 3,
    "data_stats": 1,
    "tiny_model": 1,
    "models": 1,
    "speed_model": 1,
    "train": 2,
    "evaluate": 2,
    "speed_table": 1,
    "training_curves": 1,
    "experiment_errors": 1,
    "scores": 1,
    "significance": 1,
    "experiment_figures": 1,
    "experiment_table": 1,
    "results_page": 1,
    "all": 1,
    "total": 27,
}
DEMO_SPLIT_EN = (
    "python -m xner split --train results/data/en/train.parquet --test results/data/en/dev.parquet"
    " --train-out results/splits/en/train.parquet --val-out results/splits/en/val.parquet"
    " --test-out results/splits/en/test.parquet --val-fraction 0.2 --seed 42"
    " --length-bins 0 5 10 15 20 25 30 40 100 > results/logs/split/en.log 2>&1"
)


def test_budgets_make_budgeted_splits_and_a_config_without_them_plans_as_before(tmp_path):
    from xner.io import read_sentences

    demo = yaml.safe_load((ROOT / "demo" / "config.yaml").read_text())
    config = write_config(tmp_path / "c.yaml", demo)
    plan = snakemake(tmp_path, "-n", "-p", configfile=config)
    out = plan.stdout + plan.stderr
    assert plan.returncode == 0, out[-3000:]
    assert job_counts(out) == DEMO_PLAN
    assert f"Shell command: {DEMO_SPLIT_EN}\n" in out and "@" not in out.split("Job stats:")[0]
    first = snakemake(tmp_path, "data", configfile=config)
    assert first.returncode == 0, first.stderr[-3000:]
    splits = tmp_path / "results" / "splits"
    made = {path: path.stat().st_mtime_ns for path in splits.rglob("*.parquet")}

    # budgeted mixtures: two budget jobs and the statistics, no split again
    demo["experiments"]["few-shot"] = {
        "models": ["tiny"],
        "train": ["en@20+de@10", ["de@10"]],
        "test": ["de"],
    }
    config = write_config(tmp_path / "c.yaml", demo)
    plan = snakemake(tmp_path, "-n", "-p", configfile=config)
    out = plan.stdout + plan.stderr
    assert plan.returncode == 0, out[-3000:]
    jobs = job_counts(out)
    assert (jobs["budget"], jobs["train"], "split" in jobs) == (2, 4, False), jobs
    assert (
        "--train results/splits/en/train@20.parquet results/splits/de/train@10.parquet"
        " --val results/splits/en/val@20.parquet results/splits/de/val@10.parquet"
    ) in out
    assert "--out-dir results/runs/tiny/en@20+de@10/base" in out and "--train-langs de@10 " in out
    second = snakemake(tmp_path, "data", configfile=config)
    assert second.returncode == 0, second.stderr[-3000:]
    assert all(path.stat().st_mtime_ns == mtime for path, mtime in made.items())
    sizes = {
        path.relative_to(splits).as_posix(): read_sentences(path).num_rows for path in splits.rglob("*@*")
    }
    # 1200 train and 300 val sentences per language: val keeps a quarter (10 x 300 / 1200 = 2.5 -> 3)
    assert sizes == {
        "en/train@20.parquet": 20,
        "en/val@20.parquet": 5,
        "de/train@10.parquet": 10,
        "de/val@10.parquet": 3,
    }
    for lang, budget in (("en", 20), ("de", 10)):
        ids = read_sentences(splits / lang / f"train@{budget}.parquet").column("id").to_pylist()
        assert ids == sorted(ids) and set(ids) <= set(
            read_sentences(splits / lang / "train.parquet")["id"].to_pylist()
        )
    stats = read_stats(tmp_path)
    assert (
        stats["en@20+de@10", "train+val"]["sentences"] == 38
        and stats["de@10", "train+val"]["sentences"] == 13
    )

    # a test budget: the split reruns, and each test split holds the first 100 of its order
    demo["split"] = {"test_budget": 100}
    config = write_config(tmp_path / "c.yaml", demo)
    third = snakemake(tmp_path, "data", configfile=config)
    assert third.returncode == 0, third.stderr[-3000:]
    assert {read_sentences(splits / lang / "test.parquet").num_rows for lang in ("en", "de", "sw")} == {100}
    assert (
        "en: test budget 100 of 500 sentences"
        in (tmp_path / "results" / "logs" / "split" / "en.log").read_text()
    )
    assert read_stats(tmp_path)["en@20+de@10", "train+val"]["sentences"] == 38  # the same sentences


def test_hub_models_are_fetched_once_recorded_and_loaded_offline_at_that_commit(tmp_path):
    from hub_cache import COMMIT, fill_hub_cache
    from xner.synthetic.models import TinyModelSettings, build_tiny_model
    from xner.synthetic.panx import generate_sentences

    words = [[t for t, _ in s] for s in generate_sentences("sw", "train", 200, seed=1)]
    build_tiny_model(words, tmp_path / "tiny", TinyModelSettings(seed=0))
    files = {p.name: p.read_bytes() for p in (tmp_path / "tiny").iterdir() if p.is_file()}
    fill_hub_cache(tmp_path / "hf_home", "xner-test/tiny", files)  # snakemake_env's HF_HOME, offline
    demo = yaml.safe_load((ROOT / "demo" / "config.yaml").read_text())
    demo["data"]["languages"] = ["sw"]
    demo["training"].update(epochs=1)
    demo["track_test_langs"] = False
    demo["models"] = {"hubtiny": "xner-test/tiny"}
    demo["speed"].update(lang="sw", sentences=200)
    demo["experiments"] = {"small": {"models": ["hubtiny"], "train": ["sw"], "test": ["sw"], "table": "prf"}}
    result = snakemake(tmp_path, configfile=write_config(tmp_path / "c.yaml", demo))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count("localrule models:") == 1
    manifest = json.loads((tmp_path / "results" / "models" / "hubtiny" / "manifest.json").read_text())
    assert (manifest["kind"], manifest["commit"]) == ("hub", COMMIT)
    summary = json.loads(
        (tmp_path / "results" / "runs" / "hubtiny" / "sw" / "base" / "summary.json").read_text()
    )
    assert (summary["model_path"], summary["model_commit"]) == ("xner-test/tiny", COMMIT)
    speed = json.loads((tmp_path / "results" / "speed" / "hubtiny.json").read_text())
    assert (speed["model_path"], speed["model_commit"]) == ("xner-test/tiny", COMMIT)

    # a model that cannot be fetched stops the workflow at rule models: no training job starts
    demo["models"]["other"] = "xner-test/missing"
    demo["experiments"]["small"]["models"].append("other")
    failed = snakemake(tmp_path, configfile=write_config(tmp_path / "c.yaml", demo))
    assert failed.returncode != 0
    log = (tmp_path / "results" / "logs" / "models.log").read_text()
    assert "model other (xner-test/missing@main): HF_HUB_OFFLINE is set" in log
    assert "rule train:" not in failed.stderr and "rule speed_model:" not in failed.stderr
    assert not (tmp_path / "results" / "runs" / "other").exists()


# The rules that need a GPU and become cluster jobs; every other rule is marked `localrule: True`.
CLUSTER_RULES = {"train", "evaluate", "speed_model", "predict_run"}


def rules_by_marking() -> dict[str, bool]:
    """Every rule of the Snakefile and the rule files, and whether it is marked `localrule: True`."""
    marked = {}
    for path in [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]:
        for name, body in re.findall(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)*)", path.read_text(), re.MULTILINE):
            marked[name] = bool(re.search(r"^    localrule: True$", body, re.MULTILINE))
    return marked


def local_rules() -> set[str]:
    """The rules marked local (run in the Snakemake process, never submitted)."""
    return {name for name, local in rules_by_marking().items() if local}


def test_every_rule_is_marked_local_except_the_gpu_rules():
    marked = rules_by_marking()
    assert len(marked) >= 25
    assert {name for name, local in marked.items() if not local} == CLUSTER_RULES


def test_slurm_profile_plans_one_gpu_job_per_run_and_per_speed_model_only(tmp_path):
    result = snakemake(
        tmp_path, "-n", "--profile", str(ROOT / "profiles" / "slurm"), configfile=ROOT / "config.yaml"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    plan = result.stdout
    # top-level jobs start at column 0, the jobs of a group job are indented under "Group job run"
    groups = re.split(r"^.*Group job run \(jobs in lexicogr\. order\):\n", plan, flags=re.MULTILINE)[1:]
    assert len(groups) == 22
    for group in groups:
        members = re.findall(
            r"^    rule (\w+):", re.split(r"^\[", group, flags=re.MULTILINE)[0], re.MULTILINE
        )
        assert sorted(members) == ["evaluate", "train"], members
    top_level = re.findall(r"^rule (\w+):", plan, re.MULTILINE)
    submitted = [rule for rule in top_level if rule not in local_rules()]
    assert submitted == ["speed_model"] * 7, sorted(set(submitted))
    assert set(top_level) - {"speed_model"} <= local_rules()

    blocks = re.findall(r"^\s*rule (\w+):\n(.*?)(?=^\s*rule |\Z)", plan, re.MULTILINE | re.DOTALL)
    resources = [
        (rule, re.search(r"resources: (.*)", body)[1]) for rule, body in blocks if "resources:" in body
    ]
    gpu_rules = {rule for rule, line in resources if "gpu=1" in line}
    assert gpu_rules == {"train", "evaluate", "speed_model"}
    for rule, line in resources:
        if rule in gpu_rules:
            assert "slurm_partition=accel" in line and "cpus_per_gpu=4" in line
    # the time limit of a training job grows with its training languages, an evaluation's with its test ones
    train_runtimes = {int(re.search(r"runtime=(\d+)", body)[1]) for rule, body in blocks if rule == "train"}
    assert {60, 120, 180, 300} <= train_runtimes
    eval_runtimes = {int(re.search(r"runtime=(\d+)", body)[1]) for rule, body in blocks if rule == "evaluate"}
    assert eval_runtimes == {5, 25}  # evaluate_minutes per test language: 1 or 5 of them
