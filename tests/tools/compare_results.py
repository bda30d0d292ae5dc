"""Compare two ``results/`` trees of the same study: the same files with the same content, apart from
what is allowed to differ between two runs (times, speeds, peak memory, where a job ran).

    python tests/tools/compare_results.py RUN_A RUN_B     # two working directories (or results/ trees)

Compared: every JSON without its timing fields, every CSV without its timing columns, Parquet tables by
their content (schema and rows), the results page without its section "Times", and model cards without their minutes, and every other file
(TSV predictions, Markdown tables without times, raw archives, tiny models' weights, PNG figures) byte
for byte. Logs, Snakemake's benchmarks and markers, TensorBoard's event files and the Markdown tables of
times (runs, cost, speed) are left out. Prints one line per difference and exits 1 on any; used to show that a change of
code changes no result, and by the SLURM check against a local run.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

# Where a job ran (device_name, device_type; a manifest's location) and how long it took may differ;
# the results may not.
TIMING = {
    "location",
    "seconds",
    "sentences_per_second",
    "tokens_per_second",
    "device_name",
    "device_type",
    "wall_seconds",
}
SKIPPED_DIRS = ("logs", "benchmarks")
TIMED_MARKDOWN = ("runs.md", "speed.md", "cost.md")


def is_timing(key: str) -> bool:
    """Times and peak memory differ from run to run (the study's quoted times do not)."""
    return key in TIMING or (key.endswith(("_seconds", "_minutes", "_mib")) and not key.startswith("study_"))


def strip_timing(value):
    if isinstance(value, dict):
        return {k: strip_timing(v) for k, v in value.items() if not is_timing(k)}
    if isinstance(value, list):
        return [strip_timing(v) for v in value]
    return value


def without_times(page: Path) -> str:
    """A results page without its section "Times" (every run's minutes), the last of the page."""
    return page.read_text(encoding="utf-8").split("\n## Times\n")[0]


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return [{k: v for k, v in row.items() if not is_timing(k)} for row in csv.DictReader(f)]


def same_parquet(a: Path, b: Path) -> bool:
    import pyarrow.parquet as pq

    return pq.read_table(a).equals(pq.read_table(b))


def compared_files(results: Path) -> list[Path]:
    """The files of a results tree that hold results, relative to the tree."""
    files = []
    for path in sorted(results.rglob("*")):
        rel = path.relative_to(results)
        if not path.is_file() or rel.parts[0] in SKIPPED_DIRS:
            continue
        if path.suffix == ".log" or path.name.endswith("snakemake_timestamp") or path.name in TIMED_MARKDOWN:
            continue
        if path.name.startswith("events.out.tfevents."):  # TensorBoard's: wall times in every record
            continue
        files.append(rel)
    return files


def without_minutes(text: str) -> str:
    """A model card without its training minutes (``..., precision fp32, 0.7 minutes``)."""
    return re.sub(r"[0-9.]+ minutes", "N minutes", text)


def same_file(a: Path, b: Path, rel: Path) -> bool:
    if a.suffix == ".json":
        return strip_timing(json.loads(a.read_text())) == strip_timing(json.loads(b.read_text()))
    if a.suffix == ".csv":
        return read_csv(a) == read_csv(b)
    if a.suffix == ".parquet":
        return same_parquet(a, b)
    if rel.parts[0] == "report" and a.suffix == ".md":  # the results page: its runs' minutes differ
        return without_times(a) == without_times(b)
    if a.name == "README.md" and "model" in rel.parts:  # a trained model's card: its minutes differ
        return without_minutes(a.read_text(encoding="utf-8")) == without_minutes(
            b.read_text(encoding="utf-8")
        )
    return a.read_bytes() == b.read_bytes()


def compare(a: Path, b: Path, leave_out=lambda rel: False) -> tuple[int, list[str]]:
    """The number of files compared, and every difference between results trees ``a`` and ``b``
    (``leave_out(rel)``: files not to compare)."""
    files_a = [rel for rel in compared_files(a) if not leave_out(rel)]
    files_b = [rel for rel in compared_files(b) if not leave_out(rel)]
    problems = [f"only in {a}: {rel}" for rel in sorted(set(files_a) - set(files_b))]
    problems += [f"only in {b}: {rel}" for rel in sorted(set(files_b) - set(files_a))]
    common = sorted(set(files_a) & set(files_b))
    problems += [f"differs: {rel}" for rel in common if not same_file(a / rel, b / rel, rel)]
    return len(common), problems


def results_tree(path: Path) -> Path:
    return path / "results" if (path / "results").is_dir() else path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=Path, help="a working directory or its results/ tree")
    parser.add_argument("b", type=Path, help="the other one")
    args = parser.parse_args(argv)
    a, b = results_tree(args.a), results_tree(args.b)
    n, problems = compare(a, b)
    for problem in problems:
        print("FAIL:", problem)
    print(f"{n} result files compared: " + ("equal" if not problems else f"{len(problems)} differences"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
