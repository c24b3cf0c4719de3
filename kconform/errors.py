"""The exception tree of kconform.

    KconformError
    ├── UsageError                 bad input from the user: one line naming the fix (exit code 2)
    │   └── InvalidCombination     a version/mode/platform combination the versions table refuses
    ├── MissingPrerequisite        something the machine lacks: java, mvn, docker, a bridge distribution (exit 2)
    ├── ManifestError              a resource that does not validate against its CRD schema
    ├── ResourceFailed             Strimzi (or the local platform) reported NotReady for a resource
    ├── WaitTimeout                a wait_until deadline passed; carries what was last seen
    ├── PlatformError              a platform operation failed (a process died, an API call failed)
    │   └── InfrastructureFailure  the cluster could not be created or Strimzi not installed: no verdict
    ├── ClientError                a Kafka client operation failed
    │   ├── AuthorizationFailed    the broker refused by ACL: .scope is topic | group | cluster | transactional_id
    │   ├── AuthenticationFailed   TLS handshake / SASL refused (no certificate, untrusted CA, bad password)
    │   ├── ProtocolMismatch       the client's security protocol is not the listener's (PLAINTEXT to SASL)
    │   └── BrokerUnreachable      bootstrap or an advertised broker address cannot be reached
    └── BridgeError                the HTTP bridge answered with an error status

Third-party exceptions are wrapped into these with ``raise ... from err`` so the cause stays visible.
"""

from __future__ import annotations


class KconformError(Exception):
    """Base class of every error kconform raises on purpose."""


class UsageError(KconformError):
    """The user asked for something that cannot work; the message names the fix."""


class InvalidCombination(UsageError):
    """A profile, mode, platform or provider combination the versions table refuses."""


class MissingPrerequisite(KconformError):
    """A tool or artifact this machine lacks; the message says how to get it."""


class ManifestError(KconformError):
    """A resource failed schema validation; the message names the resource and the field path."""


class ResourceFailed(KconformError):
    """A resource reported a NotReady condition; the message is Strimzi's (or the local platform's)."""


class WaitTimeout(KconformError):
    """A bounded wait ran out; the message says what was awaited and what was last seen."""


class PlatformError(KconformError):
    """A platform operation failed."""


class InfrastructureFailure(PlatformError):
    """The platform itself could not be brought up (cluster creation, image pulls, operator install).

    Tests that depend on it are inconclusive, neither passed nor failed.
    """


class ClientError(KconformError):
    """A Kafka client operation failed."""


class AuthorizationFailed(ClientError):
    """The broker refused an operation by ACL."""

    def __init__(self, scope: str, message: str) -> None:
        super().__init__(message)
        self.scope = scope  # topic | group | cluster | transactional_id


class AuthenticationFailed(ClientError):
    """The connection was refused during the TLS handshake or SASL authentication."""


class ProtocolMismatch(ClientError):
    """The client spoke another security protocol than the listener expects (e.g. PLAINTEXT to SASL)."""


class BrokerUnreachable(ClientError):
    """A bootstrap or advertised broker address could not be reached."""


class BridgeError(KconformError):
    """The HTTP bridge answered with an error status."""

    def __init__(self, status: int, message: str, error_code: int | None = None) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.error_code = error_code
        self.bridge_message = message
