# xner: cross-lingual named-entity recognition on PAN-X.
#
#   snakemake -n                         # the plan for config.yaml
#   snakemake --profile profiles/local   # run it on this machine
#   make demo                            # the offline demo (demo/config.yaml)
#
# Outputs go to results/ (layout in docs/outputs.md).
import shlex
import sys
from pathlib import Path

# One way for the workflow to find the package: this checkout's workflow/xner, first on the path of
# the Snakefile's own parse and on PYTHONPATH of every job (`python -m xner ...`), so that the code
# that runs is always the code beside this Snakefile, in conda environments (which do not install
# xner) and on machines where another xner is installed. The `xner` command is for users.
XNER_SRC = str(Path(workflow.basedir) / "workflow")
sys.path.insert(0, XNER_SRC)
shell.prefix(
    f"set -euo pipefail; export PYTHONPATH={shlex.quote(XNER_SRC)}${{{{PYTHONPATH:+:$PYTHONPATH}}}}; "
)

from snakemake.exceptions import WorkflowError

from xner.cluster import use_sacct_state_filter
from xner.config import load_schema, validate_config
from xner.errors import ConfigError

# On a SLURM cluster: sacct with the state of a cancelled job as the SLURM executor plugin can read it
# (profiles/slurm/bin/sacct; without it, Snakemake waits for a job cancelled with scancel for ever).
use_sacct_state_filter(Path(workflow.basedir) / "profiles" / "slurm" / "bin")


configfile: "config.yaml"


# First of all: validate the configuration and fill in its defaults, so that a
# typo fails here, naming its key, before any job starts.
try:
    config.update(
        validate_config(config, load_schema(f"{XNER_SRC}/schemas/config.schema.yaml"))
    )
except ConfigError as error:
    raise WorkflowError(f"xner: invalid configuration: {error}") from None


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/splits.smk"
include: "workflow/rules/stats.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/speed.smk"
include: "workflow/rules/predict.smk"


report: "workflow/report/workflow.rst"


# Jobs of seconds run in the Snakemake process itself, on a cluster too (the login node): each such
# rule says `localrule: True`. Only training with its evaluations (rules train and evaluate, one job
# per run), the speed table's timings (speed_model) and the tagging of texts (predict_run) need a GPU
# and become cluster jobs.


# Partial targets: `snakemake data`, `snakemake evaluations`, `snakemake tables` (tables and figures,
# from evaluation JSON and histories only: no retraining, checkpoints not needed).
rule data:
    input:
        rules.data_stats.output,
    localrule: True


rule evaluations:
    input:
        RUN_EVALUATIONS,
    localrule: True


rule tables:
    input:
        rules.data_stats.output,
        # without experiments there is nothing to score
        rules.scores.output if RUNS else [],
        SIGNIFICANCE_TABLES,
        EXPERIMENT_TABLES,
        EXPERIMENT_FIGURES,
        RESULTS_PAGE if RUNS else [],
        CURVES,
    localrule: True


# Texts tagged by trained runs (config section predict; `snakemake predict`).
rule predict:
    input:
        PREDICTIONS,
    localrule: True


# The study's speed table: one timing job per model (`snakemake speed`).
rule speed:
    input:
        rules.speed_table.output if SPEED_MODELS else [],
    localrule: True


rule all:
    default_target: True
    input:
        rules.models.output,
        rules.data.input,
        rules.evaluations.input,
        rules.tables.input,
        rules.speed.input,
        rules.predict.input,
    localrule: True
