"""The workflow on a SLURM cluster: what the Snakemake process needs beyond the profile.

:func:`use_sacct_state_filter` puts ``profiles/slurm/bin`` first on ``PATH`` where ``sacct`` exists.
Its ``sacct`` reports a job cancelled with ``scancel`` as ``CANCELLED`` rather than ``CANCELLED by
<uid>``, the only form snakemake-executor-plugin-slurm (2.4.0 to 2.8.0 at least) recognises as an end
(docs/slurm-plugin-cancelled.md); without it Snakemake waits for such a job for ever.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def use_sacct_state_filter(bin_dir: str | Path) -> bool:
    """Put ``bin_dir`` (holding the filtering ``sacct``) first on this process's ``PATH``, which the
    SLURM executor's status queries inherit, if a real ``sacct`` is there to filter; whether it did."""
    bin_dir = str(Path(bin_dir).resolve())
    path = os.environ.get("PATH", "")
    if bin_dir in path.split(os.pathsep):
        return True
    if shutil.which("sacct", path=path) is None:
        return False
    os.environ["PATH"] = os.pathsep.join([bin_dir, path]) if path else bin_dir
    return True
