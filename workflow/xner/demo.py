"""Synthetic PAN-X data for xner's offline demo and tests.

This module writes a small, deterministic stand-in for the upstream archive of
Rahimi et al. (2019), in exactly its raw format, so that the real download and
parse code can read it:

* an uncompressed tar ``panx_dataset.tar`` holding one member ``{lang}.tar.gz``
  per language at its root;
* each ``{lang}.tar.gz`` (gzip) holds the members ``dev``, ``extra``, ``test``
  and ``train`` at its root (``extra`` is not a split: a few sentences, as in
  the real archives of some languages);
* each member is UTF-8 text with one word per line, ``{lang}:{token}\\t{tag}``,
  one blank line between sentences and a final newline after the last word.

The sentences are meant to be learnable by a small model, with visible but
imperfect transfer between languages. Each language has its own context words
(small hand-written lists for en, de and sw; pseudo-words built from a
language-specific syllable inventory for every other language), while entity
names come from lists shared across languages, with per-language variants and
some local names. Entities come with cues (titles before persons, prepositions
before places, suffixes such as ``Inc.``, ``GmbH`` or ``FC`` inside
organisations), but not always. About a third of the sentences are short
fragments that are mostly an entity (``Paris , France``), as in PAN-X; the rest
are template sentences with 0-3 entities (more in long ones) and a long-tailed length distribution,
including a few sentences of more than 110 words. Awkward but legal tokens
(``NA``, ``None``, ``null``, ``N/A``, ``::``, ``''``, ``3:15``, ...) appear now
and then, because readers must keep them exactly.

Everything is a pure function of the settings: ``random.Random`` is seeded with
strings (hashed with sha512, independent of ``PYTHONHASHSEED``) and the tar and
gzip headers carry no time, owner or file name.
"""

from __future__ import annotations

import gzip
import io
import logging
import random
import tarfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from xner.io import atomic_path
from xner.labels import PANX_LANGUAGES, PANX_SPLITS

logger = logging.getLogger(__name__)

Token = tuple[str, str]
"""One word and its IOB2 tag."""
Sentence = list[Token]
Name = tuple[str, ...]
"""A name as its tokens, e.g. ``("New", "York")``."""

# Sentences in the archive member ``extra`` of every language.
EXTRA_SENTENCES = 5
# Tokens that readers must keep exactly (not parse as missing values, numbers,
# quotes or separators). Each occurs at least once in any split of
# AWKWARD_GUARANTEE_MIN sentences or more, and now and then elsewhere.
MISSING_VALUES: tuple[str, ...] = ("NA", "None", "null", "nan", "N/A")
QUOTES: tuple[str, ...] = ('"', "'", "''")
AWKWARD_TOKENS: tuple[str, ...] = (*MISSING_VALUES, "#", *QUOTES, "3:15", "::", ":", "-")
AWKWARD_GUARANTEE_MIN = 200
# About this share of the sentences are fragments that are mostly an entity.
FRAGMENT_RATE = 0.38
# Template sentences longer than LONG_MIN words: about one in LONG_RATE, and at
# least one in any split of LONG_GUARANTEE_MIN sentences or more.
LONG_MIN = 111
LONG_RATE = 400
LONG_GUARANTEE_MIN = 1000


def _check_language(lang: str) -> None:
    if lang not in PANX_LANGUAGES:
        raise ValueError(f"unknown PAN-X language {lang!r}: not one of the {len(PANX_LANGUAGES)} in PAN-X")


@dataclass(frozen=True)
class DemoSettings:
    """What :func:`write_panx_archive` writes: languages, sentences per split, seed."""

    languages: tuple[str, ...] = ("en", "de", "sw")
    train: int = 1500  # sentences per language and split
    dev: int = 500
    test: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.languages, str):
            raise TypeError(
                f"DemoSettings.languages must be a sequence of codes, not the string {self.languages!r}"
            )
        object.__setattr__(self, "languages", tuple(self.languages))
        if not self.languages:
            raise ValueError("DemoSettings.languages is empty")
        for lang in self.languages:
            _check_language(lang)
        duplicates = sorted({lang for lang in self.languages if self.languages.count(lang) > 1})
        if duplicates:
            raise ValueError(f"DemoSettings.languages lists {', '.join(duplicates)} more than once")
        for split in PANX_SPLITS:
            count = getattr(self, split)
            if not isinstance(count, int) or count < 1:
                raise ValueError(
                    f"DemoSettings.{split} must be a positive number of sentences, not {count!r}"
                )

    def split_sizes(self) -> dict[str, int]:
        """Sentences per archive member, in the (sorted) order they are written."""
        return {"dev": self.dev, "extra": EXTRA_SENTENCES, "test": self.test, "train": self.train}


DEFAULT_SETTINGS = DemoSettings()


# --------------------------------------------------------------------------- #
# Names shared across languages (as real Wikipedia names are), with variants.  #
# --------------------------------------------------------------------------- #

FIRST_NAMES: tuple[str, ...] = (
    "John", "Mary", "Peter", "Anna", "David", "Maria", "Michael", "Elizabeth", "Thomas", "Sarah",
    "James", "Laura", "Robert", "Sophie", "Daniel", "Emma", "Paul", "Julia", "Martin", "Clara",
    "George", "Helen", "Carlos", "Ahmed", "Fatima", "Yuki", "Ivan", "Olga", "Pierre", "Marie",
    "José", "Søren", "Béla", "Michał", "Paweł", "Joseph", "Ali", "Grace", "Hans", "Björn",
)  # fmt: skip
SURNAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Brown", "Miller", "Wilson", "Taylor", "Anderson", "Garcia", "Müller", "Schmidt",
    "Fischer", "Weber", "Peña", "Muñoz", "Kowalski", "Nowak", "Wałęsa", "Strauß", "Weiß", "Jensen",
    "Hansen", "Sørensen", "Dubois", "Moreau", "Rossi", "Bianchi", "Ivanov", "Petrov", "Tanaka", "Sato",
    "Kim", "Lee", "Wang", "Khan", "Hassan", "Okafor", "Mensah", "Kennedy", "Lincoln", "Mandela",
)  # fmt: skip
CITIES: tuple[str, ...] = (
    "London", "Paris", "Berlin", "Rome", "Madrid", "Vienna", "Munich", "Cologne", "New York", "Los Angeles",
    "Sioux City", "Chicago", "Toronto", "Sydney", "Tokyo", "Moscow", "Cairo", "Lagos", "Nairobi", "Mombasa",
    "Kampala", "Dar es Salaam", "Zanzibar", "Hamburg", "Zürich", "Kraków", "Łódź", "Gdańsk", "Oslo",
    "Tromsø", "Málaga", "A Coruña", "São Paulo", "Buenos Aires", "Mexico City", "Boston", "Dublin",
    "Prague", "Warsaw", "Istanbul", "Mumbai", "Beijing", "Lyon", "Geneva",
)  # fmt: skip
COUNTRIES: tuple[str, ...] = (
    "France", "Germany", "England", "Spain", "Italy", "Russia", "China", "Japan", "India", "Egypt",
    "Kenya", "Tanzania", "Uganda", "Nigeria", "Brazil", "Canada", "Australia", "Mexico", "Poland",
    "Norway", "Austria", "Switzerland", "United States", "South Africa", "Iowa", "Texas", "Bavaria",
    "Ontario",
)  # fmt: skip
ORGANISATIONS: tuple[str, ...] = (
    "NATO", "FIFA", "UEFA", "BBC", "UNESCO", "Microsoft", "Siemens", "Toyota", "Google", "Volkswagen",
    "Real Madrid", "Bayern Munich", "Manchester United", "Arsenal", "Juventus", "Red Cross",
    "United Nations", "European Union", "Nestlé", "Ajax", "Interpol", "Reuters",
)  # fmt: skip
# Words that start organisation names ("Royal ... Company") and club nicknames.
ORG_WORDS: tuple[str, ...] = (
    "Royal", "National", "Atlantic", "Pacific", "Central", "Union", "Global", "Phoenix", "Victoria",
    "Olympic", "Continental", "Northern", "Star", "Unity",
)  # fmt: skip
NICKNAMES: tuple[str, ...] = (
    "Musketeers", "Rovers", "United", "Rangers", "Wanderers", "Lions", "Tigers", "Eagles", "Stars",
)  # fmt: skip


# --------------------------------------------------------------------------- #
# Languages: hand-written lexicons for the demo languages, pseudo-words else.  #
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class _Lexicon:
    """A language's context words, entity cues, local names and name variants."""

    determiners: tuple[str, ...]
    nouns: tuple[str, ...]
    verbs: tuple[str, ...]
    adjectives: tuple[str, ...]
    prepositions: tuple[str, ...]
    conjunctions: tuple[str, ...]
    loc_prepositions: tuple[str, ...]  # cues before places
    titles: tuple[str, ...]  # cues before persons (tagged O, as in PAN-X)
    particles: tuple[str, ...]  # inside person names ("van", "bin")
    org_patterns: tuple[str, ...]  # "{}" stands for the name: "{} GmbH", "University of {}"
    loc_patterns: tuple[str, ...]  # "Lake {}", "Mto {}"
    local_first: tuple[str, ...] = ()
    local_last: tuple[str, ...] = ()
    local_cities: tuple[str, ...] = ()
    local_orgs: tuple[str, ...] = ()
    variants: tuple[tuple[str, str], ...] = ()  # (shared name, this language's form)
    order: str = "SVO"  # order of subject, object and verb in a clause
    det_first: bool = True  # "the city" rather than "mji huu"
    adj_first: bool = True  # "new city" rather than "mji mpya"
    full_stop: str = "."
    comma: str = ","
    cased: bool = True  # whether the script has capital letters


EN = _Lexicon(
    determiners=("the", "a", "this", "its", "their", "every"),
    nouns=(
        "city", "team", "season", "album", "river", "film", "party", "village", "company", "school",
        "war", "game", "club", "station", "family", "book", "church", "player", "district", "population",
        "career", "title", "band", "series", "election", "member", "capital", "song", "army", "road",
        "bridge", "island", "museum", "novel", "match", "league", "empire", "king", "president", "leader",
    ),
    verbs=(
        "is", "was", "became", "won", "joined", "played", "founded", "moved", "released", "signed",
        "visited", "married", "left", "defeated", "built", "described", "named", "replaced", "supported",
        "opened",
    ),
    adjectives=(
        "first", "new", "small", "former", "national", "old", "large", "local", "second", "major",
        "famous", "northern", "southern", "last", "young",
    ),
    prepositions=("of", "for", "with", "after", "during", "by", "under", "before", "against"),
    conjunctions=("and", "but", "while", "where", "which", "when"),
    loc_prepositions=("in", "at", "near", "from", "to"),
    titles=("Mr.", "Dr.", "Professor", "President", "Sir", "King", "General", "Captain"),
    particles=("van", "de"),
    org_patterns=(
        "{} University", "University of {}", "{} Inc.", "{} Ltd.", "{} FC", "{} Party", "{} Company",
        "{} Records",
    ),
    loc_patterns=("{} River", "Lake {}", "{} Island", "{} County", "Mount {}"),
    local_first=("Jack", "Oliver", "Emily", "Harry", "Charlotte", "William", "Amelia", "Henry"),
    local_last=("Cooper", "Walker", "Fletcher", "Thompson", "Baker", "Wright", "Turner", "Hughes"),
    local_cities=("Manchester", "Liverpool", "Oxford", "Sheffield", "Des Moines", "Omaha", "Salt Lake City"),
    local_orgs=(
        "Sioux City Musketeers", "Boston Red Sox", "Oxford University Press", "British Airways", "Royal Navy",
    ),
)  # fmt: skip

DE = _Lexicon(
    determiners=("der", "die", "das", "ein", "eine", "dem", "den", "des"),
    nouns=(
        "Stadt", "Mannschaft", "Saison", "Album", "Fluss", "Film", "Partei", "Dorf", "Unternehmen",
        "Schule", "Krieg", "Spiel", "Verein", "Bahnhof", "Familie", "Buch", "Kirche", "Spieler", "Bezirk",
        "Gemeinde", "Straße", "Einwohner", "Jahr", "Größe", "Lied", "Armee", "Brücke", "Insel", "Museum",
        "Roman", "Liga", "Reich", "Künstler", "Gebäude", "Schloss", "Bürgermeister",
    ),
    verbs=(
        "ist", "war", "wurde", "gewann", "spielte", "gründete", "zog", "veröffentlichte", "besuchte",
        "heiratete", "verließ", "besiegte", "baute", "liegt", "gehört", "erhielt", "übernahm", "eröffnete",
    ),
    adjectives=(
        "erste", "neue", "kleine", "ehemalige", "nationale", "alte", "große", "zweite", "bekannte",
        "nördliche", "südliche", "letzte", "junge", "größte",
    ),
    prepositions=("von", "für", "mit", "während", "durch", "unter", "vor", "über", "gegen", "seit"),
    conjunctions=("und", "aber", "wobei", "wo", "als", "sowie", "nachdem"),
    loc_prepositions=("in", "bei", "aus", "nach", "im"),
    titles=("Herr", "Frau", "Dr.", "Prof.", "Präsident", "König", "Graf", "Kapitän"),
    particles=("von", "zu", "van"),
    org_patterns=(
        "{} GmbH", "{} AG", "Universität {}", "FC {}", "{} Verlag", "SV {}", "{} Werke", "Stadtwerke {}",
    ),
    loc_patterns=("Bad {}", "Sankt {}", "{} am Main", "Landkreis {}", "Kreis {}"),
    local_first=("Jürgen", "Günther", "Uwe", "Heike", "Sabine", "Klaus", "Jörg", "Ursula", "Wolfgang"),
    local_last=("Schneider", "Becker", "Hoffmann", "Schäfer", "Krüger", "Köhler", "Groß", "Meißner"),
    local_cities=(
        "Düsseldorf", "Würzburg", "Lübeck", "Göttingen", "Stuttgart", "Dresden", "Saarbrücken", "Gießen",
        "Weil am Rhein",
    ),
    local_orgs=(
        "Deutsche Bahn", "Borussia Dortmund", "Hertha BSC", "Technische Universität München",
        "Bayer Leverkusen",
    ),
    variants=(
        ("Munich", "München"), ("Cologne", "Köln"), ("Vienna", "Wien"), ("Rome", "Rom"), ("Moscow", "Moskau"),
        ("Cairo", "Kairo"), ("Prague", "Prag"), ("Warsaw", "Warschau"), ("Geneva", "Genf"),
        ("Mexico City", "Mexiko-Stadt"), ("Germany", "Deutschland"), ("France", "Frankreich"),
        ("Spain", "Spanien"), ("Italy", "Italien"), ("Russia", "Russland"), ("Egypt", "Ägypten"),
        ("Kenya", "Kenia"), ("Tanzania", "Tansania"), ("Brazil", "Brasilien"), ("Canada", "Kanada"),
        ("Australia", "Australien"), ("Mexico", "Mexiko"), ("Poland", "Polen"), ("Norway", "Norwegen"),
        ("Austria", "Österreich"), ("Switzerland", "Schweiz"), ("United States", "Vereinigte Staaten"),
        ("South Africa", "Südafrika"), ("Bavaria", "Bayern"), ("Bayern Munich", "Bayern München"),
        ("Red Cross", "Rotes Kreuz"), ("United Nations", "Vereinte Nationen"),
        ("European Union", "Europäische Union"), ("John", "Johann"), ("Joseph", "Josef"),
        ("Elizabeth", "Elisabeth"), ("George", "Georg"),
    ),
)  # fmt: skip

SW = _Lexicon(
    determiners=("hii", "huu", "hiyo", "ile", "yake", "yao"),
    nouns=(
        "mji", "timu", "msimu", "albamu", "mto", "filamu", "chama", "kijiji", "kampuni", "shule", "vita",
        "mchezo", "klabu", "kituo", "familia", "kitabu", "kanisa", "mchezaji", "wilaya", "wakazi", "mwaka",
        "mkoa", "nchi", "lugha", "mwanamuziki", "wimbo", "jeshi", "barabara", "daraja", "kisiwa",
        "makumbusho", "riwaya", "mechi", "ligi", "dola", "mfalme", "kiongozi",
    ),
    verbs=(
        "ni", "alikuwa", "ilikuwa", "alishinda", "alijiunga", "alicheza", "alianzisha", "alihamia", "alitoa",
        "alitembelea", "alimwoa", "aliondoka", "ilishinda", "ilijengwa", "inapatikana", "iko", "alipewa",
        "alichaguliwa",
    ),
    adjectives=(
        "kwanza", "mpya", "mdogo", "zamani", "kitaifa", "mkubwa", "pili", "maarufu", "kaskazini", "kusini",
        "mwisho", "kijana",
    ),
    prepositions=("kwa", "baada", "chini", "kabla", "kuhusu", "dhidi", "tangu"),
    conjunctions=("na", "lakini", "wakati", "ambapo", "ambayo", "ambaye", "pia"),
    loc_prepositions=("katika", "huko", "kutoka", "karibu", "mjini"),
    titles=("Bwana", "Bi", "Dkt.", "Rais", "Mfalme", "Profesa", "Mzee", "Jenerali"),
    particles=("bin", "binti", "wa"),
    org_patterns=(
        "Chuo Kikuu cha {}", "Kampuni ya {}", "Chama cha {}", "{} FC", "Benki ya {}", "Shirika la {}",
        "Klabu ya {}",
    ),
    loc_patterns=("Mto {}", "Ziwa {}", "Mlima {}", "Kisiwa cha {}", "Mkoa wa {}"),
    local_first=(
        "Juma", "Baraka", "Amani", "Wanjiku", "Neema", "Rehema", "Halima", "Hamisi", "Zawadi", "Jabari",
    ),
    local_last=("Mwangi", "Otieno", "Kamau", "Nyerere", "Kikwete", "Odinga", "Mwinyi", "Kenyatta"),
    local_cities=(
        "Dodoma", "Arusha", "Kisumu", "Morogoro", "Tanga", "Mwanza", "Nakuru", "Kigoma", "Bagamoyo",
    ),
    local_orgs=("Simba SC", "Young Africans", "Azam FC", "Safaricom", "Bunge la Tanzania", "Umoja wa Afrika"),
    variants=(
        ("Rome", "Roma"), ("Moscow", "Moskva"), ("Cairo", "Kairo"), ("Germany", "Ujerumani"),
        ("France", "Ufaransa"), ("England", "Uingereza"), ("China", "Uchina"), ("Egypt", "Misri"),
        ("Spain", "Hispania"), ("Russia", "Urusi"), ("Japan", "Japani"), ("India", "Uhindi"),
        ("Italy", "Italia"), ("United States", "Marekani"), ("South Africa", "Afrika Kusini"),
        ("Switzerland", "Uswisi"), ("Poland", "Polandi"), ("Norway", "Norwei"), ("Brazil", "Brazili"),
        ("Canada", "Kanada"), ("Mexico", "Meksiko"), ("Red Cross", "Msalaba Mwekundu"),
        ("United Nations", "Umoja wa Mataifa"), ("European Union", "Umoja wa Ulaya"), ("John", "Yohana"),
        ("Mary", "Mariamu"), ("Peter", "Petro"), ("Paul", "Paulo"), ("David", "Daudi"), ("Joseph", "Yusufu"),
    ),
    det_first=False,
    adj_first=False,
)  # fmt: skip

HANDWRITTEN: dict[str, _Lexicon] = {"en": EN, "de": DE, "sw": SW}


@dataclass(frozen=True)
class _Script:
    """Letters to build pseudo-words from; '-' in ``vowels`` stands for no vowel sign."""

    consonants: str
    vowels: str
    extra_consonants: str = ""  # a language may add one or two of these (non-ASCII letters)
    extra_vowels: str = ""
    cased: bool = True
    full_stop: str = "."
    comma: str = ","


SCRIPTS: dict[str, _Script] = {
    "latin": _Script(
        "b c d f g h j k l m n p r s t v w y z sh ch ny ng kh",
        "a e i o u",
        extra_consonants="ñ ł ş ç ž ß",
        extra_vowels="á é í ó ú ä ö ü ø å ā ē",
    ),
    "cyrillic": _Script("б в г д ж з к л м н п р с т ф х ц ч ш", "а е и о у ы я ю"),
    "greek": _Script("β γ δ ζ θ κ λ μ ν ξ π ρ σ τ φ χ", "α ε η ι ο υ ω"),
    "arabic": _Script("ب ت ث ج ح خ د ذ ر ز س ش ص ط ع غ ف ق ك ل م ن ه", "- ا و ي", cased=False, comma="،"),
    "hebrew": _Script("ב ג ד ה ז ח ט כ ל מ נ ס פ צ ק ר ש ת", "- ו י א", cased=False),
    "devanagari": _Script("क ख ग च ज ट ड त द न प ब म य र ल व स ह", "- ा ि ी ु े ो", cased=False, full_stop="।"),
    "bengali": _Script("ক খ গ চ জ ট ড ত দ ন প ব ম য র ল স হ", "- া ি ী ু ে ো", cased=False, full_stop="।"),
    "tamil": _Script("க ங ச ஞ ட ண த ந ப ம ய ர ல வ", "- ா ி ீ ு ெ ொ", cased=False),
    "georgian": _Script("ბ გ დ ვ ზ თ კ ლ მ ნ პ რ ს ტ ფ ქ ღ შ ჩ ც ძ ხ", "ა ე ი ო უ", cased=False),
    "armenian": _Script("բ գ դ զ թ լ խ կ հ մ յ ն շ պ ռ ս վ տ ր ց", "ա ե ի ո"),
    "thai": _Script("ก ข ค ง จ ช ด ต ท น บ ป พ ม ย ร ล ว ส ห", "- า ิ ี ุ ู", cased=False),
    "hangul": _Script(
        "가 나 다 라 마 바 사 아 자 차 카 타 파 하 고 노 도 로 모 보 소 오 조 "
        "구 누 두 루 무 부 수 우 주 기 니 디 리 미 비 시 이 지 한 민 국 서 울 대 학 교 회",
        "-",
        cased=False,
    ),
    "cjk": _Script(
        "的 国 人 大 中 年 学 会 市 家 日 本 京 山 川 新 东 西 南 北 文 化 "
        "公 司 长 天 地 海 星 光 明 华 美 德 法 英 俄 田 村 林 森 高 木 王 李 张",
        "-",
        cased=False,
        full_stop="。",
        comma="，",
    ),
}

LANGUAGE_SCRIPTS: dict[str, str] = {
    **dict.fromkeys("ru bg uk mk sr be be-x-old kk ky tt ba cv ce mn tg sah os mhr".split(), "cyrillic"),
    **dict.fromkeys("ar arz fa ur ps ckb ug sd mzn pnb".split(), "arabic"),
    **dict.fromkeys("he yi".split(), "hebrew"),
    **dict.fromkeys("hi mr ne sa bh".split(), "devanagari"),
    **dict.fromkeys("bn as".split(), "bengali"),
    **dict.fromkeys("zh ja wuu gan zh-classical zh-yue".split(), "cjk"),
    "el": "greek",
    "ta": "tamil",
    "ka": "georgian",
    "xmf": "georgian",
    "hy": "armenian",
    "th": "thai",
    "ko": "hangul",
}


@dataclass(frozen=True)
class _Profile:
    """Everything the generator needs about one language."""

    lang: str
    lex: _Lexicon
    first_names: tuple[Name, ...]
    surnames: tuple[Name, ...]
    cities: tuple[Name, ...]
    countries: tuple[Name, ...]
    organisations: tuple[Name, ...]
    org_words: tuple[Name, ...]
    nicknames: tuple[Name, ...]


def _capitalize(word: str, cased: bool) -> str:
    return word[:1].upper() + word[1:] if cased else word


def _pseudo_lexicon(lang: str) -> _Lexicon:
    """A lexicon of pseudo-words from a syllable inventory drawn for ``lang`` (its script, or Latin)."""
    script = SCRIPTS[LANGUAGE_SCRIPTS.get(lang, "latin")]
    rng = random.Random(f"xner.demo/lexicon/{lang}")
    consonants = script.consonants.split()
    vowels = [v.replace("-", "") for v in script.vowels.split()]
    if len(vowels) > 1:  # syllabic scripts (CJK, Hangul) keep all their syllables
        consonants = rng.sample(consonants, min(len(consonants), rng.randint(10, 14)))
    vowels = rng.sample(vowels, min(len(vowels), rng.randint(3, 5)))
    if script.extra_consonants:
        consonants += rng.sample(script.extra_consonants.split(), rng.randint(0, 1))
    if script.extra_vowels:
        vowels += rng.sample(script.extra_vowels.split(), rng.randint(0, 2))
    syllables = sorted({c + v for c in consonants for v in vowels})
    used: set[str] = set()

    def words(count: int, low: int, high: int, suffix: str = "", capital: bool = False) -> tuple[str, ...]:
        found: list[str] = []
        for _ in range(1000 * count):
            word = "".join(rng.choice(syllables) for _ in range(rng.randint(low, high))) + suffix
            word = _capitalize(word, capital and script.cased)
            if word not in used:
                used.add(word)
                found.append(word)
                if len(found) == count:
                    return tuple(found)
        raise RuntimeError(f"cannot build {count} distinct pseudo-words for {lang!r}")

    verb_suffix, adj_suffix = rng.sample(syllables, 2)
    titles = words(6, 2, 2, capital=True)
    titles = tuple(t + "." if i < 2 and script.cased else t for i, t in enumerate(titles))
    org_heads = words(4, 2, 3, capital=True)
    loc_heads = words(3, 2, 2, capital=True)
    return _Lexicon(
        determiners=words(5, 1, 1),
        nouns=words(40, 2, 3),
        verbs=words(25, 1, 2, suffix=verb_suffix),
        adjectives=words(15, 1, 2, suffix=adj_suffix),
        prepositions=words(8, 1, 2),
        conjunctions=words(5, 1, 1),
        loc_prepositions=words(4, 1, 2),
        titles=titles,
        particles=words(2, 1, 2),
        org_patterns=tuple(f"{h} {{}}" if rng.random() < 0.5 else f"{{}} {h}" for h in org_heads)
        + ("{} FC",),
        loc_patterns=tuple(f"{h} {{}}" if rng.random() < 0.5 else f"{{}} {h}" for h in loc_heads),
        local_first=words(15, 2, 3, capital=True),
        local_last=words(15, 2, 4, capital=True),
        local_cities=words(12, 2, 4, capital=True),
        local_orgs=tuple(
            f"{a} {b}" for a, b in zip(words(6, 2, 3, capital=True), rng.choices(org_heads, k=6), strict=True)
        ),
        order=rng.choice(("SVO", "SVO", "SOV", "VSO")),
        det_first=rng.random() < 0.5,
        adj_first=rng.random() < 0.5,
        full_stop=script.full_stop,
        comma=script.comma,
        cased=script.cased,
    )


def _pseudo_variant(lang: str, name: str) -> str:
    """A deterministic local form of a shared name for a language without a hand-written lexicon.

    Latin-script languages keep most names and respell the others a little;
    other scripts transliterate most names token by token (consistently, so
    that "City" reads the same in "Sioux City" and "Mexico City").
    """
    script_name = LANGUAGE_SCRIPTS.get(lang, "latin")
    rng = random.Random(f"xner.demo/variant/{lang}/{name}")
    if script_name == "latin":
        if rng.random() < 0.65 or name.isupper():
            return name
        rules = [
            (a, b)
            for a, b in (("c", "k"), ("w", "v"), ("y", "i"), ("ph", "f"), ("th", "t"), ("x", "ks"))
            if a in name
        ]
        if rules:
            old, new = rng.choice(rules)
            return name.replace(old, new)
        return name + rng.choice("aoi") if name[-1] not in "aeiou" else name
    if rng.random() < 0.25 or name.isupper():
        return name
    script = SCRIPTS[script_name]
    syllables = [c + v.replace("-", "") for c in script.consonants.split() for v in script.vowels.split()]
    tokens = []
    for token in name.split():
        token_rng = random.Random(f"xner.demo/transliterate/{lang}/{token}")
        word = "".join(token_rng.choice(syllables) for _ in range(max(1, min(4, len(token) // 3))))
        tokens.append(_capitalize(word, script.cased))
    return " ".join(tokens)


def _profile(lang: str) -> _Profile:
    """The language profile of ``lang``; ``ValueError`` if it is not a PAN-X language."""
    _check_language(lang)
    lex = HANDWRITTEN.get(lang) or _pseudo_lexicon(lang)
    variants = dict(lex.variants)

    def names(shared: Sequence[str], local: Sequence[str] = ()) -> tuple[Name, ...]:
        if lang in HANDWRITTEN:
            forms = [variants.get(name, name) for name in shared]
        else:
            forms = [_pseudo_variant(lang, name) for name in shared]
        return tuple(dict.fromkeys(tuple(form.split()) for form in [*forms, *local]))

    return _Profile(
        lang=lang,
        lex=lex,
        first_names=names(FIRST_NAMES, lex.local_first),
        surnames=names(SURNAMES, lex.local_last),
        cities=names(CITIES, lex.local_cities),
        countries=names(COUNTRIES),
        organisations=names(ORGANISATIONS, lex.local_orgs),
        org_words=names(ORG_WORDS),
        nicknames=names(NICKNAMES),
    )


# --------------------------------------------------------------------------- #
# Entities and phrases.                                                        #
# --------------------------------------------------------------------------- #


def _tagged(tokens: Sequence[str], etype: str | None) -> Sentence:
    """Tag tokens as one entity of type ``etype`` (IOB2), or all O when ``etype`` is None."""
    if etype is None:
        return [(token, "O") for token in tokens]
    return [(token, ("B-" if i == 0 else "I-") + etype) for i, token in enumerate(tokens)]


def _fill(pattern: str, base: Name) -> list[str]:
    return [token for part in pattern.split() for token in (base if part == "{}" else (part,))]


def _person(rng: random.Random, p: _Profile) -> list[str]:
    """1-3 tokens: a surname, a first name and surname, or with a second name or particle."""
    r = rng.random()
    last = rng.choice(p.surnames)
    if r < 0.2:
        return list(last)
    first = rng.choice(p.first_names)
    if r < 0.8:
        return [*first, *last][:3]
    middle = rng.choice(p.lex.particles) if rng.random() < 0.5 else rng.choice(p.first_names)[0]
    return [*first, middle, *last][:3]


def _location(rng: random.Random, p: _Profile, kind: str | None = None) -> list[str]:
    """1-3 tokens: a city, a country, or a pattern such as "Lake Victoria" or "Mto Rufiji"."""
    kind = kind or rng.choices(("city", "country", "pattern"), weights=(45, 30, 25))[0]
    if kind == "city":
        return list(rng.choice(p.cities))
    if kind == "country":
        return list(rng.choice(p.countries))
    pattern = rng.choice(p.lex.loc_patterns)
    room = 3 - (len(pattern.split()) - 1)
    bases = [name for name in (*p.cities, *p.surnames) if len(name) <= room]
    return _fill(pattern, rng.choice(bases))


def _organisation(rng: random.Random, p: _Profile) -> list[str]:
    """1-4 tokens: a known organisation, a club ("Sioux City Musketeers"), or a name with a suffix."""
    r = rng.random()
    if r < 0.3:
        return list(rng.choice(p.organisations))[:4]
    if r < 0.5:
        city = rng.choice([name for name in p.cities if len(name) <= 2])
        return [*city, *rng.choice(p.nicknames)]
    pattern = rng.choice(p.lex.org_patterns)
    room = 4 - (len(pattern.split()) - 1)
    bases = [name for name in (*p.cities, *p.surnames, *p.org_words) if len(name) <= room]
    base = rng.choice(bases)
    if len(base) < room and rng.random() < 0.2:
        base = (*rng.choice(p.org_words), *base)
    return _fill(pattern, base)


ENTITY_MAKERS: dict[str, Callable[[random.Random, _Profile], list[str]]] = {
    "PER": _person,
    "ORG": _organisation,
    "LOC": _location,
}


def _entity(rng: random.Random, p: _Profile, etype: str) -> Sentence:
    return _tagged(ENTITY_MAKERS[etype](rng, p), etype)


def _entity_phrase(rng: random.Random, p: _Profile, etype: str) -> Sentence:
    """An entity in a clause, often after its cue (a title, a determiner), and now and then quoted."""
    cue: list[str] = []
    if etype == "PER" and rng.random() < 0.35:
        cue = [rng.choice(p.lex.titles)]
    elif etype == "ORG" and p.lex.det_first and rng.random() < 0.2:
        cue = [p.lex.determiners[0]]
    entity = _entity(rng, p, etype)
    if rng.random() < 0.03:
        quote = rng.choice(QUOTES)
        entity = [(quote, "O"), *entity, (quote, "O")]
    return _tagged(cue, None) + entity


def _noun_phrase(rng: random.Random, p: _Profile) -> Sentence:
    lex = p.lex
    words = [rng.choice(lex.nouns)]
    if rng.random() < 0.3:
        adjective = rng.choice(lex.adjectives)
        words = [adjective, *words] if lex.adj_first else [*words, adjective]
    if rng.random() < 0.6:
        determiner = rng.choice(lex.determiners)
        words = [determiner, *words] if lex.det_first else [*words, determiner]
    return _tagged(words, None)


def _year(rng: random.Random) -> str:
    return str(rng.randint(1800, 2020))


def _clause(rng: random.Random, p: _Profile, pending: list[str]) -> Sentence:
    """Subject, verb, object and an optional prepositional phrase, taking entities from ``pending``."""

    def slot() -> Sentence:
        if pending and (pending[0] != "LOC" or rng.random() < 0.2) and rng.random() < 0.85:
            return _entity_phrase(rng, p, pending.pop(0))
        return _noun_phrase(rng, p)

    subject = slot()
    verb = _tagged([rng.choice(p.lex.verbs)], None)
    obj = slot() if rng.random() < 0.8 else []
    extra: Sentence = []
    if pending and pending[0] == "LOC":
        pending.pop(0)
        place = _entity(rng, p, "LOC")
        bare = rng.random() < 0.15 and not (obj and obj[-1][1] != "O")  # never right after another entity
        extra = place if bare else _tagged([rng.choice(p.lex.loc_prepositions)], None) + place
    elif rng.random() < 0.35:
        tail = _tagged([_year(rng)], None) if rng.random() < 0.3 else _noun_phrase(rng, p)
        extra = _tagged([rng.choice(p.lex.prepositions)], None) + tail
    if p.lex.order == "SOV":
        return subject + obj + extra + verb
    if p.lex.order == "VSO":
        return verb + subject + obj + extra
    return subject + verb + obj + extra


def _awkward_phrase(rng: random.Random, p: _Profile, token: str) -> Sentence:
    """A few O-tagged words around an awkward token, e.g. ``( NA )`` or ``population : null``."""
    noun = rng.choice(p.lex.nouns)
    if token in MISSING_VALUES:
        words = ["(", token, ")"] if rng.random() < 0.5 else [p.lex.comma, noun, ":", token]
    elif token in QUOTES:
        words = [token, *[w for w, _ in _noun_phrase(rng, p)], token]
    elif token == "3:15":
        words = [rng.choice(p.lex.prepositions), token]
    elif token == "#":
        words = [token, str(rng.randint(1, 99))]
    elif token == "-":
        words = [token, noun]
    else:  # ":" and "::"
        words = [noun, token, rng.choice(p.lex.nouns)]
    return _tagged(words, None)


def _template_sentence(
    rng: random.Random, p: _Profile, length: int, n_entities: int, awkward: str | None
) -> Sentence:
    """Clauses joined by conjunctions until at least ``length`` words, holding ``n_entities`` entities."""
    pending = rng.choices(("PER", "ORG", "LOC"), weights=(35, 30, 35), k=n_entities)
    sentence: Sentence = []
    boundaries: list[int] = []
    while len(sentence) < length - 1 or pending:
        if sentence:
            joiner = p.lex.comma if rng.random() < 0.3 else rng.choice(p.lex.conjunctions)
            sentence.append((joiner, "O"))
        sentence += _clause(rng, p, pending)
        boundaries.append(len(sentence))
    if awkward is not None:
        at = rng.choice(boundaries)
        sentence[at:at] = _awkward_phrase(rng, p, awkward)
    if length >= LONG_MIN or rng.random() < 0.92:
        sentence.append((p.lex.full_stop, "O"))
    token, tag = sentence[0]
    if tag == "O":
        sentence[0] = (_capitalize(token, p.lex.cased), tag)
    return sentence


def _fragment(rng: random.Random, p: _Profile) -> Sentence:
    """A short fragment that is mostly an entity: "Paris , France", "Sioux City Musketeers", ..."""
    shape = rng.choices(
        ("single", "place", "paren", "quoted", "list", "labelled", "bullet"), weights=(40, 15, 14, 7, 8, 9, 7)
    )[0]
    etype = rng.choices(("PER", "ORG", "LOC"), weights=(30, 40, 30))[0]
    entity = _entity(rng, p, etype)
    comma = [(p.lex.comma, "O")]
    if shape == "place":
        return (
            _tagged(_location(rng, p, "city"), "LOC") + comma + _tagged(_location(rng, p, "country"), "LOC")
        )
    if shape == "paren":
        if etype == "PER":
            start = rng.randint(1800, 1960)
            inside = _tagged([str(start), "–", str(start + rng.randint(20, 90))], None)
        elif rng.random() < 0.5:
            inside = _tagged([rng.choice(p.lex.nouns)], None)
        else:
            inside = _entity(rng, p, "LOC")
        return entity + [("(", "O")] + inside + [(")", "O")]
    if shape == "quoted":
        quote = [(rng.choice(QUOTES), "O")]
        return quote + entity + quote
    if shape == "list":
        items = [entity] + [_entity(rng, p, etype) for _ in range(rng.randint(1, 2))]
        return [token for i, item in enumerate(items) for token in (comma if i else []) + item]
    if shape == "labelled":
        return _tagged([rng.choice(p.lex.nouns), ":"], None) + entity
    if shape == "bullet":
        return [("*", "O")] + entity
    return entity


# --------------------------------------------------------------------------- #
# Sentences of one language and split.                                         #
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class _Spec:
    """What one sentence will be: a fragment, or a template sentence of at least ``length`` words."""

    fragment: bool
    length: int = 0
    awkward: str | None = None


def _template_length(rng: random.Random) -> int:
    r = rng.random()
    if r < 1 / LONG_RATE:
        return rng.randint(LONG_MIN + 1, 170)
    if r < 0.06:
        return rng.randint(30, 60)
    return round(rng.triangular(5, 18, 5))


def _plan(rng: random.Random, n: int) -> list[_Spec]:
    """Decide the shape of each sentence, then make sure the rare cases occur in large splits."""
    specs = [
        _Spec(fragment=True)
        if rng.random() < FRAGMENT_RATE
        else _Spec(
            fragment=False,
            length=_template_length(rng),
            awkward=rng.choice(AWKWARD_TOKENS) if rng.random() < 0.06 else None,
        )
        for _ in range(n)
    ]
    if n >= LONG_GUARANTEE_MIN and not any(spec.length >= LONG_MIN for spec in specs):
        at = rng.randrange(n)
        specs[at] = _Spec(fragment=False, length=rng.randint(LONG_MIN + 1, 170), awkward=specs[at].awkward)
    if n >= AWKWARD_GUARANTEE_MIN:
        for token, at in zip(AWKWARD_TOKENS, rng.sample(range(n), len(AWKWARD_TOKENS)), strict=True):
            length = specs[at].length or _template_length(rng)
            specs[at] = replace(specs[at], fragment=False, length=length, awkward=token)
    return specs


def _n_entities(rng: random.Random, length: int) -> int:
    if length <= 30:
        return rng.choices((0, 1, 2, 3), weights=(8, 30, 37, 25))[0]
    return rng.randint(2, 3 + length // 12)


def _check_sentence(sentence: Sentence) -> None:
    """Raise ``RuntimeError`` if a generated sentence breaks the format (a bug in this module)."""
    if not sentence:
        raise RuntimeError("generated an empty sentence")
    previous = "O"
    for token, tag in sentence:
        if not token or token != token.strip() or any(c in token for c in "\t\r\n"):
            raise RuntimeError(f"generated an illegal token {token!r}")
        if tag != "O" and not (tag[:2] in ("B-", "I-") and tag[2:] in ENTITY_MAKERS):
            raise RuntimeError(f"generated an unknown tag {tag!r}")
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            raise RuntimeError(f"generated {tag} after {previous}")
        previous = tag


def _generate(p: _Profile, split: str, n: int, seed: int) -> list[Sentence]:
    rng = random.Random(f"{seed}/{p.lang}/{split}")
    sentences = []
    for spec in _plan(rng, n):
        if spec.fragment:
            sentence = _fragment(rng, p)
        else:
            sentence = _template_sentence(rng, p, spec.length, _n_entities(rng, spec.length), spec.awkward)
        _check_sentence(sentence)
        sentences.append(sentence)
    return sentences


def generate_sentences(lang: str, split: str, n: int, seed: int) -> list[list[tuple[str, str]]]:
    """``n`` synthetic sentences (lists of ``(token, tag)``) for one language and split.

    The result depends only on the arguments. ``split`` only seeds the random
    generator (``train``, ``dev``, ``test`` and ``extra`` draw from the same
    distribution). Raises ``ValueError`` for a language that PAN-X lacks or a
    negative ``n``.
    """
    if n < 0:
        raise ValueError(f"cannot generate {n} sentences")
    return _generate(_profile(lang), split, n, seed)


# --------------------------------------------------------------------------- #
# The archive.                                                                 #
# --------------------------------------------------------------------------- #


def _format_member(lang: str, sentences: Sequence[Sentence]) -> bytes:
    """The raw PAN-X text of one split: ``lang:token<TAB>tag`` lines, blank lines between sentences."""
    blocks = ("\n".join(f"{lang}:{token}\t{tag}" for token, tag in sentence) for sentence in sentences)
    return ("\n\n".join(blocks) + "\n").encode("utf-8")


def _tar_bytes(members: dict[str, bytes]) -> bytes:
    """An uncompressed tar of ``members`` in sorted order, with reproducible headers."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT, encoding="utf-8") as tar:
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size = len(members[name])
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            tar.addfile(info, io.BytesIO(members[name]))
    return buffer.getvalue()


def _gzip_bytes(data: bytes) -> bytes:
    """Gzip ``data`` with no file name and mtime 0 in the header."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buffer, mtime=0) as gz:
        gz.write(data)
    return buffer.getvalue()


def language_archive(lang: str, settings: DemoSettings = DEFAULT_SETTINGS) -> bytes:
    """The bytes of ``{lang}.tar.gz``: members dev, extra, test and train of one language."""
    profile = _profile(lang)
    sizes = settings.split_sizes()
    members = {
        split: _format_member(lang, _generate(profile, split, n, settings.seed)) for split, n in sizes.items()
    }
    logger.info("demo data %s: %s sentences", lang, ", ".join(f"{split} {n}" for split, n in sizes.items()))
    return _gzip_bytes(_tar_bytes(members))


def write_panx_archive(out: str | Path, settings: DemoSettings = DEFAULT_SETTINGS) -> None:
    """Write ``panx_dataset.tar`` for ``settings.languages`` to ``out``, atomically.

    Same settings, same bytes. The outer tar is uncompressed and holds
    ``{lang}.tar.gz`` per language in sorted order.
    """
    members = {f"{lang}.tar.gz": language_archive(lang, settings) for lang in sorted(settings.languages)}
    with atomic_path(out) as tmp:
        tmp.write_bytes(_tar_bytes(members))
