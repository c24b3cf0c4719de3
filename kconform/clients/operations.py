"""The client request/response protocol shared by every platform.

A scenario asks for a Kafka client operation as a plain, JSON-serialisable request. The local platform
executes it in-process (`kconform.clients.kafka.execute`); the kubernetes platform ships the same code to
a client pod and runs `python -m kconform.clients.remote`, which reads one request as JSON on stdin and
writes one response as JSON on stdout. Both sides map failures to the same error types.

Request:  {"op": <name>, "endpoint": {...}, "credentials": {...}, "args": {...}}
Response: {"ok": true, "result": <op result>}
          {"ok": false, "error": {"type": <KconformError subclass name>, "scope": <str|null>, "message": <str>}}

Operations and their args / results:
  produce         args {topic, values: [str], key: str|null, idempotent: bool, timeout_s}
                  result {"offsets": [{"partition": int, "offset": int}]}
  consume         args {topic, group, count, timeout_s, from_beginning: bool}
                  result {"records": [{"key": str|null, "value": str, "partition": int, "offset": int}]}
                  plus "commit_error": <error as in an error response> when the group's offsets for the
                  records read could not be committed (the records are returned all the same)
  create_topic    args {topic, partitions, replicas, timeout_s}            result {}
  delete_topic    args {topic, timeout_s}                                  result {}
  list_topics     args {timeout_s}                                         result {"topics": [str]}
  cluster_metadata args {timeout_s}   result {"brokers": [{"node_id", "host", "port"}], "controller_id": int|null}
Every operation also takes `stop_at_refusal: bool`: the operation ends at the first refusal the broker
confirms (TLS handshake, SCRAM login, SASL expected), as the Java client's does, instead of retrying until
`timeout_s` (kconform.clients.kafka_refusals). For calls that expect a refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from kconform import errors

OPERATIONS = ("produce", "consume", "create_topic", "delete_topic", "list_topics", "cluster_metadata")


@dataclass(frozen=True)
class Endpoint:
    """Where a client connects: a bootstrap list as Strimzi reports it in status.listeners."""

    bootstrap: str  # "host:port[,host:port...]"
    tls: bool


SCRAM_SHA_512 = "SCRAM-SHA-512"


@dataclass(frozen=True)
class Credentials:
    """What a client authenticates with, as found in Strimzi's Secrets. repr never shows a key or password.

    TLS: the cluster CA (`ca.crt` of `<cluster>-cluster-ca-cert`) and, for mutual TLS, `user.crt`/`user.key`
    of a tls KafkaUser's Secret. SASL: a scram-sha-512 KafkaUser's name and the `password` of its Secret;
    with SASL credentials the client speaks SASL_PLAINTEXT (or SASL_SSL on a TLS endpoint).
    """

    ca_crt: str | None = None  # the cluster CA certificate (Secret <cluster>-cluster-ca-cert, key ca.crt)
    user_crt: str | None = None  # the KafkaUser Secret's user.crt
    user_key: str | None = field(default=None, repr=False)  # the KafkaUser Secret's user.key
    check_hostname: bool = True
    sasl_mechanism: str | None = None  # SCRAM-SHA-512 for Strimzi's scram-sha-512 users
    sasl_username: str | None = None  # the KafkaUser's name (status.username)
    sasl_password: str | None = field(default=None, repr=False)  # the KafkaUser Secret's password

    def __repr__(self) -> str:
        parts = [
            f"ca_crt={'<pem>' if self.ca_crt else None}",
            f"user_crt={'<pem>' if self.user_crt else None}",
            f"user_key={'<redacted>' if self.user_key else None}",
            f"check_hostname={self.check_hostname}",
        ]
        if self.sasl_mechanism:
            parts += [
                f"sasl_mechanism={self.sasl_mechanism}",
                f"sasl_username={self.sasl_username}",
                f"sasl_password={'<redacted>' if self.sasl_password else None}",
            ]
        return f"Credentials({', '.join(parts)})"

    @property
    def sasl(self) -> bool:
        return bool(self.sasl_mechanism)

    @classmethod
    def from_secrets(
        cls,
        cluster_ca: Mapping[str, bytes],
        user: Mapping[str, bytes] | None = None,
        *,
        check_hostname: bool = True,
    ) -> Credentials:
        """Credentials from the cluster CA Secret and (optionally) a KafkaUser Secret, as `read_secret` returns
        them (bytes). Only the PEM keys are decoded; `*.p12` (binary) and `*.password` are never read."""
        from kconform.secrets import pem  # not shipped to the client pod, which never builds credentials

        return cls(
            ca_crt=pem(cluster_ca, "ca.crt", "CERTIFICATE", source="the cluster CA Secret"),
            user_crt=pem(user, "user.crt", "CERTIFICATE", source="the KafkaUser Secret") if user else None,
            user_key=pem(user, "user.key", "PRIVATE KEY", source="the KafkaUser Secret") if user else None,
            check_hostname=check_hostname,
        )

    @classmethod
    def scram(
        cls, username: str, password: str, *, ca_crt: str | None = None, check_hostname: bool = True
    ) -> Credentials:
        """A scram-sha-512 KafkaUser: its name and the password of its Secret (plus the CA for SASL_SSL)."""
        return cls(
            ca_crt=ca_crt,
            check_hostname=check_hostname,
            sasl_mechanism=SCRAM_SHA_512,
            sasl_username=username,
            sasl_password=_Hidden(password),
        )


class _Hidden(str):
    """A password whose repr never shows it (kept here: this module ships into the client pod alone)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<redacted>'"


def security_protocol(endpoint: Endpoint, credentials: Credentials | None) -> str:
    """What a client speaks: Kafka's security.protocol for the endpoint's transport and the credentials."""
    transport = "SSL" if endpoint.tls else "PLAINTEXT"
    return f"SASL_{transport}" if credentials is not None and credentials.sasl else transport


def request(op: str, endpoint: Endpoint, credentials: Credentials | None, **args: Any) -> dict[str, Any]:
    if op not in OPERATIONS:
        raise ValueError(f"unknown client operation {op!r}")
    return {
        "op": op,
        "endpoint": asdict(endpoint),
        "credentials": asdict(credentials) if credentials else None,
        "args": args,
    }


def error_response(err: errors.KconformError) -> dict[str, Any]:
    return {
        "ok": False,
        "error": {"type": type(err).__name__, "scope": getattr(err, "scope", None), "message": str(err)},
    }


def raise_for_response(response: dict[str, Any]) -> Any:
    """Return the result of a response, or raise the error it carries as the same KconformError type."""
    if response.get("ok"):
        return response.get("result")
    raise error_from(response.get("error") or {})


def error_from(error: Mapping[str, Any]) -> errors.KconformError:
    """The KconformError an error response (or a result's commit_error) describes."""
    kind = error.get("type", "ClientError")
    message = error.get("message", "client operation failed")
    if kind == "AuthorizationFailed":
        return errors.AuthorizationFailed(error.get("scope") or "unknown", message)
    error_type = getattr(errors, kind, None)
    if isinstance(error_type, type) and issubclass(error_type, errors.KconformError):
        return error_type(message)
    return errors.ClientError(f"{kind}: {message}")


class ClientRunner(Protocol):
    """Executes client requests somewhere (this process, or a pod) and returns the result or raises."""

    def run(self, req: dict[str, Any]) -> Any: ...
