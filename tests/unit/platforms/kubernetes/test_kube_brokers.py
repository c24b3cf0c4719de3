"""The kubernetes platform's view of the brokers: which pods, their logs (redacted) and restart identity.

A stub stands in for the API server's pod list and log endpoints (it records the label selector asked for);
the shapes it returns are those of `kubectl get pod -o json`.
"""

from __future__ import annotations

from typing import Any

from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.versions import PROFILES


class StubKube:
    """Plays the API server for pods and pod logs only."""

    def __init__(self, pods: list[dict[str, Any]], logs: dict[str, str]) -> None:
        self._pods, self._logs = pods, logs
        self.selectors: list[str | None] = []
        self.containers: list[str | None] = []

    def pods(self, namespace: str, label_selector: str | None = None) -> list[dict[str, Any]]:
        self.selectors.append(label_selector)
        return self._pods

    def pod_log(
        self, namespace: str, pod: str, container: str | None = None, *, tail: int = 500, **_: Any
    ) -> str:
        self.containers.append(container)
        return self._logs[pod]


def _pod(name: str, uid: str, restarts: int) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "uid": uid},
        "status": {"containerStatuses": [{"name": "kafka", "restartCount": restarts}]},
    }


def _platform(kube: StubKube) -> KubernetesPlatform:
    settings = KubeSettings(profile=PROFILES["1.2.0"], run_id="r1", provider="kind", mode="kraft")
    return KubernetesPlatform(settings, kube, ClusterInfo(None, None, "127.0.0.1", False), None)  # type: ignore[arg-type]


def test_broker_pods_are_selected_by_strimzis_labels_and_logs_redacted() -> None:
    """Broker pods carry strimzi.io/cluster, strimzi.io/name=<cluster>-kafka and strimzi.io/broker-role=true
    with and without node pools (strimzi-kafka-operator 0.45.2 / 1.2.0 `KafkaCluster.java`, `Labels.java`)."""
    kube = StubKube(
        [_pod("c-broker-0", "u0", 0)],
        {
            "c-broker-0": "WARN Unexpected Kafka request of type METADATA during SASL handshake.\nsasl.jaas.config = x y"
        },
    )
    log = _platform(kube).broker_log("ns", "c")
    assert kube.selectors == ["strimzi.io/cluster=c,strimzi.io/name=c-kafka,strimzi.io/broker-role=true"]
    assert kube.containers == ["kafka"]
    assert "during SASL handshake" in log and "x y" not in log


def test_a_restart_or_a_new_pod_changes_the_incarnation() -> None:
    before = _platform(StubKube([_pod("c-broker-0", "u0", 0)], {})).broker_incarnations("ns", "c")
    restarted = _platform(StubKube([_pod("c-broker-0", "u0", 1)], {})).broker_incarnations("ns", "c")
    recreated = _platform(StubKube([_pod("c-broker-0", "u1", 0)], {})).broker_incarnations("ns", "c")
    assert len({tuple(before), tuple(restarted), tuple(recreated)}) == 3
