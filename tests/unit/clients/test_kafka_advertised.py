"""Advertised broker addresses are checked right after bootstrap: an unresolvable or refused address is named at
once instead of waiting out kafka-python's request timeout (issue 8 point 14; benchmarks/bench_unreachable.py)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from kconform.clients.kafka import check_advertised
from kconform.clients.operations import Endpoint
from kconform.errors import BrokerUnreachable

ENDPOINT = Endpoint(bootstrap="127.0.0.1:32100", tls=True)


@dataclass
class Broker:
    node_id: int
    host: str
    port: int


class Metadata:
    """kafka-python's ClusterMetadata as the producer holds it after bootstrap (`_metadata.brokers()`)."""

    def __init__(self, *brokers: Broker) -> None:
        self._brokers = brokers

    def brokers(self) -> tuple[Broker, ...]:
        return self._brokers


class Client:
    def __init__(self, *brokers: Broker) -> None:
        self._metadata = Metadata(*brokers)


@pytest.fixture
def listening() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # free again once closed: nothing listens there


def test_reachable_advertised_brokers_pass(listening: int) -> None:
    check_advertised(ENDPOINT, Client(Broker(0, "127.0.0.1", listening)))


def test_unresolvable_and_refused_addresses_are_all_named(listening: int, closed_port: int) -> None:
    client = Client(
        Broker(0, "kconform-worker.invalid", 32101),  # a node Hostname the test host cannot resolve
        Broker(1, "127.0.0.1", closed_port),
        Broker(2, "127.0.0.1", listening),
    )
    with pytest.raises(BrokerUnreachable) as caught:
        check_advertised(ENDPOINT, client)
    message = str(caught.value)
    assert "bootstrap 127.0.0.1:32100 answered" in message
    assert "broker 0 advertises kconform-worker.invalid:32101" in message
    assert f"broker 1 advertises 127.0.0.1:{closed_port}" in message
    assert "broker 2" not in message


def test_a_client_that_never_bootstrapped_has_nothing_to_check() -> None:
    check_advertised(ENDPOINT, Client())
