"""Driving kconform (or pytest) as a user would: `python -m ...` in a subprocess of its own, and what a test
then looks at — the lines it printed and the Docker containers it may have left behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from kconform.paths import PROJECT_ROOT


def environment(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """`base` (this process's environment by default) with this checkout first on PYTHONPATH, without the
    test session's KCONFORM_RUN_ID (the subprocess is a run of its own) unless `extra` sets one."""
    env = dict(os.environ if base is None else base)
    env.pop("KCONFORM_RUN_ID", None)
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env.update(extra)
    return env


def path_without_kind() -> str:
    """A PATH with this Python and the system's commands but no kind: `clean --all` deletes kind clusters
    named kconform*, which are not a test's to delete."""
    path = os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"])
    assert not shutil.which("kind", path=path), "a kind on /usr/bin would let this test delete kind clusters"
    return path


def run_module(
    *argv: str,
    env: Mapping[str, str] | None = None,
    cwd: Path = PROJECT_ROOT,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`python -m <argv>` to its end (bounded by `timeout`), output captured; never raises on its exit code."""
    return subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=cwd,
        env=dict(environment() if env is None else env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def ctrl_c_as_in_a_terminal() -> None:
    """A Popen preexec_fn: SIGINT back to its default in the child. An ignored SIGINT survives exec, and
    Python then installs no KeyboardInterrupt handler: a test session started in the background of a
    non-interactive shell (as CI jobs are) would see its Ctrl-C tests' processes shrug the signal off."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_module(*argv: str, env: Mapping[str, str], cwd: Path = PROJECT_ROOT) -> subprocess.Popen[bytes]:
    """`python -m <argv>` started in a session of its own (so a test can signal the whole process group),
    stdout and stderr merged into one pipe; it takes Ctrl-C as a terminal's process would."""
    return subprocess.Popen(
        [sys.executable, "-m", *argv],
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=ctrl_c_as_in_a_terminal,
    )


def output_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    """The non-blank lines the process printed, stdout then stderr."""
    return [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single line the process printed (a usage error is one line naming the fix)."""
    lines = output_lines(done)
    assert len(lines) == 1, done.stdout + done.stderr
    return lines[0]


def containers(name: str) -> list[str]:
    """Names of the Docker containers, running or not, whose name contains `name`."""
    done = subprocess.run(
        ["docker", "ps", "-a", "--filter", f"name={name}", "--format", "{{.Names}}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.split()
