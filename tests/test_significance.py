"""xner.significance: settings without seeds, and the pairs that differ in exactly one factor."""

from __future__ import annotations

from xner.significance import Setting, differing_factors, one_factor_pairs

BERT = {"lr": 1e-5, "batch_size": 128, "seed": 42}
DEBERTA = {"lr": 1e-5, "batch_size": 64, "seed": 42}  # its own default batch size


def setting(model, langs, defaults, **grid):
    return Setting.of(model, langs, {**defaults, **grid}, defaults)


def test_a_setting_drops_the_seed_and_the_defaults():
    a = Setting.of("mbert", "en", {**BERT, "seed": 1}, BERT)
    b = Setting.of("mbert", "en", {**BERT, "seed": 2}, BERT)
    assert a == b and a.point == ()
    assert setting("mbert", "en", BERT, lr=1e-4).point == (("lr", 1e-4),)


def test_models_with_their_own_defaults_differ_in_the_model_only():
    assert differing_factors(setting("mbert", "en", BERT), setting("mdeberta", "en", DEBERTA)) == ["model"]


def test_pairs_of_one_factor_only():
    settings = [
        setting("mbert", "en", BERT),
        setting("mdeberta", "en", DEBERTA),
        setting("mbert", "en+de", BERT),
        setting("mdeberta", "en+de", DEBERTA),
        setting("mbert", "en", BERT, lr=1e-4),
        setting("mbert", "en", BERT, lr=1e-4),  # a second seed of the same setting: one setting
    ]
    pairs = [(f, a.model, a.train_langs, b.model, b.train_langs) for f, a, b in one_factor_pairs(settings)]
    assert pairs == [
        ("model", "mbert", "en", "mdeberta", "en"),
        ("train", "mbert", "en", "mbert", "en+de"),
        ("lr", "mbert", "en", "mbert", "en"),
        ("train", "mdeberta", "en", "mdeberta", "en+de"),
        ("model", "mbert", "en+de", "mdeberta", "en+de"),
    ]  # never mbert/en vs mdeberta/en+de (two factors), nor lr1e-4 vs the other model or mixture


def test_two_grid_values_are_two_factors():
    a = setting("mbert", "en", BERT, lr=1e-4)
    b = setting("mbert", "en", BERT, batch_size=32)
    assert differing_factors(a, b) == ["batch_size", "lr"]
    assert list(one_factor_pairs([a, b])) == []
