"""The speed table's inputs for `make gpu-check`: train and val tables, and random models of published shapes.

The GPU machine has no network, so the study's hub models cannot be fetched there; random weights of
their shapes time the same (``xner/models/architectures.py``). The sentences are the demo's synthetic English.

    python tests/gpu/speed_inputs.py OUT_DIR --sentences N ARCHITECTURE ...

Writes OUT_DIR/train.parquet, OUT_DIR/val.parquet and OUT_DIR/models/{architecture}/.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from xner.io import sentences_table, write_parquet
from xner.labels import LABELS
from xner.models.architectures import ARCHITECTURES
from xner.synthetic.models import build_model, train_tokenizer
from xner.synthetic.panx import generate_sentences


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("architectures", nargs="+", choices=sorted(ARCHITECTURES))
    parser.add_argument("--sentences", type=int, default=16000)
    args = parser.parse_args(argv)
    tables, tokens = {}, []
    for split, n in (("train", args.sentences), ("val", max(100, args.sentences // 4))):
        pairs = generate_sentences("en", split, n, seed=11)
        words, tags = [[w for w, _ in s] for s in pairs], [[t for _, t in s] for s in pairs]
        tables[args.out / f"{split}.parquet"] = sentences_table(list(range(n)), "en", words, tags)
        tokens += words
    write_parquet(tables)
    for name in args.architectures:
        architecture = ARCHITECTURES[name]
        tokenizer = train_tokenizer(tokens, architecture.tokenizer_family, architecture.tokenizer_vocab)
        model = build_model(architecture, tokenizer, len(LABELS))
        model.save_pretrained(args.out / "models" / name)
        tokenizer.save_pretrained(args.out / "models" / name)
        print(f"{name}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters")


if __name__ == "__main__":
    main()
