"""The Strimzi contract: what a user observes of Strimzi, written down once from its sources.

Both platforms meet it: the local platform produces exactly these shapes, the kubernetes platform reads
exactly these. Every entry names the file of strimzi/strimzi-kafka-operator it comes from; each was read at
the tags 0.45.2 and 1.2.0 and is pinned by tests/unit/test_strimzi_contract.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# ---------------------------------------------------------------------------------------------- Secrets
# Ca.java (SecretEntry: ".crt", ".key", ".p12", ".password" with the prefix "ca"); InternalCa.java (1.2.0)
# drops the PKCS#12 pair when STRIMZI_PKCS12_KEYSTORE_GENERATION=false (ClusterOperatorConfig.java, default
# "true"); 0.45.2 always writes it.
CA_CERT_KEYS = ("ca.crt", "ca.p12", "ca.password")
CA_KEY_KEYS = ("ca.key",)
# user-operator KafkaUserModel.generateSecret: tls users get the clients CA and their own certificate, key,
# PKCS#12 keystore and its password; scram-sha-512 users a password and a JAAS line.
TLS_USER_KEYS = ("ca.crt", "user.crt", "user.key", "user.p12", "user.password")
# user.key is PKCS#8 PEM ("BEGIN PRIVATE KEY"): a PKCS#1 key is converted (certificate-manager
# OpenSslCertManager.java at 0.45.2, certificate-issuer OpenSslCertIssuer.java at 1.2.0).
USER_KEY_PEM_LABEL = "PRIVATE KEY"
SCRAM_USER_KEYS = ("password", "sasl.jaas.config")
# What is not text: PKCS#12 stores (DER). Everything else is ASCII (PEM, generated passwords, the JAAS line).
BINARY_KEYS = frozenset({"ca.p12", "user.p12"})
# Optional since 1.1.0 (PKCS#12 generation can be switched off): never required by a reader.
OPTIONAL_KEYS = frozenset({"ca.p12", "ca.password", "user.p12", "user.password"})
# KafkaUserModel.createOwnerReference: the user Secret is owned by its KafkaUser, blockOwnerDeletion true,
# so with foreground deletion the KafkaUser stays (terminating) until the Secret is gone; the kubernetes
# platform never applies over a terminating namesake (KubernetesPlatform._await_not_terminating).


def cluster_ca_cert_secret(cluster: str) -> str:
    """KafkaResources.clusterCaCertificateSecretName: what clients trust for the brokers."""
    return f"{cluster}-cluster-ca-cert"


def cluster_ca_key_secret(cluster: str) -> str:
    return f"{cluster}-cluster-ca"


def clients_ca_cert_secret(cluster: str) -> str:
    return f"{cluster}-clients-ca-cert"


def clients_ca_key_secret(cluster: str) -> str:
    return f"{cluster}-clients-ca"


# ------------------------------------------------------------------------------------- node addresses
# operator-common NodeUtils.findAddress: the preferred type (listener configuration
# preferredNodePortAddressType) when the node has it, else this order. (Its comment lists Hostname third; the
# code, at both tags, tries it last.) Of several addresses of one type, the first wins.
DEFAULT_ADDRESS_ORDER = ("ExternalDNS", "ExternalIP", "InternalDNS", "InternalIP", "Hostname")
ADDRESS_TYPES = frozenset(DEFAULT_ADDRESS_ORDER)


def find_address(addresses: Iterable[Mapping[str, Any]] | None, preferred: str | None = None) -> str | None:
    """The node address Strimzi uses for a NodePort listener (status and what brokers advertise)."""
    if addresses is None:
        return None
    by_type: dict[str, str] = {}
    for entry in addresses:
        by_type.setdefault(str(entry.get("type")), str(entry.get("address")))
    if preferred is not None and preferred in by_type:
        return by_type[preferred]
    for kind in DEFAULT_ADDRESS_ORDER:
        if kind in by_type:
            return by_type[kind]
    return None


def preferred_address_type(listener: Mapping[str, Any]) -> str | None:
    """ListenersUtils.preferredNodeAddressType: configuration.preferredNodePortAddressType, else None."""
    return (listener.get("configuration") or {}).get("preferredNodePortAddressType")


def broker_advertised_host(listener: Mapping[str, Any], node_id: int) -> str | None:
    """ListenersUtils.brokerAdvertisedHost: the per-broker advertisedHost override, if any."""
    for override in (listener.get("configuration") or {}).get("brokers") or []:
        if int(override.get("broker", -1)) == node_id and override.get("advertisedHost"):
            return str(override["advertisedHost"])
    return None


# ------------------------------------------------------------------------------------ listener status
def bootstrap_service(cluster: str, listener: Mapping[str, Any]) -> str:
    """ListenersUtils.backwardsCompatibleBootstrapServiceName (the forms both tags share for our listeners)."""
    if listener.get("type") == "internal":
        return f"{cluster}-kafka-bootstrap"
    return f"{cluster}-kafka-{listener['name']}-bootstrap"


def internal_bootstrap_host(cluster: str, namespace: str, listener: Mapping[str, Any]) -> str:
    """KafkaListenersReconciler.getInternalServiceHostname: `<service>.<namespace>.svc`, with the cluster
    domain (`.cluster.local`) only when configuration.useServiceDnsDomain is true."""
    host = f"{bootstrap_service(cluster, listener)}.{namespace}.svc"
    if (listener.get("configuration") or {}).get("useServiceDnsDomain"):
        host += ".cluster.local"
    return host


def bootstrap_servers(addresses: Sequence[Mapping[str, Any]]) -> str | None:
    """ListenerStatus.setAddresses: `host:port` of every address, distinct, sorted, comma-joined."""
    joined = sorted({f"{a['host']}:{a['port']}" for a in addresses})
    return ",".join(joined) or None


def listener_status(
    name: str, addresses: Sequence[Mapping[str, Any]], certificates: Sequence[str] | None = None
) -> dict[str, Any]:
    """One entry of Kafka status.listeners (ListenerStatus.java; 0.45.2 also had a deprecated `type`, unset).

    `certificates` holds the cluster CA certificate for TLS listeners only
    (KafkaListenersReconciler.addCertificateToListenerStatus); empty fields are left out (NON_NULL/NON_EMPTY).
    """
    entry: dict[str, Any] = {"name": name, "addresses": [dict(a) for a in addresses]}
    servers = bootstrap_servers(addresses)
    if servers:
        entry["bootstrapServers"] = servers
    if certificates:
        entry["certificates"] = list(certificates)
    return entry


def nodeport_status_addresses(
    listener: Mapping[str, Any],
    broker_nodes: Mapping[int, Sequence[Mapping[str, Any]]],
    bootstrap_node_port: int,
) -> list[dict[str, Any]]:
    """KafkaReconciler.nodePortExternalListenerStatus: one address per broker's node — its advertisedHost
    override, else the node's address of the preferred type — always with the *bootstrap* node port;
    duplicates collapse (a Set in the source)."""
    preferred = preferred_address_type(listener)
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for node_id, node_addresses in broker_nodes.items():
        host = broker_advertised_host(listener, node_id) or find_address(node_addresses, preferred)
        if host is not None:
            found[(host, bootstrap_node_port)] = {"host": host, "port": bootstrap_node_port}
    return list(found.values())


# ----------------------------------------------------------------------------------------- conditions
# A failed reconcile writes observedGeneration and a NotReady condition whose reason is the simple class name
# of the exception (KafkaAssemblyOperator.createOrUpdate, StatusUtils.buildCondition), then the next periodic
# reconcile retries. These reasons are the user's configuration, which a retry cannot fix:
FINAL_REASONS = frozenset(
    {
        # operator-common model/InvalidResourceException and its subclasses
        "InvalidResourceException",
        "InvalidConfigParameterException",  # operator-common model/InvalidConfigParameterException
        "KafkaUpgradeException",  # cluster-operator model/KafkaUpgradeException
        "UnsupportedKafkaVersionException",  # cluster-operator model/KafkaVersion
        "InvalidConfigurationException",  # operator-common InvalidConfigurationException
        "UnsupportedVersionException",  # cluster-operator model/UnsupportedVersionException
        "NoImageException",  # cluster-operator model/NoImageException
        "InvalidNodeIdRangeException",  # cluster-operator model/nodepools/NodeIdRange
        "NodePoolNotFoundException",  # cluster-operator model/KafkaCluster
        "InvalidCertificateException",  # user-operator model/InvalidCertificateException
        # topic-operator model/TopicOperatorException.Reason: another KafkaTopic owns the topic, or the change
        # is one Kafka cannot make (fewer partitions, changed replicas without Cruise Control)
        "ResourceConflict",
        "NotSupported",
    }
)
# Everything else (StrimziTimeoutException / TimeoutException, KubernetesClientException such as "provided
# port is already allocated", MaxAttemptsExceededException, ConcurrentDeletionException, KafkaError) may clear
# on a later reconcile.


def is_final(condition: Mapping[str, Any]) -> bool:
    """A NotReady condition that no retry of the operator will clear."""
    return condition.get("type") == "NotReady" and condition.get("reason") in FINAL_REASONS


# ------------------------------------------------------------------------------------ the HTTP bridge
# strimzi-kafka-bridge HttpBridge.java: up to 0.x (0.31.2) /healthy and /ready are served on the HTTP port and
# answer 204 No Content; from 1.0.0 (1.1.0) on a management port (HttpConfig.DEFAULT_MANAGEMENT_PORT 8081,
# bound to http.host like the API) answering 200 OK; 500 while not ready in both.
BRIDGE_MANAGEMENT_PORT = 8081
BRIDGE_READY_PATH = "/ready"


def bridge_uses_management_port(bridge_version: str) -> bool:
    return int(bridge_version.split(".")[0]) >= 1


def bridge_readiness(bridge_version: str, http_port: int, management_port: int) -> tuple[int, str, int]:
    """(port, path, status) of the bridge's readiness endpoint for a bridge version."""
    if bridge_uses_management_port(bridge_version):
        return management_port, BRIDGE_READY_PATH, 200
    return http_port, BRIDGE_READY_PATH, 204
