"""The xner command line: --help, one-line errors with exit code 1, no partial outputs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import run_xner


def _subparsers() -> dict:
    """Every subcommand the parser knows, with its parser."""
    import argparse

    from xner.cli.main import build_parser

    (action,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


SUBPARSERS = _subparsers()
SUBCOMMANDS = list(SUBPARSERS)


def _options(name: str) -> dict:
    """A subcommand's options: option string -> its argparse action."""
    return {flag: a for a in SUBPARSERS[name]._actions for flag in a.option_strings}


def test_top_level_help_lists_every_subcommand():
    assert {"download", "parse", "train", "evaluate", "bench"} <= set(SUBCOMMANDS)
    result = run_xner("--help")
    assert result.returncode == 0
    for name in SUBCOMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help(name):
    result = run_xner(name, "--help")
    assert result.returncode == 0
    assert f"usage: xner {name}" in result.stdout
    assert len(result.stdout.splitlines()) > 5


# Options of several subcommands, defined once in xner.cli: the same help, type and choices everywhere.
SHARED_OPTIONS = (
    "--device",
    "--threads",
    "--precision",
    "--model-name",
    "--train-langs",
    "--variant",
    "--csv",
    "--md",
    "--runs",
    "--max-length",
    "--batch-size",
    "--eval-batch-size",
)


def test_shared_options_mean_the_same_in_every_subcommand():
    seen: dict[str, set] = {flag: set() for flag in SHARED_OPTIONS}
    users: dict[str, list[str]] = {flag: [] for flag in SHARED_OPTIONS}
    for name in SUBCOMMANDS:
        for flag, action in _options(name).items():
            if flag in seen:
                # the help without its default, which says whose it is (training.batch_size, speed.batch_size)
                text = re.sub(r"\s*\((config key [^;]+; )?default: .*\)$", "", action.help)
                seen[flag].add((text, action.nargs, action.type, tuple(action.choices or ())))
                users[flag].append(name)
    assert all(len(users[flag]) >= 2 for flag in SHARED_OPTIONS), users
    assert {flag: len(kinds) for flag, kinds in seen.items()} == dict.fromkeys(SHARED_OPTIONS, 1)


def test_tables_read_and_written_have_one_name_each():
    assert {"--train-out", "--dev-out", "--test-out"} <= set(_options("parse"))
    assert {"--train", "--test", "--train-out", "--val-out", "--test-out"} <= set(_options("split"))
    assert {"--scores-out", "--runs-out", "--transfer-out"} <= set(_options("scores"))
    written = set(_options("parse")) | set(_options("scores"))
    assert not {"--train", "--dev", "--test", "--runs", "--scores"} & written
    # --train, --val, --dev, --test are always tables read: sentence counts are --{split}-sentences
    for name in SUBCOMMANDS:
        for flag, action in _options(name).items():
            assert not flag.endswith("-in"), (name, flag)
            if flag in ("--train", "--val", "--dev", "--test"):
                assert action.type is not int, (name, flag)


def test_precision_choices_are_the_devices():
    from xner.cli.options import PRECISIONS
    from xner.device import PRECISIONS as DEVICE_PRECISIONS

    assert PRECISIONS == DEVICE_PRECISIONS
    assert tuple(_options("evaluate")["--precision"].choices) == DEVICE_PRECISIONS


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "error" in line.lower()]


def test_parse_error_is_one_line_naming_file_and_line_and_leaves_nothing(tmp_path):
    data = tmp_path / "panx"
    data.mkdir()
    (data / "train-en.tsv").write_text("a\tO\n\nb\tB-PER\nc\tI-PERSON\n")
    (data / "dev-en.tsv").write_text("a\tO\n")
    (data / "test-en.tsv").write_text("a\tO\n")
    raw = tmp_path / "raw" / "en"
    assert (
        run_xner(
            "download", "--source", "local", "--path", str(data), "--lang", "en", "--out", str(raw)
        ).returncode
        == 0
    )
    out = tmp_path / "data"
    result = run_xner(
        "parse",
        "--raw",
        str(raw),
        *[x for s in ("train", "dev", "test") for x in (f"--{s}-out", str(out / f"{s}.parquet"))],
    )
    assert result.returncode == 1
    errors = _error_lines(result.stderr)
    assert len(errors) == 1
    assert "train-en.tsv" in errors[0] and "line 4" in errors[0] and "'I-PERSON'" in errors[0]
    assert "Traceback" not in result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_download_of_a_missing_file_names_it(tmp_path):
    (tmp_path / "train-en.tsv").write_text("a\tO\n")
    (tmp_path / "dev-en.tsv").write_text("a\tO\n")
    out = tmp_path / "raw" / "en"
    result = run_xner(
        "download", "--source", "local", "--path", str(tmp_path), "--lang", "en", "--out", str(out)
    )
    assert result.returncode == 1
    errors = _error_lines(result.stderr)
    assert len(errors) == 1 and str(tmp_path / "test-en.tsv") in errors[0]
    assert not out.exists()


def test_check_config_prints_defaults_and_names_bad_keys(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("data:\n  languages: [en, de]\n")
    result = run_xner("check-config", str(good))
    assert result.returncode == 0
    config = json.loads(result.stdout)
    assert config["data"]["languages"] == ["en", "de"] and config["split"]["val_fraction"] == 0.2
    bad = tmp_path / "bad.yaml"
    bad.write_text("split:\n  val_fraction: 1.5\n")
    result = run_xner("check-config", str(good), str(bad))
    assert result.returncode == 1
    assert "split.val_fraction" in result.stderr and result.stdout == ""


def test_split_rejects_bad_settings_in_one_line(tmp_path):
    result = run_xner(
        "split",
        "--train",
        "x",
        "--test",
        "y",
        "--train-out",
        "a",
        "--val-out",
        "b",
        "--test-out",
        "c",
        "--val-fraction",
        "1",
    )
    assert result.returncode == 1
    assert "val_fraction must be in (0, 1)" in result.stderr


def test_split_and_budget_defaults_are_the_schemas():
    from xner.config import validate_config

    defaults = validate_config({})["split"]
    for name in ("split", "budget"):
        options = _options(name)
        for key, value in defaults.items():
            flag = "--" + key.replace("_", "-")
            if flag in options:
                assert options[flag].default == value, (name, flag)
    assert {"--seed", "--length-bins"} <= set(_options("budget"))
    assert {"--val-fraction", "--seed", "--length-bins", "--test-budget"} <= set(_options("split"))


def test_a_budget_larger_than_train_is_one_line_and_writes_nothing(tmp_path):
    from xner.io import sentences_table, write_parquet

    tables = {tmp_path / "de" / f"{split}.parquet": n for split, n in (("train", 8), ("val", 2))}
    write_parquet(
        {p: sentences_table(list(range(n)), "de", [["a"]] * n, [["O"]] * n) for p, n in tables.items()}
    )
    train, val = tables
    out = [tmp_path / "de" / f"{split}@9.parquet" for split in ("train", "val")]
    args = [
        "budget",
        "--train",
        str(train),
        "--val",
        str(val),
        "--train-out",
        str(out[0]),
        "--val-out",
        str(out[1]),
    ]
    result = run_xner(*args, "--budget", "9")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"xner budget: error: de@9: the budget is larger than de's train split (8 sentences, {train})"
    ]
    assert not any(path.exists() for path in out)
    assert run_xner(*args, "--budget", "4").returncode == 0
    assert all(path.exists() for path in out)


@pytest.mark.parametrize(
    ("train_langs", "budgets"),
    [("", {}), ("en+de", {"en": None, "de": None}), ("en@20+de", {"en": 20, "de": None})],
)
def test_train_records_the_budgets_of_its_train_langs(train_langs, budgets):
    from xner.cli.training import _train_budgets

    assert _train_budgets(train_langs) == budgets


def test_train_refuses_malformed_train_langs_in_one_line(tmp_path):
    result = run_xner(
        "train", "--model-path", "x", "--train", "t", "--val", "v", "--out-dir", str(tmp_path / "run"),
        "--train-langs", "en@x",
    )  # fmt: skip
    assert result.returncode == 1
    assert "--train-langs: 'en@x': the budget 'x' is not a positive whole number" in result.stderr
    assert not (tmp_path / "run").exists()


# --- one home for every default: the config schema ---------------------------------------------------

# Options named like a config setting whose default is deliberately their tool's own, not the study's.
OWN_DEFAULTS = {
    # the benchmark's settings (xner.bench.settings.BenchSettings): its own sizes and device defaults
    ("bench", "batch_size"),
    ("bench", "eval_batch_size"),
    ("bench", "lr"),
    ("bench", "precision"),
    # the scale benchmark's test sentences per language (ScaleSettings), not the speed table's sentences
    ("bench-scale", "sentences"),
    # the synthetic demo archive and tiny models (xner.synthetic): not the study's languages or seeds
    ("demo-data", "languages"),
    ("demo-data", "seed"),
    ("tiny-model", "seed"),
}


def schema_leaves() -> dict[str, object]:
    from xner.config import load_schema, schema_defaults

    return schema_defaults(load_schema())


def subcommand_options():
    """(subcommand, action) for every option of every subcommand."""
    import argparse

    from xner.cli.main import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, subparser in sub.choices.items():
        for action in subparser._actions:
            if action.option_strings and action.dest != "help":
                yield name, action


def test_every_option_of_a_config_setting_takes_the_schemas_default():
    leaves = schema_leaves()
    by_name: dict[str, list[str]] = {}
    for key in leaves:
        by_name.setdefault(key.rsplit(".", 1)[-1], []).append(key)
    checked, problems = 0, []
    for command, action in subcommand_options():
        key = getattr(action, "config_key", None)
        if key is not None:
            checked += 1
            if key not in leaves:
                problems.append(f"xner {command} {action.option_strings[0]}: no config key {key}")
            elif action.default != leaves[key]:
                problems.append(
                    f"xner {command} {action.option_strings[0]}: default {action.default!r}, schema {leaves[key]!r}"
                )
        elif (
            action.dest in by_name
            and action.default not in (None, False, [], "")
            and (command, action.dest) not in OWN_DEFAULTS
        ):
            problems.append(
                f"xner {command} {action.option_strings[0]}: default {action.default!r} written by hand;"
                f" declare its config key (one of {by_name[action.dest]}) with add_config_option"
            )
    assert not problems, "\n".join(problems)
    assert checked >= 40  # every hyperparameter of train and speed, the resampling, split and data options


def test_the_defaults_test_catches_an_option_with_its_own_default(monkeypatch):
    """An option named like a setting, with a default of its own, is what the test above reports."""
    import argparse

    from xner.cli import options

    parser = argparse.ArgumentParser()
    options.add_bootstrap_options(parser)
    parser.add_argument("--retries", type=int, default=7)
    leaves = schema_leaves()
    declared = {a.dest: getattr(a, "config_key", None) for a in parser._actions}
    assert declared["bootstrap_resamples"] == "evaluation.bootstrap_resamples"
    assert declared["retries"] is None and "data.retries" in leaves


def test_settings_dataclasses_hold_the_schemas_defaults():
    from dataclasses import asdict

    from xner.data.splits import DEFAULT_LENGTH_BINS
    from xner.evaluation.bootstrap import BootstrapSettings

    leaves = schema_leaves()
    assert list(DEFAULT_LENGTH_BINS) == leaves["split.length_bins"]
    assert asdict(BootstrapSettings()) == {
        "resamples": leaves["evaluation.bootstrap_resamples"],
        "seed": leaves["evaluation.seed"],
        "confidence": leaves["evaluation.confidence"],
    }


def test_the_panx_directory_has_one_home(monkeypatch, tmp_path):
    from xner.cli.main import build_parser
    from xner.data.sources import DEFAULT_PANX_DIR, panx_dir

    monkeypatch.delenv("XNER_PANX_DIR", raising=False)
    assert panx_dir() == Path(DEFAULT_PANX_DIR)
    monkeypatch.setenv("XNER_PANX_DIR", str(tmp_path))
    assert panx_dir() == tmp_path
    assert build_parser().parse_args(["bench"]).panx_dir == tmp_path
