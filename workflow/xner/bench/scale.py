"""The scale benchmark (`xner bench-scale`, `make bench-scale`): the reporting of a whole study, timed.

For a config (default studies/xtreme40.yaml) it times, on this machine:

1. the dry run in an empty working directory (``snakemake -n``: what users do first);
2. the writing of a synthetic results tree up to the reporting (:mod:`xner.synthetic.results`);
3. the dry run on that tree, and which rules it plans (only reporting rules, or the tree is wrong);
4. ``snakemake tables --cores N`` on the tree: wall time, the peak memory of the Snakemake process
   and its jobs, and each job's seconds and max RSS from its ``benchmark:`` file;
5. ``snakemake --report report.html``: time and size.

and checks the targets (:data:`TARGETS`). Writes ``bench-scale.json`` and ``bench-scale.md``.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from xner.io import markdown_table, write_json, write_text

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[3]
SNAKEFILE = REPO / "Snakefile"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"

# The rules that run after the GPU jobs (train, evaluate), from evaluations, summaries and histories,
# and the targets that only gather others. data_stats reads the splits: it is part of `tables`.
REPORTING_RULES = (
    "data_stats",
    "scores",
    "significance",
    "experiment_table",
    "experiment_figures",
    "experiment_errors",
    "training_curves",
    "results_page",
)
GATHERING_RULES = ("all", "tables", "data", "evaluations", "speed", "predict")

# On this machine's cores: what the reporting of a study of 40 languages must stay under.
TARGETS = {
    "dry_run_seconds": 15.0,  # each dry run, empty directory and generated tree
    "after_gpu_seconds": 600.0,  # snakemake tables + snakemake --report
    "peak_memory_mb": 4000.0,  # 4 GB: any job, and the Snakemake process
}


@dataclass(frozen=True)
class ScaleSettings:
    """The benchmark's options (`xner bench-scale --help`)."""

    config: Path = Path("studies/xtreme40.yaml")
    out: Path = Path("results/bench-scale")
    work: Path | None = None  # default: OUT/tree
    sentences: int = 10_000
    pool: int = 10
    cores: int = 2
    keep: bool = False

    def __post_init__(self) -> None:
        if self.cores < 1:
            raise ValueError(f"at least one core, not {self.cores}")

    @property
    def tree(self) -> Path:
        return self.work if self.work is not None else self.out / "tree"


@dataclass(frozen=True)
class Measured:
    """A command's wall time, its process tree's peak memory (MB, the largest process), exit status, and the
    machine's 1-minute load average before and after it (others' processes slow a shared machine)."""

    seconds: float
    max_rss_mb: float
    returncode: int
    load_before: float | None = None
    load_after: float | None = None


def load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


# Runs a command as a child and prints its wall seconds and the peak RSS of its process tree (KiB):
# RUSAGE_CHILDREN's ru_maxrss is the largest of all waited-for descendants on Linux.
_MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "code = subprocess.call(sys.argv[2:], stdout=open(sys.argv[1], 'w'), stderr=subprocess.STDOUT)\n"
    "print(json.dumps([time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
    " code]))\n"
)


def measure(command: Sequence[str], log: Path, env: Mapping[str, str] | None = None) -> Measured:
    """Run ``command`` (its output to ``log``) and measure it from a separate process."""
    log.parent.mkdir(parents=True, exist_ok=True)
    load_before = load_average()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(log), *command],
        check=True,
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else None,
    )
    seconds, max_rss_kib, code = json.loads(done.stdout.strip().splitlines()[-1])
    return Measured(seconds, max_rss_kib / 1024, code, load_before, load_average())


def snakemake_command(config: Path, workdir: Path, *args: str) -> list[str]:
    snakemake = shutil.which("snakemake") or str(Path(sys.executable).with_name("snakemake"))
    return [
        snakemake,
        "-s",
        str(SNAKEFILE),
        "-d",
        str(workdir),
        "--configfile",
        str(config.resolve()),
        "--replace-workflow-config",
        *args,
    ]


def planned_jobs(log_text: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run's output: rule -> jobs (without the total)."""
    jobs: dict[str, int] = {}
    lines = log_text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Job stats:"):
            for row in lines[i + 3 :]:
                match = re.fullmatch(r"(\S+)\s+(\d+)", row.strip())
                if not match:
                    break
                if match.group(1) != "total":
                    jobs[match.group(1)] = int(match.group(2))
            break
    return jobs


def read_benchmarks(directory: Path) -> pd.DataFrame:
    """Every job's ``benchmark:`` file under ``directory``: rule, job, seconds, max RSS (MB), CPU seconds."""
    rows = []
    for path in sorted(directory.rglob("*.tsv")):
        relative = path.relative_to(directory).with_suffix("")
        table = pd.read_csv(path, sep="\t")
        for _, row in table.iterrows():
            rows.append(
                {
                    "rule": relative.parts[0],
                    "job": "/".join(relative.parts[1:]) or relative.parts[0],
                    "seconds": float(row["s"]),
                    "max_rss_mb": _number(row["max_rss"]),
                    "cpu_seconds": _number(row.get("cpu_time", "-")),
                }
            )
    return pd.DataFrame(rows, columns=["rule", "job", "seconds", "max_rss_mb", "cpu_seconds"])


def _number(value) -> float:
    """A benchmark file's number; ``-`` (not measured) as NaN."""
    return float("nan") if value == "-" else float(value)


def rule_summary(jobs: pd.DataFrame) -> list[dict]:
    """Per rule: jobs, total and slowest seconds, largest max RSS, total CPU seconds; in the reporting's order."""
    order = {rule: k for k, rule in enumerate(REPORTING_RULES)}
    rows = []
    for rule, group in jobs.groupby("rule", sort=False):
        slowest = group.loc[group["seconds"].idxmax()]
        rows.append(
            {
                "rule": rule,
                "jobs": len(group),
                "seconds": float(group["seconds"].sum()),
                "slowest_job": str(slowest["job"]),
                "slowest_seconds": float(slowest["seconds"]),
                "max_rss_mb": float(group["max_rss_mb"].max()),
                "cpu_seconds": float(group["cpu_seconds"].sum()),
            }
        )
    return sorted(rows, key=lambda row: (order.get(row["rule"], len(order)), row["rule"]))


def significance_comparisons(tree: Path) -> dict[str, int]:
    """Rows (comparisons) of each experiment's significance table."""
    return {
        path.stem: len(pd.read_csv(path))
        for path in sorted((tree / "results" / "tables" / "significance").glob("*.csv"))
    }


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError):
        pass
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
    }


def check_targets(result: Mapping) -> list[dict]:
    """Each target: name, value, bound, whether it holds."""
    steps = result["steps"]
    after_gpu = steps["tables"]["seconds"] + steps["report"]["seconds"]
    jobs_peak = max((row["max_rss_mb"] for row in result["rules"]), default=0.0)
    peak = max(jobs_peak, steps["tables"]["max_rss_mb"], steps["report"]["max_rss_mb"])
    checks = [
        ("dry run, empty directory (s)", steps["dry_run_empty"]["seconds"], TARGETS["dry_run_seconds"]),
        ("dry run, generated tree (s)", steps["dry_run_tree"]["seconds"], TARGETS["dry_run_seconds"]),
        ("after the GPU jobs: tables + report (s)", after_gpu, TARGETS["after_gpu_seconds"]),
        ("peak memory: any job or Snakemake (MB)", peak, TARGETS["peak_memory_mb"]),
    ]
    return [
        {"target": name, "value": value, "bound": bound, "holds": value < bound}
        for name, value, bound in checks
    ]


def _format_seconds(seconds: float) -> str:
    return f"{seconds:.1f}" if seconds < 600 else f"{seconds:.0f} ({seconds / 60:.1f} min)"


def _format_load(step: Mapping) -> str:
    before, after = step.get("load_before"), step.get("load_after")
    return "" if before is None or after is None else f"{before:.1f} → {after:.1f}"


def scale_markdown(result: Mapping) -> str:
    """bench-scale.md: the machine, the command, the counts, the steps, each reporting rule, the targets."""
    m, counts, steps = result["machine"], result["counts"], result["steps"]
    lines = [
        "# Scale benchmark: the reporting of a whole study",
        "",
        f"Config `{result['config']}`; command `{result['command']}`; {result['date']}.",
        "",
        f"Machine: {m['cores']} cores ({m['usable_cores']} usable), {m['cpu']}, "
        + (f"{m['memory_gb']:.0f} GB memory, " if m.get("memory_gb") else "")
        + f"Python {m['python']}; Snakemake jobs on {result['settings']['cores']} cores.",
        "",
        f"The tree: {counts['languages']} languages, {counts['runs']} runs, {counts['evaluations']:,} evaluations of "
        f"{counts['sentences']:,} test sentences each (synthetic, `xner.synthetic.results`; "
        f"{counts['pool']} scored prediction sets per language), {counts['tree_gb']:.2f} GB; written in "
        f"{_format_seconds(steps['generate']['seconds'])} s.",
        "",
        "Seconds are wall time on this machine as it was: where other processes share it, the load "
        "average (1 minute, before → after each step) is above its cores, and the jobs' CPU seconds "
        "(from their benchmark files) say how much of that time they computed.",
        "",
        "## Steps",
        "",
    ]
    rows = [
        (
            "dry run, empty directory (`snakemake -n`)",
            steps["dry_run_empty"],
            steps["dry_run_empty"].get("jobs"),
        ),
        (
            "dry run, generated tree (`snakemake -n`)",
            steps["dry_run_tree"],
            steps["dry_run_tree"].get("jobs"),
        ),
        ("`snakemake tables --cores N`", steps["tables"], steps["tables"].get("jobs")),
        ("`snakemake --report report.html`", steps["report"], None),
    ]
    table = pd.DataFrame(
        [
            {
                "step": name,
                "seconds": _format_seconds(step["seconds"]),
                "peak RSS (MB)": f"{step['max_rss_mb']:.0f}",
                "jobs": "" if jobs is None else str(sum(jobs.values())),
                "load average": _format_load(step),
            }
            for name, step, jobs in rows
        ]
    )
    lines += [markdown_table(table), ""]
    planned = steps["dry_run_tree"].get("jobs", {})
    others = sorted(set(planned) - set(REPORTING_RULES) - set(GATHERING_RULES))
    lines += [
        "On the generated tree the dry run plans "
        + ", ".join(f"{rule} {n}" for rule, n in planned.items())
        + (": reporting rules only." if not others else f"; NOT reporting rules: {', '.join(others)}."),
        "",
        f"report.html: {result['report_mb']:.1f} MB.",
        "",
        "## Reporting jobs (their `benchmark:` files)",
        "",
    ]
    rules = pd.DataFrame(
        [
            {
                "rule": row["rule"],
                "jobs": row["jobs"],
                "seconds (sum)": f"{row['seconds']:.1f}",
                "slowest job": f"{row['slowest_job']} ({row['slowest_seconds']:.1f} s)",
                "max RSS (MB)": f"{row['max_rss_mb']:.0f}",
                "CPU seconds (sum)": f"{row.get('cpu_seconds', float('nan')):.1f}",
            }
            for row in result["rules"]
        ]
    )
    lines += [markdown_table(rules), ""]
    if result["rules"]:
        total = sum(row["seconds"] for row in result["rules"])
        cpu = sum(row.get("cpu_seconds", float("nan")) for row in result["rules"])
        lines += [f"All jobs: {total:.1f} s of wall time, {cpu:.1f} CPU seconds.", ""]
    if result["comparisons"]:
        lines += [
            "Comparisons in each significance table: "
            + ", ".join(f"{name} {n:,}" for name, n in result["comparisons"].items())
            + ".",
            "",
        ]
    lines += ["## Targets", ""]
    targets = pd.DataFrame(
        [
            {
                "target": t["target"],
                "measured": f"{t['value']:.1f}",
                "bound": f"< {t['bound']:.0f}",
                "holds": "yes" if t["holds"] else "**NO**",
            }
            for t in result["targets"]
        ]
    )
    lines += [markdown_table(targets), ""]
    if result.get("failed_steps"):
        lines += [
            f"**Failed steps** (see the logs in the output folder): {', '.join(result['failed_steps'])}.",
            "",
        ]
    return "\n".join(lines)


def load_config(path: Path) -> dict:
    """The config file validated and completed as the Snakefile does (it replaces config.yaml)."""
    from xner.config import load_schema, read_configs, validate_config

    return validate_config(read_configs([path]), load_schema(SCHEMA))


def _tree_gb(tree: Path) -> float:
    return sum(p.stat().st_size for p in tree.rglob("*") if p.is_file()) / 1e9


def run_scale_bench(settings: ScaleSettings, command: str = "xner bench-scale") -> dict:
    """Run the benchmark; write OUT/bench-scale.json and OUT/bench-scale.md; return the result."""
    from xner.synthetic.results import TreeSettings, write_results_tree

    config = load_config(settings.config)
    out, tree = settings.out, settings.tree
    logs = out / "logs"
    if tree.exists():
        raise ValueError(f"{tree} exists: the benchmark writes a fresh tree (remove it, or choose --work)")
    out.mkdir(parents=True, exist_ok=True)
    # the jobs' `python -m xner` must find this Python's packages
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    steps: dict[str, dict] = {}

    empty = out / "empty"
    shutil.rmtree(empty, ignore_errors=True)
    empty.mkdir(parents=True)
    logger.info("dry run in an empty directory")
    log = logs / "dry_run_empty.log"
    measured = measure(snakemake_command(settings.config, empty, "-n"), log, env)
    steps["dry_run_empty"] = {**asdict(measured), "jobs": planned_jobs(log.read_text())}
    shutil.rmtree(empty)

    logger.info("writing the synthetic results tree in %s", tree)
    start = time.perf_counter()
    made = write_results_tree(tree, config, TreeSettings(settings.sentences, settings.pool, settings.cores))
    steps["generate"] = {"seconds": time.perf_counter() - start, "phases": made["seconds"]}

    logger.info("dry run on the tree")
    log = logs / "dry_run_tree.log"
    measured = measure(snakemake_command(settings.config, tree, "-n"), log, env)
    steps["dry_run_tree"] = {**asdict(measured), "jobs": planned_jobs(log.read_text())}

    logger.info("snakemake tables --cores %d", settings.cores)
    log = logs / "tables.log"
    measured = measure(
        snakemake_command(settings.config, tree, "tables", "--cores", str(settings.cores)), log, env
    )
    steps["tables"] = {**asdict(measured), "jobs": planned_jobs(log.read_text())}
    if measured.returncode != 0:
        logger.error("snakemake tables failed (exit %d): see %s", measured.returncode, log)

    logger.info("snakemake --report report.html")
    report = tree / "report.html"
    measured = measure(
        snakemake_command(settings.config, tree, "--report", str(report.resolve())), logs / "report.log", env
    )
    steps["report"] = asdict(measured)

    jobs = read_benchmarks(tree / "results" / "benchmarks")
    result = {
        "config": str(settings.config),
        "command": command,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "settings": {**{k: str(v) for k, v in asdict(settings).items()}, "cores": settings.cores},
        "machine": machine(),
        "counts": {**{k: v for k, v in made.items() if k != "seconds"}, "tree_gb": _tree_gb(tree)},
        "steps": steps,
        "rules": rule_summary(jobs),
        "jobs": jobs.to_dict(orient="records"),
        "comparisons": significance_comparisons(tree),
        "report_mb": report.stat().st_size / 1e6 if report.exists() else 0.0,
    }
    result["targets"] = check_targets(result)
    failed = [name for name in ("tables", "report") if steps[name]["returncode"] != 0]
    result["failed_steps"] = failed
    if not settings.keep:
        shutil.rmtree(tree)
    write_json(out / "bench-scale.json", result)
    write_text(out / "bench-scale.md", scale_markdown(result))
    return result
