"""KubernetesPlatform against a real API server: namespaces, readiness from status written through the status
subresource in Strimzi's shapes, Secrets with binary PKCS#12, and diagnostics with events and conditions.

Nothing here runs Strimzi. `OperatorDouble` writes the status the Cluster Operator would write; it proves
the harness reads Strimzi's shapes correctly, never that Strimzi conforms.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, pkcs12

from kconform import resources
from kconform.errors import ResourceFailed, WaitTimeout
from kconform.platforms.kubernetes import diagnostics, fingerprint
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.versions import PROFILES
from tests.apiserver.conftest import ServerPool, make_platform
from tests.support.strimzi_doubles import kafka_init_binding
from tests.throwaway_pki import Ca

pytestmark = pytest.mark.apiserver
PROFILE = PROFILES["1.2.0"]


class OperatorDouble:
    """A test double playing the Strimzi Cluster Operator's part: it writes `status` through the status
    subresource in the shapes Strimzi writes (1.2.0 KafkaAssemblyOperator.java: the initial NotReady/Creating
    without observedGeneration, NotReady with the exception's class name as reason, Ready; StatusUtils.java).
    It proves the harness, never conformance."""

    def __init__(self, platform: KubernetesPlatform) -> None:
        self.platform = platform

    def write(self, kind: str, namespace: str, name: str, status: dict[str, Any]) -> None:
        api = self.platform.kube.dynamic.resources.get(api_version=PROFILE.api_version, kind=kind)
        api.status.patch(
            name=name,
            namespace=namespace,
            body={"status": status},
            content_type="application/merge-patch+json",
        )

    def generation(self, kind: str, namespace: str, name: str) -> int:
        return int((self.platform.get(kind, namespace, name) or {})["metadata"]["generation"])

    def write_kafka(self, namespace: str, status: dict[str, Any]) -> None:
        """`status` of the tests' Kafka, `cluster` (see _kafka)."""
        self.write("Kafka", namespace, "cluster", status)

    def kafka_generation(self, namespace: str) -> int:
        return self.generation("Kafka", namespace, "cluster")

    @staticmethod
    def condition(kind: str, reason: str | None = None, message: str | None = None) -> dict[str, Any]:
        condition = {"type": kind, "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}
        if reason:
            condition.update(reason=reason, message=message or "")
        return condition


@pytest.fixture
def platform(servers: ServerPool) -> Iterator[KubernetesPlatform]:
    platform = make_platform(servers, PROFILE, "kraft", f"p{uuid.uuid4().hex[:8]}")
    yield platform


@pytest.fixture
def namespace(platform: KubernetesPlatform) -> str:
    name = f"ns-{platform.settings.run_id}"
    platform.create_namespace(name)
    return name


@pytest.fixture
def operator(platform: KubernetesPlatform, namespace: str) -> OperatorDouble:
    """The operator double of the tests' Kafka, `cluster`, created in `namespace` (see _kafka)."""
    _kafka(platform, namespace)
    return OperatorDouble(platform)


def _kafka(platform: KubernetesPlatform, namespace: str, name: str = "cluster") -> dict[str, Any]:
    documents = resources.kafka_cluster(
        PROFILE,
        "kraft",
        name=name,
        namespace=namespace,
        run_id=platform.settings.run_id,
        listeners=[resources.internal_listener("tls", 9093, tls=True, authentication="tls")],
    )
    for document in documents:
        platform.apply(document)
    return documents[0]


def _reading(platform: KubernetesPlatform, after_read: Callable[[dict[str, Any] | None], None]) -> None:
    """Call `after_read` each time the platform has read a resource (the operator's next reconcile)."""
    real_get = platform.kube.get

    def get(*args: Any, **kwargs: Any) -> dict[str, Any] | None:
        seen = real_get(*args, **kwargs)
        after_read(seen)
        return seen

    platform.kube.get = get  # type: ignore[method-assign]


def _ready_after_one_read(
    platform: KubernetesPlatform, operator: OperatorDouble, namespace: str, generation: int
) -> list[dict[str, Any] | None]:
    """The operator's next reconcile: once the platform has read a resource, Kafka `cluster` turns Ready at
    `generation`. The list of what the platform read, filled as it reads."""
    reads: list[dict[str, Any] | None] = []

    def reconcile(seen: dict[str, Any] | None) -> None:
        if not seen or seen.get("kind") != "Kafka":  # other reads (diagnostics, pods) are not the wait's
            return
        reads.append(seen)
        if len(reads) == 1:
            operator.write_kafka(
                namespace, {"conditions": [operator.condition("Ready")], "observedGeneration": generation}
            )

    _reading(platform, reconcile)
    return reads


LISTENERS = [
    {
        "name": "tls",
        "addresses": [{"host": "cluster-kafka-bootstrap.ns.svc", "port": 9093}],
        "bootstrapServers": "cluster-kafka-bootstrap.ns.svc:9093",
        "certificates": ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"],
    }
]


# ------------------------------------------------------------------------------------------- namespaces


def test_namespaces_are_created_labelled_with_the_run(platform: KubernetesPlatform, namespace: str) -> None:
    stored = platform.kube.get("v1", "Namespace", None, namespace)
    assert stored is not None
    assert stored["metadata"]["labels"][resources.RUN_LABEL] == platform.settings.run_id


def test_deleting_a_namespace_removes_what_the_run_applied_and_nothing_else(
    platform: KubernetesPlatform, namespace: str
) -> None:
    """Without kube-controller-manager the namespace stays Terminating; its deletion has been asked for."""
    _kafka(platform, namespace)
    other = f"user-{platform.settings.run_id}"
    platform.kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}})
    platform.delete_namespace(namespace)
    for kind, name in (("Kafka", "cluster"), ("KafkaNodePool", "dual-role")):
        # Foreground deletion: marked for deletion; the garbage collector (not running here) finishes it.
        left = platform.get(kind, namespace, name)
        assert left is None or left["metadata"].get("deletionTimestamp"), (kind, name)
    gone = platform.kube.get("v1", "Namespace", None, namespace)
    assert gone is None or gone["metadata"].get("deletionTimestamp")
    untouched = platform.kube.get("v1", "Namespace", None, other)
    assert untouched is not None and not untouched["metadata"].get("deletionTimestamp")


def test_deleting_a_namespace_removes_strimzis_kafka_init_binding_of_its_kafka_only(
    platform: KubernetesPlatform, namespace: str
) -> None:
    """The end of a test: the operator may be gone (or not yet done) when the namespace goes; the cluster-scoped
    binding of its Kafka is removed with it, a user's namespace's one stays."""
    _kafka(platform, namespace)
    other = f"user-{platform.settings.run_id}"
    platform.kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}})
    platform.kube.apply(kafka_init_binding(namespace, "cluster"))
    platform.kube.apply(kafka_init_binding(other, "cluster"))
    platform.delete_namespace(namespace)
    rbac = "rbac.authorization.k8s.io/v1"
    gone = platform.kube.get(rbac, "ClusterRoleBinding", None, f"strimzi-{namespace}-cluster-kafka-init")
    assert gone is None or gone["metadata"].get("deletionTimestamp")
    kept = platform.kube.get(rbac, "ClusterRoleBinding", None, f"strimzi-{other}-cluster-kafka-init")
    assert kept is not None and not kept["metadata"].get("deletionTimestamp")


# -------------------------------------------------------------------------------------------- readiness


def test_ready_at_the_current_generation_with_listeners(
    platform: KubernetesPlatform, namespace: str, operator: OperatorDouble
) -> None:
    generation = operator.kafka_generation(namespace)
    operator.write_kafka(
        namespace,
        {
            "conditions": [operator.condition("Ready")],
            "observedGeneration": generation,
            "listeners": LISTENERS,
        },
    )
    ready = platform.wait_ready("Kafka", namespace, "cluster", timeout=20)
    assert ready["status"]["listeners"][0]["bootstrapServers"] == "cluster-kafka-bootstrap.ns.svc:9093"


def test_initial_creating_status_without_observed_generation_is_waited_out(
    platform: KubernetesPlatform, namespace: str, operator: OperatorDouble
) -> None:
    """Strimzi's first status: NotReady/Creating with no observedGeneration; then Ready once reconciled."""
    operator.write_kafka(
        namespace,
        {"conditions": [operator.condition("NotReady", "Creating", "Kafka cluster is being deployed")]},
    )
    generation = operator.kafka_generation(namespace)
    reads = _ready_after_one_read(platform, operator, namespace, generation)
    platform.wait_ready("Kafka", namespace, "cluster", timeout=30)
    # The wait read Creating and went on to Ready (other threads may read the Kafka too, in any order).
    assert any(
        c.get("reason") == "Creating" for r in reads for c in r.get("status", {}).get("conditions", [])
    )


def test_a_transient_not_ready_followed_by_ready_is_waited_out(
    platform: KubernetesPlatform, namespace: str, operator: OperatorDouble
) -> None:
    """Strimzi writes observedGeneration on a failed reconcile too and retries (KafkaAssemblyOperator.java):
    a TimeoutException while pods start is not a verdict. Target behaviour of issue 8 point 7."""
    generation = operator.kafka_generation(namespace)
    operator.write_kafka(
        namespace,
        {
            "conditions": [
                operator.condition(
                    "NotReady",
                    "TimeoutException",
                    "Exceeded timeout of 300000ms while waiting for Pods resource cluster-dual-role-0 to be ready",
                )
            ],
            "observedGeneration": generation,
        },
    )
    _ready_after_one_read(platform, operator, namespace, generation)
    platform.wait_ready("Kafka", namespace, "cluster", timeout=30)


def test_a_lasting_not_ready_fails_with_strimzis_message(
    platform: KubernetesPlatform, namespace: str, operator: OperatorDouble
) -> None:
    message = "Unsupported Kafka.spec.kafka.version: 9.9.9"
    operator.write_kafka(
        namespace,
        {
            "conditions": [operator.condition("NotReady", "UnsupportedKafkaVersionException", message)],
            "observedGeneration": operator.kafka_generation(namespace),
        },
    )
    with pytest.raises((ResourceFailed, WaitTimeout)) as failed:
        platform.wait_ready("Kafka", namespace, "cluster", timeout=6)
    assert message in str(failed.value)


def test_a_ready_status_of_an_older_generation_is_stale(platform: KubernetesPlatform, namespace: str) -> None:
    """The API server bumps metadata.generation on a spec change, not on a status write: the old Ready is stale."""
    kafka = _kafka(platform, namespace)
    operator = OperatorDouble(platform)
    first = operator.kafka_generation(namespace)
    operator.write_kafka(
        namespace, {"conditions": [operator.condition("Ready")], "observedGeneration": first}
    )
    assert operator.kafka_generation(namespace) == first
    kafka["spec"]["kafka"]["config"] = {"auto.create.topics.enable": False}
    platform.apply(kafka)
    assert operator.kafka_generation(namespace) == first + 1
    with pytest.raises(WaitTimeout, match="stale"):
        platform.wait_ready("Kafka", namespace, "cluster", timeout=3)


def test_a_node_pool_is_ready_once_node_ids_are_assigned(
    platform: KubernetesPlatform, namespace: str, operator: OperatorDouble
) -> None:
    """KafkaNodePool status has no conditions; the operator assigns nodeIds (KafkaNodePoolStatus)."""
    with pytest.raises(WaitTimeout):
        platform.wait_ready("KafkaNodePool", namespace, "dual-role", timeout=2)
    operator.write(
        "KafkaNodePool",
        namespace,
        "dual-role",
        {"nodeIds": [0], "roles": ["controller", "broker"], "replicas": 1, "observedGeneration": 1},
    )
    assert platform.wait_ready("KafkaNodePool", namespace, "dual-role", timeout=10)["status"]["nodeIds"] == [
        0
    ]


# --------------------------------------------------------------------------------------------- secrets


def _pkcs12(password: bytes) -> tuple[bytes, x509.Certificate]:
    ca = Ca.create("cluster-ca v0")
    store = pkcs12.serialize_key_and_certificates(
        b"ca", ca.key, ca.cert, None, BestAvailableEncryption(password)
    )
    return store, ca.cert


def test_a_secret_with_binary_pkcs12_reads_as_bytes(platform: KubernetesPlatform, namespace: str) -> None:
    """`<cluster>-cluster-ca-cert` holds ca.crt, ca.p12 (binary PKCS#12) and ca.password (1.2.0
    operator-common/.../ca/InternalCa.java CA_STORE, CA_STORE_PASSWORD); user Secrets hold user.p12 the same way
    (user-operator/.../KafkaUserModel.java generateSecret). The agreed contract: read_secret gives raw bytes."""
    password = b"s3cret-store-password"
    store, cert = _pkcs12(password)
    ca_pem = cert.public_bytes(Encoding.PEM)
    platform.kube.core.create_namespaced_secret(
        namespace,
        {
            "metadata": {"name": "cluster-cluster-ca-cert"},
            "data": {
                "ca.crt": base64.b64encode(ca_pem).decode(),
                "ca.p12": base64.b64encode(store).decode(),
                "ca.password": base64.b64encode(password).decode(),
            },
        },
    )
    data = platform.read_secret(namespace, "cluster-cluster-ca-cert")
    assert data["ca.p12"] == store
    assert data["ca.crt"] == ca_pem
    loaded = pkcs12.load_pkcs12(data["ca.p12"], data["ca.password"])
    assert loaded.cert is not None and loaded.cert.certificate == cert


# --------------------------------------------------------------------------------------------- diagnostics


def test_diagnostics_carry_conditions_and_events(
    platform: KubernetesPlatform, namespace: str, operator: OperatorDouble, tmp_path: Path
) -> None:
    operator.write_kafka(
        namespace,
        {
            "conditions": [
                operator.condition("NotReady", "InvalidResourceException", "listener tls is broken")
            ],
            "observedGeneration": operator.kafka_generation(namespace),
        },
    )
    platform.kube.core.create_namespaced_event(
        namespace,
        {
            "metadata": {"name": f"cluster.{uuid.uuid4().hex[:8]}"},
            "involvedObject": {
                "kind": "Kafka",
                "name": "cluster",
                "namespace": namespace,
                "apiVersion": PROFILE.api_version,
            },
            "reason": "ReconciliationFailed",
            "message": "the operator could not reconcile",
            "type": "Warning",
            "lastTimestamp": "2026-01-01T00:00:00Z",
            "source": {"component": "strimzi-cluster-operator"},
        },
    )
    parts = platform.diagnostics(namespace)
    assert "NotReady=True" in parts["Kafka.yaml"].splitlines()[0]
    assert "listener tls is broken" in parts["Kafka.yaml"]
    assert "ReconciliationFailed: the operator could not reconcile" in parts["events.txt"]
    assert "Kafka/cluster" in parts["events.txt"]
    folder = diagnostics.write(tmp_path, "diag-test", parts)
    assert (folder / "events.txt").read_text() == parts["events.txt"]


# ------------------------------------------------------------------------------ fingerprint, owner references


def test_the_fingerprint_configmap_round_trips_through_the_api_server(platform: KubernetesPlatform) -> None:
    """connect.ensure_cluster stores it in kube-system (which the API server itself creates) and reads it back."""
    wanted = fingerprint.Fingerprint("kind", "1.35.4", "kindest/node:v1.35.0@sha256:0", PROFILE.strimzi)
    platform.kube.apply(wanted.to_configmap())
    stored = platform.kube.get("v1", "ConfigMap", fingerprint.CONFIGMAP_NAMESPACE, fingerprint.CONFIGMAP_NAME)
    assert fingerprint.Fingerprint.from_configmap(stored) == wanted
    assert (
        fingerprint.decide(True, fingerprint.Fingerprint.from_configmap(stored), wanted)
        is fingerprint.Reuse.REUSE
    )


def test_a_deleted_kafka_user_lingers_while_its_secret_blocks_owner_deletion(
    platform: KubernetesPlatform, namespace: str
) -> None:
    """The User Operator makes the user's Secret owned by the KafkaUser with blockOwnerDeletion (1.2.0
    user-operator/.../KafkaUserModel.java createSecret/createOwnerReference: blockOwnerDeletion true,
    controller false). The platform deletes in the foreground,
    so the KafkaUser stays, Terminating, until the garbage collector has removed the Secret — a user of the same
    name applied meanwhile would update the terminating one (issue 8 point 7)."""
    platform.apply(
        resources.kafka_user(
            PROFILE, name="alice", namespace=namespace, cluster="cluster", run_id=platform.settings.run_id
        )
    )
    user = platform.get("KafkaUser", namespace, "alice")
    assert user is not None
    owner = {
        "apiVersion": PROFILE.api_version,
        "kind": "KafkaUser",
        "name": "alice",
        "uid": user["metadata"]["uid"],
        "controller": False,
        "blockOwnerDeletion": True,
    }
    platform.kube.core.create_namespaced_secret(
        namespace,
        {"metadata": {"name": "alice", "ownerReferences": [owner]}, "data": {"user.crt": "Y2VydA=="}},
    )
    platform.delete("KafkaUser", namespace, "alice")
    lingering = platform.get("KafkaUser", namespace, "alice")
    assert lingering is not None
    assert lingering["metadata"].get("deletionTimestamp")
    assert "foregroundDeletion" in lingering["metadata"].get("finalizers", [])
