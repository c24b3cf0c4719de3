"""conformance.json: the machine-readable record of a run (schema `kconform/conformance/v1`).

    {"schema": "kconform/conformance/v1",
     "run": {"id", "started", "finished", "tool_version", "interrupted", "merged_from"?},
     "results": [{"nodeid", "workflow", "title",
                  "cell": {platform, provider, kubernetes, strimzi, kafka, mode},
                  "status", "duration_s", "setup_s", "message", "steps", "data"?}],
     "cells_inconclusive": [{"cell": {...}, "reason"}],
     "cells_timing": [{"cell": {...}, "setup_s", "test_s"}]}

`status` is one of passed, failed, error, skipped, inconclusive, interrupted (the run was stopped while the
test ran) and not-run (the run stopped before it started).

`setup_s` is the part of a test's `duration_s` spent in setup, mostly waiting for its cluster; a cell's
timing sums its tests' (written, never read back: it follows from the results).

`data` (only where a workflow recorded measurements) maps names to JSON values; its texts are redacted too.
Every message, step and reason is redacted on the way out, so no key or password reaches the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kconform.errors import UsageError
from kconform.redact import redact
from kconform.report.atomic import atomic_write_text
from kconform.report.merge import MergedReport, merge
from kconform.report.model import (
    InconclusiveCell,
    Outcome,
    RunRecord,
    TestResult,
    cell_timings,
    normalize_cell,
)

SCHEMA = "kconform/conformance/v1"

__all__ = ["SCHEMA", "MergedReport", "merge", "read_conformance", "record_to_dict", "write_conformance"]


def _redacted(text: str | None) -> str | None:
    return None if text is None else redact(text)


def _redacted_data(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {str(k): _redacted_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted_data(v) for v in value]
    return value


def record_to_dict(record: RunRecord) -> dict[str, Any]:
    """The JSON document for a record, with every free text redacted."""
    run: dict[str, Any] = {
        "id": record.run_id,
        "started": record.started,
        "finished": record.finished,
        "tool_version": record.tool_version,
        "interrupted": record.interrupted,
    }
    if record.merged_from:
        run["merged_from"] = list(record.merged_from)
    return {
        "schema": SCHEMA,
        "run": run,
        "results": [
            {
                "nodeid": result.nodeid,
                "workflow": result.workflow,
                "title": result.title,
                "cell": dict(result.cell),
                "status": result.status.value,
                "duration_s": round(result.duration_s, 3),
                "setup_s": round(result.setup_s, 3),
                "message": _redacted(result.message),
                "steps": [redact(step) for step in result.steps],
                **({"data": _redacted_data(result.data)} if result.data else {}),
            }
            for result in record.results
        ],
        "cells_inconclusive": [
            {"cell": dict(entry.cell), "reason": redact(entry.reason)} for entry in record.cells_inconclusive
        ],
        "cells_timing": [
            {
                "cell": dict(timing.cell),
                "setup_s": round(timing.setup_s, 3),
                "test_s": round(timing.test_s, 3),
            }
            for timing in cell_timings(record.results)
        ],
    }


def write_conformance(record: RunRecord, path: Path) -> Path:
    """Write the record atomically (temporary file + rename) and return the path."""
    text = json.dumps(record_to_dict(record), indent=2, ensure_ascii=False) + "\n"
    return atomic_write_text(path, text)


def read_conformance(path: Path) -> RunRecord:
    """Read a conformance.json; anything that is not schema v1 is refused with one line naming the fix."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file; pass the conformance.json a kconform run wrote") from None
    except OSError as err:
        raise UsageError(f"{path}: cannot read it ({err.strerror})") from err
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(
            f"{path}: not valid JSON ({err.msg} at line {err.lineno}); is it a conformance.json?"
        ) from err
    if not isinstance(document, dict) or "schema" not in document:
        raise UsageError(
            f"{path}: not a kconform conformance record (no 'schema' field; expected {SCHEMA!r})"
        )
    if document["schema"] != SCHEMA:
        raise UsageError(
            f"{path}: schema {document['schema']!r} is not {SCHEMA!r}; "
            "read it with the kconform version that wrote it"
        )
    try:
        return _record_from_dict(document)
    except (KeyError, TypeError, ValueError) as err:
        raise UsageError(
            f"{path}: malformed {SCHEMA} record ({_describe(err)}); regenerate it with kconform"
        ) from err


def _describe(err: Exception) -> str:
    if isinstance(err, KeyError):
        return f"missing field {err.args[0]!r}"
    return str(err)


def _record_from_dict(document: Mapping[str, Any]) -> RunRecord:
    run = document["run"]
    results = [_result_from_dict(index, item) for index, item in enumerate(document["results"])]
    inconclusive = [
        InconclusiveCell(
            cell=normalize_cell(_mapping(item["cell"], "cells_inconclusive[].cell")),
            reason=str(item["reason"]),
        )
        for item in document.get("cells_inconclusive", [])
    ]
    return RunRecord(
        run_id=str(run["id"]),
        started=str(run["started"]),
        finished=None if run.get("finished") is None else str(run["finished"]),
        tool_version=str(run["tool_version"]),
        interrupted=bool(run.get("interrupted", False)),
        results=results,
        cells_inconclusive=inconclusive,
        merged_from=[str(run_id) for run_id in run.get("merged_from", [])],
    )


def _result_from_dict(index: int, item: Mapping[str, Any]) -> TestResult:
    status = item["status"]
    if status not in {outcome.value for outcome in Outcome}:
        allowed = ", ".join(outcome.value for outcome in Outcome)
        raise ValueError(f"results[{index}].status {status!r} is not one of {allowed}")
    message = item.get("message")
    return TestResult(
        nodeid=str(item["nodeid"]),
        workflow=str(item.get("workflow") or ""),
        title=str(item.get("title") or ""),
        cell=normalize_cell(_mapping(item["cell"], f"results[{index}].cell")),
        status=Outcome(status),
        duration_s=float(item.get("duration_s") or 0.0),
        setup_s=float(item.get("setup_s") or 0.0),
        message=None if message is None else str(message),
        steps=[str(step) for step in item.get("steps", [])],
        data=dict(_mapping(item.get("data") or {}, f"results[{index}].data")),
    )


def _mapping(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{where} is not an object")
    return value
