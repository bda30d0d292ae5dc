#!/usr/bin/env bash
# make gpu-check [SMOKE=1] [OUT=DIR]: run tests/gpu/gpu_check.py with a Python that has everything.
# Here: this checkout's .venv (make setup). On the GPU machine (no network): its python3, which holds
# torch (and is itself a venv there, so a --system-site-packages venv made from it would not see its
# packages), with the wheels of `make gpu-wheels` installed from .gpu-wheels/ without an index into
# .gpu-site/, first on PYTHONPATH. Torch is never installed or replaced.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -x .venv/bin/python ] && .venv/bin/python -c "import torch, snakemake, seqeval" 2>/dev/null; then
    PY=.venv/bin/python
else
    if [ ! -d .gpu-wheels ]; then
        echo "gpu-check: no .gpu-wheels/: run 'make gpu-wheels' where pip works and carry the folder" >&2
        exit 1
    fi
    python3 -m pip install --quiet --no-index --no-deps --no-compile --disable-pip-version-check \
        --upgrade --target .gpu-site .gpu-wheels/*.whl
    export PYTHONPATH="$PWD/.gpu-site${PYTHONPATH:+:$PYTHONPATH}"
    PY=python3
fi
exec "$PY" tests/gpu/gpu_check.py ${SMOKE:+--smoke} ${OUT:+--out "$OUT"}
