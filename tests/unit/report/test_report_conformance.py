"""conformance.json: round trip, refusal of foreign files, atomic writes, redaction, merging."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kconform.errors import UsageError
from kconform.report.conformance import SCHEMA, read_conformance, write_conformance
from kconform.report.merge import merge
from kconform.report.model import InconclusiveCell, Outcome, RunRecord, TestResult

LOCAL = {
    "platform": "local",
    "provider": None,
    "kubernetes": None,
    "strimzi": "1.2.0",
    "kafka": "4.3.1",
    "mode": "kraft",
}
KIND = {
    "platform": "kubernetes",
    "provider": "kind",
    "kubernetes": "1.35.0",
    "strimzi": "1.2.0",
    "kafka": "4.3.1",
    "mode": "dual-role",
}


def _record(
    run_id: str, cell: dict[str, str | None], status: str = "passed", started: str = "2025-03-01"
) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        started=f"{started}T10:00:00+00:00",
        finished=f"{started}T10:05:00+00:00",
        tool_version="0.1.0",
        results=[
            TestResult(
                nodeid="scenarios/test_tls_client_auth.py::test_user_reads_own_topic",
                workflow="tls-client-auth",
                title="a TLS user reads its own topic",
                cell=cell,
                status=Outcome(status),
                duration_s=12.25,
                message=None if status == "passed" else "AuthorizationFailed: topic orders",
                steps=["apply Kafka", "wait Ready"],
            )
        ],
    )


def _private_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    record = _record("run-a", LOCAL, "failed")
    record.interrupted = True
    record.cells_inconclusive.append(
        InconclusiveCell(cell=KIND, reason="image pull backoff: quay.io/strimzi")
    )

    path = write_conformance(record, tmp_path / "conformance.json")
    again = read_conformance(path)

    assert again == record
    document = json.loads(path.read_text())
    assert document["schema"] == SCHEMA
    assert document["run"] == {
        "id": "run-a",
        "started": "2025-03-01T10:00:00+00:00",
        "finished": "2025-03-01T10:05:00+00:00",
        "tool_version": "0.1.0",
        "interrupted": True,
    }
    assert document["results"][0]["cell"] == LOCAL
    assert document["results"][0]["status"] == "failed"


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "conformance.json"
    target.parent.mkdir()
    target.write_text("old content")

    write_conformance(_record("run-b", LOCAL), target)

    assert sorted(p.name for p in target.parent.iterdir()) == ["conformance.json"]
    assert json.loads(target.read_text())["run"]["id"] == "run-b"
    assert target.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"run": {}, "results": []}', "no 'schema'"),
        ('{"schema": "kconform/conformance/v0", "run": {}, "results": []}', "kconform/conformance/v0"),
        ("[1, 2]", "no 'schema'"),
        ("<html>not json</html>", "not valid JSON"),
        (f'{{"schema": "{SCHEMA}", "results": []}}', "missing field 'run'"),
    ],
)
def test_foreign_files_are_refused_with_one_clear_line(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "conformance.json"
    path.write_text(content)
    with pytest.raises(UsageError, match=r"conformance") as caught:
        read_conformance(path)
    message = str(caught.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_unknown_status_is_refused(tmp_path: Path) -> None:
    path = write_conformance(_record("run-c", LOCAL), tmp_path / "conformance.json")
    document = json.loads(path.read_text())
    document["results"][0]["status"] = "flaky"
    path.write_text(json.dumps(document))
    with pytest.raises(UsageError, match=r"results\[0\]\.status 'flaky' is not one of passed, failed"):
        read_conformance(path)


def test_missing_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        read_conformance(tmp_path / "absent.json")


def test_private_keys_and_jaas_config_never_reach_the_file(tmp_path: Path) -> None:
    pem = _private_key_pem()
    key_body = pem.splitlines()[1]
    jaas = (
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        'username="alice" password="s3cret-Pa55";'
    )
    record = _record("run-d", LOCAL, "failed")
    record.results[
        0
    ].message = f"produce refused: TopicAuthorizationFailed\nclient config:\n{jaas}\nkey:\n{pem}"
    record.results[0].steps.append(f"read Secret alice: {pem}")
    record.cells_inconclusive.append(InconclusiveCell(cell=KIND, reason=f"bad config {jaas}"))

    text = write_conformance(record, tmp_path / "conformance.json").read_text()

    assert key_body not in text
    assert "s3cret-Pa55" not in text
    assert "ScramLoginModule" not in text
    assert "produce refused: TopicAuthorizationFailed" in text  # the useful part stays
    # the record in memory is untouched: redaction happens on the way out
    assert key_body in (record.results[0].message or "")


def test_merge_is_order_independent_and_drops_duplicate_runs() -> None:
    first = _record("run-1", LOCAL, started="2025-03-01")
    second = _record("run-2", KIND, "failed", started="2025-03-02")
    third = _record("run-3", {**KIND, "kubernetes": "1.33.1"}, started="2025-03-03")

    one = merge([first, second, third])
    other = merge([third, first, second, first])

    assert [run.run_id for run in one.runs] == ["run-1", "run-2", "run-3"]
    assert one == other
    assert one.to_record() == other.to_record()
    assert one.to_record().merged_from == ["run-1", "run-2", "run-3"]
    assert len(one.results) == 3


def test_a_rerun_of_the_same_cell_replaces_the_earlier_attempt() -> None:
    flaky = _record("run-1", KIND, "failed", started="2025-03-01")
    rerun = _record("run-2", KIND, "passed", started="2025-03-02")

    merged = merge([rerun, flaky])

    assert [result.status for result in merged.results] == [Outcome.PASSED]


def test_a_later_run_that_never_started_a_test_keeps_the_earlier_outcome() -> None:
    """A re-run cancelled before it reached a test did not test it: the earlier attempt stands."""
    earlier = _record("run-1", KIND, "passed", started="2025-03-01")
    cancelled = _record("run-2", KIND, "not-run", started="2025-03-02")
    cancelled.interrupted = True
    merged = merge([cancelled, earlier])
    assert [result.status for result in merged.results] == [Outcome.PASSED]
    assert merged.interrupted
    alone = merge([_record("run-3", LOCAL, "not-run", started="2025-03-03")])
    assert [result.status for result in alone.results] == [Outcome.NOT_RUN]


def test_interrupted_and_not_run_round_trip(tmp_path: Path) -> None:
    for status in (Outcome.INTERRUPTED, Outcome.NOT_RUN):
        path = write_conformance(_record(f"run-{status}", LOCAL, status.value), tmp_path / f"{status}.json")
        assert [result.status for result in read_conformance(path).results] == [status]


def test_a_single_record_keeps_its_identity_when_merged() -> None:
    record = _record("run-solo", LOCAL)
    assert merge([record]).to_record() == record


def test_setup_time_round_trips_and_each_cell_separates_setup_from_test_time(tmp_path: Path) -> None:
    record = _record("run-t", LOCAL)
    record.results[0].setup_s = 10.25  # of its 12.25 s, waiting for its cluster
    second = TestResult(
        nodeid="scenarios/test_user_acls.py::test_other",
        workflow="user-acls",
        title="another",
        cell=LOCAL,
        status=Outcome.PASSED,
        duration_s=3.0,
        setup_s=0.5,
    )
    record.results.append(second)
    record.results.append(TestResult("n3", "w", "t", KIND, Outcome.PASSED, duration_s=1.0))

    path = write_conformance(record, tmp_path / "conformance.json")

    assert read_conformance(path) == record
    document = json.loads(path.read_text())
    assert [r["setup_s"] for r in document["results"]] == [10.25, 0.5, 0.0]
    assert document["cells_timing"] == [
        {"cell": LOCAL, "setup_s": 10.75, "test_s": 4.5},
        {"cell": KIND, "setup_s": 0.0, "test_s": 1.0},
    ]


def test_a_file_written_before_setup_time_was_recorded_still_reads(tmp_path: Path) -> None:
    document = json.loads(
        json.dumps(
            {
                "schema": SCHEMA,
                "run": {"id": "old", "started": "s", "finished": None, "tool_version": "0.1.0"},
                "results": [
                    {
                        "nodeid": "n",
                        "workflow": "w",
                        "title": "t",
                        "cell": LOCAL,
                        "status": "passed",
                        "duration_s": 2.0,
                    }
                ],
            }
        )
    )
    path = tmp_path / "conformance.json"
    path.write_text(json.dumps(document))

    result = read_conformance(path).results[0]

    assert (result.duration_s, result.setup_s, result.test_s) == (2.0, 0.0, 2.0)
