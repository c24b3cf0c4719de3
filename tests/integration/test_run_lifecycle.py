"""`kconform run` on the local platform, driven as a user would: cleanup, interruption, a failing cell,
and no secrets in the reports. Real Kafka processes; one Strimzi profile and mode to keep it short."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

from kconform import paths
from kconform.platforms.local.processes import find_run_processes
from kconform.waits import wait_until
from kconform_fixtures import secret_ledger
from tests.support.cli import environment, start_module

pytestmark = pytest.mark.integration
PROFILE = ["--profile", "1.2.0", "--mode", "kraft"]


def _run_local(
    reports: Path, run_id: str, *pytest_args: str, scope: Sequence[str] = PROFILE
) -> subprocess.Popen[bytes]:
    """`kconform run --platform local` (one profile and mode unless `scope` says otherwise), in its own
    session so a test can signal the whole group. The run records the digests of every SCRAM password it
    generated or used in a ledger next to (never inside) the reports folder."""
    return start_module(
        "kconform.cli",
        "run",
        "--platform",
        "local",
        *scope,
        "--reports",
        str(reports),
        "--",
        *pytest_args,
        env=environment(KCONFORM_RUN_ID=run_id, **{secret_ledger.LEDGER_ENV: str(_ledger(reports))}),
    )


def test_run_leaves_no_process_and_no_secret(tmp_path: Path) -> None:
    run_id = "life" + os.urandom(3).hex()
    reports = tmp_path / "reports"
    proc = _run_local(reports, run_id, "-k", "tls_listener or seed_acls", "-q")
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out.decode()[-3000:]
    assert find_run_processes(run_id) == []
    record = json.loads((reports / "conformance.json").read_text())
    assert {r["status"] for r in record["results"]} == {"passed"} and len(record["results"]) == 4
    assert all(r["cell"]["platform"] == "local" for r in record["results"])
    for required in ("junit.xml", "index.html", "badge.svg", "badge.json"):
        assert (reports / required).is_file(), required
    assert any((reports / "allure-results").iterdir())
    _assert_no_secrets(reports)


def test_sigint_still_writes_the_record_and_stops_every_process(tmp_path: Path) -> None:
    run_id = "intr" + os.urandom(3).hex()
    reports = tmp_path / "reports"
    proc = _run_local(reports, run_id, "-k", "tls_listener or user_acls", "-q")
    try:
        # Interrupt once a test has finished and the run's broker is up (both observable from outside).
        wait_until(
            lambda: _allure_results(reports) >= 1 and find_run_processes(run_id),
            describe="a finished test while the run's Kafka is up",
            timeout=300,
            interval=0.5,
        )
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, out.decode()[-3000:]
    record = json.loads((reports / "conformance.json").read_text())
    assert record["run"]["interrupted"] is True
    assert record["results"], "the tests that finished before the interrupt are in the record"
    wait_until(lambda: find_run_processes(run_id) == [], describe="no process of the run", timeout=30)


@pytest.mark.parametrize(
    ("how", "signum"),
    [("Ctrl-C to the process group", signal.SIGINT), ("SIGTERM to kconform run", signal.SIGTERM)],
)
def test_an_interrupt_before_the_first_result_still_writes_the_record(
    tmp_path: Path, how: str, signum: signal.Signals
) -> None:
    """The README promises reports on interruption: also when no test has finished yet. SIGTERM (a CI job
    cancelled) ends the run as Ctrl-C does: record, no process left, exit 130."""
    run_id = "early" + os.urandom(3).hex()
    reports = tmp_path / "reports"
    proc = _run_local(reports, run_id, "-k", "tls_listener", "-q")
    try:
        wait_until(
            lambda: _java_started(run_id),
            describe="the run's Kafka starting (a java process of the run)",
            timeout=300,
            interval=0.2,
        )
        assert _allure_results(reports) == 0, "a test already finished: too late to prove anything"
        if signum == signal.SIGINT:
            os.killpg(proc.pid, signum)
        else:
            os.kill(proc.pid, signum)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, out.decode()[-3000:]
    record = json.loads((reports / "conformance.json").read_text())
    assert record["run"]["interrupted"] is True and record["run"]["id"] == run_id
    assert all(r["status"] != "passed" for r in record["results"])
    wait_until(lambda: find_run_processes(run_id) == [], describe="no process of the run", timeout=30)


def test_a_failing_cell_shows_everywhere(tmp_path: Path) -> None:
    """A scenario asserting a user without Write can produce must fail: exit 1, a failed entry, a red square,
    a badge that is not green."""
    run_id = "fail" + os.urandom(3).hex()
    reports = tmp_path / "reports"
    scenario = paths.PROJECT_ROOT / "scenarios" / f"test_zz_broken_{run_id}.py"
    scenario.write_text(
        textwrap.dedent('''
        import pytest
        from kconform import resources
        pytestmark = pytest.mark.workflow("deliberately-broken")

        def test_user_missing_write_can_produce(kafka, names):
            """A user granted only Read is expected (wrongly) to produce."""
            user, topic = names("nowrite"), names("orders")
            kafka.apply_topic(topic)
            kafka.apply_user(user, acls=[resources.acl("topic", topic, ["Read", "Describe"]),
                                         resources.acl("topic", names("other"), ["Write"])])
            kafka.client(user).produce(topic, ["needs Write"], idempotent=False)
    ''')
    )
    try:
        proc = _run_local(reports, run_id, "-k", "deliberately or broken", str(scenario), "-q")
        out, _ = proc.communicate(timeout=600)
    finally:
        scenario.unlink()
    assert proc.returncode == 1, out.decode()[-3000:]
    record = json.loads((reports / "conformance.json").read_text())
    failed = [r for r in record["results"] if r["status"] == "failed"]
    assert failed and "not authorized (topic)" in failed[0]["message"]
    page = (reports / "index.html").read_text()
    assert "status-failed" in page and 'data-workflow="deliberately-broken"' in page
    assert json.loads((reports / "badge.json").read_text())["color"] != "brightgreen"
    assert "#4c1" not in (reports / "badge.svg").read_text().lower()  # anybadge's green
    _assert_no_secrets(reports)


def _java_started(run_id: str) -> bool:
    """A JVM of the run (a broker or controller) runs: the run is in its first cluster's setup."""
    for pid in find_run_processes(run_id):
        try:
            if b"java" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0]:
                return True
        except OSError:
            continue
    return False


def _allure_results(reports: Path) -> int:
    folder = reports / "allure-results"
    return len(list(folder.glob("*-result.json"))) if folder.is_dir() else 0


def _ledger(reports: Path) -> Path:
    return reports.parent / f"{reports.name}-scram-ledger"


def _assert_no_secrets(reports: Path) -> None:
    """No private key, password or sasl.jaas.config value in any file the run wrote, and none of the SCRAM
    passwords the run generated or used (their digests are in the run's ledger)."""
    ledger = _ledger(reports)
    passwords = secret_ledger.read(ledger) if ledger.is_file() else set()
    for path in reports.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        assert secret_ledger.find_leaks(text, passwords) == 0, f"a SCRAM password of the run is in {path}"
        assert "PRIVATE KEY-----" not in text, path
        # Kafka logs its config with `sasl.jaas.config = null`: only a value would be a leak.
        assert not re.search(r"sasl\.jaas\.config\s*[=:]\s*(?!null\b)\S", text), path
        assert "ScramLoginModule" not in text, path


@pytest.mark.bridge  # the full run includes the bridge workflow
@pytest.mark.timeout(1800)
def test_full_run_passes_and_its_reports_hold_no_secrets(tmp_path: Path) -> None:
    """Every workflow, every mode, both profiles, two workers: all pass, and no file under the reports holds
    a private key, a password or a sasl.jaas.config value."""
    run_id = "full" + os.urandom(3).hex()
    reports = tmp_path / "reports"
    proc = _run_local(reports, run_id, "-q", "-W", "ignore::DeprecationWarning", scope=["-n", "2"])
    out, _ = proc.communicate(timeout=1700)
    assert proc.returncode == 0, out.decode()[-3000:]
    record = json.loads((reports / "conformance.json").read_text())
    cells = {(r["cell"]["strimzi"], r["cell"]["mode"]) for r in record["results"]}
    assert cells == {
        ("0.45.2", "kraft"),
        ("0.45.2", "zookeeper"),
        ("1.2.0", "kraft"),
        ("1.2.0", "kraft-dedicated"),
    }
    workflows = {r["workflow"] for r in record["results"]}
    assert workflows == {
        "tls-listener",
        "user-acls",
        "bridge-sidecar",
        "external-access",
        "metadata-mode",
        "scram-listener",
    }
    assert find_run_processes(run_id) == []
    assert len(secret_ledger.read(_ledger(reports))) >= 4 * 6  # every cell generated and chose passwords
    _assert_no_secrets(reports)


def test_scram_run_leaves_no_password_in_the_reports(tmp_path: Path) -> None:
    """`kconform run --workflow scram-listener` on one cell: every SCRAM password the run generated (the
    operator's) or used (provided, changed, wrong) is recorded, and no file under the reports holds one."""
    run_id = "scrm" + os.urandom(3).hex()
    reports = tmp_path / "reports"
    proc = _run_local(reports, run_id, "-q", scope=[*PROFILE, "--workflow", "scram-listener"])
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out.decode()[-3000:]
    record = json.loads((reports / "conformance.json").read_text())
    assert {r["workflow"] for r in record["results"]} == {"scram-listener"}
    assert len(record["results"]) >= 6
    assert len(secret_ledger.read(_ledger(reports))) >= 6
    assert find_run_processes(run_id) == []
    _assert_no_secrets(reports)
