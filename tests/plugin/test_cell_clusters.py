"""A cell's clusters through the real plugin (pytester): started together when the cell starts, only for the
selected tests, each failure confined to the tests that need that cluster, each cluster deleted after its
last test. The platform is a recording double (in the generated conftest); the plugin, the pool and pytest
are real."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.support import cell_scenarios
from tests.support.cell_scenarios import SCENARIOS

pytest_plugins = ["pytester"]

CONFTEST = textwrap.dedent(
    '''
    import json, os, threading

    import kconform.platforms.local.local_preflight
    from kconform_fixtures import platform as platform_module
    from kconform.errors import ResourceFailed
    from kconform.platforms.protocol import Cell

    RECORD = os.environ["RECORD"]
    EXPECTED_KAFKAS = int(os.environ.get("EXPECTED_KAFKAS", "0"))
    LOCK = threading.Lock()
    APPLIED = threading.Condition()


    def record(*event):
        with LOCK, open(RECORD, "a", encoding="utf-8") as out:
            out.write(json.dumps([threading.current_thread() is threading.main_thread(), *event]) + "\\n")


    class RecordingPlatform:
        """A test double playing the platform and Strimzi's part for the plugin's own tests: every call is
        recorded; a Kafka whose name starts with "broken" ends NotReady, any other is Ready once
        EXPECTED_KAFKAS Kafkas exist (at once by default)."""

        name = "local"

        def __init__(self, profile):
            self.profile = profile
            self.resources = {}

        def cell(self, mode):
            return Cell("local", None, None, self.profile.strimzi, self.profile.kafka_version, mode)

        def create_namespace(self, namespace):
            record("namespace", namespace)

        def delete_namespace(self, namespace):
            record("delete-namespace", namespace)

        def apply(self, resource):
            meta = resource["metadata"]
            record("apply", resource["kind"], meta["name"], meta["namespace"])
            with APPLIED:
                self.resources[(resource["kind"], meta["namespace"], meta["name"])] = resource
                APPLIED.notify_all()

        def get(self, kind, namespace, name):
            return self.resources.get((kind, namespace, name))

        def wait_ready(self, kind, namespace, name, timeout):
            record("wait", kind, name)
            with APPLIED:
                kafkas = lambda: sum(1 for key in self.resources if key[0] == "Kafka")
                if not APPLIED.wait_for(lambda: kafkas() >= EXPECTED_KAFKAS, timeout=10):
                    raise ResourceFailed(f"only {kafkas()} of {EXPECTED_KAFKAS} Kafkas were applied (double)")
            if name.startswith("broken"):
                raise ResourceFailed(f"Kafka {namespace}/{name} is NotReady: InvalidResourceException (double)")
            return {**self.resources[(kind, namespace, name)], "status": {"conditions": [{"type": "Ready"}]}}

        def delete(self, kind, namespace, name):
            record("delete", kind, name)

        def diagnostics(self, namespace):
            return {"Kafka-conditions": f"NotReady seen in {namespace} (double's evidence)"}

        def close(self):
            pass


    platform_module.create = lambda config, prof, mode, worker: RecordingPlatform(prof)
    kconform.platforms.local.local_preflight.require_local = lambda *args, **kwargs: None  # nothing real to fetch here
    '''
)


def _run(
    pytester: pytest.Pytester, *args: str, expected_kafkas: int = 0
) -> tuple[pytest.RunResult, list[list]]:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_scenarios=SCENARIOS)
    record = pytester.path / "record.jsonl"
    record.unlink(missing_ok=True)  # one record per run
    pytester._monkeypatch.setenv("RECORD", str(record))
    pytester._monkeypatch.setenv("EXPECTED_KAFKAS", str(expected_kafkas))
    base = ["-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly", "--platform", "local"]
    base += ["--profile", "0.45.2", "--mode", "kraft", "--reports", str(pytester.path / "reports")]
    result = pytester.runpytest_subprocess(*base, *args)
    lines = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
    return result, [json.loads(line) for line in lines]


def _kafkas_applied(events: list[list]) -> list[str]:
    return [e[3].split("-")[0] for e in events if e[1:3] == ["apply", "Kafka"]]


def _index(events: list[list], *event: str) -> int:
    return next(i for i, e in enumerate(events) if e[1 : 1 + len(event)] == list(event))


def test_a_failing_cluster_fails_only_its_own_tests(pytester: pytest.Pytester) -> None:
    result, events = _run(pytester)
    result.assert_outcomes(passed=4, errors=2)
    result.stdout.fnmatch_lines(["*ERROR at setup of test_two*", "*ResourceFailed*NotReady*"])
    # The second test of the broken cluster names the failure in one line, not retried.
    result.stdout.fnmatch_lines(["*test_three*the cell's setup failed once; not retried*"])
    assert sorted(_kafkas_applied(events)) == ["broken", "good", "other"]
    ran = [e[2] for e in events if e[1] == "test"]
    assert ran == [f"test_{n}[strimzi-0.45.2-kraft]" for n in ("one", "four", "five", "six")]
    # Its evidence is in each failing test's diagnostics, and in nobody else's.
    diagnostics = pytester.path / "reports" / "diagnostics"
    folders = sorted(p.name for p in diagnostics.iterdir())
    assert len(folders) == 2 and all("test_two" in f or "test_three" in f for f in folders), folders
    for folder in diagnostics.iterdir():
        assert "double's evidence" in (folder / "Kafka-conditions.txt").read_text(encoding="utf-8")
    assert (
        cell_scenarios.statuses(pytester.path / "reports" / "conformance.json")
        == cell_scenarios.STATUSES_WITH_BROKEN
    )


def test_clusters_are_applied_together_before_the_first_test_and_deleted_after_their_last(
    pytester: pytest.Pytester,
) -> None:
    # The double turns no Kafka Ready before all three exist: applied one by one, the first would never be.
    result, events = _run(pytester, "--cluster-concurrency", "3", expected_kafkas=3)
    result.assert_outcomes(passed=4, errors=2)
    first_test = _index(events, "test")
    applied = [i for i, e in enumerate(events) if e[1:3] == ["apply", "Kafka"]]
    assert len(applied) == 3 and all(i < first_test for i in applied), events
    assert not any(e[0] for e in events if e[1] == "apply"), "applied in the test's thread, one by one"
    namespaces = {e[3].split("-")[0]: e[4] for e in events if e[1:3] == ["apply", "Kafka"]}
    # `good` is deleted once test_four (its last test) is done, before test_five runs.
    good_gone = _index(events, "delete-namespace", namespaces["good"])
    assert _index(events, "test", "test_four[strimzi-0.45.2-kraft]") < good_gone
    # Each cluster once, each deleted once; the progress line shows them side by side.
    assert sorted(e[2] for e in events if e[1] == "delete-namespace") == sorted(namespaces.values())
    result.stdout.fnmatch_lines(["*clusters of strimzi-0.45.2-kraft: good * | broken * | other *"])


def test_nothing_is_created_for_deselected_workflows_or_tests(pytester: pytest.Pytester) -> None:
    result, events = _run(pytester, "--workflow", "tls-listener", "-k", "not two and not three")
    result.assert_outcomes(passed=2)
    assert _kafkas_applied(events) == ["good"]
    result, events = _run(pytester, "--workflow", "scram-listener")
    result.assert_outcomes(passed=2)
    assert _kafkas_applied(events) == ["other"]
    result, events = _run(pytester, "--setup-plan")  # shows fixtures, runs none
    assert result.ret == pytest.ExitCode.OK and _kafkas_applied(events) == []


def test_the_bound_starts_later_clusters_once_earlier_ones_are_gone(pytester: pytest.Pytester) -> None:
    result, events = _run(pytester, "--cluster-concurrency", "1", "-k", "not two and not three")
    result.assert_outcomes(passed=4)
    namespaces = {e[3].split("-")[0]: e[4] for e in events if e[1:3] == ["apply", "Kafka"]}
    # One cluster alive ahead of its tests: `other` is applied only after `good` is deleted.
    other_applied = next(
        i for i, e in enumerate(events) if e[1:3] == ["apply", "Kafka"] and e[4] == namespaces["other"]
    )
    assert _index(events, "delete-namespace", namespaces["good"]) < other_applied


def test_concurrency_must_be_a_positive_number(pytester: pytest.Pytester) -> None:
    result, _events = _run(pytester, "--cluster-concurrency", "none")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cluster concurrency 'none': give a whole number of clusters, 1 or more*"])
