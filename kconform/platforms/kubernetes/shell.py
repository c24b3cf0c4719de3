"""Running the cluster tools (kind, minikube, helm, docker) as subprocesses with bounded time.

A tool kconform resolved somewhere other than PATH (a verified download, a build in the cache) is registered
here once, so every later command runs that binary and not whatever `kind` PATH may or may not hold.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from kconform.errors import PlatformError

_resolved: dict[str, str] = {}


def register(name: str, path: Path) -> None:
    """Run `name` as `path` from now on (see the module docstring)."""
    _resolved[name] = str(path)


def resolve(argv: Sequence[str]) -> list[str]:
    """argv with its program replaced by the registered path of that tool, if any."""
    out = list(argv)
    if out and out[0] in _resolved:
        out[0] = _resolved[out[0]]
    return out


def _display(argv: Sequence[str]) -> str:
    return " ".join(argv)  # as written by the caller: the tool's name, not its resolved path


def run(argv: Sequence[str], *, timeout: float, input_text: str | None = None) -> str:
    """Run a command and return its stdout; failure: PlatformError with the stderr tail."""
    command = resolve(argv)
    try:
        done = subprocess.run(
            command, input=input_text, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError as err:
        raise PlatformError(f"{argv[0]} is not installed: {err}") from err
    except subprocess.TimeoutExpired as err:
        raise PlatformError(f"`{_display(argv)}` did not finish within {timeout:.0f}s") from err
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise PlatformError(f"`{_display(argv)}` failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def stream(argv: Sequence[str], *, timeout: float, on_line: Callable[[str], None]) -> str:
    """Run a long command, handing each output line (stdout and stderr merged) to `on_line` as it comes.

    Returns the whole output; on failure or timeout PlatformError with the output's tail (the process is
    killed on timeout, never left running).
    """
    command = resolve(argv)
    try:
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
        )
    except FileNotFoundError as err:
        raise PlatformError(f"{argv[0]} is not installed: {err}") from err
    lines: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip()
            if line:
                lines.append(line)
                on_line(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    try:
        code = proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired as err:
        proc.kill()
        proc.wait()
        reader.join(timeout=5)
        raise PlatformError(
            f"`{_display(argv)}` did not finish within {timeout:.0f}s:\n" + "\n".join(lines[-15:])
        ) from err
    reader.join(timeout=5)
    if code != 0:
        raise PlatformError(f"`{_display(argv)}` failed (exit {code}):\n" + "\n".join(lines[-15:]))
    return "\n".join(lines)


def succeeds(argv: Sequence[str], *, timeout: float) -> bool:
    try:
        run(argv, timeout=timeout)
    except PlatformError:
        return False
    return True
