"""Formatting a KRaft node's storage is one short JVM: one that hangs fails the reconciliation pass within its
own bound, saying what it printed (a CI run lost a whole 600 s migration wait to one format), and it never
reads the caller's stdin (a pytest-xdist worker's stdin is its channel to the controller).

A Python stand-in plays the JVM: `format_storage` appends StorageTool's arguments to the command it is given.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from kconform.errors import PlatformError
from kconform.platforms.local import kafka_cluster
from kconform.platforms.local.topology import NodeSpec

CONTROLLER = NodeSpec(node_id=100, pool="controller", roles=("controller",))


def test_a_hung_format_fails_within_its_own_bound_with_what_it_printed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(kafka_cluster, "FORMAT_TIMEOUT_S", 1.0)
    hangs = [
        sys.executable,
        "-c",
        "import threading; print('Formatting', flush=True); threading.Event().wait()",
    ]
    with pytest.raises(PlatformError, match=r"node 100 took over 1s; it printed:\nFormatting"):
        kafka_cluster.format_storage(hangs, tmp_path / "server.properties", "id", CONTROLLER, timeout=600)


def test_the_format_reads_nothing_from_the_callers_stdin(tmp_path: Path) -> None:
    """The caller's fd 0 holds data here (as an xdist worker's channel would): the JVM must not see it."""
    reads_stdin = [
        sys.executable,
        "-c",
        "import sys; print('stdin gave', repr(sys.stdin.read())); sys.exit(1)",
    ]
    read_end, write_end = os.pipe()
    os.write(write_end, b"the worker's channel")
    os.close(write_end)
    saved = os.dup(0)
    os.dup2(read_end, 0)
    try:
        with pytest.raises(PlatformError, match=r"failed \(exit 1\):\nstdin gave ''"):
            kafka_cluster.format_storage(
                reads_stdin, tmp_path / "server.properties", "id", CONTROLLER, timeout=60
            )
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(read_end)
