"""Downloading a URL: atomically (a temporary file beside the destination, renamed when complete),
with a progress bar, a sha256, and retries of what may go away by trying again (connection errors,
timeouts, incomplete bodies, HTTP 5xx and 429), through :mod:`xner.retry`."""

from __future__ import annotations

import hashlib
import http.client
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from xner import __version__
from xner.errors import DownloadError
from xner.io import atomic_path, write_text
from xner.retry import RetryPolicy, retry, short

_CHUNK = 1 << 20


def fetch_url(
    url: str, dest: str | Path, *, retries: int = 3, timeout: float = 60.0, backoff: float = 2.0
) -> str:
    """Download url to dest atomically (temp file in dest's dir, then rename), retrying transient
    failures; write `dest.sha256` beside it (`<hex>  <name>\\n`); return the hex sha256.

    Connection errors, timeouts, incomplete bodies and HTTP 5xx/429 answers are
    retried (``retries`` attempts in all, waiting ``backoff``, then twice as long,
    ...); other HTTP errors fail at once. On failure a
    :class:`~xner.errors.DownloadError` names the URL, the attempts and the last
    reason, and neither ``dest`` nor its ``.sha256`` is touched.
    """
    dest = Path(dest)
    digest = fetch(url, dest, RetryPolicy(attempts=max(1, retries), backoff=backoff), timeout)
    write_text(dest.parent / f"{dest.name}.sha256", f"{digest}  {dest.name}\n")
    return digest


def fetch(url: str, dest: Path, policy: RetryPolicy, timeout: float = 60.0) -> str:
    """Download ``url`` to ``dest`` atomically, with retries; return the hex sha256."""
    dest.parent.mkdir(parents=True, exist_ok=True)

    def failure(err: BaseException, attempts: int) -> Exception | None:
        if not isinstance(err, (urllib.error.URLError, http.client.HTTPException, OSError, ValueError)):
            return None
        tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"
        return DownloadError(f"could not download {url} ({tries}): {short(err)}")

    return retry(
        lambda: fetch_once(url, dest, timeout),
        what=f"download of {url}",
        policy=policy,
        transient=is_transient,
        failure=failure,
    )


def fetch_once(url: str, dest: Path, timeout: float) -> str:
    """One attempt of :func:`fetch`: stream into a temporary file beside ``dest``, hash, rename."""
    request = urllib.request.Request(url, headers={"User-Agent": f"xner/{__version__}"})
    digest = hashlib.sha256()
    try:
        with (
            atomic_path(dest) as tmp,
            urllib.request.urlopen(request, timeout=timeout) as response,
            open(tmp, "wb") as out,
        ):
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            received = 0
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=dest.name,
                disable=None,
                leave=False,
            ) as bar:
                while chunk := response.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            if total is not None and received < total:
                # http.client does not complain when the server closes the connection early.
                raise http.client.IncompleteRead(b"", total - received)
    except urllib.error.HTTPError as err:
        err.close()
        raise
    return digest.hexdigest()


def is_transient(err: BaseException) -> bool:
    """Whether a urllib error may go away by trying again."""
    if isinstance(err, urllib.error.HTTPError):
        return err.code >= 500 or err.code == 429
    if isinstance(err, urllib.error.URLError):
        # A missing file:// path or an unknown scheme will not appear by waiting.
        return isinstance(err.reason, OSError) and not isinstance(
            err.reason, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)
        )
    return isinstance(err, (http.client.HTTPException, ConnectionError, TimeoutError))
