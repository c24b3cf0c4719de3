"""What a long setup is doing, as it happens: one line per step to whoever listens (terminal, Allure).

The engine reports; the pytest plugin decides where lines go. Without a listener lines go to stderr, so
`kconform` commands and library users see them too. `kconform/` stays free of pytest and allure.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Listener = Callable[[str], None]

_listeners: list[Listener] = []
_started = time.monotonic()


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def listen(listener: Listener) -> Callable[[], None]:
    """Send progress lines to `listener` instead of stderr; returns a function that stops it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def report(text: str) -> None:
    """One progress line, prefixed with the seconds since the process started."""
    line = f"kconform [{time.monotonic() - _started:6.1f}s] {text}"
    for listener in list(_listeners) or [_stderr]:
        try:
            listener(line)
        except Exception as err:  # progress is a courtesy: it never breaks the work it reports on
            _stderr(f"{line} (progress listener failed: {err})")


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Report the start and the end (with its duration) of a setup phase."""
    start = time.monotonic()
    report(f"{name} ...")
    try:
        yield
    except BaseException:
        report(f"{name}: failed after {time.monotonic() - start:.1f}s")
        raise
    report(f"{name}: done in {time.monotonic() - start:.1f}s")
