"""A loopback TCP forwarder: accepts on 127.0.0.1 and pumps each connection to an upstream socket.

The local platform uses it as a NodePort bootstrap Service (the bootstrap port forwards to a broker, the way
kube-proxy would); the kubernetes platform uses it as `kubectl port-forward` (each connection opens a new
stream to the pod through the API server).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable


class Forwarder:
    def __init__(
        self,
        listen_port: int,
        target: tuple[str, int] | None = None,
        host: str = "127.0.0.1",
        *,
        connect: Callable[[], socket.socket] | None = None,
    ) -> None:
        if (target is None) == (connect is None):
            raise ValueError("give exactly one of target and connect")
        self._connect = connect or (lambda: socket.create_connection(target, timeout=5))  # type: ignore[arg-type]
        self._server = socket.create_server((host, listen_port), reuse_port=False)
        self._server.settimeout(0.5)
        self.port = self._server.getsockname()[1]
        self._stopping = threading.Event()
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, name=f"forward-{self.port}", daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = self._connect()
                upstream.settimeout(None)  # idle Kafka and HTTP connections must not time out here
            except Exception:  # the upstream is gone: refuse this connection, keep serving
                client.close()
                continue
            with self._lock:
                self._connections += [client, upstream]
            pending = [2]  # directions still open; the pair is closed when both finished
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pump, args=(src, dst, client, upstream, pending), daemon=True
                ).start()

    def _pump(
        self, src: socket.socket, dst: socket.socket, a: socket.socket, b: socket.socket, pending: list[int]
    ) -> None:
        with contextlib.suppress(OSError):
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        # Half-close: pass the EOF on and keep the other direction flowing.
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
        with self._lock:
            pending[0] -= 1
            if pending[0]:
                return
            for sock in (a, b):
                if sock in self._connections:
                    self._connections.remove(sock)
        for sock in (a, b):
            with contextlib.suppress(OSError):
                sock.close()

    def close(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._server.close()
        with self._lock:
            for sock in self._connections:
                with contextlib.suppress(OSError):
                    sock.close()
            self._connections.clear()
        self._thread.join(timeout=2)
