"""The kubernetes platform reading Strimzi's shapes through a real API server (issue 8, points 1, 7 and 9).

No operator and no kube-controller-manager run here: foreground deletion leaves an object terminating (its
`foregroundDeletion` finalizer is the garbage collector's to remove) and a deleted namespace stays Terminating.
Where a test removes such a finalizer it plays the garbage collector's part, and says so; the objects it
creates carry the shapes Strimzi writes. It proves the harness, never conformance.
"""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from kconform import resources
from kconform import strimzi_contract as contract
from kconform.clients.operations import Credentials
from kconform.errors import WaitTimeout
from kconform.platforms.kubernetes import install, kube_platform
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.platforms.local import strimzi_secrets
from kconform.platforms.local.pki import CertificateAuthority
from kconform.versions import PROFILES
from tests.apiserver.conftest import ServerPool, make_platform

pytestmark = pytest.mark.apiserver
PROFILE = PROFILES["1.2.0"]


@pytest.fixture
def platform(servers: ServerPool) -> Iterator[KubernetesPlatform]:
    yield make_platform(servers, PROFILE, "kraft", f"s{uuid.uuid4().hex[:8]}")


@pytest.fixture
def namespace(platform: KubernetesPlatform) -> str:
    name = f"sh-{platform.settings.run_id}"
    platform.create_namespace(name)
    return name


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kube_platform, "DELETION_POLL_S", 0.1)


def _secret(platform: KubernetesPlatform, namespace: str, name: str, data: dict[str, bytes]) -> None:
    body = {"metadata": {"name": name}, "data": {k: base64.b64encode(v).decode() for k, v in data.items()}}
    platform.kube.core.create_namespaced_secret(namespace, body)


def test_strimzis_ca_and_user_secrets_read_back_as_bytes_and_give_credentials(
    platform: KubernetesPlatform, namespace: str
) -> None:
    """Every key of `<cluster>-cluster-ca-cert` (operator-common Ca.java / ca/InternalCa.java) and of a tls
    KafkaUser Secret (user-operator KafkaUserModel.java generateSecret), with real PKCS#12 stores, through the
    API and `read_secret`: the stores load with their passwords, and the PEM keys make client credentials."""
    cluster_ca, clients_ca = CertificateAuthority.cluster_ca(), CertificateAuthority.clients_ca()
    issued = clients_ca.issue("alice")
    _secret(
        platform, namespace, contract.cluster_ca_cert_secret("c1"), strimzi_secrets.ca_cert_secret(cluster_ca)
    )
    _secret(platform, namespace, "alice", strimzi_secrets.tls_user_secret("alice", clients_ca, issued))
    ca = platform.read_secret(namespace, "c1-cluster-ca-cert")
    user = platform.read_secret(namespace, "alice")
    assert tuple(sorted(ca)) == tuple(sorted(contract.CA_CERT_KEYS))
    assert tuple(sorted(user)) == tuple(sorted(contract.TLS_USER_KEYS))
    store = pkcs12.load_pkcs12(user["user.p12"], user["user.password"])
    assert store.cert is not None and store.cert.certificate == issued.certificate
    pkcs12.load_pkcs12(ca["ca.p12"], ca["ca.password"])
    credentials = Credentials.from_secrets(ca, user)
    assert credentials.ca_crt == cluster_ca.cert_pem and credentials.user_key == issued.key_pem


def _user(platform: KubernetesPlatform, namespace: str, name: str) -> dict[str, Any]:
    return resources.kafka_user(
        PROFILE, name=name, namespace=namespace, cluster="c1", run_id=platform.settings.run_id
    )


def test_a_kafka_user_is_not_re_applied_while_its_namesake_terminates(
    platform: KubernetesPlatform, namespace: str, quick: None
) -> None:
    """A KafkaUser deleted in the foreground stays with a deletionTimestamp until its Secret (owner reference
    with blockOwnerDeletion, KafkaUserModel.java) is gone; applying the same name then would patch the dying
    object. The apply waits; the test then removes the finalizer as the garbage collector would."""
    platform.apply(_user(platform, namespace, "admin"))
    platform.delete("KafkaUser", namespace, "admin")
    dying = platform.get("KafkaUser", namespace, "admin")
    assert dying is not None and dying["metadata"].get("deletionTimestamp")
    assert "foregroundDeletion" in dying["metadata"].get("finalizers", [])

    errors: list[BaseException] = []

    def apply_again() -> None:
        try:
            platform.apply(_user(platform, namespace, "admin"))
        except BaseException as err:  # handed to the test thread
            errors.append(err)

    applying = threading.Thread(target=apply_again)
    applying.start()
    applying.join(timeout=1.0)
    assert applying.is_alive(), "the apply went ahead on a terminating KafkaUser"
    # The garbage collector's part: the dependents are gone, so the owner's finalizer goes.
    api = platform.kube.dynamic.resources.get(api_version=PROFILE.api_version, kind="KafkaUser")
    api.patch(
        name="admin",
        namespace=namespace,
        body={"metadata": {"finalizers": None}},
        content_type="application/merge-patch+json",
    )
    applying.join(timeout=30)
    assert not applying.is_alive() and not errors, errors
    fresh = platform.get("KafkaUser", namespace, "admin")
    assert fresh is not None and not fresh["metadata"].get("deletionTimestamp")


def _nodeport_kafka(namespace: str) -> dict[str, Any]:
    listener = resources.nodeport_listener(
        "external", 9094, tls=True, authentication="tls", bootstrap_node_port=32100
    )
    return resources.kafka_cluster(
        PROFILE, "kraft", name="np", namespace=namespace, run_id="r", listeners=[listener]
    )[0]


def test_a_nodeport_cluster_waits_for_the_terminating_namespace_that_holds_the_ports(
    platform: KubernetesPlatform, namespace: str, quick: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deleted namespace keeps its NodePort Services, and so their node ports, until it is gone; here it
    stays Terminating (no namespace controller), so the next NodePort cluster's apply times out saying so."""
    monkeypatch.setattr(kube_platform, "NAMESPACE_GONE_TIMEOUT_S", 2.0)
    platform.delete_namespace(namespace)
    terminating = platform.kube.get("v1", "Namespace", None, namespace)
    assert terminating is not None and terminating["status"]["phase"] == "Terminating"
    successor = f"{namespace}-next"
    platform.create_namespace(successor)
    with pytest.raises(WaitTimeout, match=f"namespace {namespace} .* to be gone"):
        platform.apply(_nodeport_kafka(successor))
    assert platform.get("Kafka", successor, "np") is None


def test_the_external_host_of_an_existing_cluster_comes_from_its_nodes(
    platform: KubernetesPlatform, servers: ServerPool
) -> None:
    """Node objects as the kubelet reports them (status.addresses); without --external-host the platform takes
    a Ready node's address by NodeUtils.findAddress's default order and keeps it for the run."""
    name = f"node-{platform.settings.run_id}"
    core = platform.kube.core
    core.create_node({"metadata": {"name": name}})
    core.patch_node_status(
        name,
        {
            "status": {
                "addresses": [
                    {"type": "Hostname", "address": name},
                    {"type": "InternalIP", "address": "10.9.8.7"},
                ],
                "conditions": [
                    {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ok"}
                ],
            }
        },
    )
    try:
        platform.cluster = ClusterInfo(
            platform.cluster.context, platform.cluster.kubeconfig, "", created=False
        )
        stored = platform.kube.get("v1", "Node", None, name) or {}
        assert platform.external_host() == contract.find_address(stored["status"]["addresses"]) == "10.9.8.7"
    finally:
        core.delete_node(name)


def test_yaml_install_bindings_apply_and_only_kconforms_are_removed_with_their_namespace(
    platform: KubernetesPlatform,
) -> None:
    """The ClusterRoleBindings `--install yaml` adds for STRIMZI_NAMESPACE="*" (packaging/install/cluster-operator/
    020-, 023-, 031-RoleBinding made cluster-wide, as the Helm chart does with watchAnyNamespace) are accepted by
    the API server, and removing them for a deleted operator namespace leaves a user's binding alone."""
    operator_ns = f"op-{platform.settings.run_id}"
    rbac = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": "myproject"},
            "subjects": [
                {"kind": "ServiceAccount", "name": "strimzi-cluster-operator", "namespace": "myproject"}
            ],
            "roleRef": {"kind": "ClusterRole", "name": role, "apiGroup": "rbac.authorization.k8s.io"},
        }
        for name, role in (
            ("strimzi-cluster-operator", "strimzi-cluster-operator-namespaced"),
            ("strimzi-cluster-operator-watched", "strimzi-cluster-operator-watched"),
            ("strimzi-cluster-operator-entity-operator-delegation", "strimzi-entity-operator"),
        )
    ]
    settings = KubeSettings(profile=PROFILE, run_id=platform.settings.run_id, operator_namespace=operator_ns)
    added = install.watched_bindings(install.rewrite_namespace(rbac, operator_ns), settings)
    for binding in added:
        platform.kube.apply(binding)
    users = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {
            "name": f"users-{operator_ns}",
            "labels": {install.OPERATOR_NAMESPACE_LABEL: operator_ns},
        },
        "subjects": [
            {"kind": "ServiceAccount", "name": "strimzi-cluster-operator", "namespace": operator_ns}
        ],
        "roleRef": {"kind": "ClusterRole", "name": "view", "apiGroup": "rbac.authorization.k8s.io"},
    }
    platform.kube.apply(users)
    stored = platform.kube.get(
        "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", None, added[0]["metadata"]["name"]
    )
    assert stored is not None and stored["subjects"][0]["namespace"] == operator_ns
    removed = install.delete_watched_bindings(platform.kube, operator_ns)
    assert sorted(removed) == sorted(b["metadata"]["name"] for b in added) and len(removed) == 3
    assert platform.kube.get(
        "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", None, f"users-{operator_ns}"
    )
    platform.kube.delete("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", None, f"users-{operator_ns}")
