"""Running the cluster tools (kind, minikube, helm, docker) as subprocesses with bounded time."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from kconform.errors import PlatformError


def run(argv: Sequence[str], *, timeout: float, input_text: str | None = None) -> str:
    """Run a command and return its stdout; failure: PlatformError with the stderr tail."""
    try:
        done = subprocess.run(
            list(argv), input=input_text, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError as err:
        raise PlatformError(f"{argv[0]} is not installed: {err}") from err
    except subprocess.TimeoutExpired as err:
        raise PlatformError(f"`{' '.join(argv)}` did not finish within {timeout:.0f}s") from err
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise PlatformError(f"`{' '.join(argv)}` failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def succeeds(argv: Sequence[str], *, timeout: float) -> bool:
    try:
        run(argv, timeout=timeout)
    except PlatformError:
        return False
    return True
