"""Unit tests of xner.retry: the retry loop (attempts, backoff, what it logs, the final error), which hub
errors count as transient, and the one-line description of an error.

Hand-made actions and errors only; the sleep between attempts is recorded instead of slept.
"""

from __future__ import annotations

import http.client
import logging
import time
import urllib.error
from types import SimpleNamespace

import pytest
from huggingface_hub.errors import (
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

import xner.retry
from xner.retry import RetryPolicy, causes, hub_transient, is_network_error, retry, short


class TransientError(Exception):
    """What the tests' ``transient`` predicate retries."""


class PermanentError(Exception):
    """What it does not."""


class FinalError(Exception):
    """What the tests' ``failure`` turns the last error into."""


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The delays xner.retry sleeps, recorded instead of slept."""
    recorded: list[float] = []

    class Clock:
        def sleep(self, seconds: float) -> None:
            recorded.append(seconds)

        def __getattr__(self, name):  # everything else of the time module as it is
            return getattr(time, name)

    monkeypatch.setattr(xner.retry, "time", Clock())
    return recorded


def scripted(*outcomes):
    """An action that raises or returns ``outcomes`` in turn, counting its calls."""
    script = list(outcomes)

    def action():
        action.calls += 1
        outcome = script.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    action.calls = 0
    return action


def is_transient(err: BaseException) -> bool:
    return isinstance(err, TransientError)


class Failures:
    """A ``failure`` callback that records its arguments and returns ``FinalError`` (or None)."""

    def __init__(self, give_up_as_is: bool = False):
        self.calls: list[tuple[BaseException, int]] = []
        self.give_up_as_is = give_up_as_is

    def __call__(self, err: BaseException, attempts: int) -> Exception | None:
        self.calls.append((err, attempts))
        return None if self.give_up_as_is else FinalError(f"gave up after {attempts}")


def run(action, policy: RetryPolicy, failure=None, transient=is_transient, what: str = "fetching x"):
    return retry(action, what=what, policy=policy, transient=transient, failure=failure or Failures())


def retry_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "xner.retry" and r.levelno == logging.WARNING]


# --------------------------------------------------------------------------- #
# RetryPolicy                                                                   #
# --------------------------------------------------------------------------- #


def test_the_default_policy_tries_three_times_waiting_two_then_four_seconds():
    policy = RetryPolicy()
    assert (policy.attempts, policy.backoff) == (3, 2.0)
    assert [policy.delay(n) for n in (1, 2)] == [2.0, 4.0]


def test_the_delay_doubles_after_each_failed_attempt():
    policy = RetryPolicy(attempts=6, backoff=0.5)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert RetryPolicy(backoff=0).delay(4) == 0


# --------------------------------------------------------------------------- #
# retry: attempts and backoff                                                   #
# --------------------------------------------------------------------------- #


def test_a_first_success_is_returned_without_waiting_or_logging(sleeps, caplog):
    action = scripted("result")
    failure = Failures()
    with caplog.at_level(logging.DEBUG, logger="xner.retry"):
        assert run(action, RetryPolicy(attempts=3), failure) == "result"
    assert action.calls == 1
    assert sleeps == [] and failure.calls == []
    assert [r for r in caplog.records if r.name == "xner.retry"] == []


def test_transient_errors_are_retried_with_doubling_waits_until_success(sleeps):
    action = scripted(TransientError("a"), TransientError("b"), TransientError("c"), "done")
    failure = Failures()
    assert run(action, RetryPolicy(attempts=5, backoff=1.5), failure) == "done"
    assert action.calls == 4
    assert sleeps == [1.5, 3.0, 6.0]
    assert failure.calls == []


def test_the_sleep_is_patched_so_long_backoffs_take_no_time(sleeps):
    """The guard for the other tests: a backoff of an hour returns at once, the hour recorded."""
    start = time.monotonic()
    assert run(scripted(TransientError("a"), 7), RetryPolicy(attempts=2, backoff=3600)) == 7
    assert sleeps == [3600]
    assert time.monotonic() - start < 5


def test_transient_errors_every_time_give_up_after_the_policys_attempts(sleeps):
    errors = [TransientError(f"try {n}") for n in (1, 2, 3, 4)]
    action = scripted(*errors)
    failure = Failures()
    with pytest.raises(FinalError, match="gave up after 4") as info:
        run(action, RetryPolicy(attempts=4, backoff=2), failure)
    assert action.calls == 4
    assert sleeps == [2, 4, 8]  # no wait after the last attempt
    assert failure.calls == [(errors[3], 4)]  # the last error, the number of attempts made
    assert info.value.__cause__ is errors[3]


def test_a_permanent_error_is_not_retried(sleeps, caplog):
    error = PermanentError("404")
    action = scripted(error, "never reached")
    failure = Failures()
    with caplog.at_level(logging.DEBUG, logger="xner.retry"), pytest.raises(FinalError) as info:
        run(action, RetryPolicy(attempts=5), failure)
    assert action.calls == 1
    assert sleeps == [] and retry_warnings(caplog) == []
    assert failure.calls == [(error, 1)]
    assert info.value.__cause__ is error


def test_a_permanent_error_after_transient_ones_stops_the_retries(sleeps):
    permanent = PermanentError("gone")
    action = scripted(TransientError("busy"), permanent, "never reached")
    failure = Failures()
    with pytest.raises(FinalError, match="gave up after 2"):
        run(action, RetryPolicy(attempts=5, backoff=1), failure)
    assert action.calls == 2
    assert sleeps == [1]
    assert failure.calls == [(permanent, 2)]


def test_the_transient_predicate_sees_each_error(sleeps):
    errors = [TransientError("one"), TransientError("two")]
    seen = []

    def transient(err):
        seen.append(err)
        return True

    assert run(scripted(*errors, "ok"), RetryPolicy(attempts=3), transient=transient) == "ok"
    assert seen == errors


def test_a_single_attempt_policy_never_retries_even_a_transient_error(sleeps):
    error = TransientError("busy")
    action = scripted(error, "never reached")
    failure = Failures()
    with pytest.raises(FinalError):
        run(action, RetryPolicy(attempts=1), failure)
    assert action.calls == 1 and sleeps == []
    assert failure.calls == [(error, 1)]


def test_the_error_is_reraised_as_it_is_when_failure_returns_none(sleeps):
    errors = [TransientError("first"), TransientError("last")]
    failure = Failures(give_up_as_is=True)
    with pytest.raises(TransientError) as info:
        run(scripted(*errors), RetryPolicy(attempts=2), failure)
    assert info.value is errors[1]
    assert info.value.__cause__ is None
    assert failure.calls == [(errors[1], 2)]


def test_a_keyboard_interrupt_is_neither_retried_nor_replaced(sleeps):
    action = scripted(KeyboardInterrupt(), "never reached")
    failure = Failures()
    with pytest.raises(KeyboardInterrupt):
        run(action, RetryPolicy(attempts=3), failure, transient=lambda err: True)
    assert action.calls == 1 and sleeps == [] and failure.calls == []


def test_a_policy_without_attempts_never_calls_the_action():
    action = scripted("never reached")
    with pytest.raises(AssertionError, match="unreachable"):
        run(action, RetryPolicy(attempts=0))
    assert action.calls == 0


# --------------------------------------------------------------------------- #
# retry: what is logged                                                          #
# --------------------------------------------------------------------------- #


def test_each_retry_is_one_warning_naming_the_action_attempt_cause_and_wait(sleeps, caplog):
    action = scripted(ConnectionError("connection reset"), TimeoutError("timed out"), "ok")
    with caplog.at_level(logging.DEBUG, logger="xner.retry"):
        run(
            action,
            RetryPolicy(attempts=3, backoff=0.25),
            transient=lambda err: isinstance(err, OSError),
            what="download of http://x/y.tar",
        )
    assert [(r.name, r.levelname) for r in caplog.records] == [("xner.retry", "WARNING")] * 2
    assert retry_warnings(caplog) == [
        "download of http://x/y.tar failed (attempt 1 of 3: ConnectionError: connection reset); "
        "retrying in 0.25 s",
        "download of http://x/y.tar failed (attempt 2 of 3: TimeoutError: timed out); retrying in 0.5 s",
    ]


def test_the_last_failed_attempt_is_not_logged_as_a_retry(sleeps, caplog):
    with caplog.at_level(logging.DEBUG, logger="xner.retry"), pytest.raises(FinalError):
        run(scripted(TransientError("x"), TransientError("y")), RetryPolicy(attempts=2, backoff=2))
    assert retry_warnings(caplog) == [
        "fetching x failed (attempt 1 of 2: TransientError: x); retrying in 2 s"
    ]


def test_the_logged_cause_is_the_root_of_the_error_chain(sleeps, caplog):
    try:
        try:
            raise ConnectionResetError("peer reset")
        except ConnectionResetError as cause:
            raise TransientError("request failed") from cause
    except TransientError as error:
        wrapped = error
    with caplog.at_level(logging.WARNING, logger="xner.retry"):
        run(scripted(wrapped, "ok"), RetryPolicy(attempts=2, backoff=10))
    assert retry_warnings(caplog) == [
        "fetching x failed (attempt 1 of 2: ConnectionResetError: peer reset); retrying in 10 s"
    ]


# --------------------------------------------------------------------------- #
# hub_transient: which Hugging Face hub errors may go away                      #
# --------------------------------------------------------------------------- #


def http_error(cls, status: int):
    """A huggingface_hub HTTP error without an HTTP client behind it."""
    response = SimpleNamespace(status_code=status, headers={}, request=None)
    return cls(f"{status} Error", response=response)


def chained(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_server_errors_and_rate_limits_are_transient(status):
    assert hub_transient(http_error(HfHubHTTPError, status))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 416, 499])
def test_client_errors_are_permanent(status):
    assert not hub_transient(http_error(HfHubHTTPError, status))


def test_a_missing_repository_or_revision_is_permanent_whatever_its_status():
    assert not hub_transient(http_error(RepositoryNotFoundError, 503))
    assert not hub_transient(http_error(RevisionNotFoundError, 503))
    assert not hub_transient(chained(ConnectionError("wrapped"), http_error(RepositoryNotFoundError, 404)))


def test_offline_mode_is_permanent_although_it_is_a_connection_error():
    assert isinstance(OfflineModeIsEnabled("offline"), ConnectionError)
    assert not hub_transient(OfflineModeIsEnabled("offline"))
    assert not hub_transient(chained(LocalEntryNotFoundError("not cached"), OfflineModeIsEnabled("offline")))


def test_a_cache_miss_from_a_network_error_is_transient_unless_offline(monkeypatch):
    monkeypatch.setattr(xner.retry.hf_constants, "HF_HUB_OFFLINE", False)
    assert hub_transient(chained(LocalEntryNotFoundError("not cached"), ConnectionError("reset")))
    assert not hub_transient(LocalEntryNotFoundError("not cached"))  # no network error behind it
    monkeypatch.setattr(xner.retry.hf_constants, "HF_HUB_OFFLINE", True)
    assert not hub_transient(chained(LocalEntryNotFoundError("not cached"), ConnectionError("reset")))


def test_network_errors_are_transient_anywhere_in_the_chain():
    assert hub_transient(ConnectionResetError("reset"))
    assert hub_transient(TimeoutError("slow"))
    assert hub_transient(chained(RuntimeError("while fetching"), TimeoutError("slow")))
    try:
        try:
            raise ConnectionError("reset")
        except ConnectionError:
            raise ValueError("while handling it") from None  # suppressed, but still its __context__
    except ValueError as error:
        assert hub_transient(error)


def test_the_first_http_status_in_the_chain_decides():
    assert not hub_transient(chained(http_error(HfHubHTTPError, 404), ConnectionError("reset")))
    assert hub_transient(chained(RuntimeError("outer"), http_error(HfHubHTTPError, 503)))
    assert not hub_transient(chained(http_error(HfHubHTTPError, 403), http_error(HfHubHTTPError, 503)))


def test_other_errors_are_permanent():
    for error in (ValueError("bad"), FileNotFoundError("x"), KeyError("k"), RuntimeError("?")):
        assert not hub_transient(error), error


def test_a_status_that_is_not_a_number_is_ignored():
    error = RuntimeError("odd response")
    error.response = SimpleNamespace(status_code="503")
    assert not hub_transient(error)
    error.__cause__ = TimeoutError("slow")
    assert hub_transient(error)


def test_the_http_clients_network_errors_are_known_by_name():
    """httpx's and requests' exception classes, without importing either: the name anywhere in the MRO."""

    def named(name: str, base: type = Exception) -> type:
        return type(name, (base,), {})

    for name in ("NetworkError", "TimeoutException", "RemoteProtocolError", "ConnectionError", "Timeout"):
        assert is_network_error(named(name)("x")), name
        assert hub_transient(named(name)("x")), name
    read_timeout = named("ReadTimeout", named("TimeoutException"))
    assert hub_transient(read_timeout("read timed out"))
    assert not is_network_error(named("HTTPStatusError")("x"))
    assert not hub_transient(named("DecodingError")("x"))


# --------------------------------------------------------------------------- #
# causes and short                                                               #
# --------------------------------------------------------------------------- #


def test_causes_follow_the_cause_before_the_context_and_stop_at_a_cycle():
    a, b, c, d = ValueError("a"), KeyError("b"), OSError("c"), RuntimeError("d")
    a.__cause__, a.__context__ = b, d
    b.__context__ = c
    assert list(causes(a)) == [a, b, c]
    c.__cause__ = a  # a cycle
    assert list(causes(a)) == [a, b, c]
    assert list(causes(d)) == [d]


def test_short_names_http_errors_by_code_and_reason():
    error = urllib.error.HTTPError("http://x/y", 503, "Service Unavailable", {}, None)
    assert short(error) == "HTTP 503 Service Unavailable"


def test_short_counts_the_missing_bytes_of_an_incomplete_response():
    assert short(http.client.IncompleteRead(b"partial", 1234)) == "incomplete response (1234 bytes missing)"


def test_short_gives_the_reason_of_a_url_error():
    assert short(urllib.error.URLError("[Errno -2] Name or service not known")) == (
        "[Errno -2] Name or service not known"
    )


def test_short_describes_the_root_cause_by_type_and_first_line():
    error = chained(RuntimeError("wrapper"), chained(OSError("middle"), TimeoutError("read timed out\nmore")))
    assert short(error) == "TimeoutError: read timed out"
    assert short(ValueError("  padded  \n")) == "ValueError: padded"
    assert short(KeyboardInterrupt()) == "KeyboardInterrupt"
    assert short(ValueError("")) == "ValueError"


def test_short_cuts_long_messages_to_200_characters():
    text = short(ValueError("x" * 500))
    assert len(text) == 200 and text == "ValueError: " + "x" * 185 + "..."
    fits = "y" * (200 - len("ValueError: "))
    assert short(ValueError(fits)) == "ValueError: " + fits
