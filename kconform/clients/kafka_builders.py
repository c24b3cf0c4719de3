"""Configured kafka-python clients: `producer`, `consumer` and `admin` are context managers that write TLS
material to a private directory, bound every timeout, translate kafka-python failures into `kconform.errors`
(a refused SASL password confirmed by one SCRAM exchange) and always close the client and remove the files.

Shipped into the client pod with the rest of the client code.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from kconform import errors
from kconform.clients import operations
from kconform.clients.kafka_failures import CONNECTIVITY_ERRORS, diagnose_connectivity, translate
from kconform.clients.kafka_probes import CLIENT_ID, parse_bootstrap, scram_refusal
from kconform.clients.operations import Credentials, Endpoint

DEFAULT_TIMEOUT_S = 30.0
# kafka-python's consumer requires fetch_max_wait_ms (500 by default) < request_timeout_ms.
_MIN_REQUEST_TIMEOUT_MS = 1000

# --------------------------------------------------------------------------------------------------------
# Client configuration and builders
# --------------------------------------------------------------------------------------------------------


def _write_private(path: Path, content: str) -> None:
    # O_EXCL + 0600 at creation: the key is never readable by anyone else, not even for an instant.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(content)


@contextlib.contextmanager
def tls_files(credentials: Credentials | None) -> Iterator[dict[str, Any]]:
    """kafka-python ssl_* settings; PEM files in a private temp dir (0700, files 0600), removed after."""
    if credentials is None:
        yield {}
        return
    if bool(credentials.user_crt) != bool(credentials.user_key):
        raise errors.UsageError(
            "credentials need both user_crt and user_key (from the KafkaUser Secret) or neither"
        )
    directory = Path(tempfile.mkdtemp(prefix="kconform-tls-"))  # mkdtemp creates it 0700
    try:
        settings: dict[str, Any] = {"ssl_check_hostname": credentials.check_hostname}
        for setting, name, content in (
            ("ssl_cafile", "ca.crt", credentials.ca_crt),
            ("ssl_certfile", "user.crt", credentials.user_crt),
            ("ssl_keyfile", "user.key", credentials.user_key),
        ):
            if content:
                _write_private(directory / name, content)
                settings[setting] = str(directory / name)
        yield settings
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _timeouts(timeout_s: float) -> dict[str, int]:
    timeout_ms = max(_MIN_REQUEST_TIMEOUT_MS, int(timeout_s * 1000))
    return {"request_timeout_ms": timeout_ms, "bootstrap_timeout_ms": timeout_ms}


def _base_config(
    endpoint: Endpoint, ssl_settings: dict[str, Any], timeout_s: float, credentials: Credentials | None = None
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap_servers": [str(a) for a in parse_bootstrap(endpoint.bootstrap)],
        "client_id": CLIENT_ID,
        "security_protocol": operations.security_protocol(endpoint, credentials),
        # Bounded reconnect backoff so a retry inside a short timeout still happens.
        "reconnect_backoff_max_ms": 1000,
        **_timeouts(timeout_s),
    }
    if endpoint.tls:
        config.update(ssl_settings)
    if credentials is not None and credentials.sasl:
        config["sasl_mechanism"] = credentials.sasl_mechanism
        config["sasl_plain_username"] = credentials.sasl_username
        config["sasl_plain_password"] = credentials.sasl_password
    return config


@dataclass
class _Session:
    """An open kafka-python client plus what is needed to diagnose its failures."""

    client: Any
    endpoint: Endpoint
    ssl_settings: dict[str, Any] | None
    spoken: str | None = None

    def diagnose(self) -> errors.ClientError | None:
        return diagnose_connectivity(self.endpoint, self.ssl_settings, self.client, self.spoken)


def sasl_refusal(
    action: str, endpoint: Endpoint, tls: dict[str, Any] | None, credentials: Credentials | None
) -> errors.AuthenticationFailed | None:
    """A SASL client's refused password, as the broker says it, or None (not SASL, or accepted).

    kafka-python retries a refused SASL login until it times out (the broker closes the connection after the
    failed proof), so the broker is asked once more, with a single SCRAM exchange."""
    if credentials is None or not credentials.sasl:
        return None
    for address in parse_bootstrap(endpoint.bootstrap):
        reason = scram_refusal(address, tls, credentials)
        if reason is not None:
            return errors.AuthenticationFailed(
                f"{action}: SASL {credentials.sasl_mechanism} authentication as {credentials.sasl_username!r} "
                f"refused by the broker: {reason}"
            )
    return None


@contextlib.contextmanager
def open_session(
    factory: Callable[..., Any],
    close: Callable[[Any], None],
    kind: str,
    endpoint: Endpoint,
    credentials: Credentials | None,
    timeout_s: float,
    defaults: dict[str, Any],
    overrides: dict[str, Any],
) -> Iterator[_Session]:
    action = f"{kind} at {endpoint.bootstrap}"
    spoken = operations.security_protocol(endpoint, credentials)
    with tls_files(credentials if endpoint.tls else None) as ssl_settings:
        config = {**_base_config(endpoint, ssl_settings, timeout_s, credentials), **defaults, **overrides}
        tls = ssl_settings if endpoint.tls else None

        def refused(err: Exception, what: str, client: Any = None) -> errors.KconformError:
            translated = translate(err, what, endpoint, tls, client, spoken)
            # Already explained (unreachable, TLS refused, wrong protocol), or not a failed login.
            if type(translated) is not errors.ClientError or not isinstance(err, CONNECTIVITY_ERRORS):
                return translated
            return sasl_refusal(what, endpoint, tls, credentials) or translated

        try:
            client = factory(**config)
        except Exception as err:
            raise refused(err, f"{action}: connect") from err
        try:
            yield _Session(client, endpoint, tls, spoken)
        except errors.KconformError:
            raise
        except Exception as err:
            raise refused(err, action, client) from err
        finally:
            with contextlib.suppress(Exception):  # closing must never mask the operation's outcome
                close(client)


@contextlib.contextmanager
def _client(*open_args: Any) -> Iterator[Any]:
    with open_session(*open_args) as session:
        yield session.client


def _close_producer(client: Any) -> None:
    client.close(timeout=2)


def _close_consumer(client: Any) -> None:
    client.close(autocommit=False, timeout_ms=2000)


def _close_admin(client: Any) -> None:
    client.close()


def producer_args(
    endpoint: Endpoint, credentials: Credentials | None, timeout_s: float, overrides: dict[str, Any]
) -> tuple[Any, ...]:
    timeout_ms = _timeouts(timeout_s)["request_timeout_ms"]
    defaults = {"max_block_ms": timeout_ms, "delivery_timeout_ms": timeout_ms, "linger_ms": 0}
    return (KafkaProducer, _close_producer, "producer", endpoint, credentials, timeout_s, defaults, overrides)


def consumer_args(
    endpoint: Endpoint, credentials: Credentials | None, timeout_s: float, overrides: dict[str, Any]
) -> tuple[Any, ...]:
    defaults = {"enable_auto_commit": False, "auto_offset_reset": "earliest"}
    return (KafkaConsumer, _close_consumer, "consumer", endpoint, credentials, timeout_s, defaults, overrides)


def producer(
    endpoint: Endpoint,
    credentials: Credentials | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    **overrides: Any,
) -> contextlib.AbstractContextManager[KafkaProducer]:
    """A KafkaProducer with send/flush/delivery bounded by `timeout_s`; overrides are kafka-python configs."""
    return _client(*producer_args(endpoint, credentials, timeout_s, overrides))


def consumer(
    endpoint: Endpoint,
    credentials: Credentials | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    **overrides: Any,
) -> contextlib.AbstractContextManager[KafkaConsumer]:
    """A KafkaConsumer (no auto commit, earliest offsets unless overridden); poll it with a deadline."""
    return _client(*consumer_args(endpoint, credentials, timeout_s, overrides))


def admin(
    endpoint: Endpoint,
    credentials: Credentials | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    **overrides: Any,
) -> contextlib.AbstractContextManager[KafkaAdminClient]:
    """A KafkaAdminClient with bounded request and bootstrap timeouts."""
    return _client(KafkaAdminClient, _close_admin, "admin", endpoint, credentials, timeout_s, {}, overrides)
