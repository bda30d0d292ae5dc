# Helpers shared by the rules: settings derived from the validated config.
import os
import shlex

from snakemake.exceptions import WorkflowError

from xner.config import (
    BUDGET_MARK,
    BUDGET_PATTERN,
    budgeted_name,
    mixture_name,
    training_mixtures,
)
from xner.data.sources import locate
from xner.errors import ConfigError
from xner.labels import PANX_SPLITS, STUDY_SPLITS, TRAINING_SPLITS
from xner.runs import (
    cli_options,
    expand_runs,
    model_revision,
    model_settings,
    predictions,
    speed_hparams,
    speed_models,
    train_minutes,
)

LANGUAGES = config["data"]["languages"]
MIXTURES = [mixture_name(mixture) for mixture in training_mixtures(config)]
LANG_PATTERN = r"[a-z]+(?:-[a-z]+)*"


def split_table(lang, split, budget=None):
    """A study split table: results/splits/{lang}/{split}.parquet, or with a budget {split}@{budget}.parquet."""
    return f"results/splits/{lang}/{budgeted_name(split, budget)}.parquet"


# The split's option ` --test-budget N` (config key split.test_budget), or nothing; without a
# budget the split's command line stays as it always was, so that no split reruns.
TEST_BUDGET = config["split"]["test_budget"]
TEST_BUDGET_OPTION = "" if TEST_BUDGET is None else f" --test-budget {TEST_BUDGET}"


# The budgeted train and val tables of the training mixtures (rule budget), for the statistics.
BUDGETED_TABLES = list(
    dict.fromkeys(
        split_table(lang, split, budget)
        for mixture in training_mixtures(config)
        for lang, budget in mixture
        if budget is not None
        for split in TRAINING_SPLITS
    )
)


wildcard_constraints:
    lang=LANG_PATTERN,
    split="|".join(dict.fromkeys(PANX_SPLITS + STUDY_SPLITS)),
    budget=BUDGET_PATTERN,


# Made by rule fetch_panx_archive from a data.path URL of panx_dataset.tar, once for all languages.
PANX_ARCHIVE = "results/raw/panx_dataset.tar"


def data_location(wildcards):
    """data.path resolved for the language, as `xner download` resolves it."""
    data = config["data"]
    return locate(
        data["source"], data["path"], wildcards.lang, archive_copy=PANX_ARCHIVE
    )


def download_input(wildcards):
    """The local files a language's download reads, so that Snakemake tracks them."""
    return list(data_location(wildcards).reads)


def download_path_option(wildcards):
    """`--path ...` for `xner download`: data.path, or the fetched archive for its URL (none for the hub)."""
    path = data_location(wildcards).download_path
    return f"--path {shlex.quote(path)}" if path else ""


# --- runs: one training job per (model, training languages, variant) -----------------------------

RUNS = {run.key: run for run in expand_runs(config)}
RUN_DIR = "results/runs/{model}/{langs}/{variant}"


# a training mixture: languages joined by +, each with an optional budget (en@2000+de)
MEMBER_PATTERN = f"{LANG_PATTERN}(?:{BUDGET_MARK}{BUDGET_PATTERN})?"


wildcard_constraints:
    model=r"[^/]+",
    langs=rf"{MEMBER_PATTERN}(?:\+{MEMBER_PATTERN})*",
    variant=r"[^/]+",


def evaluations_dir(run):
    """A run's evaluations directory, made by its evaluate job: {lang}.json, .tsv, .counts.parquet."""
    return f"results/runs/{run}/evaluations"


def get_run(wildcards):
    key = (wildcards.model, wildcards.langs, wildcards.variant)
    if key not in RUNS:
        known = ", ".join(f"{m}/{l}/{v}" for m, l, v in RUNS) or "none"
        raise ValueError(
            f"no run {wildcards.model}/{wildcards.langs}/{wildcards.variant}"
            f" in the configured experiments (runs: {known})"
        )
    return RUNS[key]


def builds_model(path):
    """Whether a model path is made by this workflow (the tiny demo models), so must be an input."""
    return path.startswith("results/")


def train_inputs(wildcards):
    run = get_run(wildcards)
    inputs = {
        split: [split_table(lang, split, budget) for lang, budget in run.members]
        for split in TRAINING_SPLITS
    }
    if config["track_test_langs"]:
        inputs["track"] = [
            f"results/splits/{lang}/test.parquet" for lang in run.test_langs
        ]
    if builds_model(run.model_path):
        inputs["base_model"] = run.model_path
    inputs["manifest"] = manifest_of(run.model)
    return inputs


def train_params(wildcards):
    """Model path, tracked test languages and hyperparameter options of a run's `xner train`."""
    run = get_run(wildcards)
    track = ""
    if config["track_test_langs"]:
        track = "--track " + " ".join(
            f"{lang}=results/splits/{lang}/test.parquet" for lang in run.test_langs
        )
    return {
        "model_path": shlex.quote(run.model_path),
        "model": model_options(run.model),
        "track": track,
        "options": cli_options(run.hparams),
    }


def evaluate_inputs(wildcards):
    """A run's model, its summary (for the model card) and the test splits of its test languages."""
    run = get_run(wildcards)
    return {
        "model": f"results/runs/{run.model}/{run.langs}/{run.variant}/model",
        "summary": f"results/runs/{run.model}/{run.langs}/{run.variant}/summary.json",
        "tests": [f"results/splits/{lang}/test.parquet" for lang in run.test_langs],
    }


def evaluate_tests(wildcards):
    """`LANG=PATH ...` of a run's test languages, for `xner evaluate --test`."""
    return " ".join(
        f"{lang}=results/splits/{lang}/test.parquet"
        for lang in get_run(wildcards).test_langs
    )


def inference_options(wildcards):
    """The run's hyperparameters that `xner evaluate` and `xner predict` take."""
    hparams = get_run(wildcards).hparams
    return cli_options(
        {key: hparams[key] for key in ("max_length", "eval_batch_size", "precision")}
    )


def eval_options(wildcards):
    """`xner evaluate`'s options: the run's inference settings, the resampling settings, the length bins."""
    return " ".join(
        [
            inference_options(wildcards),
            BOOTSTRAP_OPTIONS,
            "--length-bins " + " ".join(map(str, config["split"]["length_bins"])),
        ]
    )


# `--bootstrap-resamples N --bootstrap-seed S --confidence C` (config section evaluation)
BOOTSTRAP_OPTIONS = (
    f"--bootstrap-resamples {config['evaluation']['bootstrap_resamples']}"
    f" --bootstrap-seed {config['evaluation']['seed']} --confidence {config['evaluation']['confidence']}"
)


# --- reporting: tables and figures from evaluation JSON and training histories only -------------
SUMMARIES = [
    f"results/runs/{run.model}/{run.langs}/{run.variant}/summary.json"
    for run in RUNS.values()
]
RUN_EVALUATIONS = [
    evaluations_dir(f"{run.model}/{run.langs}/{run.variant}") for run in RUNS.values()
]
RUN_DIRS = [
    f"results/runs/{run.model}/{run.langs}/{run.variant}" for run in RUNS.values()
]


def curves_png(run):
    """A run's training curves, a figure of the Snakemake report."""
    return report(
        f"results/figures/runs/{run.model}/{run.langs}/{run.variant}.png",
        # a path from the Snakefile's folder: report() called here resolves it from there
        caption=f"{workflow.basedir}/workflow/report/training_curves.rst",
        category="Training curves",
        subcategory=run.model,
    )


# every run's training curves, all drawn by one job
CURVES = [curves_png(run) for run in RUNS.values()]
EXPERIMENT_TABLES = [
    f"results/tables/experiments/{name}.csv" for name in config["experiments"]
]
EXPERIMENT_FIGURES = [
    f"results/figures/{name}/{figure}.png"
    for name in config["experiments"]
    for figure in ("transfer", "f1_by_type", "errors")
]
SIGNIFICANCE_TABLES = [
    f"results/tables/significance/{name}.csv" for name in config["experiments"]
]
# The study's results page (config section report), with its figures in the folder named like it.
RESULTS_PAGE = f"results/report/{config['report']['page']}.md"


def experiment_descriptions(wildcards):
    """`NAME=TEXT ...` of the experiments that have a description, for `xner results-page --describe`."""
    return " ".join(
        shlex.quote(f"{name}={' '.join(experiment['description'].split())}")
        for name, experiment in config["experiments"].items()
        if experiment.get("description", "").strip()
    )


TEST_LANGS = list(
    dict.fromkeys(lang for run in RUNS.values() for lang in run.test_langs)
)
# Reporting jobs rerun when the code that draws them changes (and only they do).
TABLES_CODE = f"{XNER_SRC}/xner/reporting/tables.py"
PLOTS_CODE = [
    f"{XNER_SRC}/xner/reporting/{module}.py"
    for module in ("figures", "breakdowns", "languages")
]
SIGNIFICANCE_CODE = [
    f"{XNER_SRC}/xner/{module}.py"
    for module in ("reporting/significance", "evaluation/bootstrap", "evaluation/spans")
]


wildcard_constraints:
    experiment=r"[^/]+",


def experiment_runs(wildcards):
    """The experiment's runs as model/langs/variant, in run order."""
    return [
        f"{run.model}/{run.langs}/{run.variant}"
        for run in RUNS.values()
        if wildcards.experiment in run.experiments
    ]


def experiment_test_langs(wildcards):
    return config["experiments"][wildcards.experiment]["test"]


def experiment_evaluations(wildcards):
    """The evaluations directories of the experiment's runs (read on its test languages)."""
    return [evaluations_dir(run) for run in experiment_runs(wildcards)]


def experiment_compare(wildcards):
    return config["experiments"][wildcards.experiment]["compare"]


def experiment_summaries(wildcards):
    return [f"results/runs/{run}/summary.json" for run in experiment_runs(wildcards)]


def model_output(path):
    """A run's model directory: temporary unless keep_checkpoints."""
    return directory(path) if config["keep_checkpoints"] else temp(directory(path))


# --- cluster resources (used by profiles/slurm; ignored on one machine) ---------------------------
def slurm_account(wildcards):
    """The user's SLURM account; submitting to SLURM without one stops with a clear message."""
    account = config["slurm_account"] or os.environ.get("XNER_SLURM_ACCOUNT", "")
    executor = workflow.executor_plugin.name if workflow.executor_plugin else ""
    if not account and executor == "slurm":
        raise WorkflowError(
            "no SLURM account: set it once with `export XNER_SLURM_ACCOUNT=ec30` (your project) in "
            "~/.bashrc, or `slurm_account: ec30` in your config file"
        )
    return account


def train_runtime(wildcards, attempt):
    """Minutes for a training job: the model's train_minutes per training language, times the attempt,
    so that a job that timed out is retried with a longer limit (and resumes from its checkpoint).
    """
    run = get_run(wildcards)
    return train_minutes(config, run.model) * len(run.train_langs) * attempt


def evaluate_runtime(wildcards, attempt):
    """Minutes for a run's evaluation job: evaluate_minutes per test language, times the attempt."""
    return config["evaluate_minutes"] * len(get_run(wildcards).test_langs) * attempt


# --- the speed table: one timing job per model -----------------------------------------------------

SPEED_MODELS = speed_models(config)
SPEED_LANG = config["speed"]["lang"]


def speed_inputs(wildcards):
    inputs = {
        "train": f"results/splits/{SPEED_LANG}/train.parquet",
        "val": f"results/splits/{SPEED_LANG}/val.parquet",
    }
    path, _ = model_settings(config, wildcards.model)
    if builds_model(path):
        inputs["base_model"] = path
    inputs["manifest"] = manifest_of(wildcards.model)
    return inputs


def speed_params(wildcards):
    path, _ = model_settings(config, wildcards.model)
    return {
        "model_path": shlex.quote(path),
        "model": model_options(wildcards.model),
        "options": cli_options(speed_hparams(config, wildcards.model)),
    }


# --- models: fetched once, recorded in results/models/{name}/manifest.json -------------------------

MODEL_NAMES = sorted({run.model for run in RUNS.values()} | set(SPEED_MODELS))
MANIFEST = "results/models/{name}/manifest.json"


def manifest_of(name):
    """A model's manifest: ancient, so that fetching another model never reruns this one's jobs (a new
    revision does, through the jobs' --model-revision)."""
    return ancient(MANIFEST.format(name=name))


def built_models(wildcards):
    """The model directories the workflow builds itself (the tiny demo models), for rule models."""
    paths = [model_settings(config, name)[0] for name in MODEL_NAMES]
    return sorted({path for path in paths if builds_model(path)})


def model_sources(wildcards):
    """`--model NAME=PATH ... [--revision NAME=REV ...]` of `xner fetch-models`."""
    models = " ".join(
        shlex.quote(f"{name}={model_settings(config, name)[0]}") for name in MODEL_NAMES
    )
    revisions = " ".join(
        shlex.quote(f"{name}={model_revision(config, name)}")
        for name in MODEL_NAMES
        if model_revision(config, name)
    )
    return f"--model {models}" + (f" --revision {revisions}" if revisions else "")


def model_options(name):
    """`--model-manifest ... [--model-revision ...]` for the jobs that load a configured model."""
    options = f"--model-manifest {MANIFEST.format(name=name)}"
    revision = model_revision(config, name)
    return options + (f" --model-revision {shlex.quote(revision)}" if revision else "")


# --- predict: trained runs tag the texts of config section predict ------------------------------

try:
    PREDICTIONS = [
        f"results/predict/{run.model}/{run.langs}/{run.variant}/{name}.jsonl"
        for run, name in predictions(config, RUNS)
    ]
except ConfigError as error:
    raise WorkflowError(f"xner: invalid configuration: {error}") from None


def predict_input(wildcards):
    return config["predict"]["inputs"][wildcards.name]
