"""The languages of the synthetic PAN-X data: hand-written lexicons for en, de and sw, pseudo-words
built from a script's syllables for every other language, and the entity names they share.

Pure data and pure functions of the language code (random generators seeded with strings).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from xner.labels import PANX_LANGUAGES


def check_language(lang: str) -> None:
    if lang not in PANX_LANGUAGES:
        raise ValueError(f"unknown PAN-X language {lang!r}: not one of the {len(PANX_LANGUAGES)} in PAN-X")


Name = tuple[str, ...]
"""A name as its tokens, e.g. ``("New", "York")``."""


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
class Lexicon:
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


EN = Lexicon(
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

DE = Lexicon(
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

SW = Lexicon(
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

HANDWRITTEN: dict[str, Lexicon] = {"en": EN, "de": DE, "sw": SW}


@dataclass(frozen=True)
class Script:
    """Letters to build pseudo-words from; '-' in ``vowels`` stands for no vowel sign."""

    consonants: str
    vowels: str
    extra_consonants: str = ""  # a language may add one or two of these (non-ASCII letters)
    extra_vowels: str = ""
    cased: bool = True
    full_stop: str = "."
    comma: str = ","


SCRIPTS: dict[str, Script] = {
    "latin": Script(
        "b c d f g h j k l m n p r s t v w y z sh ch ny ng kh",
        "a e i o u",
        extra_consonants="ñ ł ş ç ž ß",
        extra_vowels="á é í ó ú ä ö ü ø å ā ē",
    ),
    "cyrillic": Script("б в г д ж з к л м н п р с т ф х ц ч ш", "а е и о у ы я ю"),
    "greek": Script("β γ δ ζ θ κ λ μ ν ξ π ρ σ τ φ χ", "α ε η ι ο υ ω"),
    "arabic": Script("ب ت ث ج ح خ د ذ ر ز س ش ص ط ع غ ف ق ك ل م ن ه", "- ا و ي", cased=False, comma="،"),
    "hebrew": Script("ב ג ד ה ז ח ט כ ל מ נ ס פ צ ק ר ש ת", "- ו י א", cased=False),
    "devanagari": Script("क ख ग च ज ट ड त द न प ब म य र ल व स ह", "- ा ि ी ु े ो", cased=False, full_stop="।"),
    "bengali": Script("ক খ গ চ জ ট ড ত দ ন প ব ম য র ল স হ", "- া ি ী ু ে ো", cased=False, full_stop="।"),
    "tamil": Script("க ங ச ஞ ட ண த ந ப ம ய ர ல வ", "- ா ி ீ ு ெ ொ", cased=False),
    "georgian": Script("ბ გ დ ვ ზ თ კ ლ მ ნ პ რ ს ტ ფ ქ ღ შ ჩ ც ძ ხ", "ა ე ი ო უ", cased=False),
    "armenian": Script("բ գ դ զ թ լ խ կ հ մ յ ն շ պ ռ ս վ տ ր ց", "ա ե ի ո"),
    "thai": Script("ก ข ค ง จ ช ด ต ท น บ ป พ ม ย ร ล ว ส ห", "- า ิ ี ุ ู", cased=False),
    "hangul": Script(
        "가 나 다 라 마 바 사 아 자 차 카 타 파 하 고 노 도 로 모 보 소 오 조 "
        "구 누 두 루 무 부 수 우 주 기 니 디 리 미 비 시 이 지 한 민 국 서 울 대 학 교 회",
        "-",
        cased=False,
    ),
    "cjk": Script(
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
class Profile:
    """Everything the generator needs about one language."""

    lang: str
    lex: Lexicon
    first_names: tuple[Name, ...]
    surnames: tuple[Name, ...]
    cities: tuple[Name, ...]
    countries: tuple[Name, ...]
    organisations: tuple[Name, ...]
    org_words: tuple[Name, ...]
    nicknames: tuple[Name, ...]


def capitalize(word: str, cased: bool) -> str:
    return word[:1].upper() + word[1:] if cased else word


def pseudo_lexicon(lang: str) -> Lexicon:
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
            word = capitalize(word, capital and script.cased)
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
    return Lexicon(
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


def pseudo_variant(lang: str, name: str) -> str:
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
        tokens.append(capitalize(word, script.cased))
    return " ".join(tokens)


def language_profile(lang: str) -> Profile:
    """The language profile of ``lang``; ``ValueError`` if it is not a PAN-X language."""
    check_language(lang)
    lex = HANDWRITTEN.get(lang) or pseudo_lexicon(lang)
    variants = dict(lex.variants)

    def names(shared: Sequence[str], local: Sequence[str] = ()) -> tuple[Name, ...]:
        if lang in HANDWRITTEN:
            forms = [variants.get(name, name) for name in shared]
        else:
            forms = [pseudo_variant(lang, name) for name in shared]
        return tuple(dict.fromkeys(tuple(form.split()) for form in [*forms, *local]))

    return Profile(
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
