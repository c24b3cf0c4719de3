"""kafka-python travels into the client pod with kconform's client code: no PyPI, the exact release this
process runs, within a ConfigMap's size limit.

The pod's volume is laid out here from the ConfigMap exactly as its `items` say, the pod's start command
unpacks the zip with this machine's Python (standing in for the image's), and requests then run through the
shipped entry script with the pod's PYTHONPATH: the kafka-python they import is the shipped one.
"""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from kconform.clients.operations import Endpoint, request
from kconform.errors import ClientError
from kconform.platforms.kubernetes import client_pod


def _mounted(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """The pod's code volume and work dir under tmp_path, and the container's env pointed at them."""
    configmap = client_pod.code_configmap("ns", {})
    pod = client_pod.pod("ns", {}, "python:3.11-slim")
    mount, work = tmp_path / "opt-kconform", tmp_path / "var-kconform"
    volume = next(v for v in pod["spec"]["volumes"] if "configMap" in v)
    for item in volume["configMap"]["items"]:
        target = mount / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if item["key"] in configmap["data"]:
            target.write_text(configmap["data"][item["key"]])
        else:
            target.write_bytes(base64.b64decode(configmap["binaryData"][item["key"]]))
    container = pod["spec"]["containers"][0]
    env = {
        e["name"]: e["value"]
        .replace(client_pod.WORK_PATH, str(work))
        .replace(client_pod.MOUNT_PATH, str(mount))
        for e in container["env"]
    }
    start = container["command"][-1].split(f" && touch {client_pod.READY_FILE}")[0]
    start = start.replace(client_pod.DEPS_PATH, str(work / "site-packages")).replace(
        client_pod.MOUNT_PATH, str(mount)
    )
    assert start.startswith("python ")
    work.mkdir()
    subprocess.run([sys.executable, *start.split()[1:]], check=True, timeout=60)
    return mount, work, {**os.environ, **env}


def test_the_shipped_kafka_python_is_the_one_the_pod_imports(tmp_path: Path) -> None:
    _, work, env = _mounted(tmp_path)
    probe = "import kafka, importlib.metadata as m; print(kafka.__file__); print(m.version('kafka-python'))"
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert Path(out[0]).is_relative_to(work / "site-packages")
    assert out[1] == metadata.version("kafka-python") == client_pod.KAFKA_PYTHON_VERSION


def test_a_request_runs_through_the_shipped_code_and_kafka_python(tmp_path: Path) -> None:
    """A real kafka-python client in the laid-out pod, against a port nothing listens on: its error comes
    back as the JSON response (an import failure would be no response at all)."""
    mount, _, env = _mounted(tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there

    def exec_in_pod(argv: list[str], stdin: str, timeout: float) -> str:
        assert argv[:2] == ["python", f"{client_pod.MOUNT_PATH}/entry.py"]
        done = subprocess.run(
            [sys.executable, str(mount / "entry.py"), *argv[2:]],
            input=str(stdin),
            env=env,
            cwd=tmp_path,  # not the project: nothing of it on the path but what was shipped
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        return done.stdout

    runner = client_pod.PodClientRunner(exec_in_pod, timeout_margin_s=30)
    with pytest.raises(ClientError):
        runner.run(request("list_topics", Endpoint(f"127.0.0.1:{port}", tls=False), None, timeout_s=3))


def test_the_code_configmap_fits_with_room_and_is_the_same_every_time() -> None:
    first = client_pod.code_configmap("ns", {})
    size = sum(len(v.encode()) for v in first["data"].values()) + sum(
        len(base64.b64decode(v)) for v in first["binaryData"].values()
    )
    assert size < client_pod.CONFIGMAP_MAX_BYTES * 0.75, size  # room for kafka-python to grow
    client_pod.kafka_python_zip.cache_clear()
    assert client_pod.code_configmap("other", {})["binaryData"] == first["binaryData"]  # re-apply: no change


def test_the_zip_holds_every_kafka_python_file_and_its_license_but_no_bytecode() -> None:
    names = set(zipfile.ZipFile(io.BytesIO(client_pod.kafka_python_zip())).namelist())
    installed = {
        f.as_posix()
        for f in metadata.distribution("kafka-python").files or ()
        if f.as_posix().startswith("kafka/") and not f.as_posix().endswith(".pyc")
    }
    assert installed and installed <= names
    assert any(n.endswith(".json") for n in names)  # the protocol schemas kafka-python reads at import
    assert any(n.endswith(("LICENSE", "LICENSE.txt")) for n in names)
    assert not any(n.endswith(".pyc") for n in names)


def test_plan_shows_the_zip_by_name_and_size_not_its_bytes() -> None:
    shown = client_pod.summarized(client_pod.code_configmap("ns", {}))
    (value,) = shown["binaryData"].values()
    assert value.startswith(f"<zip of kafka-python {client_pod.KAFKA_PYTHON_VERSION}, ") and len(value) < 100
    assert json.dumps(shown)  # still a printable manifest
