"""The in-cluster client: a pod per test namespace running the project's own kafka-python client code.

Internal listeners are only reachable inside the cluster network, so client requests for them run in a pod.
The project's client modules and the kafka-python release this process runs travel in a ConfigMap (no image
build, no PyPI: clusters without egress work), and each request is one exec: the request JSON is written to
stdin with its length in argv (an exec stream may never deliver EOF), and the response comes back after a
marker line (see manifests/clients/entry.py).
"""

from __future__ import annotations

import ast
import base64
import functools
import io
import json
import sys
import zipfile
from collections.abc import Iterator
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
# kafka-python is unpacked into this emptyDir (where Python can cache its bytecode for every later exec), and
# HOME, TMPDIR (the client's TLS files) and the readiness file live there too, so the image's /tmp need not
# be writable.
WORK_PATH = "/var/kconform"
DEPS_PATH = f"{WORK_PATH}/site-packages"
# Any non-zero uid passes "restricted"; 65534 is Debian's `nobody` (base-passwd), present in python:*-slim,
# so tools that look the uid up find a name. Numeric because runAsNonRoot cannot check a named USER.
RUN_AS_USER = 65534
ENTRY = MANIFESTS_DIR / "clients" / "entry.py"
MARKER = "KCONFORM-RESPONSE"
# The pod runs the very kafka-python release this process runs: the shipped client code uses some of its
# private modules (SCRAM arithmetic, metadata caches), which a newer release may move. It is pure Python.
KAFKA_PYTHON = "kafka-python"
KAFKA_PYTHON_VERSION = metadata.version(KAFKA_PYTHON)
KAFKA_PYTHON_ZIP = "kafka-python.zip"
READY_FILE = f"{WORK_PATH}/ready"
# The API server refuses a ConfigMap whose data and binaryData hold more than 1 MiB together
# (k8s.io/kubernetes pkg/apis/core/validation ValidateConfigMap: totalSize > core.MaxSecretSize).
CONFIGMAP_MAX_BYTES = 1024 * 1024
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same bytes every run, so re-applying changes nothing

# What manifests/clients/entry.py runs (`python -m`); the pod gets it and every kconform module it imports.
ENTRY_MODULE = "kconform.clients.remote"
# What the shipped code may import besides the standard library and kconform's own modules; the import-linter
# contract "the client pod's shipped code" in pyproject.toml states the same, function-level imports included.
SHIPPED_EXTERNALS = frozenset({"kafka"})


def _module_file(root: Path, name: str) -> Path | None:
    base = root.joinpath(*name.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _load_time_imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports that run when a module is imported, in source order: not those inside functions, which
    run only when called (and are the contract's to check)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _load_time_imports(child)


def _imported_names(root: Path, module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: from the module's package (a package's __init__ is its own package)
        is_package = _module_file(root, module) == root.joinpath(*module.split("."), "__init__.py")
        parts = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
        base = ".".join([*parts, *([base] if base else [])])
    names = [base]
    for alias in node.names:  # `from package import module` imports the module too
        if _module_file(root, f"{base}.{alias.name}") is not None:
            names.append(f"{base}.{alias.name}")
    return names


@functools.cache
def shipped_modules(root: Path = PACKAGES_ROOT, entry: str = ENTRY_MODULE) -> tuple[str, ...]:
    """The files of kconform the pod needs, relative to `root`: the entry module and every kconform module it
    imports when it is imported, followed to the end, each after what it imports and each package's __init__
    before the first module in it. Anything else imported at load time must be in the standard library or
    SHIPPED_EXTERNALS, or this is a PlatformError: found when the ConfigMap is built, before any pod runs."""
    package = entry.split(".")[0]
    ordered: list[str] = []
    seen: set[str] = set()

    def visit(module: str, importer: str) -> None:
        if module in seen:
            return
        seen.add(module)
        path = _module_file(root, module)
        if path is None:
            raise PlatformError(
                f"{importer} imports {module}, which is not a module of {root}: nothing to ship"
            )
        where = path.relative_to(root).as_posix()
        for node in _load_time_imports(ast.parse(path.read_text(), filename=str(path))):
            for name in _imported_names(root, module, node):
                top = name.split(".")[0]
                if top == package:
                    visit(name, where)
                elif top not in sys.stdlib_module_names and top not in SHIPPED_EXTERNALS:
                    raise PlatformError(
                        f"{where} imports {name}, which the client pod does not have (it is shipped "
                        f"{package}'s client code, the standard library and {', '.join(sorted(SHIPPED_EXTERNALS))})"
                    )
        parts = module.split(".")
        for depth in range(1, len(parts)):  # Python runs a package's __init__ before a module in it
            visit(".".join(parts[:depth]), where)
        ordered.append(where)

    visit(entry, "the client pod's entry script")
    return tuple(ordered)


def _key(path: str) -> str:
    return path.replace("/", "__")  # ConfigMap keys cannot hold '/'; `items` maps them back to paths


def _distribution_files() -> list[tuple[str, Path]]:
    """(path in the zip, file) of the installed kafka-python: its package (sources and the protocol's JSON
    schemas it reads at import) and its license and metadata (so `importlib.metadata` in the pod names the
    same version). No bytecode."""
    dist = metadata.distribution(KAFKA_PYTHON)
    found = []
    for entry in dist.files or ():
        name = entry.as_posix()
        wanted = (name.startswith("kafka/") and not name.endswith(".pyc")) or (
            ".dist-info/" in name and not name.endswith(("RECORD", "INSTALLER", "REQUESTED"))
        )
        if wanted and not name.startswith(".."):
            found.append((name, Path(str(entry.locate()))))
    return sorted(found)


@functools.cache
def kafka_python_zip() -> bytes:
    """The installed kafka-python as a deterministic zip (deflated: its sources alone exceed a ConfigMap)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in _distribution_files():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def code_configmap(namespace: str, labels: dict[str, str], root: Path = PACKAGES_ROOT) -> dict[str, Any]:
    data = {_key(p): (root / p).read_text() for p in shipped_modules(root)}
    data["entry.py"] = ENTRY.read_text()
    archive = kafka_python_zip()
    size = sum(len(v.encode("utf-8")) for v in data.values()) + len(archive)
    if size > CONFIGMAP_MAX_BYTES:  # a kafka-python release grown past the limit: found before any apply
        raise PlatformError(
            f"the client code ({size} bytes with kafka-python {KAFKA_PYTHON_VERSION}) exceeds a ConfigMap's "
            f"{CONFIGMAP_MAX_BYTES} bytes"
        )
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CONFIGMAP_NAME, "namespace": namespace, "labels": dict(labels)},
        "data": data,
        "binaryData": {KAFKA_PYTHON_ZIP: base64.b64encode(archive).decode("ascii")},
    }


def summarized(configmap: dict[str, Any]) -> dict[str, Any]:
    """The code ConfigMap as `kconform plan` shows it: the zip named and sized, not printed."""
    shown = dict(configmap)
    shown["binaryData"] = {
        key: f"<zip of {KAFKA_PYTHON} {KAFKA_PYTHON_VERSION}, {len(base64.b64decode(value))} bytes>"
        for key, value in (configmap.get("binaryData") or {}).items()
    }
    return shown


def pod(namespace: str, labels: dict[str, str], image: str) -> dict[str, Any]:
    # Unpacked with the image's own Python (zipfile is in the standard library): nothing is downloaded.
    setup = f"python -m zipfile -e {MOUNT_PATH}/{KAFKA_PYTHON_ZIP} {DEPS_PATH} && "
    items = [{"key": _key(p), "path": p} for p in shipped_modules()] + [
        {"key": "entry.py", "path": "entry.py"},
        {"key": KAFKA_PYTHON_ZIP, "path": KAFKA_PYTHON_ZIP},
    ]
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
