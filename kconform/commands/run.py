"""`kconform run`: run the scenarios with pytest for one platform and write the reports.

Exit codes: 0 every test passed; 1 a conformance failure or error; 2 a usage error or a missing
prerequisite (one line saying what to install); 3 inconclusive (the cluster could not be created or images
not pulled, and nothing failed); 130 interrupted (reports are still written).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from kconform import config as run_config
from kconform import options, paths, versions
from kconform.platforms import registry

INTERRUPT_GRACE_S = 120.0  # how long an interrupted pytest may take to write reports and stop processes
# After SIGTERM, how long pytest may take to remove what the run created before it is killed: local
# processes stop in seconds; a cluster's namespaces, the operator and its RBAC take API round trips and waits.
# (each platform's `terminate_grace_s`).
# pytest's exit codes → ours (see the module docstring)
_PYTEST_EXIT = {0: 0, 1: 1, 2: 130, 3: 1, 4: 2, 5: 2}


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run",
        help="run the conformance scenarios",
        description="Run the scenarios on a platform; extra arguments after -- go to pytest.",
    )
    options.add_arguments(parser, "run")
    parser.add_argument("-n", "--workers", default=None, help="pytest-xdist workers (e.g. 2 or auto)")
    return parser


def _selects_by_expression(extra: list[str]) -> bool:
    """Whether pytest arguments narrow the run (-m/-k/paths): the plugin then decides about the bridge."""
    return any(arg.startswith(("-m", "-k")) or not arg.startswith("-") for arg in extra if arg != "--")


def _preflight(
    config: run_config.RunConfig, workers: str | None, profile_asked: bool, extra: list[str]
) -> run_config.RunConfig:
    """Everything the run needs is checked before pytest starts (exit 2, one line), by its platform: what
    it checks once per run (a cluster: tools, the context and its API server, Strimzi's install files, the
    installed Strimzi) and what the selected tests need (processes: Java, jars, CRDs, the bridge, fetched
    when they can be). Returns the config to run (e.g. the installed Strimzi's profile)."""
    kind = registry.get(config.platform)
    parallel = workers if workers not in (None, "0", "1") else None
    config = kind.check_run(config, workers=parallel, profile_asked=profile_asked)
    # The bridge is needed when its workflow is selected; pytest arguments that narrow the run leave
    # that decision to the plugin, which sees the narrowed set.
    bridge = not _selects_by_expression(extra) and (
        config.workflows is None or "bridge-sidecar" in config.workflows
    )
    profiles = [versions.profile(v) for v in config.profiles]
    kind.check_selection(profiles, bridge=bridge, crd_dir=config.crd_dir)
    return config


def pytest_argv(config: run_config.RunConfig, workers: str | None, extra: list[str]) -> list[str]:
    """pytest on the scenarios kconform ships, with kconform's own pytest settings (never those of the
    folder it is started from) and the resolved options written back from the one option table."""
    argv = [
        sys.executable,
        "-m",
        "pytest",
        str(paths.SCENARIOS_DIR),
        "-c",
        str(paths.RUN_INI),
        "--rootdir",
        str(paths.SCENARIOS_DIR.parent),
        "-p",
        "no:cacheprovider",
        *options.pytest_args(config),
    ]
    if workers:
        argv += ["-n", workers, "--dist", "loadgroup"]
    return argv + [arg for arg in extra if arg != "--"]


def _verdict_code(reports: Path) -> int | None:
    """0/1/3 from the written conformance record, or None when there is none."""
    from kconform.report import read_conformance

    path = reports / "conformance.json"
    if not path.is_file():
        return None
    record = read_conformance(path)
    statuses = {str(result.status) for result in record.results}
    if statuses & {"failed", "error"}:
        return 1
    if "inconclusive" in statuses or record.cells_inconclusive:
        return 3
    return 0


class _Terminated(Exception):
    """SIGTERM reached `kconform run` (e.g. a CI job cancelled)."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


def _run_pytest(argv: list[str], env: dict[str, str], terminate_grace_s: float = 30.0) -> int:
    """Run pytest and wait for it, also after Ctrl-C or SIGTERM.

    Ctrl-C reaches pytest too (same process group): it stops, writes the reports and stops its processes.
    `subprocess.run` would SIGKILL it on KeyboardInterrupt and lose all that, so wait for it instead.
    SIGTERM to this process is passed on to pytest (which takes it as a Ctrl-C), then waited for the same way.
    """
    proc = subprocess.Popen(argv, env=env)  # in the user's folder: relative paths mean what they typed
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        try:
            return proc.wait()
        except KeyboardInterrupt:
            pass
        except _Terminated:
            return _terminate(proc, terminate_grace_s)
        try:
            return proc.wait(timeout=INTERRUPT_GRACE_S)
        except (subprocess.TimeoutExpired, KeyboardInterrupt, _Terminated):
            return _terminate(proc, terminate_grace_s)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminate(proc: subprocess.Popen[bytes], grace_s: float) -> int:
    proc.terminate()  # SIGTERM: the plugin turns it into an interrupt, with cleanup and reports
    try:
        return proc.wait(timeout=grace_s)
    except (subprocess.TimeoutExpired, KeyboardInterrupt, _Terminated):
        proc.kill()
        return proc.wait()


def run(args: argparse.Namespace) -> int:
    config = run_config.build(**options.given(args, "run"))
    extra = list(getattr(args, "extra", []))
    profile_asked = bool(args.profiles or options.from_environment().get("profiles"))
    config = _preflight(config, args.workers, profile_asked, extra)
    reports = Path(config.reports).resolve()
    reports.mkdir(parents=True, exist_ok=True)
    stale = reports / "conformance.json"
    if stale.exists():
        stale.unlink()  # a record left by an earlier run must not stand for this one
    # The child pytest trusts this preflight (same run id) instead of repeating it.
    env = {**os.environ, options.RUN_ID_ENV: config.run_id, options.PREFLIGHT_ENV: config.run_id}
    argv = pytest_argv(config, args.workers, extra)
    code = _run_pytest(argv, env, registry.get(config.platform).terminate_grace_s)
    mapped = _PYTEST_EXIT.get(code, 1)
    if mapped in (2, 130):
        return mapped
    verdict = _verdict_code(reports)
    return mapped if verdict is None else verdict  # the record knows inconclusive from failed
