"""Free TCP ports for local listeners, and waiting until a process listens on one.

A port is found by binding to port 0 and releasing it. Between the release and the broker binding it
another process could take it: a small race, accepted because Kafka has no "pick a port and tell me"
mode. A lost race shows up as the broker exiting with "Address already in use", which `wait_for_port`
reports at once with the process's log tail.
"""

from __future__ import annotations

import contextlib
import socket

from kconform.errors import UsageError
from kconform.platforms.local.processes import ManagedProcess
from kconform.waits import wait_until


def free_port(host: str = "127.0.0.1") -> int:
    return free_ports(1, host)[0]


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """`n` distinct free ports: all sockets stay bound until every port is chosen, so none repeats."""
    if n < 1:
        raise UsageError(f"free_ports needs n >= 1, not {n}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(n):
            sock = stack.enter_context(socket.socket(family, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float, process: ManagedProcess | None = None) -> None:
    """Wait until `host:port` accepts TCP connections; fail at once if `process` exits meanwhile."""

    def listening() -> bool:
        if process is not None:
            process.ensure_alive()  # PlatformError with the log tail: not retried, ends the wait
        return port_open(host, port)

    def diagnose() -> str:
        if process is None:
            return "no process given to inspect"
        return f"last lines of {process.log_path}:\n{process.tail(30)}"

    who = f" ({process.name}, pid {process.pid})" if process is not None else ""
    wait_until(
        listening, describe=f"{host}:{port} to accept connections{who}", timeout=timeout, diagnose=diagnose
    )
