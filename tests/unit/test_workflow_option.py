"""`--workflow NAME`: `kconform run` passes it to pytest, the plugin keeps only that workflow's scenarios, and
an unknown name is refused in one line (exit 2) before anything runs."""

from __future__ import annotations

import os
import subprocess
import sys

from kconform import config as run_config
from kconform.commands import run
from kconform.paths import PROJECT_ROOT


def _python(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_run_passes_each_workflow_to_pytest() -> None:
    config = run_config.build(platform="local", workflows=["scram-listener", "user-acls"], env={})
    argv = run.pytest_argv(config, None, [])
    assert argv[argv.index("--workflow") + 1] == "scram-listener"
    assert argv.count("--workflow") == 2 and "user-acls" in argv


def test_collection_keeps_only_the_named_workflow() -> None:
    done = _python(
        "-m",
        "pytest",
        "scenarios",
        "--platform",
        "local",
        "--workflow",
        "scram-listener",
        "--collect-only",
        "-q",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    assert collected and all(line.startswith("scenarios/test_scram_listener.py::") for line in collected)
    assert len(collected) >= 6 * 4  # every test in every local cell


def test_env_variable_selects_too() -> None:
    done = _python(
        "-m",
        "pytest",
        "scenarios",
        "--platform",
        "local",
        "--collect-only",
        "-q",
        env={"KCONFORM_WORKFLOW": "tls-listener"},
    )
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    assert collected and all("test_tls_listener.py::" in line for line in collected)


def test_unknown_workflow_is_one_line_and_exit_2() -> None:
    done = _python("-m", "kconform", "run", "--platform", "local", "--workflow", "scram")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "unknown workflow 'scram'" in done.stderr and "scram-listener" in done.stderr
