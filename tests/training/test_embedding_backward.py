"""xner.training.embedding_backward: micro-batches share one word-embedding backward per step, with the same gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModelForTokenClassification

from xner.training.embedding_backward import one_embedding_backward

CPU = torch.device("cpu")
PAD = 0


# the study's encoder families, tiny; each family's own embedding module calls the word lookup
FAMILIES = {
    "bert": {},
    "xlm-roberta": {"pad_token_id": 1, "max_position_embeddings": 40},
    "electra": {"embedding_size": 8},
    "deberta-v2": {
        "relative_attention": True,
        "position_biased_input": False,
        "pos_att_type": ["p2c", "c2p"],
    },
}


def tiny_model(family: str = "bert", seed: int = 0):
    settings = {
        "vocab_size": 60,
        "hidden_size": 16,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "intermediate_size": 32,
        "max_position_embeddings": 32,
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "pad_token_id": PAD,
        **FAMILIES[family],
    }
    torch.manual_seed(seed)
    return AutoModelForTokenClassification.from_config(AutoConfig.for_model(family, num_labels=3, **settings))


def micro_batches() -> list[dict[str, np.ndarray]]:
    """Three micro-batches, right-padded, sharing some ids (5, 7) and not others; one row has the
    padding id at a position that is attended to and labelled, which nn.Embedding gives no gradient."""
    rows = [[[2, 5, 7, 3], [2, 9, 3]], [[2, 5, 11, 12, 7, 3]], [[2, 40, 3], [2, PAD, 7, 3]]]
    batches = []
    for group in rows:
        width = max(map(len, group))
        ids = np.array([r + [PAD] * (width - len(r)) for r in group], dtype=np.int64)
        mask = np.array([[1] * len(r) + [0] * (width - len(r)) for r in group], dtype=np.int64)
        labels = np.where(mask == 1, (ids % 3), -100)
        batches.append({"input_ids": ids, "attention_mask": mask, "labels": labels})
    return batches


def backward_all(model, batches) -> None:
    for b in batches:
        t = {k: torch.from_numpy(v) for k, v in b.items()}
        model(**t).loss.backward()


def gradients(model) -> dict[str, torch.Tensor]:
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_shared_lookup_gives_the_gradient_of_separate_lookups(family):
    batches = micro_batches()
    plain = tiny_model(family)
    backward_all(plain, batches)
    shared = tiny_model(family)
    with one_embedding_backward(shared, [b["input_ids"] for b in batches], CPU):
        backward_all(shared, batches)
        # inside the block, the micro-batches' gradients go to the shared table only
        assert shared.get_input_embeddings().weight.grad is None
    expected, got = gradients(plain), gradients(shared)
    assert expected.keys() == got.keys()
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], rtol=1e-5, atol=1e-7, msg=name)
    grad = shared.get_input_embeddings().weight.grad
    used = np.unique(np.concatenate([b["input_ids"].ravel() for b in batches]))
    assert grad[torch.from_numpy(np.setdiff1d(used, [PAD]))].abs().sum(dim=1).gt(0).all()
    unused = np.setdiff1d(np.arange(60), used)
    assert grad[torch.from_numpy(unused)].abs().sum() == 0
    padding = shared.get_input_embeddings().padding_idx
    assert grad[padding].abs().sum() == 0  # padding_idx gets no gradient, as nn.Embedding gives it


def test_a_lookup_of_other_ids_falls_back_to_the_models_own():
    batches = micro_batches()
    announced = [b["input_ids"] for b in batches[:2]]  # the third micro-batch has an id (40) not announced
    plain, shared = tiny_model(), tiny_model()
    backward_all(plain, batches)
    with one_embedding_backward(shared, announced, CPU):
        backward_all(shared, batches)
    for name, g in gradients(plain).items():
        torch.testing.assert_close(gradients(shared)[name], g, rtol=1e-5, atol=1e-7, msg=name)


@pytest.mark.parametrize(
    "case",
    ["one micro-batch", "frozen embeddings", "a GPU"],
)
def test_where_it_does_not_apply_the_model_is_left_alone(case):
    batches = micro_batches()
    model = tiny_model()
    device = CPU
    ids = [b["input_ids"] for b in batches]
    if case == "one micro-batch":
        ids, batches = ids[:1], batches[:1]
    elif case == "frozen embeddings":
        model.get_input_embeddings().weight.requires_grad_(False)
    else:
        device = torch.device("cuda")  # never touched: the lookup stays the model's own
    hooks = len(model.get_input_embeddings()._forward_hooks)
    with one_embedding_backward(model, ids, device):
        assert len(model.get_input_embeddings()._forward_hooks) == hooks
        if device.type == "cpu":
            backward_all(model, batches)
    assert len(model.get_input_embeddings()._forward_hooks) == hooks


def test_the_hook_is_removed_when_a_micro_batch_fails():
    model = tiny_model()
    batches = micro_batches()
    with pytest.raises(RuntimeError), one_embedding_backward(model, [b["input_ids"] for b in batches], CPU):
        raise RuntimeError("out of memory")
    assert not model.get_input_embeddings()._forward_hooks
