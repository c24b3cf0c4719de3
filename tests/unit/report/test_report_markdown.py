"""`kconform report --format markdown`: the job summary the GitHub Action writes — the badge, then one row
per workflow and one column per cell, each square the outcome of that workflow in that cell."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest

from kconform.report.conformance import write_conformance
from kconform.report.markdown import badge_markdown, markdown_summary
from kconform.report.merge import merge
from kconform.report.model import InconclusiveCell, Outcome, RunRecord, TestResult
from kconform.report.verdict import decide
from tests.unit.commands.test_report_command import invoke

LOCAL = {"platform": "local", "strimzi": "1.2.0", "kafka": "4.3.1", "mode": "kraft"}
KIND = {"platform": "kubernetes", "provider": "kind", "kubernetes": "1.35.0", "strimzi": "1.2.0"}
KIND_045 = {"platform": "kubernetes", "provider": "kind", "kubernetes": "1.32.11", "strimzi": "0.45.2"}


def result(workflow: str, cell: dict[str, str], status: str, index: int = 0, message: str = "") -> TestResult:
    return TestResult(
        nodeid=f"scenarios/test_{workflow}.py::test_{index}",
        workflow=workflow,
        title=f"{workflow} {index}",
        cell=cell,
        status=Outcome(status),
        message=message or None,
    )


def record(run_id: str, *results: TestResult, inconclusive: tuple[InconclusiveCell, ...] = ()) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        started="2026-01-01T00:00:00+00:00",
        finished="2026-01-01T00:10:00+00:00",
        tool_version="0.1.0",
        results=list(results),
        cells_inconclusive=list(inconclusive),
    )


def table_rows(text: str) -> list[list[str]]:
    rows = [line for line in text.splitlines() if line.startswith("|") and not line.startswith("|---")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def test_one_row_per_workflow_one_column_per_cell_with_each_outcome() -> None:
    merged = merge(
        [
            record(
                "a",
                result("tls-listener", LOCAL, "passed", 0),
                result("tls-listener", LOCAL, "passed", 1),
                result("user-acls", LOCAL, "failed", 0, "denied: TOPIC_AUTHORIZATION_FAILED"),
                result("user-acls", LOCAL, "passed", 1),
            ),
            record(
                "b",
                result("tls-listener", KIND, "passed"),
                result("user-acls", KIND, "skipped"),
            ),
        ]
    )
    rows = table_rows(markdown_summary(merged))
    header, body = rows[0], {row[0]: row[1:] for row in rows[1:]}
    assert header[0] == "workflow" and len(header) == 3
    local_column = next(i for i, label in enumerate(header[1:]) if "local" in label)
    kind_column = 1 - local_column
    assert body["tls-listener"][local_column] == "✅ 2/2 passed"
    assert body["user-acls"][local_column] == "❌ 1/2 passed, 1 failed"
    assert body["tls-listener"][kind_column] == "✅ 1/1 passed"
    assert body["user-acls"][kind_column] == "⏭️ 1 skipped"


def test_the_badge_is_the_verdict_and_failures_are_listed() -> None:
    run = record("a", result("user-acls", LOCAL, "failed", 0, "denied | twice\nsecond line"))
    text = markdown_summary(run)
    verdict = decide(run)
    assert badge_markdown(verdict) in text
    assert verdict.state == "failed" and verdict.shields_color in badge_markdown(verdict)
    # one list line per failure, its message on one line with the pipe escaped (it must not split a table)
    failure = next(line for line in text.splitlines() if line.startswith("- ") and "FAILED" in line)
    assert "denied \\| twice" in failure and "second line" not in failure


def test_badge_url_escapes_shields_separators() -> None:
    verdict = decide(record("a", result("tls-listener", LOCAL, "passed")))
    url = badge_markdown(verdict).split("](", 1)[1].rstrip(")")
    label, message, color = url.removeprefix("https://img.shields.io/badge/").rsplit("-", 2)
    assert urllib.parse.unquote(label).replace("--", "-") == verdict.label
    assert urllib.parse.unquote(message).replace("--", "-") == verdict.message
    assert color == verdict.shields_color


def test_an_inconclusive_cell_fills_its_column() -> None:
    run = record(
        "a",
        result("tls-listener", LOCAL, "passed"),
        inconclusive=(InconclusiveCell(KIND_045, "kind could not pull its node image"),),
    )
    rows = table_rows(markdown_summary(run))
    column = next(i for i, label in enumerate(rows[0][1:]) if "0.45.2" in label)
    assert rows[1][1 + column] == "⚠️ cell inconclusive"
    assert "kind could not pull its node image" in markdown_summary(run)


def test_report_command_prints_markdown_and_still_writes_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_conformance(
        record("a", result("tls-listener", LOCAL, "passed")), tmp_path / "in" / "conformance.json"
    )
    assert invoke(str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--format", "markdown") == 0
    out = capsys.readouterr()
    assert out.out.startswith("## kconform conformance") and "| tls-listener | ✅ 1/1 passed |" in out.out
    assert "merged 1 record(s)" in out.err and "merged" not in out.out
    assert (tmp_path / "out" / "index.html").is_file() and (tmp_path / "out" / "badge.svg").is_file()
