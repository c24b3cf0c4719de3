"""The client pod: request/response framing through the real entry script and the real remote module."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kconform.clients.operations import Endpoint, request
from kconform.errors import PlatformError, UsageError
from kconform.paths import PROJECT_ROOT
from kconform.platforms.kubernetes import client_pod


def run_entry_locally(argv: list[str], stdin: str, timeout: float) -> str:
    """What the exec does in the pod, done here: the shipped entry script under this Python."""
    assert argv[0] == "python" and argv[1] == f"{client_pod.MOUNT_PATH}/entry.py"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    # Extra bytes after the framed request prove the length, not EOF, delimits it.
    done = subprocess.run(
        [sys.executable, str(client_pod.ENTRY), *argv[2:]],
        input=stdin + "trailing-garbage",
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=True,
    )
    return done.stdout


def test_frame_carries_exact_byte_length() -> None:
    req = request("list_topics", Endpoint("k-kafka-bootstrap.ns.svc:9092", tls=False), None, timeout_s=5)
    argv, stdin = client_pod.frame_request(req)
    assert int(argv[-1]) == len(stdin.encode("utf-8"))


def test_malformed_request_comes_back_as_usage_error() -> None:
    runner = client_pod.PodClientRunner(run_entry_locally, timeout_margin_s=30)
    with pytest.raises(UsageError, match="malformed request"):
        runner.run({"op": "no-such-op", "endpoint": {}, "args": {"timeout_s": 1}})


def test_parse_response_ignores_noise_and_refuses_no_marker() -> None:
    text = 'warning: something\nKCONFORM-RESPONSE 0\nnoise\n{"ok": true, "result": {"topics": ["a"]}}\n'
    assert client_pod.parse_response(text) == {"ok": True, "result": {"topics": ["a"]}}
    with pytest.raises(PlatformError, match="no response"):
        client_pod.parse_response("Traceback ...")


def test_pod_and_configmap_ship_only_client_modules() -> None:
    labels = {"kconform.io/run": "r1"}
    configmap = client_pod.code_configmap("ns1", labels)
    pod = client_pod.pod("ns1", labels, "python:3.11-slim")
    volume = pod["spec"]["volumes"][0]["configMap"]
    assert volume["name"] == configmap["metadata"]["name"]
    assert {i["key"] for i in volume["items"]} == set(configmap["data"]) | set(configmap["binaryData"])
    assert all("/" not in key for key in configmap["data"])
    assert not any("platforms" in item["path"] for item in volume["items"])
    command = pod["spec"]["containers"][0]["command"][-1]
    assert (
        f"zipfile -e {client_pod.MOUNT_PATH}/{client_pod.KAFKA_PYTHON_ZIP} {client_pod.DEPS_PATH}" in command
    )
    assert "pip" not in command  # no package index is ever asked
