"""kafka-python failures as the kconform errors a scenario asserts: authorization scopes, authentication, and
connectivity failures diagnosed after the fact by probing the addresses involved (bootstrap first, then the
brokers' advertised addresses learnt from metadata).

Shipped into the client pod with the rest of the client code.
"""

from __future__ import annotations

import ssl
from typing import Any

import kafka.errors as kafka_errors

from kconform import errors
from kconform.clients.kafka_probes import PROBE_TIMEOUT_S, Address, parse_bootstrap, probe, sasl_mechanisms
from kconform.clients.operations import Endpoint

_AUTHORIZATION_SCOPES: tuple[tuple[type[Exception], str], ...] = (
    (kafka_errors.TopicAuthorizationFailedError, "topic"),
    (kafka_errors.GroupAuthorizationFailedError, "group"),
    (kafka_errors.ClusterAuthorizationFailedError, "cluster"),
    (kafka_errors.TransactionalIdAuthorizationFailedError, "transactional_id"),
)
# Failures that may hide an unreachable address or a refused handshake: diagnose them with a probe.
CONNECTIVITY_ERRORS: tuple[type[BaseException], ...] = (
    kafka_errors.KafkaTimeoutError,
    kafka_errors.KafkaConnectionError,
    kafka_errors.NodeNotReadyError,
    kafka_errors.RequestTimedOutError,
    kafka_errors.MetadataEmptyBrokerList,
    OSError,
)


def cluster_of(client: Any) -> Any:
    # kafka-python 3.x keeps its metadata cache (ClusterMetadata) under a different private name per client:
    # producer._metadata, consumer._cluster, admin._manager.cluster.
    cluster = getattr(client, "_metadata", None) or getattr(client, "_cluster", None)
    return cluster if cluster is not None else getattr(getattr(client, "_manager", None), "cluster", None)


def known_brokers(client: Any) -> list[tuple[Any, Address]]:
    """(node_id, advertised address) pairs from the client's metadata cache, [] if it never bootstrapped."""
    cluster = cluster_of(client)
    brokers = cluster.brokers() if cluster is not None else []
    return [(broker.node_id, Address(broker.host, int(broker.port))) for broker in brokers]


def diagnose_connectivity(
    endpoint: Endpoint, tls_files: dict[str, Any] | None, client: Any = None, spoken: str | None = None
) -> errors.ClientError | None:
    """The connectivity problem behind a failure, or None if every address involved answers.

    `spoken` is the client's security protocol: a client that did not speak SASL to a listener that
    expects it gets a ProtocolMismatch saying both (the broker drops such connections, kafka-python only
    times out)."""
    reached = []
    for address in parse_bootstrap(endpoint.bootstrap):
        try:
            probe(address, tls_files)
        except errors.ClientError as err:
            if isinstance(err, errors.AuthenticationFailed):
                return err
            last_bootstrap_error: errors.ClientError = err
        else:
            reached.append(address)
    if not reached:
        return errors.BrokerUnreachable(f"bootstrap {endpoint.bootstrap} unreachable: {last_bootstrap_error}")
    if spoken is not None and not spoken.startswith("SASL_"):
        mechanisms = sasl_mechanisms(reached[0], tls_files)
        if mechanisms is not None:
            return errors.ProtocolMismatch(
                f"the client spoke {spoken}, but the listener at {reached[0]} expects SASL_{spoken} "
                f"(enabled mechanisms: {', '.join(mechanisms) or 'none'}): the broker drops requests sent "
                f"before SASL authentication; set the client's security.protocol to SASL_{spoken} with "
                "SCRAM credentials from the KafkaUser Secret"
            )
    for node_id, address in known_brokers(client) if client is not None else []:
        try:
            probe(address, tls_files)
        except errors.ClientError as err:
            return type(err)(
                f"bootstrap {reached[0]} answered, but broker {node_id} advertises {address}, "
                f"which this client cannot use: {err}"
            )
    return None


def check_advertised(endpoint: Endpoint, client: Any, *, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Fail fast when the bootstrap's metadata advertises brokers this client cannot reach.

    kafka-python would retry an unresolvable or unreachable advertised address until its request timeout
    runs out; a bounded resolve and TCP connect per advertised address finds it in seconds and names every
    such broker. Addresses that answer are left to the client (TLS problems are diagnosed after a failure).
    """
    unreachable = []
    for node_id, address in known_brokers(client):
        try:
            probe(address, None, timeout=timeout)
        except errors.BrokerUnreachable as err:
            unreachable.append(f"broker {node_id} advertises {address} ({err})")
    if unreachable:
        raise errors.BrokerUnreachable(
            f"bootstrap {endpoint.bootstrap} answered, but this client cannot use the advertised "
            f"addresses: {'; '.join(unreachable)}"
        )


# --------------------------------------------------------------------------------------------------------
# Error translation
# --------------------------------------------------------------------------------------------------------


def translate(
    err: BaseException,
    action: str,
    endpoint: Endpoint,
    tls_files: dict[str, Any] | None = None,
    client: Any = None,
    spoken: str | None = None,
) -> errors.KconformError:
    """Map a kafka-python / socket / TLS failure during `action` to the kconform error a scenario asserts."""
    if isinstance(err, errors.KconformError):
        return err
    for kind, scope in _AUTHORIZATION_SCOPES:
        # The idempotent producer wraps InitProducerId's ClusterAuthorizationFailedError in a plain
        # KafkaError that only names it: recognise the class by name too.
        if isinstance(err, kind) or kind.__name__ in str(err):
            return errors.AuthorizationFailed(scope, f"{action}: not authorized ({scope}): {err}")
    if isinstance(err, kafka_errors.SaslAuthenticationFailedError | ssl.SSLError):
        return errors.AuthenticationFailed(f"{action}: authentication failed: {err}")
    if isinstance(err, CONNECTIVITY_ERRORS):
        cause = diagnose_connectivity(endpoint, tls_files, client, spoken)
        if cause is not None:
            return type(cause)(f"{action}: {cause}")
        return errors.ClientError(
            f"{action}: {type(err).__name__}: {err} (all broker addresses answered a probe)"
        )
    # kafka-python's broker errors embed whole request/response reprs; keep the readable start.
    detail = str(err)
    return errors.ClientError(
        f"{action}: {type(err).__name__}: {detail[:300]}{'…' if len(detail) > 300 else ''}"
    )
