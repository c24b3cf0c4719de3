"""Read an MBean attribute of a local JVM (a KRaft controller's ZkMigrationState gauge, as Strimzi's Kafka
agent reads it from the metrics registry) with the JDK's Attach API: no JMX port is ever opened."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from kconform.errors import PlatformError
from kconform.platforms.local.java import JavaRuntime

_SOURCE = Path(__file__).with_name("ReadMBean.java")
_LOCK = threading.Lock()


def _compiled(java: JavaRuntime, work_dir: Path, timeout: float) -> Path:
    """The reader's class folder, compiled once per work folder (javac beside java; a JDK is required)."""
    folder = work_dir / "mbean-reader"
    with _LOCK:
        if (folder / "ReadMBean.class").is_file():
            return folder
        javac = java.executable.with_name("javac")
        if not javac.is_file():
            raise PlatformError(
                f"reading Kafka's migration state needs a JDK: no javac beside {java.executable}"
            )
        done = subprocess.run(
            [str(javac), "-d", str(folder), str(_SOURCE)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise PlatformError(f"compiling {_SOURCE.name} failed: {(done.stdout + done.stderr)[-500:]}")
    return folder


def read_attribute(
    java: JavaRuntime, work_dir: Path, pid: int, object_name: str, attribute: str, *, timeout: float = 60
) -> str:
    """The attribute's value as text; PlatformError when the JVM or the MBean cannot be read."""
    folder = _compiled(java, work_dir, timeout)
    argv = [
        str(java.executable),
        "-XX:TieredStopAtLevel=1",
        "-cp",
        str(folder),
        "ReadMBean",
        str(pid),
        object_name,
        attribute,
    ]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as err:
        raise PlatformError(f"reading {object_name} of pid {pid} took over {timeout:.0f}s") from err
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise PlatformError(f"reading {object_name} of pid {pid} failed: {last}")
    return done.stdout.strip()
