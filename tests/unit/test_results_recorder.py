"""How the plugin turns pytest reports into conformance outcomes (including under xdist, where only the
reports with their user_properties reach the controller)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kconform.report import read_conformance
from kconform_fixtures.results import (
    CELL_PROPERTY,
    INCONCLUSIVE_PROPERTY,
    INTERRUPTED_PROPERTY,
    TITLE_PROPERTY,
    WORKFLOW_PROPERTY,
    ResultsRecorder,
)

CELL = {
    "platform": "kubernetes",
    "provider": "kind",
    "kubernetes": "1.35.0",
    "strimzi": "1.2.0",
    "kafka": "4.3.1",
    "mode": "kraft",
}
SCENARIO = [
    (WORKFLOW_PROPERTY, "tls-listener"),
    (TITLE_PROPERTY, "a title"),
    (CELL_PROPERTY, json.dumps(CELL)),
]


def report(
    nodeid: str, when: str, outcome: str, extra: list[tuple[str, object]] = (), longrepr: object = None
):
    return pytest.TestReport(
        nodeid,
        ("x.py", 1, nodeid),
        {},
        outcome,
        longrepr,
        when,
        user_properties=[*SCENARIO, *extra],
        duration=0.5,
    )


def test_outcomes_from_phases(tmp_path: Path) -> None:
    recorder = ResultsRecorder(run_id="r1", reports_dir=tmp_path)
    for phase in ("setup", "call", "teardown"):
        recorder.record(report("ok", phase, "passed"))
    recorder.record(report("bad", "setup", "passed"))
    recorder.record(report("bad", "call", "failed", longrepr="AssertionError: no record"))
    recorder.record(report("broken", "setup", "failed", longrepr="PlatformError: pod crashed"))
    recorder.record(
        report(
            "nocluster",
            "setup",
            "failed",
            [(INCONCLUSIVE_PROPERTY, "yes")],
            longrepr="InfrastructureFailure: kind create failed",
        )
    )
    recorder.record(
        pytest.TestReport("unit", ("x.py", 1, "u"), {}, "failed", "boom", "call", user_properties=[])
    )
    statuses = {e.nodeid: e.status for e in recorder.entries.values()}
    assert statuses == {"ok": "passed", "bad": "failed", "broken": "error", "nocluster": "inconclusive"}
    assert recorder.entries["ok"].duration_s == pytest.approx(1.5)
    assert "infrastructure" in (recorder.entries["nocluster"].message or "")


def test_written_record_carries_the_cell_and_redacted_messages(tmp_path: Path) -> None:
    recorder = ResultsRecorder(run_id="r2", reports_dir=tmp_path)
    key = "-----BEGIN PRIVATE KEY-----\nMIIEabc\n-----END PRIVATE KEY-----"
    recorder.record(report("leaky", "call", "failed", longrepr=f"failed with {key}"))
    recorder.write()
    record = read_conformance(tmp_path / "conformance.json")
    assert record.results[0].cell["kubernetes"] == "1.35.0"
    assert "MIIEabc" not in (tmp_path / "conformance.json").read_text()
    assert (tmp_path / "index.html").is_file() and (tmp_path / "badge.json").is_file()


def test_a_setup_report_alone_is_no_pass(tmp_path: Path) -> None:
    """A test whose call never reported (an interrupt pytest reraised, a worker gone) is never passed:
    interrupted when the run was, else an error that says no outcome came."""
    recorder = ResultsRecorder(run_id="r3", reports_dir=tmp_path)
    recorder.record(report("cut", "setup", "passed"))
    recorder.record(report("done", "setup", "passed"))
    recorder.record(report("done", "call", "passed"))  # its teardown never reported
    assert {r.nodeid: r.status for r in recorder.to_record().results} == {"cut": "error", "done": "error"}
    recorder.interrupted = True
    results = {r.nodeid: r for r in recorder.to_record().results}
    assert {nodeid: r.status for nodeid, r in results.items()} == {
        "cut": "interrupted",
        "done": "interrupted",
    }
    assert "interrupted during this test" in (results["cut"].message or "")


def test_setup_only_is_recorded_as_not_run(tmp_path: Path) -> None:
    recorder = ResultsRecorder(run_id="r4", reports_dir=tmp_path)
    recorder.record(report("plan", "setup", "passed"))
    recorder.record(report("plan", "teardown", "passed"))
    (result,) = recorder.to_record().results
    assert result.status == "not-run" and "--setup-only" in (result.message or "")


def test_the_interrupted_phase_decides_unless_the_test_had_failed(tmp_path: Path) -> None:
    recorder = ResultsRecorder(run_id="r5", reports_dir=tmp_path)
    cut = [(INTERRUPTED_PROPERTY, "call")]
    recorder.record(report("running", "setup", "passed"))
    recorder.record(
        report("running", "call", "failed", cut, longrepr="interrupted during its call (SIGTERM)")
    )
    recorder.record(report("tearing", "setup", "passed"))
    recorder.record(report("tearing", "call", "passed"))
    recorder.record(report("tearing", "teardown", "failed", [(INTERRUPTED_PROPERTY, "teardown")], "cut"))
    recorder.record(report("bad", "setup", "passed"))
    recorder.record(report("bad", "call", "failed", longrepr="AssertionError: lost 3"))
    recorder.record(report("bad", "teardown", "failed", [(INTERRUPTED_PROPERTY, "teardown")], "cut"))
    recorder.interrupted = True
    results = {r.nodeid: r for r in recorder.to_record().results}
    statuses = {nodeid: r.status for nodeid, r in results.items()}
    assert statuses == {"running": "interrupted", "tearing": "interrupted", "bad": "failed"}
    assert results["running"].message == "interrupted during its call (SIGTERM)"
    assert results["running"].duration_s == pytest.approx(1.0)
    assert results["bad"].message == "AssertionError: lost 3"


def test_tests_the_run_stopped_before_are_not_run(tmp_path: Path) -> None:
    recorder = ResultsRecorder(run_id="r6", reports_dir=tmp_path)
    recorder.record(report("ran", "setup", "passed"))
    recorder.record(report("ran", "call", "passed"))
    recorder.record(report("ran", "teardown", "passed"))
    for nodeid in ("ran", "later"):
        recorder.record_not_run(nodeid, SCENARIO, "the run was interrupted before it started")
    recorder.record_not_run("unit", [], "not a scenario")
    results = {r.nodeid: (r.status, r.message) for r in recorder.to_record().results}
    assert results == {
        "ran": ("passed", None),
        "later": ("not-run", "the run was interrupted before it started"),
    }


def test_a_test_that_never_reported_its_live_cell_is_in_the_cell_of_the_others(tmp_path: Path) -> None:
    """Collection plans a cell without the Kubernetes version; a test reports the live cell once its
    cluster is Ready. A test cut short before that (or never run) is still in that one cell, so the
    record has one column and one timing per cell."""
    planned = {**CELL, "kubernetes": None}
    collected = [(WORKFLOW_PROPERTY, "kraft-migration"), (CELL_PROPERTY, json.dumps(planned))]
    live = [*collected, (CELL_PROPERTY, json.dumps(CELL))]

    def phase(nodeid: str, when: str, props: list[tuple[str, object]], outcome: str = "passed"):
        return pytest.TestReport(nodeid, ("x.py", 1, nodeid), {}, outcome, None, when, user_properties=props)

    recorder = ResultsRecorder(run_id="r7", reports_dir=tmp_path)
    for when in ("setup", "call", "teardown"):
        recorder.record(phase("migrates", when, live))
    recorder.record(phase("rolls-back", "setup", collected))  # interrupted before its cluster was Ready
    recorder.record_not_run("invalid", collected, "the run was interrupted before it started")
    recorder.interrupted = True
    recorder.write()
    document = json.loads((tmp_path / "conformance.json").read_text())
    assert {r["cell"]["kubernetes"] for r in document["results"]} == {"1.35.0"}
    assert [t["cell"]["kubernetes"] for t in document["cells_timing"]] == ["1.35.0"]


def test_a_crashed_workers_report_for_a_running_scenario_is_its_error(tmp_path: Path) -> None:
    """pytest-xdist reports a test whose worker died without the test's properties."""
    recorder = ResultsRecorder(run_id="r8", reports_dir=tmp_path)
    recorder.record(report("crashed", "setup", "passed"))
    crash = "worker 'gw0' crashed while running 'crashed'"
    recorder.record(pytest.TestReport("crashed", ("x.py", 1, "c"), {}, "failed", crash, "???"))
    (result,) = recorder.to_record().results
    assert result.status == "error" and crash in (result.message or "")
