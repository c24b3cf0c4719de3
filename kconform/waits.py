"""Bounded waits: one `wait_until` with a description, a monotonic deadline and a diagnose callback."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from kconform.errors import WaitTimeout

T = TypeVar("T")

_NOT_YET = object()


def wait_until(
    check: Callable[[], T | None],
    *,
    describe: str,
    timeout: float,
    interval: float = 0.25,
    diagnose: Callable[[], str] | None = None,
    retry_on: tuple[type[BaseException], ...] = (),
    stop_event: threading.Event | None = None,
) -> T:
    """Call `check` until it returns something other than None/False, then return that.

    Only the exception types in `retry_on` are treated as "not yet"; anything else propagates at once
    (a NotReady condition, for example, must stop the wait). On timeout the WaitTimeout names what was
    awaited, the last value or error seen and, when given, what `diagnose()` reports.
    """
    deadline = time.monotonic() + timeout
    last_seen: object = _NOT_YET
    while True:
        try:
            result = check()
        except retry_on as err:
            last_seen = f"{type(err).__name__}: {err}"
        else:
            if result is not None and result is not False:
                return result
            if result is not None:  # None says nothing; the diagnosis says what was there
                last_seen = result
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        # Event.wait is an interruptible, bounded pause between polls, not a wait for the outcome.
        (stop_event or threading.Event()).wait(min(interval, remaining))
    message = f"timed out after {timeout:.0f}s waiting for {describe}"
    if last_seen is not _NOT_YET:
        message += (
            f"; last seen: {last_seen!r}" if not isinstance(last_seen, str) else f"; last seen: {last_seen}"
        )
    if diagnose is not None:
        try:
            message += f"\n{diagnose()}"
        except Exception as err:  # a failing diagnosis must not hide the timeout
            message += f"\n(diagnosis failed: {err})"
    raise WaitTimeout(message)
