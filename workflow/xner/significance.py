"""Which settings of an experiment a significance table compares: pairs that differ in one factor.

A setting is a run without its seed: the model, the training mixture and the
grid point (the hyperparameters that differ from the model's own defaults).
Two settings are compared when they differ in exactly one factor: the model
(same mixture and grid point), the mixture (same model and point), or one
hyperparameter of the grid (same model and mixture). Pairs that differ in more
than one factor would confound their effects and are left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any


@dataclass(frozen=True)
class Setting:
    """A run without its seed."""

    model: str
    train_langs: str
    point: tuple[
        tuple[str, Any], ...
    ]  # sorted (hyperparameter, value) pairs that differ from the model's defaults

    @classmethod
    def of(
        cls, model: str, train_langs: str, hparams: Mapping[str, Any], defaults: Mapping[str, Any]
    ) -> Setting:
        point = {k: v for k, v in hparams.items() if k != "seed" and defaults.get(k) != v}
        return cls(model, train_langs, tuple(sorted(point.items())))


def differing_factors(a: Setting, b: Setting) -> list[str]:
    """The factors in which two settings differ: ``model``, ``train``, or hyperparameter names."""
    factors = []
    if a.model != b.model:
        factors.append("model")
    if a.train_langs != b.train_langs:
        factors.append("train")
    pa, pb = dict(a.point), dict(b.point)
    factors += [key for key in sorted(set(pa) | set(pb)) if pa.get(key) != pb.get(key)]
    return factors


def one_factor_pairs(settings: Sequence[Setting]) -> Iterator[tuple[str, Setting, Setting]]:
    """``(factor, a, b)`` for each pair of distinct settings (in the order given) that differ in one factor."""
    unique = list(dict.fromkeys(settings))
    for a, b in combinations(unique, 2):
        factors = differing_factors(a, b)
        if len(factors) == 1:
            yield factors[0], a, b
