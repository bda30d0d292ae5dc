# Helpers shared by the rules: settings derived from the validated config.
import re
import shlex

from xner.config import training_mixtures

LANGUAGES = config["data"]["languages"]
SPLITS = ["train", "val", "test"]
MIXTURES = ["+".join(mixture) for mixture in training_mixtures(config)]


wildcard_constraints:
    lang=r"[a-z]+(?:-[a-z]+)*",
    split=r"train|dev|test|val",


def is_url(path):
    return re.match(r"^[a-z][a-z0-9+.-]*://", path or "") is not None


def download_input(wildcards):
    """The local files a language's download reads, so that Snakemake tracks them."""
    source, path = config["data"]["source"], config["data"]["path"]
    if source == "huggingface":
        return []
    if source == "local":
        found = []
        for split in ("train", "dev", "test"):
            base = Path(path) / f"{split}-{wildcards.lang}.tsv"
            gz = base.with_name(f"{base.name}.gz")
            # Neither present: Snakemake reports the missing .tsv before any job starts.
            found += [p for p in (base, gz) if p.exists()] or [base]
        return [str(p) for p in found]
    # panx_dataset
    if "{lang}" in path:
        return [] if is_url(path) else [path.format(lang=wildcards.lang)]
    if is_url(path):
        return ["results/raw/panx_dataset.tar"]
    if Path(path).is_dir():
        return [str(Path(path) / f"{wildcards.lang}.tar.gz")]
    return [path]


def download_path_option(wildcards, input):
    """`--path ...` for `xner download`: the fetched archive for a URL, else data.path (none for the hub)."""
    path = config["data"]["path"]
    if config["data"]["source"] == "huggingface" or not path:
        return ""
    if (
        config["data"]["source"] == "panx_dataset"
        and is_url(path)
        and "{lang}" not in path
    ):
        path = input[0]
    return f"--path {shlex.quote(path)}"
