"""`kconform report`: finding records, merging them, the files written and the exit status."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from kconform.commands import report as report_command
from kconform.errors import UsageError
from kconform.report.conformance import write_conformance
from kconform.report.model import InconclusiveCell, Outcome, RunRecord, TestResult

LOCAL = {"platform": "local", "strimzi": "1.2.0", "kafka": "4.3.1", "mode": "kraft"}
KIND = {
    "platform": "kubernetes",
    "provider": "kind",
    "kubernetes": "1.34.0",
    "strimzi": "1.2.0",
    "kafka": "4.3.1",
}


def run_record(run_id: str, cell: dict[str, str], *statuses: str) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        started="2025-03-01T10:00:00+00:00",
        finished="2025-03-01T10:30:00+00:00",
        tool_version="0.1.0",
        results=[
            TestResult(
                nodeid=f"scenarios/test_flow.py::test_case_{index}",
                workflow="sidecar-bridge",
                title=f"case {index}",
                cell=cell,
                status=Outcome(status),
                duration_s=2.0,
                message="broker refused: TOPIC_AUTHORIZATION_FAILED" if status == "failed" else None,
            )
            for index, status in enumerate(statuses)
        ],
    )


def invoke(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="kconform")
    subparsers = parser.add_subparsers(dest="command", required=True)
    report_command.register(subparsers)
    args = parser.parse_args(["report", *argv])
    return report_command.run(args)


def test_folders_are_searched_recursively_and_merged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    artifacts = tmp_path / "artifacts"
    write_conformance(
        run_record("cell-1", LOCAL, "passed", "passed"), artifacts / "cell-1" / "conformance.json"
    )
    write_conformance(
        run_record("cell-2", KIND, "passed", "skipped"), artifacts / "cell-2" / "deep" / "conformance.json"
    )
    loose = write_conformance(
        run_record("cell-3", {**KIND, "kubernetes": "1.33.0"}, "passed"), tmp_path / "c3.json"
    )
    out = tmp_path / "site"

    status = invoke(str(artifacts), str(loose), str(artifacts), "--out", str(out))

    assert status == 0
    assert sorted(path.name for path in out.iterdir()) == [
        "badge.json",
        "badge.svg",
        "conformance.json",
        "index.html",
    ]
    merged = json.loads((out / "conformance.json").read_text())
    assert merged["run"]["merged_from"] == ["cell-1", "cell-2", "cell-3"]
    assert json.loads((out / "badge.json").read_text())["message"] == "4/4"
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == "conformance: 4 passed, 1 skipped (3 cells)"


def test_a_failure_exits_1_and_names_the_test(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_conformance(run_record("cell-1", LOCAL, "passed", "failed"), tmp_path / "in" / "conformance.json")

    status = invoke(str(tmp_path / "in"), "--out", str(tmp_path / "out"))

    assert status == 1
    out = capsys.readouterr().out
    assert "scenarios/test_flow.py::test_case_1" in out
    assert "TOPIC_AUTHORIZATION_FAILED" in out
    assert json.loads((tmp_path / "out" / "badge.json").read_text())["color"] == "red"


def test_inconclusive_only_exits_0_with_a_note_unless_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = run_record("cell-1", LOCAL, "passed")
    record.cells_inconclusive.append(InconclusiveCell(cell=KIND, reason="kind: failed to pull kindest/node"))
    write_conformance(record, tmp_path / "in" / "conformance.json")

    assert invoke(str(tmp_path / "in"), "--out", str(tmp_path / "out")) == 0
    assert "inconclusive" in capsys.readouterr().err
    assert invoke(str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--strict") == 1


def test_records_inside_the_out_folder_are_not_counted_again(tmp_path: Path) -> None:
    write_conformance(
        run_record("cell-1", LOCAL, "passed"), tmp_path / "reports" / "cell-1" / "conformance.json"
    )
    out = tmp_path / "reports" / "merged"

    assert invoke(str(tmp_path / "reports"), "--out", str(out)) == 0
    assert invoke(str(tmp_path / "reports"), "--out", str(out)) == 0

    merged = json.loads((out / "conformance.json").read_text())
    assert merged["run"]["id"] == "cell-1"
    assert len(merged["results"]) == 1


def test_no_input_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match=r"no conformance\.json found in .*empty"):
        invoke(str(tmp_path / "empty"), "--out", str(tmp_path / "out"))
    with pytest.raises(UsageError, match="no such file or folder"):
        invoke(str(tmp_path / "missing"), "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_a_foreign_json_file_is_a_usage_error(tmp_path: Path) -> None:
    junit = tmp_path / "junit.json"
    junit.write_text('{"testsuites": []}')
    with pytest.raises(UsageError, match="not a kconform conformance record"):
        invoke(str(junit), "--out", str(tmp_path / "out"))


def test_help_documents_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        invoke("--help")
    assert stopped.value.code == 0
    text = capsys.readouterr().out
    assert "exit status:" in text
    assert "--strict" in text
    assert "1  a test failed or errored" in text


def test_records_without_results_exit_0_with_a_note_unless_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_conformance(run_record("cell-empty", LOCAL), tmp_path / "in" / "conformance.json")

    assert invoke(str(tmp_path / "in"), "--out", str(tmp_path / "out")) == 0
    assert "no test results" in capsys.readouterr().err
    assert json.loads((tmp_path / "out" / "badge.json").read_text())["message"] == "no results"
    assert invoke(str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--strict") == 1
