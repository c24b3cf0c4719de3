"""`python -m kconform.clients.remote`: one JSON request in, one JSON response out, as a real subprocess."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kconform import errors
from kconform.clients import operations
from kconform.clients.operations import Endpoint

REPO = Path(__file__).resolve().parents[3]


def run_remote(stdin: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "kconform.clients.remote"],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, f"expected one JSON line on stdout, got {done.stdout!r} (stderr {done.stderr!r})"
    return done.returncode, json.loads(lines[0])


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("stdin", "fragment"),
    [
        ("{not json", "malformed request"),
        ('{"op": "launch", "endpoint": {"bootstrap": "h:1", "tls": false}}', "unknown client operation"),
        ('["produce"]', "JSON object"),
    ],
)
def test_malformed_input_exits_2_with_an_error_response(stdin: str, fragment: str) -> None:
    status, response = run_remote(stdin)
    assert status == 2
    assert response["ok"] is False
    assert response["error"]["type"] == "UsageError"
    assert fragment in response["error"]["message"]


def test_unreachable_bootstrap_is_an_error_response_with_exit_0() -> None:
    address = f"127.0.0.1:{closed_port()}"
    req = operations.request("list_topics", Endpoint(address, tls=False), None, timeout_s=2)
    status, response = run_remote(json.dumps(req))
    assert status == 0
    assert response["ok"] is False
    assert response["error"]["type"] == "BrokerUnreachable"
    assert address in response["error"]["message"]
    # The caller's side turns the response back into the same exception type.
    with pytest.raises(errors.BrokerUnreachable, match=address):
        operations.raise_for_response(response)
