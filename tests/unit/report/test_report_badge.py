"""One verdict decides the badge, the shields endpoint and the colour: a table of cases."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kconform.report.badge import badge_svg, shields_document, write_badge_svg, write_shields_json
from kconform.report.model import InconclusiveCell, Outcome, RunRecord, TestResult
from kconform.report.verdict import decide

CELL = {"platform": "local", "strimzi": "0.45.2", "kafka": "3.9.1", "mode": "zookeeper"}
SVG = "{http://www.w3.org/2000/svg}"


def run_with(*statuses: str, inconclusive_cell: bool = False, interrupted: bool = False) -> RunRecord:
    return RunRecord(
        run_id="run-badge",
        started="2025-03-01T10:00:00+00:00",
        finished="2025-03-01T10:01:00+00:00",
        tool_version="0.1.0",
        interrupted=interrupted,
        results=[
            TestResult(
                f"scenarios/test_x.py::test_{i}", "workflow-x", f"case {i}", CELL, Outcome(status), 1.0
            )
            for i, status in enumerate(statuses)
        ],
        cells_inconclusive=(
            [InconclusiveCell(cell={**CELL, "platform": "kubernetes", "provider": "k3s"}, reason="no docker")]
            if inconclusive_cell
            else []
        ),
    )


@pytest.mark.parametrize(
    ("record", "message", "color"),
    [
        (run_with(*["passed"] * 10), "10/10", "brightgreen"),
        (run_with(*["passed"] * 9, "skipped", "skipped"), "9/9", "brightgreen"),
        (run_with(*["passed"] * 9, "failed"), "9/10", "red"),
        (run_with("passed", "error"), "1/2", "red"),
        (run_with("passed", "failed", "inconclusive"), "1/3", "red"),
        (run_with("passed", "inconclusive"), "1/2", "orange"),
        (run_with("passed", "passed", inconclusive_cell=True), "2/2", "orange"),
        (run_with("passed", interrupted=True), "1/1 (interrupted)", "orange"),
        # A test cut short, and those never started, count: an interrupted run never reads all passed.
        (run_with("passed", "interrupted", "not-run", interrupted=True), "1/3 (interrupted)", "orange"),
        (run_with("passed", "not-run"), "1/2", "orange"),
        (run_with("interrupted", "failed", interrupted=True), "0/2 (interrupted)", "red"),
        (run_with(inconclusive_cell=True), "inconclusive", "orange"),
        (run_with(), "no results", "lightgrey"),
        (run_with("skipped", "skipped"), "no results", "lightgrey"),
    ],
)
def test_shields_document_follows_the_verdict(record: RunRecord, message: str, color: str) -> None:
    assert shields_document(decide(record)) == {
        "schemaVersion": 1,
        "label": "kafka conformance",
        "message": message,
        "color": color,
    }


def _svg_texts_and_fills(svg: str) -> tuple[list[str], list[str]]:
    root = ET.fromstring(svg)  # noqa: S314 - our own output, parsed to prove it is well-formed SVG
    texts = [element.text or "" for element in root.iter(f"{SVG}text")]
    fills = [element.get("fill", "") for element in root.iter(f"{SVG}path")]
    return texts, fills


@pytest.mark.parametrize(
    ("record", "fill"),
    [
        (run_with("passed", "passed"), "#44cc11"),
        (run_with("passed", "failed"), "#e05d44"),
        (run_with("passed", "inconclusive"), "#fe7d37"),
        (run_with(), "#9f9f9f"),
    ],
)
def test_badge_svg_has_label_message_and_the_same_colour(record: RunRecord, fill: str) -> None:
    verdict = decide(record)
    texts, fills = _svg_texts_and_fills(badge_svg(verdict))
    assert "kafka conformance" in texts
    assert verdict.message in texts
    assert fill in fills


def test_badge_files_are_identical_for_identical_results(tmp_path: Path) -> None:
    verdict = decide(run_with("passed"))
    first = write_badge_svg(verdict, tmp_path / "a" / "badge.svg").read_text()
    second = write_badge_svg(verdict, tmp_path / "b" / "badge.svg").read_text()
    assert first == second
    shields = json.loads(write_shields_json(verdict, tmp_path / "badge.json").read_text())
    assert shields["message"] == "1/1"
