"""The PAN-X label set (IOB2), the split names and the language codes PAN-X ships.

It imports nothing, so that the Snakefile and the rules can read it without cost.
"""

from __future__ import annotations

# Order matters: it is the integer encoding of google/xtreme's ``ner_tags``
# (O=0, B-PER=1, I-PER=2, B-ORG=3, I-ORG=4, B-LOC=5, I-LOC=6) and the label ids
# of every model xner trains.
LABELS: tuple[str, ...] = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
LABEL_TO_ID: dict[str, int] = {label: i for i, label in enumerate(LABELS)}
ENTITY_TYPES: tuple[str, ...] = ("LOC", "ORG", "PER")

# The PAN-X splits as published, in the order xner writes them (results/data/{lang}/).
PANX_SPLITS: tuple[str, ...] = ("train", "dev", "test")
# The study's splits (results/splits/{lang}/): train and val divide PAN-X train, test is the
# PAN-X split named by config key data.test_split.
STUDY_SPLITS: tuple[str, ...] = ("train", "val", "test")
# The splits a training mixture is made of (trained on train, model selection on val).
TRAINING_SPLITS: tuple[str, ...] = ("train", "val")

# The 40 languages of XTREME's PAN-X task: the configurations ``PAN-X.{lang}``
# of the ``google/xtreme`` dataset on the Hugging Face hub.
XTREME_LANGUAGES: frozenset[str] = frozenset(
    "af ar bg bn de el en es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr "
    "ms my nl pt ru sw ta te th tl tr ur vi yo zh".split()
)

# The 176 languages of the balanced splits of Rahimi et al. (2019), i.e. the
# members ``{lang}.tar.gz`` of the upstream ``panx_dataset.tar`` (the list of
# the ``wikiann`` dataset's configurations).
PANX_LANGUAGES: frozenset[str] = frozenset(
    """
    ace af als am an ang ar arc arz as ast ay az ba bar bat-smg be be-x-old bg
    bh bn bo br bs ca cbk-zam cdo ce ceb ckb co crh cs csb cv cy da de diq dv
    el eml en eo es et eu ext fa fi fiu-vro fo fr frr fur fy ga gan gd gl gn gu
    hak he hi hr hsb hu hy ia id ig ilo io is it ja jbo jv ka kk km kn ko ksh
    ku ky la lb li lij lmo ln lt lv map-bms mg mhr mi min mk ml mn mr ms mt mwl
    my mzn nap nds ne nl nn no nov oc or os pa pdc pl pms pnb ps pt qu rm ro ru
    rw sa sah scn sco sd sh si simple sk sl so sq sr su sv sw szl ta te tg th tk
    tl tr tt ug uk ur uz vec vep vi vls vo wa war wuu xmf yi yo zea zh
    zh-classical zh-min-nan zh-yue
    """.split()
)
