"""A Hugging Face cache filled by a test, laid out as huggingface_hub lays it out, so that the real
library reads it offline (HF_HUB_OFFLINE=1); shared by the model tests and the end-to-end tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def fill_hub_cache(hf_home: Path, repo_id: str, files: dict[str, bytes], commit: str = COMMIT) -> Path:
    """A model in the Hugging Face cache as huggingface_hub lays it out (blobs, snapshot links, refs/main)."""
    repo = hf_home / "hub" / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    snapshot.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        (snapshot / name).symlink_to(Path("..") / ".." / "blobs" / blob.name)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    return snapshot
