"""A loopback TCP forwarder: what a NodePort bootstrap Service does, for the local platform.

A NodePort listener has a bootstrap port separate from each broker's port; the broker process can only
listen on its own, so the bootstrap port forwards to a broker the way kube-proxy would.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class Forwarder:
    def __init__(self, listen_port: int, target: tuple[str, int], host: str = "127.0.0.1") -> None:
        self.target = target
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
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

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
