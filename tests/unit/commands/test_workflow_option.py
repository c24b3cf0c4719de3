"""`--workflow NAME`: `kconform run` passes it to pytest, the plugin keeps only that workflow's scenarios, and
an unknown name is refused in one line (exit 2) before anything runs."""

from __future__ import annotations

from kconform import config as run_config
from kconform.commands import run
from tests.support.cli import environment, run_module


def _collected(*options: str, **env: str) -> list[str]:
    """The test ids plain pytest collects from scenarios/ on the local platform with these options."""
    done = run_module(
        "pytest", "scenarios", "--platform", "local", *options, "--collect-only", "-q", env=environment(**env)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_run_passes_each_workflow_to_pytest() -> None:
    config = run_config.build(platform="local", workflows=["scram-listener", "user-acls"], env={})
    argv = run.pytest_argv(config, None, [])
    assert argv[argv.index("--workflow") + 1] == "scram-listener"
    assert argv.count("--workflow") == 2 and "user-acls" in argv


def test_collection_keeps_only_the_named_workflow() -> None:
    collected = _collected("--workflow", "scram-listener")
    assert collected and all(line.startswith("scenarios/test_scram_listener.py::") for line in collected)
    assert len(collected) >= 6 * 4  # every test in every local cell


def test_env_variable_selects_too() -> None:
    collected = _collected(KCONFORM_WORKFLOW="tls-listener")
    assert collected and all("test_tls_listener.py::" in line for line in collected)


def test_unknown_workflow_is_one_line_and_exit_2() -> None:
    done = run_module("kconform", "run", "--platform", "local", "--workflow", "scram")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "unknown workflow 'scram'" in done.stderr and "scram-listener" in done.stderr
