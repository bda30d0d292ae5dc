"""make gpu-wheels: the wheels the GPU machine lacks, into DIR (default .gpu-wheels/, ignored by git).

The GPU machine (device tool library, KINDS.md) has python3 = CPython 3.12 with torch, transformers,
pandas, pyarrow, scikit-learn, pytest and more, but no snakemake, no seqeval and no package registry.
This takes snakemake, seqeval and jsonschema with every requirement they pull in, at the versions
installed in this checkout's environment, leaves out what that machine already has (and never
torch), and saves for each the published wheel for CPython 3.12 on manylinux x86_64, or, for a
package published as a source archive only, a wheel built here (pure Python). `make gpu-check`
installs them there with `pip install --no-index --no-deps --target .gpu-site`, seen by the system's python3.

    python tests/gpu/wheels.py [DIR]
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

WANT = ("snakemake", "seqeval", "jsonschema")
PYTHON_VERSION = "3.12"
PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
)
# On the GPU machine already (KINDS.md, 2026-11-17): never carried, even when a requirement names them.
HAVE = set(
    """attrs certifi charset-normalizer click filelock fsspec huggingface-hub idna jinja2 joblib markupsafe
    numpy packaging pandas pip platformdirs psutil pyarrow pygments pyyaml requests rich scikit-learn scipy
    setuptools six tabulate threadpoolctl torch tqdm transformers typing-extensions urllib3 wheel wrapt
    pytest pluggy iniconfig tokenizers safetensors regex protobuf sentencepiece""".split()
)
LIMIT_MIB = 40  # the wheels travel with the working tree, 64 MiB in all


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(names: tuple[str, ...]) -> dict[str, str]:
    """The installed distributions that ``names`` need, recursively (extras left out): name -> version."""
    found: dict[str, str] = {}
    todo = list(names)
    while todo:
        name = canonical(todo.pop())
        if name in found or name in HAVE:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement for another platform or Python
        found[name] = dist.version
        for requirement in dist.requires or []:
            if "extra ==" in requirement:
                continue
            marker_free = requirement.split(";")[0]
            todo.append(re.split(r"[\s<>=!~\[(]", marker_free.strip(), maxsplit=1)[0])
    return found


def fetch(name: str, version: str, dest: Path) -> str:
    pip = [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check"]
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    binary = [*pip, "download", "--no-deps", "--only-binary=:all:", "--python-version", PYTHON_VERSION,
              "--implementation", "cp", *platforms, "--dest", str(dest), f"{name}=={version}"]  # fmt: skip
    if subprocess.run(binary, capture_output=True, text=True).returncode == 0:
        return "published wheel"
    built = [*pip, "wheel", "--no-deps", "--wheel-dir", str(dest), f"{name}=={version}"]
    result = subprocess.run(built, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"gpu-wheels: no wheel for {name}=={version}:\n{result.stderr[-2000:]}")
    return "built here (source archive only)"


def main(argv: list[str]) -> int:
    dest = Path(argv[0] if argv else ".gpu-wheels")
    work = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name, version in sorted(closure(WANT).items()):
        print(f"{name}=={version}: {fetch(name, version, work)}")
    tag = f"cp{PYTHON_VERSION.replace('.', '')}"
    fits = re.compile(rf"-(py2\.py3|py3)-none-any\.whl$|-{tag}-({tag}|abi3)-|-cp3\d+-abi3-")
    wrong = [w.name for w in work.glob("*.whl") if not fits.search(w.name)]
    if wrong:
        raise SystemExit(f"gpu-wheels: wheels for another Python than {PYTHON_VERSION}: {', '.join(wrong)}")
    size = sum(w.stat().st_size for w in work.glob("*.whl")) / 2**20
    if size > LIMIT_MIB:
        raise SystemExit(f"gpu-wheels: {size:.1f} MiB of wheels, more than {LIMIT_MIB} MiB can travel")
    shutil.rmtree(dest, ignore_errors=True)
    work.rename(dest)
    print(
        f"{len(list(dest.glob('*.whl')))} wheels, {size:.1f} MiB, in {dest} (CPython {PYTHON_VERSION}, manylinux x86_64)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
