"""The loopback forwarder used as a NodePort bootstrap Service (local) and as a port-forward (kubernetes)."""

from __future__ import annotations

import socket
import threading

import pytest

from kconform.forwarding import Forwarder


@pytest.fixture
def echo_server():
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                while data := conn.recv(1024):
                    conn.sendall(data.upper())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    server.close()
    thread.join(timeout=2)


def _roundtrip(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(payload)
        client.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := client.recv(1024):
            chunks.append(chunk)
    return b"".join(chunks)


def test_forwards_to_a_target_address(echo_server):
    forwarder = Forwarder(0, ("127.0.0.1", echo_server))
    try:
        assert _roundtrip(forwarder.port, b"bootstrap") == b"BOOTSTRAP"
    finally:
        forwarder.close()


def test_forwards_through_a_connect_callable_once_per_connection(echo_server):
    opened: list[int] = []

    def connect() -> socket.socket:  # stands in for a port-forward stream through the API server
        opened.append(1)
        return socket.create_connection(("127.0.0.1", echo_server), timeout=5)

    forwarder = Forwarder(0, connect=connect)
    try:
        assert _roundtrip(forwarder.port, b"one") == b"ONE"
        assert _roundtrip(forwarder.port, b"two") == b"TWO"
        assert len(opened) == 2
    finally:
        forwarder.close()


def test_refuses_a_connection_when_the_upstream_is_gone():
    def broken() -> socket.socket:
        raise ConnectionRefusedError("pod gone")

    forwarder = Forwarder(0, connect=broken)
    try:
        try:
            answered = _roundtrip(forwarder.port, b"x")
        except OSError:
            # closed with a reset, or before our half-close (ENOTCONN under load): refused as well
            answered = b""
        assert answered == b""
        assert _roundtrip_count(forwarder) == 0
    finally:
        forwarder.close()


def test_needs_exactly_one_upstream():
    with pytest.raises(ValueError):
        Forwarder(0)


def _roundtrip_count(forwarder: Forwarder) -> int:
    return len(forwarder._connections)
