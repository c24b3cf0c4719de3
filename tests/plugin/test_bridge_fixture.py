"""The `bridge_sidecar` fixture users get from the plugin: it starts the seed's pod for a KafkaUser with the
cell's bridge version, returns a client for it, stops every pod it started, and marks its tests `bridge`
(so the preflight fetches the bridge). Driven through pytester with a platform double; the real bridge runs
in scenarios/test_bridge_sidecar.py."""

from __future__ import annotations

import json
import textwrap

import pytest

from kconform import options

pytest_plugins = ["pytester"]

CONFTEST = textwrap.dedent(
    """
    import json, os
    import pytest
    from kconform.platforms.protocol import Sidecar
    from kconform.versions import profile
    from kconform_fixtures.cluster import KafkaCluster

    class RecordingPlatform:
        '''Test double of a platform: records the sidecar pods it is asked to start and stop (no bridge
        runs); plays no part of Strimzi.'''

        def __init__(self):
            self.calls = []

        def start_sidecar(self, namespace, pod, config):
            self.calls.append(["start", namespace, pod["metadata"]["name"], pod, config])
            return Sidecar(name=pod["metadata"]["name"], bridge_url="http://127.0.0.1:18080")

        def stop_sidecar(self, namespace, name):
            self.calls.append(["stop", namespace, name])

    PLATFORM = RecordingPlatform()

    @pytest.fixture
    def kafka():
        yield KafkaCluster(PLATFORM, profile("1.2.0"), "kraft", "ns-1", "my-kafka", "run-1", {}, [])

    def pytest_sessionfinish(session):
        with open(os.environ["CALLS_FILE"], "w") as handle:
            json.dump(PLATFORM.calls, handle)
    """
)

TEST = textwrap.dedent(
    """
    def test_bridge_for_a_user(bridge_sidecar):
        first = bridge_sidecar("orders-app")
        second = bridge_sidecar("audit-app")
        assert first.client.base_url == "http://127.0.0.1:18080"
        assert first.pod_name != second.pod_name
    """
)


@pytest.fixture(autouse=True)
def _own_run(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [options.RUN_ID_ENV, *(o.env for o in options.OPTIONS if o.env)]:
        monkeypatch.delenv(name, raising=False)


def test_pods_are_started_for_the_user_and_stopped_at_the_end(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls_file = pytester.path / "calls.json"
    monkeypatch.setenv("CALLS_FILE", str(calls_file))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_users=TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=1)
    calls = json.loads(calls_file.read_text())
    starts = [call for call in calls if call[0] == "start"]
    stops = [call for call in calls if call[0] == "stop"]
    assert [call[1] for call in calls] == ["ns-1"] * 4
    # started in order, stopped newest first, each pod once
    assert [call[2] for call in stops] == [call[2] for call in reversed(starts)]
    first_pod, config_map = starts[0][3], starts[0][4]
    assert first_pod["kind"] == "Pod" and config_map["kind"] == "ConfigMap"
    assert "orders-app" in json.dumps(first_pod)  # the bridge authenticates as the KafkaUser's Secret
    assert "1.1.0" in json.dumps(first_pod)  # the cell profile's bridge version (Strimzi 1.2.0)


def test_tests_using_it_are_marked_bridge(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLS_FILE", str(pytester.path / "calls.json"))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_users=TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist", "-m", "not bridge")
    result.assert_outcomes(deselected=1)
