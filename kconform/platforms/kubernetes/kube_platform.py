"""KubernetesPlatform: the Platform protocol realised on a real cluster with a pinned Strimzi operator."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from kconform import resources
from kconform import strimzi_contract as contract
from kconform.clients.operations import ClientRunner
from kconform.errors import PlatformError, UsageError, WaitTimeout
from kconform.forwarding import Forwarder
from kconform.kind_readiness import BRIDGE_SIDECAR, is_ready, readiness_of
from kconform.platforms.kubernetes import (
    client_pod,
    departing,
    diagnostics,
    external,
    images,
    kafka_init,
    metadata_state,
    ownership,
    readiness,
    topic_finalizers,
    watching,
)
from kconform.platforms.kubernetes.kube import Kube
from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.platforms.protocol import Cell, Sidecar
from kconform.redact import redact
from kconform.schemas import SchemaSet
from kconform.secrets import SecretData
from kconform.versions import Profile
from kconform.waits import wait_until

LOG = logging.getLogger("kconform.kubernetes")
CORE_KINDS = {"Namespace": "v1", "Pod": "v1", "ConfigMap": "v1", "Secret": "v1", "Service": "v1"}
# Removal order: what depends on a Kafka cluster goes first, the namespace last.
DELETE_ORDER = ("KafkaUser", "KafkaTopic", "Pod", "ConfigMap", "Kafka", "KafkaNodePool")
CLIENT_POD_TIMEOUT_S = readiness_of("Pod").timeout_s
CLIENT_POD_HINT = (
    "the client pod pulls its image (KCONFORM_CLIENT_IMAGE, default python:3.11-slim from Docker Hub, or from "
    "--image-registry) and unpacks the kafka-python kconform ships with its code; without access to that "
    "registry set --image-registry to a mirror, or KCONFORM_CLIENT_IMAGE to an image with python 3"
)
BRIDGE_CONTAINER = "bridge"  # manifests/sidecar/bridge-pod.yaml


BRIDGE_HTTP_PORT = 8080  # the seed's bridge.properties: http.port
BRIDGE_MANAGEMENT_PORT = contract.BRIDGE_MANAGEMENT_PORT  # bridge >= 1.0: /healthy and /ready
BRIDGE_READY_TIMEOUT_S = readiness_of(BRIDGE_SIDECAR).timeout_s
TERMINATING_TIMEOUT_S = 120.0  # the garbage collector removes the dependents, then the owner
NAMESPACE_GONE_TIMEOUT_S = 300.0  # every object of the namespace deleted; its NodePorts are free only after
TOPICS_FINALIZED_TIMEOUT_S = 60.0  # the Topic Operator deletes each topic in Kafka, then drops its finalizer
DELETION_POLL_S = 1.0


class KubernetesPlatform:
    name = "kubernetes"

    def __init__(
        self,
        settings: KubeSettings,
        kube: Kube,
        cluster: ClusterInfo,
        schemas: SchemaSet,
        finish: Callable[[], None]
        | None = None,  # undoes what this platform's setup made (connect.SetupUndo)
    ) -> None:
        self.settings = settings
        self._finish = finish
        self.profile: Profile = settings.profile
        self.kube = kube
        self.cluster = cluster
        self.schemas = schemas
        self._client_pods: set[str] = set()
        self._forwards: dict[tuple[str, str], list[Forwarder]] = {}
        self._applied: list[tuple[str, str, str, str]] = []  # (apiVersion, kind, namespace, name)
        self._terminating: set[str] = set()  # namespaces deleted by this run, maybe still holding NodePorts
        self._owned_namespaces: set[str] = set()  # created by (or marked for) kconform: the only ones deleted
        self._external_host: str | None = None  # found once, on first use

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
        # Created with kconform's marker, or refused when someone else's namespace has that name.
        ownership.ensure_namespace(self.kube, namespace, self.settings.run_id, "test namespace")
        self._owned_namespaces.add(namespace)

    def delete_namespace(self, namespace: str) -> None:
        for kind in DELETE_ORDER:
            if kind == "Kafka":
                self._await_topics_finalized(namespace)
            for api_version, k, ns, name in reversed(self._applied):
                if k == kind and ns == namespace:
                    self.kube.delete(api_version, k, ns, name)
        self._applied = [a for a in self._applied if a[2] != namespace]
        self._client_pods.discard(namespace)
        if namespace not in self._owned_namespaces:
            return  # never delete a namespace this platform did not create (or find marked as kconform's)
        self._owned_namespaces.discard(namespace)
        self._delete_kafka_init_bindings(namespace)
        # One it deleted may hold NodePorts until it is gone (await_namespaces_gone).
        if self.kube.delete("v1", "Namespace", None, namespace):
            self._terminating.add(namespace)

    def _delete_kafka_init_bindings(self, namespace: str) -> None:
        """Strimzi's cluster-scoped binding of each Kafka of the namespace: the operator deletes it when it
        sees the Kafka go, but not when it is gone (or busy) first, and no garbage collector takes it."""
        try:
            kafka_init.delete_for(self.kube, [namespace])
        except PlatformError as err:  # e.g. no right to list ClusterRoleBindings on a shared cluster
            LOG.info("kafka-init ClusterRoleBindings of %s not checked: %s", namespace, err)

    def _await_topics_finalized(self, namespace: str) -> None:
        """Before the Kafka goes, let the Topic Operator finish the KafkaTopics this run deleted: without its
        Entity Operator nobody removes their finalizer, and they and the namespace stay Terminating forever
        (topic_finalizers). One it did not finish in time is released, since its cluster goes next."""
        topics = [(a, n) for a, k, ns, n in self._applied if k == topic_finalizers.KIND and ns == namespace]
        if not topics:
            return

        def finalized() -> bool:
            return all(self.kube.get(a, topic_finalizers.KIND, namespace, n) is None for a, n in topics)

        try:
            wait_until(
                finalized,
                describe=f"the Topic Operator to finish the KafkaTopics of {namespace}",
                timeout=TOPICS_FINALIZED_TIMEOUT_S,
                interval=DELETION_POLL_S,
            )
        except WaitTimeout as err:
            released = topic_finalizers.release(self.kube, topics[0][0], namespace, {n for _, n in topics})
            LOG.warning("%s; released finalizer %s of %s", err, topic_finalizers.FINALIZER, released)

    def await_namespaces_gone(self) -> None:
        """Wait (bounded) until the namespaces this run deleted are gone: their NodePort Services keep fixed
        node ports allocated until then, and a new cluster on the same ports fails with "provided port is
        already allocated"."""
        for namespace in sorted(self._terminating):
            self._await_namespace_gone(namespace)
            self._terminating.discard(namespace)

    def _await_namespace_gone(self, namespace: str) -> None:
        def gone() -> bool:
            return self.kube.get("v1", "Namespace", None, namespace) is None

        def diagnose() -> str:
            return str((self.kube.get("v1", "Namespace", None, namespace) or {}).get("status") or {})

        wait_until(
            gone,
            describe=f"namespace {namespace} (deleted by this run) to be gone before its node ports are reused",
            timeout=NAMESPACE_GONE_TIMEOUT_S,
            interval=DELETION_POLL_S,
            diagnose=diagnose,
        )

    def _check_node_ports_free(self, kafka: dict[str, Any]) -> None:
        """One line now, instead of a Kafka NotReady until its timeout ("provided port is already allocated",
        retried by the operator), when a Service elsewhere holds a node port the listener pins: e.g. one left
        by a killed run on a reused kind cluster."""
        wanted = _pinned_node_ports(kafka)
        try:
            services = self.kube.list_objects("v1", "Service")
        except PlatformError as err:  # no right to list Services cluster-wide: the operator will say it
            LOG.info("node ports not checked before applying: %s", err)
            return
        own = (kafka.get("metadata") or {}).get("namespace")
        for service in services:
            meta = service.get("metadata") or {}
            if meta.get("namespace") == own:
                continue
            for port in (service.get("spec") or {}).get("ports") or ():
                if port.get("nodePort") in wanted:
                    raise PlatformError(
                        f"node port {port['nodePort']} is already held by Service "
                        f"{meta.get('namespace')}/{meta.get('name')}; {_free_port_hint(self.kube, meta)}"
                    )

    def _await_not_terminating(self, resource: dict[str, Any]) -> None:
        """Wait (bounded) while an object of the same name is still being deleted: applying it then patches a
        dying object. A KafkaUser lingers so, as its Secret blocks the owner's foreground deletion
        (user-operator KafkaUserModel.createOwnerReference: blockOwnerDeletion true)."""
        kind, meta = resource["kind"], resource["metadata"]
        namespace, name = meta.get("namespace"), meta["name"]
        api_version = resource.get("apiVersion") or self._api_version(kind)

        def not_terminating() -> bool:
            current = self.kube.get(api_version, kind, namespace, name)
            return current is None or not (current.get("metadata") or {}).get("deletionTimestamp")

        wait_until(
            not_terminating,
            describe=f"{kind} {namespace}/{name} from an earlier test to finish terminating before it is applied",
            timeout=TERMINATING_TIMEOUT_S,
            interval=DELETION_POLL_S,
        )

    # --- resources
    def apply(self, resource: dict[str, Any]) -> None:
        if self.schemas.covers(resource):
            self.schemas.validate(resource)
        if _uses_node_ports(resource):
            self.await_namespaces_gone()
            self._check_node_ports_free(resource)
        if resource.get("kind") in DELETE_ORDER:
            self._await_not_terminating(resource)
        labelled = resources.labelled(resource, self.settings.run_id)
        # kconform's own pods (the client, the bridge sidecar) pull from the mirror too.
        images.mirror_pod(labelled, self.settings.image_registry)
        self.kube.apply(labelled)
        meta = labelled["metadata"]
        key = (labelled["apiVersion"], labelled["kind"], meta.get("namespace", ""), meta["name"])
        if key not in self._applied:
            self._applied.append(key)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.kube.get(self._api_version(kind), kind, namespace, name)

    def wait_ready(self, kind: str, namespace: str, name: str, timeout: float) -> dict[str, Any]:
        last: dict[str, Any] | None = None
        watch = watching.Watch(self.kube, kind, namespace, name)  # progress lines as the wait goes

        def check() -> dict[str, Any] | None:
            nonlocal last
            last = self.get(kind, namespace, name)
            watch.saw(last)
            return readiness.check(last) if last is not None else None

        return wait_until(
            check,
            describe=f"{kind} {namespace}/{name} to be Ready",
            timeout=timeout,
            interval=readiness_of(kind).poll_s,
            diagnose=lambda: readiness.summary(last),
        )

    def wait_metadata_state(
        self, namespace: str, name: str, state: str, timeout: float, *, reason: str | None = None
    ) -> dict[str, Any]:
        """Wait for the operator to report `state` in status.kafkaMetadataState (progress shows each change)."""
        return metadata_state.wait_for_state(
            lambda: self.get("Kafka", namespace, name), f"{namespace}/{name}", state, timeout, reason
        )

    def zookeeper_children(self, namespace: str, cluster: str, path: str) -> list[str]:
        return metadata_state.zookeeper_children(self.kube, namespace, cluster, path)

    def node_roles(self, namespace: str, cluster: str) -> dict[str, list[str]]:
        return metadata_state.node_roles(self.kube, namespace, cluster)

    def delete(self, kind: str, namespace: str, name: str) -> None:
        self.kube.delete(self._api_version(kind), kind, namespace, name)

    def read_secret(self, namespace: str, name: str) -> SecretData:
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
        self.apply(client_pod.pod(namespace, labels, self.settings.client_image))
        self.wait_pod_ready(
            namespace,
            client_pod.POD_NAME,
            CLIENT_POD_TIMEOUT_S,
            container=client_pod.CONTAINER,
            hint=CLIENT_POD_HINT,
        )
        self._client_pods.add(namespace)

    def external_clients(self) -> ClientRunner:
        from kconform.clients.local_runner import InProcessRunner

        return InProcessRunner()

    def node_ports(self, count: int, first: int = 0) -> list[int]:
        ports = list(self.settings.node_ports)
        if first + count > len(ports):
            raise UsageError(
                f"only {len(ports)} fixed node ports are mapped; {count} were asked for from the {first + 1}th"
            )
        return ports[first : first + count]

    def external_host(self) -> str:
        """The provider's address (127.0.0.1 for kind's port mappings, --external-host on an existing cluster),
        else a node's address by Strimzi's rule; said once in the log."""
        if self._external_host is None:
            if self.cluster.external_host:
                host, how = self.cluster.external_host, f"given by provider {self.settings.provider}"
            else:
                try:
                    nodes = self.kube.list_objects("v1", "Node")
                except PlatformError as err:  # e.g. no RBAC to list nodes on a shared cluster
                    raise UsageError(
                        f"cannot read the cluster's nodes to find where node ports are reached ({err}); "
                        "pass --external-host (or KCONFORM_EXTERNAL_HOST)"
                    ) from err
                host, how = external.external_host_from_nodes(nodes)
            LOG.info("node ports are reached at %s (%s)", host, how)
            self._external_host = host
        return self._external_host

    # --- the bridge sidecar
    def start_sidecar(self, namespace: str, pod: dict[str, Any], config: dict[str, Any]) -> Sidecar:
        self.apply(config)
        self.apply(pod)
        name = pod["metadata"]["name"]
        self.wait_pod_ready(namespace, name, CLIENT_POD_TIMEOUT_S, container=BRIDGE_CONTAINER)
        # The test process plays the application container: reach the pod's loopback through port-forwards,
        # which land on the pod's localhost where the bridge listens.
        forwards = [
            Forwarder(0, connect=lambda port=port: self.kube.port_forward(namespace, name, port))  # type: ignore[misc]
            for port in (BRIDGE_HTTP_PORT, BRIDGE_MANAGEMENT_PORT)
        ]
        self._forwards[(namespace, name)] = forwards
        # The pod is Ready once its containers start, before the bridge listens; the kubelet cannot probe a
        # loopback-only bridge, so its readiness endpoint is polled here, through the port-forward.
        self.wait_bridge_ready(namespace, name, forwards[0].port, forwards[1].port)
        pod_ip = ((self.kube.get("v1", "Pod", namespace, name) or {}).get("status") or {}).get("podIP")
        management = (
            f"http://127.0.0.1:{forwards[1].port}"
            if contract.bridge_uses_management_port(self.profile.bridge_version)
            else None
        )
        return Sidecar(
            name=name,
            bridge_url=f"http://127.0.0.1:{forwards[0].port}",
            outside_urls=[f"http://{pod_ip}:{BRIDGE_HTTP_PORT}"] if pod_ip else [],
            management_url=management,
        )

    def wait_bridge_ready(
        self,
        namespace: str,
        pod: str,
        http_port: int,
        management_port: int,
        timeout: float = BRIDGE_READY_TIMEOUT_S,
        interval: float = readiness_of(BRIDGE_SIDECAR).poll_s,
    ) -> None:
        """Poll the bridge's /ready (strimzi_contract.bridge_readiness) on the forwarded local ports until it
        answers its ready status; on timeout the pod's events and the bridge container's log are the evidence."""
        port, path, status = contract.bridge_readiness(
            self.profile.bridge_version, http_port, management_port
        )
        url = f"http://127.0.0.1:{port}{path}"
        wait_until(
            lambda: httpx.get(url, timeout=5).status_code == status,
            describe=f"the bridge {self.profile.bridge_version} in pod {namespace}/{pod} to answer {status} on {path}",
            timeout=timeout,
            interval=interval,
            retry_on=(httpx.TransportError,),
            diagnose=lambda: diagnostics.pod_evidence(self.kube, namespace, pod, BRIDGE_CONTAINER),
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

    def wait_pod_ready(
        self, namespace: str, name: str, timeout: float, *, container: str | None = None, hint: str = ""
    ) -> None:
        """Wait for the pod's Ready condition. A pod that ended (Failed, Succeeded) never becomes Ready: it
        fails the wait at once. Either way the failure carries the container statuses, the pod's events and
        `container`'s log, after `hint` (what usually keeps such a pod from starting)."""
        last: dict[str, Any] | None = None

        def evidence() -> str:
            statuses = ((last or {}).get("status") or {}).get("containerStatuses")
            found = f"container statuses: {statuses}"
            if container is not None:
                found += "\n" + diagnostics.pod_evidence(self.kube, namespace, name, container)
            return f"{hint}\n{found}" if hint else found

        def ready() -> bool:
            nonlocal last
            last = self.kube.get("v1", "Pod", namespace, name)
            status = (last or {}).get("status") or {}
            if status.get("phase") in ("Failed", "Succeeded"):
                raise PlatformError(f"pod {namespace}/{name} ended: {status.get('phase')}; {evidence()}")
            return is_ready(status.get("conditions"))

        wait_until(
            ready,
            describe=f"pod {namespace}/{name} to be Ready",
            timeout=timeout,
            interval=readiness_of("Pod").poll_s,
            diagnose=evidence,
        )

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
        try:
            if self._finish is not None:
                self._finish()  # while connected: an operator this run installed goes first
            # The test namespaces this run deleted hold fixed NodePorts until they are gone; a next run
            # started at once would find them held.
            deleted = [("v1", "Namespace", namespace) for namespace in sorted(self._terminating)]
            self._terminating.clear()
            departing.at_run_end(self.kube, deleted, self.settings.budget.deleted_namespaces)
        finally:
            self.kube.api_client.close()


def _uses_node_ports(resource: dict[str, Any]) -> bool:
    """A Kafka with a nodeport listener: it takes fixed node ports an earlier cluster may still hold."""
    if resource.get("kind") != "Kafka":
        return False
    listeners = ((resource.get("spec") or {}).get("kafka") or {}).get("listeners") or []
    return any(listener.get("type") == "nodeport" for listener in listeners)


def _pinned_node_ports(kafka: dict[str, Any]) -> set[int]:
    """The node ports a Kafka's nodeport listeners pin (bootstrap and per broker)."""
    ports: set[int] = set()
    for listener in ((kafka.get("spec") or {}).get("kafka") or {}).get("listeners") or []:
        if listener.get("type") != "nodeport":
            continue
        configuration = listener.get("configuration") or {}
        entries = [configuration.get("bootstrap") or {}, *(configuration.get("brokers") or [])]
        ports.update(int(e["nodePort"]) for e in entries if e.get("nodePort"))
    return ports


def _free_port_hint(kube: Kube, service_meta: dict[str, Any]) -> str:
    namespace = kube.get("v1", "Namespace", None, str(service_meta.get("namespace")))
    run = (((namespace or {}).get("metadata") or {}).get("labels") or {}).get(resources.RUN_LABEL)
    if ownership.is_owned(namespace) and run:
        return f"kconform run {run} left it: remove it with `kconform clean --run-id {run}`"
    return "free that port, or run on a cluster where kconform's fixed node ports are free"
