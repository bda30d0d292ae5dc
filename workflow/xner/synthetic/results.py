"""A synthetic results tree of a whole study, up to the reporting, for the scale benchmark.

:func:`write_results_tree` writes what the pipeline's jobs before the reporting
would have written for a validated config, in the order the jobs run (so that
Snakemake sees every output newer than its inputs and plans only the reporting):

- ``results/raw/{lang}/`` (a note that the data is synthetic) and
  ``results/data/{lang}/{train,dev,test}.parquet``: sentences of
  :func:`xner.synthetic.panx.generate_sentences` (PAN-X-like lengths and entity
  rates), ``2n`` train, ``n`` dev and ``n`` test sentences per language;
- ``results/splits/{lang}/{train,val,test}.parquet``: made from those by the
  product's :func:`xner.data.splits.split_language`, with the config's settings;
- ``results/models/{name}/manifest.json``: marked ``synthetic``, with no files
  (hub models cannot be fetched here; nothing after training reads it);
- per run, ``summary.json`` and ``history.csv`` with the fields
  :mod:`xner.training.train` writes (made-up curves and GPU times, device
  ``synthetic``), and ``evaluations/`` with ``{lang}.json``, ``{lang}.tsv``,
  ``{lang}.counts.parquet`` and ``index.json`` as ``xner evaluate`` writes them.

The evaluations are real scores of synthetic predictions: for each test language
a pool of ``pool`` prediction sets, the gold tags corrupted at evenly spaced
entity error rates (:func:`corrupt`), each scored once by the product
(:func:`xner.evaluation.scoring.evaluation_scores`, then
:func:`xner.evaluation.evaluate.write_evaluation`). Scoring one set of 10,000
sentences takes seconds, too long for every run and language of a study, so each
(run, test language) takes the pool's set whose F1 is nearest the run's
:func:`transfer_f1` (in-language better than cross-language, other scripts
worse), the seeds of a run on neighbouring sets (:func:`pool_choice`): its TSV
and counts are copied, its JSON rewritten with the run's identity. The
reporting's cost does not depend on which values the files hold.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import math
import platform
import random
import shutil
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from tqdm.auto import tqdm

from xner import __version__
from xner.data.splits import SplitSettings, split_language
from xner.evaluation.bootstrap import BootstrapSettings
from xner.evaluation.evaluate import (
    INDEX,
    Inference,
    evaluation_files,
    evaluation_key,
    evaluation_result,
    evaluation_settings,
    write_evaluation,
)
from xner.io import atomic_path, read_sentences, sentences_table, write_json, write_parquet, write_text
from xner.labels import ENTITY_TYPES, LABELS, STUDY_SPLITS
from xner.runs import Run, TrainSettings, expand_runs, model_settings
from xner.synthetic.panx import generate_sentences

logger = logging.getLogger(__name__)

DEVICE_TYPE = "cuda"  # the jobs this tree stands for ran on GPUs
DEVICE_NAME = "synthetic"  # and the tables say that they did not
SNAKEMAKE_TIMESTAMP = ".snakemake_timestamp"  # a directory output's mtime for Snakemake

# Scripts of the XTREME PAN-X languages (others count as Latin); a cross-script transfer costs more.
SCRIPTS = {
    "ar": "arabic",
    "fa": "arabic",
    "ur": "arabic",
    "he": "hebrew",
    "bg": "cyrillic",
    "ru": "cyrillic",
    "kk": "cyrillic",
    "el": "greek",
    "ka": "georgian",
    "hi": "devanagari",
    "mr": "devanagari",
    "bn": "bengali",
    "ta": "tamil",
    "te": "telugu",
    "ml": "malayalam",
    "my": "myanmar",
    "th": "thai",
    "ja": "cjk",
    "zh": "cjk",
    "ko": "hangul",
}
# Languages close to English and to each other (Germanic and Romance, Latin script).
EUROPEAN = frozenset({"af", "de", "en", "es", "fr", "it", "nl", "pt"})
# What each encoder adds to every F1 (mBERT transfers worst, mDeBERTa-v3 best); other names 0.
MODEL_OFFSET = {"mbert": -0.05, "xlmr": 0.0, "mdeberta": 0.02}
# Approximate parameters of the study's encoders (summary.json's trainable and total parameters).
PARAMETERS = {"mbert": 177_000_000, "xlmr": 278_000_000, "mdeberta": 278_000_000}
DEFAULT_PARAMETERS = 100_000_000


@dataclass(frozen=True)
class TreeSettings:
    """How big the tree is: test sentences per language (train 2x, dev 1x), prediction sets per language."""

    sentences: int = 10_000
    pool: int = 10
    workers: int = 2
    seed: int = 0
    lowest_f1: float = 0.25  # the pool's error rates span about lowest_f1 .. 0.95

    def __post_init__(self) -> None:
        if self.sentences < 10:
            raise ValueError(f"at least 10 sentences per language, not {self.sentences}")
        if self.pool < 3:
            raise ValueError(
                f"a pool of at least 3 prediction sets per language (one per seed), not {self.pool}"
            )
        if self.workers < 1:
            raise ValueError(f"at least one worker, not {self.workers}")


def _unit(*parts: object) -> float:
    """A number in [0, 1) that depends only on ``parts`` (no global random state)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def script(lang: str) -> str:
    return SCRIPTS.get(lang, "latin")


def transfer_f1(model: str, train_langs: Sequence[str], test_lang: str) -> float:
    """The micro F1 a run should have on ``test_lang``: about 0.9 in-language, lower across languages.

    Across languages: lower for a test language outside the European group, lower again for another
    script than every training language's, a fixed per-language difficulty, and the encoder's offset.
    """
    if test_lang in train_langs:
        f1 = 0.90 - 0.04 * _unit("in", test_lang)
    else:
        f1 = 0.84
        if test_lang not in EUROPEAN or not EUROPEAN.intersection(train_langs):
            f1 -= 0.10
        if all(script(lang) != script(test_lang) for lang in train_langs):
            f1 -= 0.22
        f1 -= 0.12 * _unit("difficulty", test_lang)
    f1 += MODEL_OFFSET.get(model, 0.0)
    return min(0.95, max(0.2, f1))


def pool_error_rates(settings: TreeSettings) -> list[float]:
    """The entity error rates of a language's prediction sets, evenly spaced, lowest first."""
    high = 1.0 - settings.lowest_f1
    return [0.05 + (high - 0.05) * k / (settings.pool - 1) for k in range(settings.pool)]


def pool_choice(pool_f1: Sequence[float], target: float, seed: int | None) -> int:
    """The pool's set for a run: the one whose F1 is nearest ``target``, moved by the seed to a neighbour.

    A seed of 0 (mod 3) takes the nearest set, 1 (mod 3) the next better one, 2 (mod 3) the next worse
    one, so that seeds 1, 2, 3 differ; at the pool's ends the three are the three end sets.
    """
    nearest = min(range(len(pool_f1)), key=lambda k: (abs(pool_f1[k] - target), k))
    order = sorted(range(len(pool_f1)), key=lambda k: -pool_f1[k])  # best first
    if seed is None:
        return nearest
    rank = min(max(order.index(nearest), 1), len(order) - 2)  # one step from the ends
    move = {0: 0, 1: 1, 2: -1}[seed % 3]
    return order[rank - move]  # a better set is one rank earlier


def _spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Strict IOB2 entities (type, first, last), in order."""
    found, current = [], None
    for i, tag in enumerate(tags):
        prefix, _, type_ = tag.partition("-")
        if current is not None and not (prefix == "I" and type_ == current[0]):
            found.append((current[0], current[1], i - 1))
            current = None
        if prefix == "B":
            current = (type_, i)
    if current is not None:
        found.append((current[0], current[1], len(tags) - 1))
    return found


def corrupt(gold: Sequence[str], rate: float, rng: random.Random) -> list[str]:
    """A sentence's predicted tags: the gold ones with each entity wrong at ``rate``, and spurious ones.

    A wrong entity is missed (40 %), given another type (30 %) or given a wrong boundary (30 %); an ``O``
    word starts a spurious one-word entity at rate ``rate / 10``.
    """
    pred = list(gold)
    for type_, first, last in _spans(gold):
        if rng.random() >= rate:
            continue
        kind = rng.random()
        if kind < 0.4:
            pred[first : last + 1] = ["O"] * (last - first + 1)
        elif kind < 0.7:
            other = rng.choice([t for t in ENTITY_TYPES if t != type_])
            pred[first : last + 1] = [f"B-{other}"] + [f"I-{other}"] * (last - first)
        elif last > first:
            pred[last] = "O"
        elif last + 1 < len(gold) and gold[last + 1] == "O":
            pred[last + 1] = f"I-{type_}"
        else:
            pred[first] = "O"
    for i, tag in enumerate(gold):
        if tag == "O" and pred[i] == "O" and rng.random() < rate / 10:
            if i + 1 < len(pred) and pred[i + 1].startswith("I-"):
                continue  # would join the next entity
            pred[i] = f"B-{rng.choice(ENTITY_TYPES)}"
    return pred


# --- the data: raw, parsed, split -----------------------------------------------------------------


def write_data(root: Path, config: Mapping, settings: TreeSettings) -> dict[str, dict[str, int]]:
    """Write results/raw, results/data and results/splits for every language; return the splits' sizes."""
    split = config["split"]
    split_settings = SplitSettings(
        val_fraction=split["val_fraction"],
        seed=split["seed"],
        length_bins=tuple(split["length_bins"]),
        test_budget=split["test_budget"],
    )
    sizes = {}
    n = settings.sentences
    for lang in tqdm(config["data"]["languages"], desc="data", unit="language"):
        raw = root / "results" / "raw" / lang
        raw.mkdir(parents=True, exist_ok=True)
        write_text(raw / "SYNTHETIC.txt", "written by xner.synthetic.results for the scale benchmark\n")
        (raw / SNAKEMAKE_TIMESTAMP).touch()
        data = {}
        for part, count in (("train", 2 * n), ("dev", n), ("test", n)):
            sentences = generate_sentences(lang, part, count, settings.seed)
            data[part] = root / "results" / "data" / lang / f"{part}.parquet"
            data[part].parent.mkdir(parents=True, exist_ok=True)
            write_parquet(
                {
                    data[part]: sentences_table(
                        list(range(count)),
                        lang,
                        [[token for token, _ in s] for s in sentences],
                        [[tag for _, tag in s] for s in sentences],
                    )
                }
            )
        outs = {name: root / "results" / "splits" / lang / f"{name}.parquet" for name in STUDY_SPLITS}
        outs["train"].parent.mkdir(parents=True, exist_ok=True)
        split_language(data["train"], data[config["data"]["test_split"]], outs, split_settings)
        sizes[lang] = {name: read_sentences(path).num_rows for name, path in outs.items()}
    return sizes


def write_manifests(root: Path, names: Sequence[str], config: Mapping) -> None:
    """results/models/{name}/manifest.json, marked synthetic: nothing was fetched."""
    for name in names:
        path, _ = model_settings(config, name)
        manifest = root / "results" / "models" / name / "manifest.json"
        manifest.parent.mkdir(parents=True, exist_ok=True)
        write_json(
            manifest,
            {
                "name": name,
                "kind": "synthetic",
                "path": path,
                "synthetic": "written by xner.synthetic.results for the scale benchmark; nothing was fetched",
                "location": None,
                "files": [],
            },
        )


# --- the runs: summary, history --------------------------------------------------------------------


def run_dir(root: Path, run: Run) -> Path:
    return root / "results" / "runs" / run.model / run.langs / run.variant


def training_settings(run: Run) -> TrainSettings:
    names = {f.name for f in fields(TrainSettings)}
    return TrainSettings(**{key: value for key, value in run.hparams.items() if key in names})


def history_rows(run: Run, settings: TrainSettings, final_f1: float) -> list[dict]:
    """A plausible training history: loss falling, validation F1 rising to ``final_f1``, early stopping."""
    rng = random.Random(f"history/{run.model}/{run.langs}/{run.variant}")
    best = rng.randint(min(3, settings.epochs), max(3, min(settings.epochs, 8)))
    epochs = min(settings.epochs, best + settings.patience)
    rows = []
    for epoch in range(1, epochs + 1):
        progress = 1 - math.exp(-epoch / 1.5)
        overfit = max(0, epoch - best) * 0.01
        rows.append(
            {
                "epoch": epoch,
                "train_loss": 0.6 * math.exp(-epoch / 2) + 0.02,
                "val_loss": 0.35 * (1 - progress) + 0.08 + overfit + 0.002 * rng.random(),
                "val_f1": final_f1 * (0.7 + 0.3 * progress) - overfit,
                "lr": settings.lr,
                "seconds": 90 * len(run.train_langs) * (1 + 0.05 * rng.random()),
                "tokens_per_second": 40_000 * (1 + 0.05 * rng.random()),
            }
        )
    # the best epoch is the one with the lowest validation loss
    best_row = min(rows, key=lambda row: row["val_loss"])
    for row in rows[best_row["epoch"] :]:
        row["val_loss"] = max(row["val_loss"], best_row["val_loss"] + 0.001)
    return rows


def write_run(root: Path, run: Run, sizes: Mapping[str, Mapping[str, int]]) -> None:
    """A run's summary.json and history.csv, with the fields :mod:`xner.training.train` writes."""
    settings = training_settings(run)
    in_language = transfer_f1(run.model, run.train_langs, run.train_langs[0])
    rows = history_rows(run, settings, in_language)
    best = min(rows, key=lambda row: row["val_loss"])
    tables = {}
    for split in ("train", "val"):
        for lang in run.train_langs:
            tables[f"results/splits/{lang}/{split}.parquet"] = sizes[lang][split]
    train = sum(sizes[lang]["train"] for lang in run.train_langs)
    val = sum(sizes[lang]["val"] for lang in run.train_langs)
    parameters = PARAMETERS.get(run.model, DEFAULT_PARAMETERS)
    summary = {
        "model": run.model,
        "train_langs": run.langs,
        "variant": run.variant,
        "train_budgets": dict(zip(run.train_langs, run.train_budgets)),
        "model_path": run.model_path,
        "best_epoch": best["epoch"],
        "best_val_loss": best["val_loss"],
        "best_val_f1": best["val_f1"],
        "epochs_run": len(rows),
        "early_stopped": len(rows) < settings.epochs,
        "trainable_parameters": parameters,
        "total_parameters": parameters,
        "wall_seconds": sum(row["seconds"] for row in rows) + 60,
        "device_name": DEVICE_NAME,
        "device_type": DEVICE_TYPE,
        "precision": "bf16",
        "hyperparameters": asdict(settings),
        "data": {
            # words: PAN-X's about 8 words per sentence, not counted
            "train": {"sentences": train, "words": 8 * train},
            "val": {"sentences": val, "words": 8 * val},
            "tables": tables,
            "train_windows": train,
            "train_subtokens": 16 * train,
            "windowed_sentences": 0,
        },
        "versions": {"python": platform.python_version(), "xner": __version__, "synthetic": True},
        "labels": list(LABELS),
    }
    out = run_dir(root, run)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "history.csv") as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    write_json(out / "summary.json", summary)


# --- the evaluations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolTask:
    """One prediction set to score: a language's test split corrupted at one error rate."""

    lang: str
    level: int
    rate: float
    test: Path
    out: Path
    seed: int
    bootstrap: BootstrapSettings
    length_bins: tuple[int, ...]


def _inference(sentences: int, max_length: int, f1: float) -> Inference:
    """What a GPU's inference would report: a loss that falls with F1, about 1,000 sentences a second."""
    return Inference(
        loss=0.05 + 0.6 * (1 - f1),
        seconds=sentences / 1000,
        truncated_words=0,
        windowed_sentences=0,
        cut_subtokens=0,
        max_length=max_length,
        device_type=DEVICE_TYPE,
        device_name=DEVICE_NAME,
    )


def score_pool_member(task: PoolTask) -> tuple[str, int, dict, int, int]:
    """Corrupt, score (the product's scoring) and write one prediction set; return its scores and sizes."""
    from xner.evaluation.scoring import evaluation_scores

    table = read_sentences(task.test)
    tokens, gold = table.column("tokens").to_pylist(), table.column("tags").to_pylist()
    rng = random.Random(f"{task.seed}/{task.lang}/{task.level}")
    pred = [corrupt(tags, task.rate, rng) for tags in gold]
    scores = evaluation_scores(gold, pred, task.bootstrap, task.length_bins)
    info = {"test_lang": task.lang, "pool_level": task.level, "error_rate": task.rate}
    write_evaluation(
        evaluation_files(task.out, f"{task.lang}.{task.level}"),
        tokens,
        gold,
        pred,
        info=info,
        inference=_inference(len(tokens), 256, scores["micro"]["f1"]),
        scores=scores,
    )
    return task.lang, task.level, scores, len(tokens), int(sum(map(len, tokens)))


@dataclass
class PoolMember:
    scores: dict
    sentences: int
    words: int
    files: object  # EvaluationFiles


def score_pool(
    root: Path, pool_dir: Path, langs: Sequence[str], config: Mapping, settings: TreeSettings
) -> dict[str, list[PoolMember]]:
    """Every test language's prediction sets, scored in ``settings.workers`` processes."""
    bootstrap = bootstrap_settings(config)
    bins = tuple(config["split"]["length_bins"])
    pool_dir.mkdir(parents=True, exist_ok=True)
    tasks = [
        PoolTask(
            lang,
            level,
            rate,
            root / "results" / "splits" / lang / "test.parquet",
            pool_dir,
            settings.seed,
            bootstrap,
            bins,
        )
        for lang in langs
        for level, rate in enumerate(pool_error_rates(settings))
    ]
    members: dict[str, list[PoolMember | None]] = {lang: [None] * settings.pool for lang in langs}
    bar = tqdm(total=len(tasks), desc="scoring prediction sets", unit="set")
    if settings.workers == 1:
        results = map(score_pool_member, tasks)
        executor = None
    else:
        executor = ProcessPoolExecutor(settings.workers)
        results = executor.map(score_pool_member, tasks, chunksize=1)
    try:
        for lang, level, scores, sentences, words in results:
            files = evaluation_files(pool_dir, f"{lang}.{level}")
            members[lang][level] = PoolMember(scores, sentences, words, files)
            bar.update()
    finally:
        bar.close()
        if executor is not None:
            executor.shutdown()
    return members  # type: ignore[return-value]


def bootstrap_settings(config: Mapping) -> BootstrapSettings:
    evaluation = config["evaluation"]
    return BootstrapSettings(evaluation["bootstrap_resamples"], evaluation["seed"], evaluation["confidence"])


def write_evaluations(
    root: Path, run: Run, pool: Mapping[str, Sequence[PoolMember]], config: Mapping
) -> None:
    """A run's evaluations directory as ``xner evaluate`` leaves it: each test language's files, the index."""
    out = run_dir(root, run) / "evaluations"
    out.mkdir(parents=True, exist_ok=True)
    settings = training_settings(run)
    key_settings = evaluation_settings(
        settings.max_length,
        settings.eval_batch_size,
        settings.precision,
        bootstrap_settings(config),
        config["split"]["length_bins"],
    )
    model_sha256 = hashlib.sha256(f"synthetic:{run.model}/{run.langs}/{run.variant}".encode()).hexdigest()
    seed = run.hparams.get("seed")
    index = {}
    for lang in run.test_langs:
        members = pool[lang]
        choice = pool_choice(
            [m.scores["micro"]["f1"] for m in members], transfer_f1(run.model, run.train_langs, lang), seed
        )
        member = members[choice]
        files = evaluation_files(out, lang)
        info = {
            "model": run.model,
            "train_langs": run.langs,
            "variant": run.variant,
            "test_lang": lang,
            "split": config["data"]["test_split"],
        }
        inference = _inference(member.sentences, settings.max_length, member.scores["micro"]["f1"])
        shutil.copyfile(member.files.tsv, files.tsv)
        shutil.copyfile(member.files.counts, files.counts)
        result = evaluation_result(
            info, member.scores, inference, sentences=member.sentences, words=member.words
        )
        write_json(files.json, result)
        test = root / "results" / "splits" / lang / "test.parquet"
        index[lang] = {
            "key": evaluation_key(model_sha256, test, info, key_settings),
            "wall_seconds": inference.seconds,
            "device_type": DEVICE_TYPE,
        }
    write_json(out / INDEX, index)
    (out / SNAKEMAKE_TIMESTAMP).touch()


# --- the whole tree --------------------------------------------------------------------------------


def write_results_tree(root: str | Path, config: Mapping, settings: TreeSettings | None = None) -> dict:
    """Write the results of a validated ``config`` up to the reporting under ``root``; return what was made.

    The returned dict has the counts (languages, runs, evaluations, pool size) and each phase's seconds.
    """
    settings = settings or TreeSettings()
    root = Path(root)
    runs = expand_runs(config)
    if any(budget is not None for run in runs for budget in run.train_budgets):
        raise ValueError("training budgets (en@2000) are not generated; use a config without them")
    seconds = {}
    start = time.perf_counter()
    sizes = write_data(root, config, settings)
    seconds["data"] = time.perf_counter() - start
    write_manifests(root, sorted({run.model for run in runs}), config)

    start = time.perf_counter()
    test_langs = list(dict.fromkeys(lang for run in runs for lang in run.test_langs))
    pool_dir = root / "synthetic-pool"
    pool = score_pool(root, pool_dir, test_langs, config, settings)
    seconds["scoring"] = time.perf_counter() - start

    start = time.perf_counter()
    for run in tqdm(runs, desc="runs", unit="run"):
        write_run(root, run, sizes)
    for run in tqdm(runs, desc="evaluations", unit="run"):
        write_evaluations(root, run, pool, config)
    shutil.rmtree(pool_dir)
    seconds["runs"] = time.perf_counter() - start
    made = {
        "languages": len(config["data"]["languages"]),
        "runs": len(runs),
        "evaluations": sum(len(run.test_langs) for run in runs),
        "sentences": settings.sentences,
        "pool": settings.pool,
        "seconds": seconds,
    }
    logger.info(
        "%d runs, %d evaluations of %d sentences in %s (%s)",
        made["runs"],
        made["evaluations"],
        settings.sentences,
        root,
        ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items()),
    )
    return made
