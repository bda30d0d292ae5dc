"""Retrying network operations, and describing their errors in one line (downloads and models).

:func:`retry` calls an action until it succeeds or a non-transient error
comes; :func:`hub_transient` says which Hugging Face hub errors may go away by
trying again; :func:`short` describes an error by its root cause.
"""

from __future__ import annotations

import http.client
import logging
import time
import urllib.error
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from huggingface_hub import constants as hf_constants
from huggingface_hub.utils import (
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Exception classes of the HTTP clients huggingface_hub may use (httpx, requests),
# recognised by name so that neither has to be imported here.
NETWORK_ERROR_NAMES = frozenset(
    {"NetworkError", "TimeoutException", "RemoteProtocolError", "ConnectionError", "Timeout"}
)


@dataclass(frozen=True)
class RetryPolicy:
    """How often to try a network operation, and how long to wait in between."""

    attempts: int = 3
    backoff: float = 2.0  # seconds before the 2nd attempt, doubled for each further one

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return self.backoff * 2 ** (attempt - 1)


def hub_transient(err: BaseException) -> bool:
    """Whether a hub error may go away by trying again (network trouble, 5xx, 429)."""
    permanent = (OfflineModeIsEnabled, RepositoryNotFoundError, RevisionNotFoundError)
    chain = list(causes(err))
    if any(isinstance(e, permanent) for e in chain):
        return False
    if isinstance(err, LocalEntryNotFoundError) and hf_constants.HF_HUB_OFFLINE:
        return False
    for e in chain:
        status = http_status(e)
        if status is not None:
            return status >= 500 or status == 429
        if is_network_error(e):
            return True
    return False


def retry(
    action: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy,
    transient: Callable[[BaseException], bool],
    failure: Callable[[BaseException, int], Exception | None],
) -> T:
    """Call ``action`` until it succeeds, retrying the errors ``transient`` accepts.

    The final error ``err`` after ``n`` attempts is replaced by ``failure(err, n)``
    (raised from it), or re-raised as is when that returns None.
    """
    for attempt in range(1, policy.attempts + 1):
        try:
            return action()
        except Exception as err:
            if attempt < policy.attempts and transient(err):
                delay = policy.delay(attempt)
                logger.warning(
                    "%s failed (attempt %d of %d: %s); retrying in %.3g s",
                    what,
                    attempt,
                    policy.attempts,
                    short(err),
                    delay,
                )
                time.sleep(delay)
                continue
            error = failure(err, attempt)
            if error is None:
                raise
            raise error from err
    raise AssertionError("unreachable: policy.attempts >= 1")


def causes(err: BaseException) -> Iterator[BaseException]:
    """``err`` and the chain of exceptions it was raised from (or while handling)."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def http_status(err: BaseException) -> int | None:
    status = getattr(getattr(err, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def is_network_error(err: BaseException) -> bool:
    if isinstance(err, (ConnectionError, TimeoutError)):
        return True
    return any(cls.__name__ in NETWORK_ERROR_NAMES for cls in type(err).__mro__)


def short(err: BaseException) -> str:
    """A one-line description of an error, preferring its root cause."""
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    if isinstance(err, http.client.IncompleteRead):
        return f"incomplete response ({err.expected} bytes missing)"
    if isinstance(err, urllib.error.URLError):
        return str(err.reason)
    root = list(causes(err))[-1]
    lines = str(root).strip().splitlines()
    text = f"{type(root).__name__}: {lines[0]}" if lines else type(root).__name__
    return text if len(text) <= 200 else text[:197] + "..."
