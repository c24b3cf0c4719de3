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
