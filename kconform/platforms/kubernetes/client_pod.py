"""The in-cluster client: a pod per test namespace running the project's own kafka-python client code.

Internal listeners are only reachable inside the cluster network, so client requests for them run in a pod.
The project's client modules travel in a ConfigMap (no image build), and each request is one exec: the
request JSON is written to stdin with its length in argv (an exec stream may never deliver EOF), and the
response comes back after a marker line (see manifests/clients/entry.py).
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from kconform.clients.operations import raise_for_response
from kconform.errors import PlatformError
from kconform.paths import MANIFESTS_DIR, PACKAGES_ROOT
from kconform.secrets import Hidden

POD_NAME = "kconform-client"
CONTAINER = "client"
CONFIGMAP_NAME = "kconform-client-code"
MOUNT_PATH = "/opt/kconform"
# The pod runs as a non-root user (Pod Security "restricted"), so nothing may be written into the image:
# kafka-python is pip-installed with --target into this emptyDir, and HOME, TMPDIR (pip's build files, the
# client's TLS files) and the readiness file live there too, so the image's /tmp need not be writable.
WORK_PATH = "/var/kconform"
DEPS_PATH = f"{WORK_PATH}/site-packages"
# Any non-zero uid passes "restricted"; 65534 is Debian's `nobody` (base-passwd), present in python:*-slim,
# so tools that look the uid up find a name. Numeric because runAsNonRoot cannot check a named USER.
RUN_AS_USER = 65534
ENTRY = MANIFESTS_DIR / "clients" / "entry.py"
MARKER = "KCONFORM-RESPONSE"
# The pod runs the very kafka-python release this process runs: the shipped client code uses some of its
# private modules (SCRAM arithmetic, metadata caches), which a newer release may move.
KAFKA_PYTHON_REQUIREMENT = f"kafka-python=={metadata.version('kafka-python')}"
READY_FILE = f"{WORK_PATH}/ready"

# What `python -m kconform.clients.remote` imports, and nothing else (no platform code in the pod).
SHIPPED_MODULES = (
    "kconform/__init__.py",
    "kconform/errors.py",
    "kconform/clients/__init__.py",
    "kconform/clients/operations.py",
    "kconform/clients/kafka.py",
    "kconform/clients/remote.py",
)


def _key(path: str) -> str:
    return path.replace("/", "__")  # ConfigMap keys cannot hold '/'; `items` maps them back to paths


def code_configmap(namespace: str, labels: dict[str, str], root: Path = PACKAGES_ROOT) -> dict[str, Any]:
    data = {_key(p): (root / p).read_text() for p in SHIPPED_MODULES}
    data["entry.py"] = ENTRY.read_text()
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CONFIGMAP_NAME, "namespace": namespace, "labels": dict(labels)},
        "data": data,
    }


def pod(namespace: str, labels: dict[str, str], image: str, *, pip_install: bool = True) -> dict[str, Any]:
    setup = (
        f"pip install --quiet --no-cache-dir --disable-pip-version-check --target {DEPS_PATH} "
        f"'{KAFKA_PYTHON_REQUIREMENT}' && "
        if pip_install
        else ""
    )
    items = [{"key": _key(p), "path": p} for p in SHIPPED_MODULES] + [{"key": "entry.py", "path": "entry.py"}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": POD_NAME, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            # Pod Security Standard "restricted" (namespaces labelled pod-security.kubernetes.io/enforce).
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": RUN_AS_USER,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": CONTAINER,
                    "image": image,
                    "command": ["sh", "-c", f"{setup}touch {READY_FILE} && exec sleep infinity"],
                    "env": [
                        {"name": "PYTHONPATH", "value": f"{MOUNT_PATH}:{DEPS_PATH}"},
                        {"name": "HOME", "value": WORK_PATH},
                        {"name": "TMPDIR", "value": WORK_PATH},
                    ],
                    "readinessProbe": {"exec": {"command": ["test", "-f", READY_FILE]}, "periodSeconds": 2},
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                    },
                    "volumeMounts": [
                        {"name": "code", "mountPath": MOUNT_PATH, "readOnly": True},
                        {"name": "work", "mountPath": WORK_PATH},
                    ],
                }
            ],
            "volumes": [
                {"name": "code", "configMap": {"name": CONFIGMAP_NAME, "items": items}},
                {"name": "work", "emptyDir": {}},
            ],
        },
    }


def frame_request(req: dict[str, Any]) -> tuple[list[str], str]:
    """The exec argv and the stdin text for one request.

    The stdin text holds the credentials (a SCRAM password, a user key) in plain JSON; it travels as Hidden
    because pytest prints the arguments of a traceback's last frame into the reports, and an exec that
    fails raises in the frame that received it."""
    payload = json.dumps(req, separators=(",", ":"))
    size = len(payload.encode("utf-8"))
    return ["python", f"{MOUNT_PATH}/entry.py", str(size)], Hidden(payload)


def parse_response(stdout: str) -> dict[str, Any]:
    """The response JSON after the marker line; a clear error when the pod answered something else."""
    _, sep, body = stdout.partition(MARKER)
    if not sep:
        raise PlatformError(f"the client pod gave no response (stdout: {stdout[-500:]!r})")
    _, _, answer = body.partition("\n")
    for line in reversed(answer.strip().splitlines()):
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    raise PlatformError(f"the client pod's response is not JSON: {answer[-500:]!r}")


class Exec(Protocol):
    def __call__(self, argv: list[str], stdin: str, timeout: float) -> str: ...


class PodClientRunner:
    """A ClientRunner that executes requests in the namespace's client pod."""

    def __init__(self, exec_in_pod: Exec, *, timeout_margin_s: float = 30.0) -> None:
        self._exec = exec_in_pod
        self._margin = timeout_margin_s

    def run(self, req: dict[str, Any]) -> Any:
        argv, stdin = frame_request(req)
        timeout = float((req.get("args") or {}).get("timeout_s") or 60) + self._margin
        return raise_for_response(parse_response(self._exec(argv, stdin, timeout)))
