"""Under pytest-xdist, through the real plugin and real workers (pytester, a subprocess per run): every
cell's scenarios run on one worker (its clusters start once), and a run stopped by SIGTERM to the controller
(`kconform run` passes a cancelled job's SIGTERM on to it) records the tests it never ran as not run. The
scenarios need no Kafka: they use only the `cell` fixture and write which worker ran them."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from kconform import config as run_config
from kconform_fixtures.selection import CellParam, cell_in_nodeid

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
    from pathlib import Path

    import pytest

    pytestmark = pytest.mark.workflow("xdist-demo")
    RAN = Path(os.environ["RAN"])


    @pytest.mark.parametrize("n", range(6))
    def test_in_cell(cell, n):
        """Writes the worker that ran it; the third test of the first cell stops the run when asked."""
        with RAN.open("a") as out:
            out.write(f"{cell.id} {n} {os.environ['PYTEST_XDIST_WORKER']}\\n")
        if os.environ.get("STOP") and n == 2 and cell.mode == "kraft":
            os.kill(os.getppid(), signal.SIGTERM)  # the xdist controller, this worker's parent
            threading.Event().wait(30)
            pytest.fail("the controller did not stop this worker within 30 s")
    '''
)


def _run(
    pytester: pytest.Pytester, *, stop: bool
) -> tuple[pytest.RunResult, list[list[str]], dict[str, Any]]:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_scenarios=SCENARIOS)
    ran = pytester.path / "ran.txt"
    pytester._monkeypatch.setenv("RAN", str(ran))
    if stop:
        pytester._monkeypatch.setenv("STOP", "1")
    reports = pytester.path / "reports"
    args = ["-p", "no:cacheprovider", "-p", "no:randomly", "-n", "2", "--platform", "local"]
    args += ["--profile", "1.2.0", "--mode", "kraft", "--mode", "kraft-dedicated", "--reports", str(reports)]
    result = pytester.runpytest_subprocess(*args, timeout=180)
    lines = [line.split() for line in ran.read_text().splitlines()] if ran.exists() else []
    return result, lines, json.loads((reports / "conformance.json").read_text(encoding="utf-8"))


def test_each_cell_runs_on_one_worker(pytester: pytest.Pytester) -> None:
    result, ran, record = _run(pytester, stop=False)
    assert result.ret == 0, result.stdout.str()[-3000:]
    workers: dict[str, set[str]] = {}
    for cell, _, worker in ran:
        workers.setdefault(cell, set()).add(worker)
    assert sorted(workers) == ["strimzi-1.2.0-kraft", "strimzi-1.2.0-kraft-dedicated"], ran
    assert all(len(w) == 1 for w in workers.values()), workers
    assert len(ran) == 12 and {r["status"] for r in record["results"]} == {"passed"}


def test_sigterm_to_the_controller_records_the_tests_never_run(pytester: pytest.Pytester) -> None:
    result, ran, record = _run(pytester, stop=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()[-3000:]
    assert record["run"]["interrupted"] is True
    statuses = {r["nodeid"].split("::")[1]: r["status"] for r in record["results"]}
    assert len(statuses) == 12, statuses  # every selected test is in the record, run or not
    # The test that stopped the run never passed; a result still on its way from a worker is not counted.
    assert statuses["test_in_cell[strimzi-1.2.0-kraft-2]"] in ("interrupted", "not-run"), statuses
    started = {f"test_in_cell[{cell}-{n}]" for cell, n, _ in ran}
    never_started = set(statuses) - started
    assert never_started, "the stop came before the end of the cell: some tests never started"
    assert {statuses[t] for t in never_started} == {"not-run"}, statuses
    not_run = next(r for r in record["results"] if r["status"] == "not-run")
    assert not_run["workflow"] == "xdist-demo" and not_run["cell"]["strimzi"] == "1.2.0", not_run
    assert not_run["title"].startswith("Writes the worker that ran it"), not_run
    assert "interrupted before this test's result came in" in not_run["message"], not_run


@pytest.mark.parametrize(
    ("nodeid", "expected"),
    [
        ("s.py::test_x[strimzi-1.2.0-kraft]", "strimzi-1.2.0-kraft"),
        ("s.py::test_x[strimzi-1.2.0-kraft-dedicated]", "strimzi-1.2.0-kraft-dedicated"),
        ("s.py::test_x[strimzi-1.2.0-kraft-tls]", "strimzi-1.2.0-kraft"),
        ("s.py::test_x[tls-strimzi-1.2.0-kraft-dedicated]", "strimzi-1.2.0-kraft-dedicated"),
        ("s.py::test_x[strimzi-0.45.2-zookeeper]", None),  # not a cell of this run
        ("s.py::test_x", None),
        ("s.py::test_x[strimzi-1.2.0-kraftish]", None),
    ],
)
def test_a_node_id_names_its_cell(nodeid: str, expected: str | None) -> None:
    built = run_config.build(platform="local", profiles=["1.2.0"])
    found = cell_in_nodeid(built, nodeid)
    assert (found.id if found is not None else None) == expected
    assert found is None or isinstance(found, CellParam)
