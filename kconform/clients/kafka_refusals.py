"""A client operation that ends at the broker's refusal, as the Java client's does.

kafka-python retries a refused TLS handshake, a refused SCRAM login and a connection the broker drops for
the wrong security protocol until its timeout runs out; the Java client raises at the first one (its
AuthenticationException). A request that expects a refusal (`stop_at_refusal`) runs its operation beside a
watch: each connection kafka-python reports lost or failed (its ERROR records under `kafka.net`) is checked
with one probe of the listener, and a refusal the broker confirms (a TLS handshake refused, a SCRAM proof
refused, a SASL listener the client did not speak SASL to) ends the operation at once with that error.
Anything else is left to the operation and its own timeout; without those records it runs as before.

Shipped into the client pod with the rest of the client code.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kconform import errors
from kconform.clients import operations
from kconform.clients.kafka_builders import sasl_refusal, tls_files
from kconform.clients.kafka_failures import diagnose_connectivity
from kconform.clients.operations import Credentials, Endpoint

T = TypeVar("T")
# kafka-python logs a lost or failed broker connection at ERROR under these loggers (net/connection.py,
# net/manager.py); WARNING records there are retries and backoffs, not failures.
KAFKA_NET_LOGGER = "kafka.net"
POLL_S = 0.05
# Beyond the operation's own timeout: its client's close (2 s) and the diagnosis probes after it.
END_MARGIN_S = 30.0
REFUSALS = (errors.AuthenticationFailed, errors.ProtocolMismatch)


class ConnectionFailures(logging.Handler):
    """Sets an event for each connection failure kafka-python logs."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.set()


def refusal(action: str, endpoint: Endpoint, credentials: Credentials | None) -> errors.KconformError | None:
    """The broker's refusal of this client, confirmed by probing the listener, or None."""
    spoken = operations.security_protocol(endpoint, credentials)
    with tls_files(credentials if endpoint.tls else None) as ssl_settings:
        tls = ssl_settings if endpoint.tls else None
        cause = diagnose_connectivity(endpoint, tls, None, spoken)
        if isinstance(cause, REFUSALS):
            return type(cause)(f"{action}: {cause}")
        if cause is not None:
            return None  # unreachable: not a refusal, the operation's own retries may still get through
        return sasl_refusal(action, endpoint, tls, credentials)


def run_until_refused(
    work: Callable[[], T], refused: Callable[[], errors.KconformError | None], *, timeout_s: float
) -> T:
    """`work()`'s result, or the refusal `refused()` confirms after a connection failure, whichever is first.

    The operation runs in a daemon thread; one ended by a refusal is left to its own timeout, which closes
    its client and removes its files."""
    outcome: list[tuple[bool, Any]] = []
    done = threading.Event()

    def call() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as err:  # handed to the caller, who raises it
            outcome.append((False, err))
        finally:
            done.set()

    failures = ConnectionFailures()
    logger = logging.getLogger(KAFKA_NET_LOGGER)
    logger.addHandler(failures)
    try:
        threading.Thread(target=call, name="kconform-refusable", daemon=True).start()
        end = time.monotonic() + timeout_s + END_MARGIN_S
        while not done.wait(POLL_S):
            if failures.seen.is_set():
                failures.seen.clear()
                found = refused()
                if found is not None:
                    raise found
            if time.monotonic() > end:
                raise errors.ClientError(
                    f"the client operation did not end within {timeout_s + END_MARGIN_S:.0f}s"
                )
    finally:
        logger.removeHandler(failures)
    ok, value = outcome[0]
    if not ok:
        raise value
    return value
