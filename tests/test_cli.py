"""The xner command line: --help, one-line errors with exit code 1, no partial outputs."""

from __future__ import annotations

import json

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
                seen[flag].add((action.help, action.nargs, action.type, tuple(action.choices or ())))
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
