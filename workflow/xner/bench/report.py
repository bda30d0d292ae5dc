"""The benchmark's verdicts and report: its speed and quality targets, and ``bench.md``."""

from __future__ import annotations

import logging

from xner.io import markdown_table

logger = logging.getLogger(__name__)


# On CPU, xner's inference must reach this share of the speed-up that removing padding gives, with its
# model FLOPs at least this share of the machine's matrix-product rate.
INFERENCE_SHARE_OF_POSITIONS = 0.9
CPU_INFERENCE_MFU = 0.60


def check_targets(result: dict) -> list[dict]:
    """The speed and quality targets that apply to this device, each with its measured value and verdict."""
    targets = []

    def add(name, architecture, value, op, bound):
        passed = value >= bound if op == ">=" else value < bound
        targets.append(
            {
                "target": name,
                "architecture": architecture,
                "value": value,
                "bound": f"{op} {bound}",
                "passed": bool(passed),
            }
        )

    cuda = result["device_type"] == "cuda"
    for name, arch in result["architectures"].items():
        ratios = arch["ratios"]
        if cuda:
            add(
                "training: xner / default Trainer (median)",
                name,
                ratios["train"]["trainer"]["median"],
                ">=",
                3.0,
            )
            if name == "mdeberta-v3-base" and arch["train_sentences"] >= 16000:
                add(
                    "training epoch, 16,000 sentences (s)",
                    name,
                    arch["train"]["xner"]["seconds"]["median"],
                    "<",
                    5.0,
                )
                add(
                    "inference over the test set (s)",
                    name,
                    arch["inference"]["xner"]["seconds"]["median"],
                    "<",
                    1.0,
                )
            if name == "bert-base-multilingual-cased":
                add("training model FLOPs utilisation", name, arch["train"]["xner"]["mfu"], ">=", 0.30)
        else:
            if "trainer" in ratios["train"]:
                add(
                    "training: xner / default Trainer (median)",
                    name,
                    ratios["train"]["trainer"]["median"],
                    ">=",
                    2.0,
                )
            # what removing padding can give (the positions ratio), nearly all of it, and the
            # linear layers near the machine's matrix-product rate
            positions = positions_ratio(arch["inference"])
            add(
                "inference: xner / Trainer.predict (median), at least 0.9 × the positions ratio",
                name,
                ratios["inference"]["trainer_predict"]["median"],
                ">=",
                round(INFERENCE_SHARE_OF_POSITIONS * positions, 3),
            )
            add(
                "inference model FLOPs utilisation",
                name,
                arch["inference"]["xner"]["mfu"],
                ">=",
                CPU_INFERENCE_MFU,
            )
        for c in arch.get("quality", {}).get("comparisons", []):
            if c["policy"] != arch["quality"]["default"]:
                continue  # the other policies are information
            what = "random batching" if c["reference"] == "xner_random" else "the default Trainer"
            targets.append(
                {
                    "target": f"default batching: same validation F1 as {what} (within noise)",
                    "architecture": name,
                    "value": c["difference"],
                    "bound": f"|difference| <= {c['tolerance']:.4f}",
                    "passed": bool(c["within_noise"]),
                }
            )
    return targets


def quality_markdown(q: dict) -> list[str]:
    """The quality check's lines of ``bench.md``: F1 per policy and peer, then the verdicts."""
    import pandas as pd

    rows = [
        {
            "training": name,
            "val F1 (mean ± sd)": f"{q['mean'][name]:.4f} ± {q['std'][name]:.4f}",
            "per seed": ", ".join(f"{v:.4f}" for v in values),
        }
        for name, values in q["val_f1"].items()
    ]
    verdicts = [
        f"- `{c['policy']}` − `{c['reference']}`: {c['difference']:+.4f} (tolerance {c['tolerance']:.4f}): "
        f"{'within noise' if c['within_noise'] else 'NOT within noise'}"
        for c in q["comparisons"]
    ]
    return [
        f"Quality: {q['epochs']} epochs at batch size {q['batch_size']} and learning rate {q['lr']:g}, seeds "
        f"{', '.join(map(str, q['seeds']))}, scored on {q['val_sentences']} validation sentences; "
        f"xner's default is `{q['default']}`.",
        "",
        markdown_table(pd.DataFrame(rows)),
        "",
        *verdicts,
        "",
    ]


def matmul_text(matmul: dict) -> str:
    """The matrix-product rate that MFU is measured against, and whether it held during the bench."""
    rates = ", then ".join(f"{r / 1e12:.2f}" for r in matmul["measurements"])
    text = f"{matmul['flops_per_second'] / 1e12:.2f} TFLOP/s ({matmul['dtype']}; measured {rates} TFLOP/s)."
    if not matmul["consistent"]:
        text += (
            " **The rate changed during the bench**: the machine was not steady, so its timings are less "
            "comparable than usual; MFU is against the higher rate."
        )
    return text


def positions_ratio(inference: dict) -> float:
    """``Trainer.predict``'s positions (padding included) over xner's: what removing padding can give."""
    return inference["trainer_predict"]["padded_tokens"] / inference["xner"]["padded_tokens"]


def positions_ratio_text(inference: dict) -> str:
    """How many more positions ``Trainer.predict`` computes than xner: what removing padding alone can give."""
    ours, theirs = inference["xner"]["padded_tokens"], inference["trainer_predict"]["padded_tokens"]
    return (
        f"Inference positions, padding included: Trainer.predict {theirs:,}, xner {ours:,}, so "
        f"{positions_ratio(inference):.2f}× as many. Removing padding alone gives about that speed-up; the rest of "
        "the inference ratio is how fast each path runs its positions and what it does between them."
    )


def bench_markdown(result: dict) -> str:
    """``bench.md``: the targets first, then one table per architecture."""
    import pandas as pd

    lines = [
        "# xner bench",
        "",
        f"{result['created']}, {result['device_type']} ({result['device_name']}, "
        f"{result['machine']['threads']} threads, {result['machine']['cpu_capability']} kernels), "
        f"torch {result['versions']['torch']}, transformers {result['versions']['transformers']}. "
        f"Data: {result['data']['source']}, {result['data']['train']} training and {result['data']['test']} "
        f"test sentences; batch size {result['settings']['batch_size']}, {result['settings']['precision']}, "
        f"{result['settings']['repetitions']} repetitions; xner's micro-batch overhead "
        f"{result['settings']['microbatch_overhead']} sub-tokens. Matrix products: "
        f"{matmul_text(result['matmul'])}",
        "",
        "## Targets",
        "",
    ]
    targets = pd.DataFrame(result["targets"])
    if len(targets):
        targets["value"] = targets["value"].map(lambda v: f"{v:.3f}")
        targets["passed"] = targets["passed"].map({True: "yes", False: "NO"})
    lines += [markdown_table(targets), ""]
    for name, why in result.get("skipped", {}).items():
        lines += [f"Not measured: `{name}`: {why}", ""]
    for name, arch in result["architectures"].items():
        lines += [
            f"## {name}",
            "",
            f"{arch['parameters'] / 1e6:.1f} M parameters ({arch['non_embedding_parameters'] / 1e6:.1f} M outside "
            f"the embeddings); {arch['train_sentences']} training sentences, {arch['test_sentences']} test sentences. "
            f"Words predicted alike by xner and Trainer.predict: {arch['inference_word_agreement']:.4f} "
            f"(over the {arch['inference_sentences_compared']} test sentences that both predict whole).",
            "",
        ]
        rows = []
        for task in ("train", "inference"):
            for peer, s in arch[task].items():
                ratio = arch["ratios"][task].get(peer)
                rows.append(
                    {
                        "task": task,
                        "peer": peer,
                        "seconds (median)": f"{s['seconds']['median']:.2f}",
                        "sentences/s": f"{s['sentences_per_second']:.0f}",
                        "tokens/s": f"{s['tokens_per_second']:.0f}",
                        "padding": f"{100 * s['padding_fraction']:.0f} %",
                        "peak MiB": f"{s['peak_memory_mib']:.0f}",
                        "MFU": f"{100 * s['mfu']:.1f} %",
                        "xner speed-up (median [min, max])": (
                            f"{ratio['median']:.2f}× [{ratio['min']:.2f}, {ratio['max']:.2f}]"
                            if ratio
                            else ""
                        ),
                    }
                )
        lines += [markdown_table(pd.DataFrame(rows)), "", positions_ratio_text(arch["inference"]), ""]
        if "quality" in arch:
            lines += quality_markdown(arch["quality"])
    lines += ["Peers:", ""] + [f"- `{p}`: {text}" for p, text in result["peers"].items()] + [""]
    return "\n".join(lines)
