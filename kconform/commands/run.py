"""`kconform run`: run the scenarios with pytest for one platform and write the reports.

Exit codes: 0 every test passed; 1 a conformance failure or error; 2 a usage error or a missing
prerequisite (one line saying what to install); 3 inconclusive (the cluster could not be created or images
not pulled, and nothing failed); 130 interrupted (reports are still written).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from kconform import config as run_config
from kconform import paths, versions
from kconform.errors import MissingPrerequisite, UsageError

INTERRUPT_GRACE_S = 120.0  # how long an interrupted pytest may take to write reports and stop processes
# pytest's exit codes → ours (see the module docstring)
_PYTEST_EXIT = {0: 0, 1: 1, 2: 130, 3: 1, 4: 2, 5: 2}


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run",
        help="run the conformance scenarios",
        description="Run the scenarios on a platform; extra arguments after -- go to pytest.",
    )
    parser.add_argument(
        "--platform", choices=versions.PLATFORMS, default=None, help="local (default) or kubernetes"
    )
    parser.add_argument("--profile", action="append", default=None, help="Strimzi version (repeatable)")
    parser.add_argument("--mode", action="append", default=None, help="metadata mode (repeatable)")
    parser.add_argument(
        "--provider", choices=versions.PROVIDERS, default=None, help="kubernetes cluster provider"
    )
    parser.add_argument("--kubernetes", default=None, help="Kubernetes version for a created cluster")
    parser.add_argument("--context", default=None, help="kubeconfig context (provider existing)")
    parser.add_argument("--install", choices=("helm", "yaml"), default=None, help="how Strimzi is installed")
    parser.add_argument("--reports", default=None, help="report folder (default: reports)")
    parser.add_argument("--keep", action="store_true", default=None, help="keep what the run created")
    parser.add_argument(
        "--workflow", action="append", default=None, help="run only this workflow (repeatable)"
    )
    parser.add_argument("-n", "--workers", default=None, help="pytest-xdist workers (e.g. 2 or auto)")
    return parser


def _selects_by_expression(extra: list[str]) -> bool:
    """Whether pytest arguments narrow the run (-m/-k/paths): the plugin then decides about the bridge."""
    return any(arg.startswith(("-m", "-k")) or not arg.startswith("-") for arg in extra if arg != "--")


def _preflight(config: run_config.RunConfig, extra: list[str]) -> None:
    """Refuse at once (exit 2) when a prerequisite is missing: on local what the processes need (fetched
    when it can be), on kubernetes a cluster that can be reached or created."""
    if config.platform == "local":
        from kconform import preflight

        # Every workflow runs unless pytest arguments narrow the run; the plugin checks the narrowed set.
        bridge = not _selects_by_expression(extra)
        profiles = [versions.profile(v) for v in config.profiles]
        preflight.require_local(profiles, bridge=bridge, crd_dir=config.crd_dir)
        return
    if len(config.profiles) != 1:
        raise UsageError(
            "--platform kubernetes runs one Strimzi version per cluster: pass one --profile "
            f"({', '.join(versions.PROFILES)})"
        )
    from kconform.platforms.kubernetes.connect import check_prerequisites
    from kconform.platforms.kubernetes.providers import provider_for
    from kconform.platforms.kubernetes.settings import KubeSettings

    prof = versions.profile(config.profiles[0])
    settings = KubeSettings.from_run_config(config, prof, config.modes[0] if config.modes else prof.modes[0])
    check_prerequisites(provider_for(settings), settings)


def pytest_argv(config: run_config.RunConfig, workers: str | None, extra: list[str]) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "pytest",
        str(paths.PROJECT_ROOT / "scenarios"),
        "-p",
        "no:cacheprovider",
        "--platform",
        config.platform,
        "--reports",
        str(config.reports),
    ]
    for prof in config.profiles:
        argv += ["--profile", prof]
    for mode in config.modes or ():
        argv += ["--mode", mode]
    for workflow in config.workflows or ():
        argv += ["--workflow", workflow]
    for flag, value in (
        ("--provider", config.provider),
        ("--kubernetes", config.kubernetes),
        ("--context", config.context),
        ("--install", config.install),
    ):
        if value and (config.platform == "kubernetes" or flag == "--install"):
            argv += [flag, value]
    if config.keep:
        argv.append("--keep")
    if workers:
        argv += ["-n", workers, "--dist", "loadgroup"]
    return argv + [arg for arg in extra if arg != "--"]


def _verdict_code(reports: Path) -> int | None:
    """0/1/3 from the written conformance record, or None when there is none."""
    from kconform.report import read_conformance

    path = reports / "conformance.json"
    if not path.is_file():
        return None
    statuses = {str(result.status) for result in read_conformance(path).results}
    if statuses & {"failed", "error"}:
        return 1
    if "inconclusive" in statuses:
        return 3
    return 0


def _run_pytest(argv: list[str], env: dict[str, str]) -> int:
    """Run pytest and wait for it, also after Ctrl-C.

    Ctrl-C reaches pytest too (same process group): it stops, writes the reports and stops its processes.
    `subprocess.run` would SIGKILL it on KeyboardInterrupt and lose all that, so wait for it instead.
    """
    proc = subprocess.Popen(argv, cwd=paths.PROJECT_ROOT, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        pass
    try:
        return proc.wait(timeout=INTERRUPT_GRACE_S)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        proc.terminate()  # SIGTERM: the plugin turns it into a clean exit
        try:
            return proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()


def run(args: argparse.Namespace) -> int:
    config = run_config.build(
        platform=args.platform,
        profiles=args.profile,
        modes=args.mode,
        provider=args.provider,
        kubernetes=args.kubernetes,
        reports=args.reports,
        keep=args.keep,
        install=args.install,
        context=args.context,
        workflows=getattr(args, "workflow", None),
    )
    extra = list(getattr(args, "extra", []))
    try:
        _preflight(config, extra)
    except MissingPrerequisite as err:
        if config.platform == "local":
            raise
        raise MissingPrerequisite(f"{err} (--platform kubernetes needs a cluster; nothing was run)") from None
    reports = Path(config.reports).resolve()
    reports.mkdir(parents=True, exist_ok=True)
    stale = reports / "conformance.json"
    if stale.exists():
        stale.unlink()  # a record left by an earlier run must not stand for this one
    env = dict(os.environ, KCONFORM_RUN_ID=config.run_id)
    argv = pytest_argv(config, args.workers, extra)
    code = _run_pytest(argv, env)
    mapped = _PYTEST_EXIT.get(code, 1)
    if mapped in (2, 130):
        return mapped
    verdict = _verdict_code(reports)
    return mapped if verdict is None else verdict  # the record knows inconclusive from failed
