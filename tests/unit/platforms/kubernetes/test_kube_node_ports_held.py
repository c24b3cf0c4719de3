"""A node port the listener pins that another namespace's Service holds is one line before the Kafka is applied.

Otherwise the operator fails creating the listener's Service ("provided port is already allocated", a
KubernetesClientException it retries: strimzi_contract.FINAL_REASONS leaves it retrying) until the Kafka's
timeout. The ports are those of the listener's `configuration.bootstrap.nodePort` and `brokers[].nodePort`
(Strimzi's GenericKafkaListenerConfigurationBootstrap / ...Broker, api module at 0.45.2 and 1.2.0); a Service
holds one in `spec.ports[].nodePort`. `Api` plays the API server's part.
"""

from __future__ import annotations

from typing import Any

import pytest

from kconform import resources
from kconform.errors import PlatformError
from kconform.platforms.kubernetes import ownership
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.schemas import SchemaSet
from kconform.versions import KRAFT, profile


def service(namespace: str, name: str, node_port: int) -> dict[str, Any]:
    return {
        "metadata": {"namespace": namespace, "name": name},
        "spec": {
            "type": "NodePort",
            "ports": [{"name": "tcp-external", "port": 9094, "nodePort": node_port}],
        },
    }


class Api:
    def __init__(self, services: list[dict[str, Any]], namespaces: dict[str, dict[str, Any]]) -> None:
        self.services, self.namespaces = services, namespaces
        self.applied: list[str] = []

    def list_objects(self, api_version: str, kind: str, *_: Any, **__: Any) -> list[dict[str, Any]]:
        return self.services if kind == "Service" else []

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self.namespaces.get(name) if kind == "Namespace" else None

    def apply(self, resource: dict[str, Any]) -> dict[str, Any]:
        self.applied.append(resource["kind"])
        return resource


def kafka(namespace: str = "kc-new") -> dict[str, Any]:
    listener = resources.nodeport_listener(
        "external",
        9094,
        tls=True,
        authentication="tls",
        bootstrap_node_port=32100,
        brokers=[resources.BrokerOverride(0, node_port=32101)],
    )
    docs = resources.kafka_cluster(
        profile("1.2.0"), KRAFT, name="ext", namespace=namespace, listeners=[listener], run_id="r2"
    )
    return next(d for d in docs if d["kind"] == "Kafka")


def apply(api: Api) -> None:
    settings = KubeSettings(profile=profile("1.2.0"), run_id="r2")
    plat = KubernetesPlatform(
        settings, api, ClusterInfo(None, None, "127.0.0.1", created=False), SchemaSet([], "none")
    )  # type: ignore[arg-type]
    plat.apply(kafka())


def test_a_port_left_by_a_killed_run_names_the_clean_command() -> None:
    left = ownership.namespace_manifest("kc-old", "r1")
    api = Api([service("kc-old", "ext-kafka-external-bootstrap", 32100)], {"kc-old": left})
    with pytest.raises(
        PlatformError,
        match=r"node port 32100 is already held by Service kc-old/ext-kafka-external-bootstrap; kconform run r1 left it: remove it with `kconform clean --run-id r1`",
    ):
        apply(api)
    assert api.applied == []


def test_a_port_held_by_someone_elses_service_says_to_free_it() -> None:
    api = Api([service("shop", "web", 32101)], {"shop": {"metadata": {"name": "shop"}}})
    with pytest.raises(PlatformError, match="held by Service shop/web; free that port"):
        apply(api)


def test_free_ports_and_the_clusters_own_services_let_it_apply() -> None:
    api = Api([service("kc-new", "ext-kafka-external-bootstrap", 32100), service("shop", "web", 30080)], {})
    apply(api)
    assert api.applied == ["Kafka"]
