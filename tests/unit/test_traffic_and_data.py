"""The accounting of continuous traffic (kconform.traffic) and how a workflow's measurements reach
conformance.json (`data`, via fixtures.results.attach_data)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from kconform.errors import BrokerUnreachable, ClientError
from kconform.report.conformance import read_conformance, write_conformance
from kconform.report.model import RunRecord, TestResult
from kconform.traffic import ContinuousTraffic, Ledger, account
from kconform_fixtures.results import DATA_PROPERTY, ResultsRecorder, attach_data


def _ledger(acks: dict[str, tuple[int, int]], reads: list[tuple[str, int, int]], sent: list[str]) -> Ledger:
    return Ledger(sent=sent, acknowledged=acks, consumed=reads)


def test_every_acknowledged_value_read_once_is_clean() -> None:
    sent = ["m-0", "m-1", "m-2"]
    acks = {"m-0": (0, 0), "m-1": (1, 0), "m-2": (0, 1)}
    counts = account(_ledger(acks, [("m-0", 0, 0), ("m-2", 0, 1), ("m-1", 1, 0)], sent))
    assert counts == {
        "produced": 3,
        "acknowledged": 3,
        "consumed": 3,
        "lost": 0,
        "duplicates": 0,
        "misplaced": 0,
        "overwritten": 0,
        "out_of_order": [],
        "client_errors": 0,
    }


def test_lost_duplicates_misplaced_and_order_are_counted() -> None:
    sent = ["m-0", "m-1", "m-2", "m-3"]
    # m-3 was sent (not acknowledged); m-1 acknowledged at a lower offset than m-0 on partition 0: out of order.
    acks = {"m-0": (0, 5), "m-1": (0, 4), "m-2": (1, 0)}
    reads = [("m-0", 0, 5), ("m-0", 0, 5), ("m-1", 0, 9), ("m-3", 1, 1)]
    counts = account(_ledger(acks, reads, sent))
    assert counts["lost"] == 1  # m-2
    assert counts["duplicates"] == 1  # m-0 twice
    assert counts["misplaced"] == 1  # m-1 read at another offset
    assert counts["out_of_order"] == [0]
    assert counts["consumed"] == 3  # an unacknowledged value that arrived still counts as consumed


def test_the_loops_account_failed_sends_as_unacknowledged_and_drain() -> None:
    """A produce that fails is not acknowledged; the consumer drains what was; stop returns the counts."""
    log: list[dict] = []
    calls = {"n": 0}
    lock = threading.Lock()

    def produce(values: list[str]) -> list[dict]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise BrokerUnreachable("broker restarting")
        with lock:
            start = len(log)
            log.extend({"value": v, "partition": 0, "offset": start + i} for i, v in enumerate(values))
        return [{"partition": 0, "offset": start + i} for i in range(len(values))]

    position = {"next": 0}

    def consume() -> tuple[list[dict], None]:
        with lock:
            records = log[position["next"] :]
            position["next"] = len(log)
        return records, None

    traffic = ContinuousTraffic(produce, consume, prefix="t", batch=2, pause_s=0.01).start()
    traffic.await_progress("in the test", timeout=10)
    counts = traffic.stop(drain_timeout=10)
    assert counts["lost"] == 0 and counts["duplicates"] == 0
    assert counts["client_errors"] == 1
    assert counts["produced"] == counts["acknowledged"] + 2


def test_an_offset_given_twice_is_counted_as_overwritten() -> None:
    """A log truncated under an acknowledged value gives its offset again: the first value is lost and the
    position counted as overwritten (what an unclean leader election or a wiped log does)."""
    acks = {"m-0": (0, 0), "m-1": (0, 1), "m-2": (0, 1)}
    counts = account(_ledger(acks, [("m-0", 0, 0), ("m-2", 0, 1)], ["m-0", "m-1", "m-2"]))
    assert counts["overwritten"] == 1
    assert counts["lost"] == 1


def test_records_whose_commit_failed_count_as_read() -> None:
    """The group's offsets move past what a consume read even when the commit's answer is lost; the loop
    keeps those records (and counts the failure), so the drain does not wait for what never comes again."""
    log = [{"value": f"t-early{i}", "partition": 0, "offset": i} for i in range(4)]
    committed = {"next": 0}
    lock = threading.Lock()

    def produce(values: list[str]) -> list[dict]:
        with lock:
            start = len(log)
            log.extend({"value": v, "partition": 0, "offset": start + i} for i, v in enumerate(values))
        return [{"partition": 0, "offset": start + i} for i in range(len(values))]

    def consume() -> tuple[list[dict], ClientError | None]:
        with lock:
            records = log[committed["next"] :]
            committed["next"] = len(log)  # the broker stored the commit...
        failed = records and records[0]["offset"] == 0
        return records, ClientError("commit offsets: no answer") if failed else None  # ...the answer lost

    traffic = ContinuousTraffic(produce, consume, prefix="t", batch=2, pause_s=0.01)
    traffic.ledger.acknowledged.update({f"t-early{i}": (0, i) for i in range(4)})
    traffic.ledger.sent.extend(f"t-early{i}" for i in range(4))
    traffic.start()
    traffic.await_progress("in the test", timeout=10)
    counts = traffic.stop(drain_timeout=10)
    assert counts["lost"] == 0 and counts["duplicates"] == 0, counts
    assert counts["client_errors"] == 1
    assert traffic.ledger.errors[0].startswith("commit: ClientError")


def test_attached_data_reaches_conformance_json(tmp_path: Path) -> None:
    recorder = ResultsRecorder(run_id="r1", reports_dir=tmp_path)

    class _Item:
        user_properties: list[tuple[str, object]] = [("kconform_workflow", "kraft-migration")]

    item = _Item()
    attach_data(item, state_durations_s={"KRaft": 1.5}, lost=0)  # type: ignore[arg-type]
    assert item.user_properties[-1][0] == DATA_PROPERTY
    report = pytest.TestReport(
        nodeid="s::t",
        location=("s", 0, "t"),
        keywords={},
        outcome="passed",
        longrepr=None,
        when="call",
        user_properties=item.user_properties,
        duration=1.0,
    )
    recorder.record(report)
    path = write_conformance(recorder.to_record(), tmp_path / "conformance.json")
    written = json.loads(path.read_text())
    assert written["results"][0]["data"] == {"state_durations_s": {"KRaft": 1.5}, "lost": 0}
    assert read_conformance(path).results[0].data == {"state_durations_s": {"KRaft": 1.5}, "lost": 0}


def test_results_without_data_keep_the_old_shape(tmp_path: Path) -> None:
    record = RunRecord(
        run_id="r",
        started="s",
        finished="f",
        tool_version="v",
        interrupted=False,
        results=[
            TestResult(nodeid="n", workflow="w", title="t", cell={}, status="passed")  # type: ignore[arg-type]
        ],
    )
    written = json.loads(write_conformance(record, tmp_path / "c.json").read_text())
    assert "data" not in written["results"][0]
