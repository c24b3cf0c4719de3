"""KubernetesPlatform: the Platform protocol realised on a real cluster with a pinned Strimzi operator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kconform import resources
from kconform.clients.operations import ClientRunner
from kconform.errors import PlatformError, UsageError
from kconform.forwarding import Forwarder
from kconform.platforms.base import Cell, Sidecar
from kconform.platforms.kubernetes import client_pod, diagnostics, readiness
from kconform.platforms.kubernetes.kube import Kube
from kconform.platforms.kubernetes.providers.base import ClusterInfo
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.redact import redact
from kconform.schemas import SchemaSet
from kconform.versions import Profile
from kconform.waits import wait_until

CORE_KINDS = {"Namespace": "v1", "Pod": "v1", "ConfigMap": "v1", "Secret": "v1", "Service": "v1"}
# Removal order: what depends on a Kafka cluster goes first, the namespace last.
DELETE_ORDER = ("KafkaUser", "KafkaTopic", "Pod", "ConfigMap", "Kafka", "KafkaNodePool")
CLIENT_POD_TIMEOUT_S = 300.0


BRIDGE_HTTP_PORT = 8080  # the seed's bridge.properties: http.port
BRIDGE_MANAGEMENT_PORT = 8081  # bridge >= 1.0: /healthy and /ready


class KubernetesPlatform:
    name = "kubernetes"

    def __init__(self, settings: KubeSettings, kube: Kube, cluster: ClusterInfo, schemas: SchemaSet) -> None:
        self.settings = settings
        self.profile: Profile = settings.profile
        self.kube = kube
        self.cluster = cluster
        self.schemas = schemas
        self._client_pods: set[str] = set()
        self._forwards: dict[tuple[str, str], list[Forwarder]] = {}
        self._applied: list[tuple[str, str, str, str]] = []  # (apiVersion, kind, namespace, name)

    def cell(self, mode: str) -> Cell:
        return Cell(
            self.name,
            self.settings.provider,
            self.kube.server_version(),
            self.profile.strimzi,
            self.profile.kafka_version,
            mode,
        )

    def _labels(self) -> dict[str, str]:
        return {resources.RUN_LABEL: self.settings.run_id}

    def _api_version(self, kind: str) -> str:
        return CORE_KINDS.get(kind, self.profile.api_version)

    # --- namespaces
    def create_namespace(self, namespace: str) -> None:
        self.kube.apply(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": namespace, "labels": self._labels()},
            }
        )

    def delete_namespace(self, namespace: str) -> None:
        for kind in DELETE_ORDER:
            for api_version, k, ns, name in reversed(self._applied):
                if k == kind and ns == namespace:
                    self.kube.delete(api_version, k, ns, name)
        self._applied = [a for a in self._applied if a[2] != namespace]
        self._client_pods.discard(namespace)
        self.kube.delete("v1", "Namespace", None, namespace)

    # --- resources
    def apply(self, resource: dict[str, Any]) -> None:
        if self.schemas.covers(resource):
            self.schemas.validate(resource)
        labelled = resources.labelled(resource, self.settings.run_id)
        self.kube.apply(labelled)
        meta = labelled["metadata"]
        key = (labelled["apiVersion"], labelled["kind"], meta.get("namespace", ""), meta["name"])
        if key not in self._applied:
            self._applied.append(key)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.kube.get(self._api_version(kind), kind, namespace, name)

    def wait_ready(self, kind: str, namespace: str, name: str, timeout: float) -> dict[str, Any]:
        last: dict[str, Any] | None = None

        def check() -> dict[str, Any] | None:
            nonlocal last
            last = self.get(kind, namespace, name)
            return readiness.check(last) if last is not None else None

        return wait_until(
            check,
            describe=f"{kind} {namespace}/{name} to be Ready",
            timeout=timeout,
            interval=2.0,
            diagnose=lambda: readiness.summary(last),
        )

    def delete(self, kind: str, namespace: str, name: str) -> None:
        self.kube.delete(self._api_version(kind), kind, namespace, name)

    def read_secret(self, namespace: str, name: str) -> dict[str, str]:
        return self.kube.read_secret(namespace, name)

    # --- clients
    def internal_clients(self, namespace: str) -> ClientRunner:
        if namespace not in self._client_pods:
            self._start_client_pod(namespace)
        return client_pod.PodClientRunner(
            lambda argv, stdin, timeout: self.kube.exec(
                namespace, client_pod.POD_NAME, client_pod.CONTAINER, argv, stdin, timeout
            )
        )

    def _start_client_pod(self, namespace: str) -> None:
        labels = self._labels()
        self.apply(client_pod.code_configmap(namespace, labels))
        self.apply(
            client_pod.pod(
                namespace, labels, self.settings.client_image, pip_install=self.settings.client_pip_install
            )
        )
        last: dict[str, Any] | None = None

        def ready() -> bool:
            nonlocal last
            last = self.kube.get("v1", "Pod", namespace, client_pod.POD_NAME)
            status = (last or {}).get("status") or {}
            if status.get("phase") in ("Failed", "Succeeded"):
                raise PlatformError(
                    f"client pod {namespace}/{client_pod.POD_NAME} ended: {status.get('phase')}"
                )
            return any(
                c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
            )

        wait_until(
            ready,
            describe=f"client pod {namespace}/{client_pod.POD_NAME} to be Ready",
            timeout=CLIENT_POD_TIMEOUT_S,
            interval=2.0,
            diagnose=lambda: str(((last or {}).get("status") or {}).get("containerStatuses")),
        )
        self._client_pods.add(namespace)

    def external_clients(self) -> ClientRunner:
        from kconform.clients.local_runner import InProcessRunner

        return InProcessRunner()

    def node_ports(self, count: int) -> list[int]:
        ports = list(self.settings.node_ports)
        if count > len(ports):
            raise UsageError(f"only {len(ports)} fixed node ports are mapped; {count} were asked for")
        return ports[:count]

    def external_host(self) -> str:
        return self.cluster.external_host

    # --- the bridge sidecar
    def start_sidecar(self, namespace: str, pod: dict[str, Any], config: dict[str, Any]) -> Sidecar:
        self.apply(config)
        self.apply(pod)
        name = pod["metadata"]["name"]
        self.wait_pod_ready(namespace, name, CLIENT_POD_TIMEOUT_S)
        # The test process plays the application container: reach the pod's loopback through port-forwards,
        # which land on the pod's localhost where the bridge listens.
        forwards = [
            Forwarder(0, connect=lambda port=port: self.kube.port_forward(namespace, name, port))  # type: ignore[misc]
            for port in (BRIDGE_HTTP_PORT, BRIDGE_MANAGEMENT_PORT)
        ]
        self._forwards[(namespace, name)] = forwards
        pod_ip = ((self.kube.get("v1", "Pod", namespace, name) or {}).get("status") or {}).get("podIP")
        management = (
            f"http://127.0.0.1:{forwards[1].port}" if int(self.profile.bridge_version[0]) >= 1 else None
        )
        return Sidecar(
            name=name,
            bridge_url=f"http://127.0.0.1:{forwards[0].port}",
            outside_urls=[f"http://{pod_ip}:{BRIDGE_HTTP_PORT}"] if pod_ip else [],
            management_url=management,
        )

    def try_from_outside(self, namespace: str, url: str) -> str | None:
        """GET `url` from the namespace's client pod (another pod): None if it answered, else the error."""
        if namespace not in self._client_pods:
            self._start_client_pod(namespace)
        probe = (
            "import sys,urllib.request\n"
            "try:\n urllib.request.urlopen(sys.argv[1], timeout=5); print('answered')\n"
            "except Exception as e:\n print(f'{type(e).__name__}: {e}')\n"
        )
        out = self.kube.exec(
            namespace, client_pod.POD_NAME, client_pod.CONTAINER, ["python", "-c", probe, url], "", 30
        ).strip()
        return None if out == "answered" else out

    def wait_pod_ready(self, namespace: str, name: str, timeout: float) -> None:
        def ready() -> bool:
            status = (self.kube.get("v1", "Pod", namespace, name) or {}).get("status") or {}
            return any(
                c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
            )

        wait_until(ready, describe=f"pod {namespace}/{name} to be Ready", timeout=timeout, interval=2.0)

    def stop_sidecar(self, namespace: str, name: str) -> None:
        for forward in self._forwards.pop((namespace, name), []):
            forward.close()
        self.kube.delete("v1", "Pod", namespace, name)

    # --- the brokers, as a user inspects them
    def _broker_pods(self, namespace: str, cluster: str) -> list[dict[str, Any]]:
        # Broker pods carry these labels with and without node pools (KafkaCluster.java, Labels.java).
        selector = f"strimzi.io/cluster={cluster},strimzi.io/name={cluster}-kafka,strimzi.io/broker-role=true"
        return sorted(self.kube.pods(namespace, selector), key=lambda p: p["metadata"]["name"])

    def broker_log(self, namespace: str, cluster: str, lines: int = 300) -> str:
        return "\n".join(
            f"--- {pod['metadata']['name']}\n"
            + redact(self.kube.pod_log(namespace, pod["metadata"]["name"], "kafka", tail=lines))
            for pod in self._broker_pods(namespace, cluster)
        )

    def broker_incarnations(self, namespace: str, cluster: str) -> list[str]:
        found = []
        for pod in self._broker_pods(namespace, cluster):
            statuses = (pod.get("status") or {}).get("containerStatuses") or []
            restarts = sum(int(s.get("restartCount") or 0) for s in statuses)
            found.append(f"{pod['metadata']['name']} uid {pod['metadata']['uid']} restarts {restarts}")
        return found

    # --- evidence
    def diagnostics(self, namespace: str) -> dict[str, str]:
        return diagnostics.collect(
            self.kube, namespace, self.profile.api_version, self.settings.operator_namespace
        )

    def write_diagnostics(self, base: Path, test: str, namespace: str) -> Path:
        return diagnostics.write(base, test, self.diagnostics(namespace))

    def close(self) -> None:
        self.kube.api_client.close()
