"""An interrupted run through the real plugin (pytester, a subprocess per run): the test that was running
when SIGTERM (a cancelled CI job) or Ctrl-C came is recorded as interrupted, the tests after it as not run,
never as passed; the verdict is not green and every report says the same. The scenarios need no Kafka:
they use only the `cell` fixture, and one stands in for a cluster fixture by recording the live cell as
`remember_cluster` does once a cluster is Ready (with a Kubernetes version the options did not know)."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from kconform.report import read_conformance
from kconform.report.markdown import markdown_summary

pytest_plugins = ["pytester"]

CONFTEST = textwrap.dedent(
    """
    import kconform.platforms.local.local_preflight

    # The scenarios here start no Kafka: nothing to check or fetch.
    kconform.platforms.local.local_preflight.require_local = lambda *args, **kwargs: None
    """
)

SCENARIOS = textwrap.dedent(
    '''
    import os, signal, threading
    from types import SimpleNamespace

    import pytest
    from kconform.platforms.protocol import Cell
    from kconform_fixtures.plugin import remember_cluster

    pytestmark = pytest.mark.workflow("interrupt-demo")
    HOW = os.environ["HOW"]


    def cluster_ready(request, cell):
        """What a cluster fixture does once its cluster is Ready: the test's cell becomes the live one."""
        live = Cell("local", None, "1.35.0", cell.strimzi, cell.profile.kafka_version, cell.mode)
        remember_cluster(request, SimpleNamespace(cell=live))


    def interrupt():
        if HOW.startswith("sigterm"):
            os.kill(os.getpid(), signal.SIGTERM)  # as a cancelled CI job does; the plugin raises Ctrl-C's error
            threading.Event().wait(10)  # the handler interrupts this wait at once
            pytest.fail("SIGTERM did not interrupt the test within 10 s")
        raise KeyboardInterrupt  # what Ctrl-C raises in the main thread


    @pytest.fixture
    def setup_step():
        """A step of test_three's setup, interrupted in the setup case."""
        if "setup" in HOW:
            interrupt()


    def test_one(cell, request):
        """Passes in the cell, its cluster Ready in setup."""
        cluster_ready(request, cell)
        assert HOW != "fail first", "the first test fails"


    def test_two(cell, request):
        """Its cluster is made in the test (as the migration scenario does); interrupted while it runs."""
        cluster_ready(request, cell)
        threading.Event().wait(0.3)  # the call's known minimum length, for its recorded duration
        if "call" in HOW:
            interrupt()


    def test_three(cell, request, setup_step):
        """Never runs when the run is interrupted before it."""
        cluster_ready(request, cell)
        '''
)


def _run(pytester: pytest.Pytester, how: str, *extra: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_scenarios=SCENARIOS)
    pytester._monkeypatch.setenv("HOW", how)
    reports = pytester.path / "reports"
    args = ["-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly", "--platform", "local"]
    args += ["--profile", "1.2.0", "--mode", "kraft", "--reports", str(reports)]
    result = pytester.runpytest_subprocess(*args, *extra, timeout=120)
    return result, json.loads((reports / "conformance.json").read_text(encoding="utf-8"))


def _by_test(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["nodeid"].split("::")[1].split("[")[0]: r for r in record["results"]}


@pytest.mark.parametrize("how", ["sigterm in call", "ctrl-c in call"])
def test_the_running_test_is_interrupted_and_the_next_not_run(pytester: pytest.Pytester, how: str) -> None:
    result, record = _run(pytester, how)
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()[-3000:]
    assert record["run"]["interrupted"] is True
    tests = _by_test(record)
    assert {name: r["status"] for name, r in tests.items()} == {
        "test_one": "passed",
        "test_two": "interrupted",
        "test_three": "not-run",
    }
    two = tests["test_two"]
    assert "interrupted during its call at test_scenarios.py:" in two["message"], two
    assert ("SIGTERM" if how.startswith("sigterm") else "Ctrl-C") in two["message"], two
    assert two["duration_s"] >= 0.3, "the interrupted call's time is recorded, not 0.0 s"
    assert "interrupted before it started" in tests["test_three"]["message"]
    # One cell: the interrupted test and the test never run are in the live cell the others reported.
    assert [t["cell"]["kubernetes"] for t in record["cells_timing"]] == ["1.35.0"], record["cells_timing"]
    assert {r["cell"]["kubernetes"] for r in record["results"]} == {"1.35.0"}
    _every_report_agrees(pytester, result)


def test_a_test_interrupted_in_its_setup_is_interrupted(pytester: pytest.Pytester) -> None:
    result, record = _run(pytester, "sigterm in setup")
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()[-3000:]
    tests = _by_test(record)
    assert {name: r["status"] for name, r in tests.items()} == {
        "test_one": "passed",
        "test_two": "passed",
        "test_three": "interrupted",
    }
    three = tests["test_three"]
    assert "interrupted during its setup" in three["message"] and "SIGTERM" in three["message"], three
    # test_three never reached its cluster: it is recorded in the live cell the others reported.
    assert [t["cell"]["kubernetes"] for t in record["cells_timing"]] == ["1.35.0"], record["cells_timing"]


def test_tests_after_a_stop_on_failure_are_not_run(pytester: pytest.Pytester) -> None:
    """-x stops the run as an interrupt does: the tests it never started are in the record as not run."""
    result, record = _run(pytester, "fail first", "-x")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    assert record["run"]["interrupted"] is False
    tests = _by_test(record)
    assert {name: r["status"] for name, r in tests.items()} == {
        "test_one": "failed",
        "test_two": "not-run",
        "test_three": "not-run",
    }
    assert "stopping after 1 failures" in tests["test_two"]["message"]
    assert json.loads((pytester.path / "reports" / "badge.json").read_text())["message"] == "0/3"


def test_a_missing_prerequisite_is_a_refusal_not_an_interrupt(pytester: pytest.Pytester) -> None:
    """pytest.exit(returncode=2) from the preflight has pytest's INTERRUPTED code; the record must still say
    that the run was refused before its tests, not that someone interrupted it."""
    pytester.makeconftest(
        textwrap.dedent(
            """
            import kconform.platforms.local.local_preflight
            from kconform.errors import MissingPrerequisite

            def refuse(*args, **kwargs):
                raise MissingPrerequisite("java: not found; install a JDK 17+ or set KCONFORM_JAVA_HOME")

            kconform.platforms.local.local_preflight.require_local = refuse
            """
        )
    )
    pytester.makepyfile(test_scenarios=SCENARIOS)
    pytester._monkeypatch.setenv("HOW", "never")
    reports = pytester.path / "reports"
    args = ["-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly", "--platform", "local"]
    args += ["--profile", "1.2.0", "--mode", "kraft", "--reports", str(reports)]
    result = pytester.runpytest_subprocess(*args, timeout=120)
    assert result.ret == 2, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(["*kconform: java: not found; install a JDK 17+*"])
    record = json.loads((reports / "conformance.json").read_text(encoding="utf-8"))
    assert record["run"]["interrupted"] is False, record["run"]
    statuses = {r["status"] for r in record["results"]}
    assert statuses == {"not-run"}, record["results"]
    assert all("java: not found" in r["message"] for r in record["results"]), record["results"]


def _every_report_agrees(pytester: pytest.Pytester, result: pytest.RunResult) -> None:
    """The badge, the page, the summary, Markdown and JUnit: not green, and test_two is not a pass."""
    reports = pytester.path / "reports"
    badge = json.loads((reports / "badge.json").read_text(encoding="utf-8"))
    assert badge["color"] == "orange" and badge["message"] == "1/3 (interrupted)", badge
    page = (reports / "index.html").read_text(encoding="utf-8")
    assert 'data-state="inconclusive"' in page and 'data-status="interrupted"' in page
    result.stdout.fnmatch_lines(
        ["*conformance: 1 passed, 1 interrupted, 1 not-run*", "*INTERRUPTED*test_two*interrupted during*"]
    )
    markdown = markdown_summary(read_conformance(reports / "conformance.json"))
    assert "1/3 passed, 1 interrupted, 1 not-run" in markdown, markdown
    junit = ET.parse(reports / "junit.xml").getroot()  # noqa: S314 - pytest wrote it, in this test
    cases = {case.get("name", "").split("[")[0]: case for case in junit.iter("testcase")}
    assert cases["test_two"].find("failure") is not None, ET.tostring(cases["test_two"], encoding="unicode")
    assert "interrupted" in (cases["test_two"].find("failure").get("message") or "")
