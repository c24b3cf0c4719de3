"""A broker that loses its port ends its cluster's wait at once, whether its JVM exits or hangs after Kafka's
fatal startup line, and leaves nothing behind once the Kafka is deleted: the other nodes are stopped and the
cluster's port reservations are given back (before, a failed start left the controller running until the
session ended, and a hung broker was waited on until the bound).

The fault: the broker's first listener is given a port that a socket of this test already listens on.
The broker, the controller and the "Address already in use" exit are real Kafka.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kconform import resources
from kconform.errors import PlatformError
from kconform.platforms.local import kafka_cluster, ports
from kconform.platforms.local.local_platform import LocalPlatform
from kconform.platforms.local.processes import find_run_processes
from kconform.versions import KRAFT_DEDICATED, PROFILES

pytestmark = pytest.mark.integration
PROFILE = PROFILES["1.2.0"]


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[LocalPlatform]:
    local = LocalPlatform(PROFILE, run_id=f"lost-{uuid.uuid4().hex[:6]}", log_dir=tmp_path / "logs")
    try:
        yield local
    finally:
        local.close()


def test_a_broker_whose_port_is_taken_fails_the_start_and_stops_every_node(
    platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    handed_out: list[int] = []
    real_free_ports = ports.free_ports

    def with_a_taken_listener_port(n: int, host: str = "127.0.0.1") -> list[int]:
        chosen = real_free_ports(n, host)
        handed_out.extend(chosen)
        if n > 2:  # a node's call: its listeners first (only a broker binds them), then its other ports
            ports.release([chosen[0]])
            chosen[0] = taken.getsockname()[1]
        return chosen

    monkeypatch.setattr(kafka_cluster, "free_ports", with_a_taken_listener_port)
    namespace, name = "lost", "lost"
    platform.create_namespace(namespace)
    for document in reversed(
        resources.kafka_cluster(
            PROFILE,
            KRAFT_DEDICATED,  # a controller apart, left running by a failed start before
            name=name,
            namespace=namespace,
            run_id=platform.run_id,
            listeners=[resources.internal_listener("tls", 9093, tls=True, authentication="tls")],
        )
    ):
        platform.apply(document)
    try:
        # Whether the JVM exits or hangs after its fatal line depends on the machine's load: both end the
        # wait at once (before, a hung broker was waited on until the bound).
        with pytest.raises(PlatformError, match=r"exited with code|logged 'Exiting Kafka due to fatal"):
            platform.wait_ready("Kafka", namespace, name, 240)
        broker_log = next(p.log_path for p in platform.supervisor.processes if "broker" in p.name)
        assert "Address already in use" in broker_log.read_text()
        platform.delete("Kafka", namespace, name)  # as a fixture's teardown does
        assert find_run_processes(platform.run_id) == []  # the controller went with the broker
        assert [p for p in platform.supervisor.processes if p.alive()] == []
        assert handed_out and not set(handed_out) & set(ports._held)  # every reservation given back
    finally:
        taken.close()
