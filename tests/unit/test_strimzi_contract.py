"""The Strimzi contract, pinned: each shape as Strimzi's source writes it at 0.45.2 and 1.2.0, and both
platforms held to it (the local platform produces it, the kubernetes platform reads it).

Paths are in strimzi/strimzi-kafka-operator unless another repository is named.
"""

from __future__ import annotations

import base64
import socket

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from kconform import strimzi_contract as contract
from kconform.clients.operations import Credentials
from kconform.errors import PlatformError
from kconform.platforms.kubernetes.kube import decode_secret_data
from kconform.platforms.local import strimzi_secrets, topology
from kconform.platforms.local.kafka_cluster import LocalKafka
from kconform.platforms.local.pki import CertificateAuthority
from kconform.platforms.local.topology import NodePorts
from kconform.secrets import text

# A kind worker's status.addresses (kind nodes have only InternalIP and Hostname).
KIND_NODE = [
    {"type": "InternalIP", "address": "172.18.0.3"},
    {"type": "Hostname", "address": "kconform-worker"},
]


@pytest.fixture(scope="module")
def cas() -> tuple[CertificateAuthority, CertificateAuthority]:
    return CertificateAuthority.cluster_ca(), CertificateAuthority.clients_ca()


# ------------------------------------------------------------------------------------------------ Secrets
def test_ca_cert_secrets_hold_strimzis_keys_with_a_real_pkcs12_truststore(cas) -> None:
    """operator-common .../Ca.java (SecretEntry .crt/.key/.p12/.password, prefix "ca"; 1.2.0 in ca/Ca.java and
    ca/InternalCa.java CA_STORE, CA_STORE_PASSWORD): `<cluster>-cluster-ca-cert` and `-clients-ca-cert` hold
    ca.crt, ca.p12 (binary PKCS#12), ca.password; `<cluster>-cluster-ca` / `-clients-ca` hold ca.key."""
    cluster_ca, clients_ca = cas
    found = strimzi_secrets.cluster_secrets("c1", cluster_ca, clients_ca)
    assert set(found) == {"c1-cluster-ca-cert", "c1-cluster-ca", "c1-clients-ca-cert", "c1-clients-ca"}
    for name, ca in (("c1-cluster-ca-cert", cluster_ca), ("c1-clients-ca-cert", clients_ca)):
        data = found[name]
        assert tuple(data) == contract.CA_CERT_KEYS
        assert all(isinstance(v, bytes) for v in data.values())
        store = pkcs12.load_pkcs12(data["ca.p12"], data["ca.password"])
        assert [c.certificate for c in store.additional_certs] == [ca.certificate]
        with pytest.raises(UnicodeDecodeError):
            data["ca.p12"].decode("utf-8")
    assert tuple(found["c1-cluster-ca"]) == contract.CA_KEY_KEYS


def test_tls_user_secret_holds_strimzis_keys_with_a_real_pkcs12_keystore(cas) -> None:
    """user-operator .../model/KafkaUserModel.java generateSecret (0.45.2; 1.2.0 with PKCS#12 generation on,
    the default of STRIMZI_PKCS12_KEYSTORE_GENERATION in cluster-operator ClusterOperatorConfig.java): ca.crt
    (the clients CA), user.crt, user.key (PKCS#8 PEM), user.p12, user.password."""
    _, clients_ca = cas
    issued = clients_ca.issue("alice")
    data = strimzi_secrets.tls_user_secret("alice", clients_ca, issued)
    assert tuple(data) == contract.TLS_USER_KEYS
    store = pkcs12.load_pkcs12(data["user.p12"], data["user.password"])
    assert store.cert is not None and store.cert.certificate == issued.certificate
    assert store.key is not None
    assert text(data, "user.key").startswith("-----BEGIN PRIVATE KEY-----")
    assert text(data, "ca.crt") == clients_ca.cert_pem
    subject = x509.load_pem_x509_certificate(data["user.crt"]).subject.rfc4514_string()
    assert subject == "CN=alice"  # the Kafka principal User:CN=alice


def test_a_binary_secret_read_through_the_kubernetes_decoding_keeps_every_byte(cas) -> None:
    """The API returns Secret data base64-encoded; `ca.p12`/`user.p12` are PKCS#12 (KafkaUserModel.java), which
    the old UTF-8 decoding of every value refused. Only the PEM keys are decoded, by the reader that uses them."""
    cluster_ca, clients_ca = cas
    issued = clients_ca.issue("alice")
    stored_ca = strimzi_secrets.ca_cert_secret(cluster_ca)
    stored_user = strimzi_secrets.tls_user_secret("alice", clients_ca, issued)
    as_api = {k: base64.b64encode(v).decode("ascii") for k, v in stored_user.items()}
    user = decode_secret_data(as_api)
    ca = decode_secret_data({k: base64.b64encode(v).decode("ascii") for k, v in stored_ca.items()})
    assert user == stored_user and ca == stored_ca
    pkcs12.load_pkcs12(user["user.p12"], user["user.password"])  # still a valid store
    credentials = Credentials.from_secrets(ca, user)
    assert credentials.ca_crt == cluster_ca.cert_pem and credentials.user_crt == issued.cert_pem
    assert "PRIVATE KEY" not in repr(credentials)
    with pytest.raises(PlatformError, match=r"key user\.p12 is binary"):
        text(user, "user.p12")


def test_a_missing_pem_key_is_named_without_showing_values(cas) -> None:
    cluster_ca, _ = cas
    ca = strimzi_secrets.ca_cert_secret(cluster_ca)
    with pytest.raises(PlatformError) as caught:
        Credentials.from_secrets(ca, {"user.crt": ca["ca.crt"], "user.password": b"pw-value-1"})
    assert "has no key user.key" in str(caught.value) and "pw-value-1" not in str(caught.value)
    with pytest.raises(PlatformError, match="not a PEM certificate"):
        Credentials.from_secrets({"ca.crt": b"garbage"})


# ------------------------------------------------------------------------------------- node addresses
def test_find_address_prefers_the_type_asked_for_then_the_default_order() -> None:
    """operator-common .../model/NodeUtils.java findAddress (identical at 0.45.2 and 1.2.0): the preferred type
    when present, else ExternalDNS, ExternalIP, InternalDNS, InternalIP, Hostname (Hostname last in the code,
    although the method's comment lists it third); the first address of a repeated type wins."""
    assert contract.find_address(KIND_NODE) == "172.18.0.3"
    assert contract.find_address(KIND_NODE, "Hostname") == "kconform-worker"
    assert contract.find_address(KIND_NODE, "ExternalIP") == "172.18.0.3"  # absent type: default order
    every = [
        {"type": "Hostname", "address": "h"},
        {"type": "InternalIP", "address": "10.0.0.1"},
        {"type": "InternalIP", "address": "10.0.0.2"},
        {"type": "InternalDNS", "address": "n.internal"},
        {"type": "ExternalIP", "address": "1.2.3.4"},
        {"type": "ExternalDNS", "address": "n.example"},
    ]
    order = []
    while every:
        found = contract.find_address(every)
        order.append(found)
        every = [a for a in every if a["address"] != found]
    assert order == ["n.example", "1.2.3.4", "n.internal", "10.0.0.1", "10.0.0.2", "h"]
    assert contract.find_address(None) is None and contract.find_address([]) is None


def test_nodeport_status_uses_node_addresses_with_the_bootstrap_port() -> None:
    """cluster-operator .../assembly/KafkaReconciler.java nodePortExternalListenerStatus: per broker node, the
    broker's advertisedHost if set, else findAddress(node, preferredNodePortAddressType) — always with the
    bootstrap node port, de-duplicated; api ListenerStatus.java setAddresses: bootstrapServers is the distinct,
    sorted `host:port` list."""
    listener = {
        "name": "external",
        "type": "nodeport",
        "configuration": {"preferredNodePortAddressType": "Hostname"},
    }
    same_node = contract.nodeport_status_addresses(listener, {0: KIND_NODE, 1: KIND_NODE}, 32100)
    assert same_node == [{"host": "kconform-worker", "port": 32100}]
    listener["configuration"]["brokers"] = [
        {"broker": 1, "advertisedHost": "127.0.0.1", "advertisedPort": 32102}
    ]
    status = contract.listener_status(
        "external", contract.nodeport_status_addresses(listener, {0: KIND_NODE, 1: KIND_NODE}, 32100)
    )
    assert status == {
        "name": "external",
        "addresses": [{"host": "kconform-worker", "port": 32100}, {"host": "127.0.0.1", "port": 32100}],
        "bootstrapServers": "127.0.0.1:32100,kconform-worker:32100",
    }
    assert "certificates" not in status  # only TLS listeners carry the CA (KafkaListenersReconciler.java)


def test_internal_bootstrap_address_has_no_cluster_domain_unless_asked() -> None:
    """cluster-operator .../assembly/KafkaListenersReconciler.java internalServicesReady and
    getInternalServiceHostname; ListenersUtils.java backwardsCompatibleBootstrapServiceName (internal listeners
    share `<cluster>-kafka-bootstrap`, others get `<cluster>-kafka-<name>-bootstrap`)."""
    internal = {"name": "tls", "type": "internal", "port": 9093}
    assert contract.internal_bootstrap_host("c1", "ns1", internal) == "c1-kafka-bootstrap.ns1.svc"
    internal["configuration"] = {"useServiceDnsDomain": True}
    assert (
        contract.internal_bootstrap_host("c1", "ns1", internal) == "c1-kafka-bootstrap.ns1.svc.cluster.local"
    )
    assert contract.bootstrap_service("c1", {"name": "ext", "type": "nodeport"}) == "c1-kafka-ext-bootstrap"


# ----------------------------------------------------------------------- the local platform meets it
def _local_cluster(listener: dict, cas) -> LocalKafka:
    kafka = {
        "metadata": {"name": "c1", "namespace": "ns1"},
        "spec": {
            "kafka": {"listeners": [{"name": "tls", "port": 9093, "type": "internal", "tls": True}, listener]}
        },
    }
    pool = {"metadata": {"name": "dual"}, "spec": {"replicas": 1, "roles": ["controller", "broker"]}}
    topo = topology.plan_topology(kafka, [pool])
    cluster_ca, clients_ca = cas
    ports = {0: NodePorts(controlplane=1, replication=2, listeners={"tls": 3, "external": 32101})}
    return LocalKafka(topo, "4.3.1", cluster_ca, clients_ca, ports, bootstrap_ports={"external": 32100})


def test_local_nodeport_status_and_advertised_address_follow_the_contract(cas) -> None:
    """The local platform's one node has a kind-like InternalIP and an unresolvable Hostname; its status and
    its brokers' advertised addresses follow NodeUtils.findAddress as on a cluster (KafkaReconciler.java,
    KafkaListenersReconciler.java nodePortServicesReady: the broker advertises the node address with its own
    node port)."""
    listener = {
        "name": "external",
        "port": 9094,
        "type": "nodeport",
        "tls": True,
        "configuration": {"preferredNodePortAddressType": "Hostname"},
    }
    cluster = _local_cluster(listener, cas)
    hostname = contract.find_address(topology.NODE_ADDRESSES, "Hostname")
    internal, external = cluster.status_listeners()
    assert internal == {  # KafkaListenersReconciler.internalServicesReady: the bootstrap Service, one address
        "name": "tls",
        "addresses": [{"host": "c1-kafka-bootstrap.ns1.svc", "port": 9093}],
        "bootstrapServers": "c1-kafka-bootstrap.ns1.svc:9093",
        "certificates": [cas[0].cert_pem],
    }
    assert external["bootstrapServers"] == f"{hostname}:32100"
    assert external["certificates"] == [cas[0].cert_pem]
    spec = cluster.listener("external")
    assert topology.advertised_address(cluster.topology, spec, cluster.topology.brokers[0], 32101) == (
        hostname,
        32101,
    )
    with pytest.raises(socket.gaierror):  # like a kind node's name, the test host cannot resolve it
        socket.getaddrinfo(hostname, 32101)


def test_local_nodeport_default_type_and_overrides(cas) -> None:
    """Without a preferred type the default order picks InternalIP; advertisedHost replaces the node address in
    status (with the bootstrap port) and in what the broker advertises; advertisedPort alone keeps the node
    address (ListenersUtils.brokerAdvertisedHost / brokerAdvertisedPort)."""
    listener = {"name": "external", "port": 9094, "type": "nodeport", "tls": True, "configuration": {}}
    cluster = _local_cluster(listener, cas)
    external = next(e for e in cluster.status_listeners() if e["name"] == "external")
    assert external["bootstrapServers"] == "127.0.0.1:32100"
    listener["configuration"] = {"brokers": [{"broker": 0, "advertisedPort": 32199}]}
    cluster = _local_cluster(listener, cas)
    broker = cluster.topology.brokers[0]
    assert topology.advertised_address(cluster.topology, cluster.listener("external"), broker, 32101) == (
        "127.0.0.1",
        32199,
    )
    listener["configuration"] = {
        "brokers": [{"broker": 0, "advertisedHost": "ext.example", "advertisedPort": 9}]
    }
    cluster = _local_cluster(listener, cas)
    external = next(e for e in cluster.status_listeners() if e["name"] == "external")
    assert external["bootstrapServers"] == "ext.example:32100"


# ------------------------------------------------------------------------------------------ the bridge
def test_bridge_readiness_endpoint_per_version() -> None:
    """strimzi-kafka-bridge src/main/java/io/strimzi/kafka/bridge/http/HttpBridge.java: 0.31.2 serves /ready on
    the HTTP port with 204; 1.1.0 on the management port (HttpConfig.java DEFAULT_MANAGEMENT_PORT 8081) with 200."""
    assert contract.bridge_readiness("0.31.2", 8080, 8081) == (8080, "/ready", 204)
    assert contract.bridge_readiness("1.1.0", 8080, 8081) == (8081, "/ready", 200)
    assert contract.BRIDGE_MANAGEMENT_PORT == 8081


def test_final_reasons_are_configuration_errors() -> None:
    """KafkaAssemblyOperator.java createOrUpdate writes NotReady with reason = the exception's simple class name;
    InvalidResourceException (operator-common model/) and its subclasses cannot clear on a retry."""
    assert contract.is_final({"type": "NotReady", "reason": "InvalidResourceException"})
    assert not contract.is_final({"type": "NotReady", "reason": "KubernetesClientException"})
    assert not contract.is_final({"type": "NotReady", "reason": "StrimziTimeoutException"})
    assert not contract.is_final({"type": "Ready", "reason": "InvalidResourceException"})
