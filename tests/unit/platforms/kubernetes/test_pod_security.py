"""The pods kconform creates meet the Kubernetes Pod Security Standard "restricted".

The rules are the "Restricted" controls of https://kubernetes.io/docs/concepts/security/pod-security-standards/
(plus the Baseline controls that Restricted includes and these pods could touch), written as data so each
one can be read against that page. tests/apiserver/test_pod_security.py has a real kube-apiserver's Pod
Security admission judge the same pods.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kconform import resources
from kconform.platforms.kubernetes import client_pod
from kconform.versions import PROFILES

Pod = dict[str, Any]

# Volume types "restricted" allows (control "Volume Types").
ALLOWED_VOLUME_SOURCES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
# Seccomp profile types allowed (control "Seccomp").
ALLOWED_SECCOMP = {"RuntimeDefault", "Localhost"}
# The only capability a container may add back (control "Capabilities").
ALLOWED_ADDED_CAPABILITIES = {"NET_BIND_SERVICE"}

# The user each image runs as when the pod sets none (runAsNonRoot is proven by the kubelet, which needs a
# numeric uid: a named USER with runAsNonRoot and no runAsUser is refused at container start).
IMAGE_USER = {
    "python": "root",  # the official python images set no USER
    "docker.io/curlimages/curl": "curl_user",  # curl/curl-container create_appliance_image.sh
    resources.BRIDGE_IMAGE: "1001",  # strimzi-kafka-bridge Dockerfile (USER 1001) at 0.31.2 and 1.1.0
}


def _containers(pod: Pod) -> Iterator[dict[str, Any]]:
    spec = pod["spec"]
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(key) or []


def _pod_sc(pod: Pod) -> dict[str, Any]:
    return pod["spec"].get("securityContext") or {}


def _sc(container: dict[str, Any]) -> dict[str, Any]:
    return container.get("securityContext") or {}


def _effective(pod: Pod, container: dict[str, Any], field: str) -> Any:
    return _sc(container).get(field, _pod_sc(pod).get(field))


def _image_user(image: str) -> str:
    repository = image.rsplit(":", 1)[0]
    return IMAGE_USER[repository]


# Control name on the Pod Security Standards page -> a check that holds for a compliant pod.
RESTRICTED_CONTROLS: dict[str, Callable[[Pod], bool]] = {
    # Baseline controls, which Restricted includes.
    "HostProcess": lambda pod: (
        not any(
            _effective(pod, c, "windowsOptions") and _effective(pod, c, "windowsOptions").get("hostProcess")
            for c in _containers(pod)
        )
    ),
    "Host Namespaces": lambda pod: not any(pod["spec"].get(k) for k in ("hostNetwork", "hostPID", "hostIPC")),
    "Privileged Containers": lambda pod: not any(_sc(c).get("privileged") for c in _containers(pod)),
    "Host Ports": lambda pod: (
        not any(port.get("hostPort") for c in _containers(pod) for port in c.get("ports") or [])
    ),
    # Restricted controls.
    "Volume Types": lambda pod: all(
        set(volume) - {"name"} <= ALLOWED_VOLUME_SOURCES for volume in pod["spec"].get("volumes") or []
    ),
    "Privilege Escalation": lambda pod: all(
        _sc(c).get("allowPrivilegeEscalation") is False for c in _containers(pod)
    ),
    "Running as Non-root": lambda pod: all(
        _effective(pod, c, "runAsNonRoot") is True for c in _containers(pod)
    ),
    "Running as Non-root user": lambda pod: (
        _pod_sc(pod).get("runAsUser") != 0 and all(_sc(c).get("runAsUser") != 0 for c in _containers(pod))
    ),
    "Seccomp": lambda pod: all(
        (_effective(pod, c, "seccompProfile") or {}).get("type") in ALLOWED_SECCOMP for c in _containers(pod)
    ),
    "Capabilities": lambda pod: all(
        "ALL" in ((_sc(c).get("capabilities") or {}).get("drop") or [])
        and set((_sc(c).get("capabilities") or {}).get("add") or []) <= ALLOWED_ADDED_CAPABILITIES
        for c in _containers(pod)
    ),
    # Not a Pod Security control but what makes runAsNonRoot hold at container start: the kubelet refuses
    # a container whose uid it cannot see is non-zero (a named image USER without a numeric runAsUser).
    "kubelet: a numeric non-root uid": lambda pod: all(
        str(_effective(pod, c, "runAsUser") or _image_user(c["image"])).isdigit()
        and int(_effective(pod, c, "runAsUser") or _image_user(c["image"])) != 0
        for c in _containers(pod)
    ),
}


def violations(pod: Pod) -> list[str]:
    return [name for name, holds in RESTRICTED_CONTROLS.items() if not holds(pod)]


def kconform_pods() -> dict[str, Pod]:
    """Every pod kconform creates, exactly as the platform builds them."""
    pods = {
        "client pod": client_pod.pod("ns", {}, "python:3.11-slim"),
    }
    for profile in PROFILES.values():
        sidecar, _ = resources.bridge_sidecar(
            name="sidecar",
            namespace="ns",
            cluster="cluster",
            user="user",
            bridge_version=profile.bridge_version,
            run_id="r1",
        )
        pods[f"bridge sidecar pod (bridge {profile.bridge_version})"] = sidecar
    return pods


@pytest.mark.parametrize("name", sorted(kconform_pods()))
def test_every_kconform_pod_meets_restricted(name: str) -> None:
    assert violations(kconform_pods()[name]) == []


BREAKAGES: dict[str, Callable[[Pod], None]] = {
    "Privilege Escalation": lambda pod: pod["spec"]["containers"][0]["securityContext"].pop(
        "allowPrivilegeEscalation"
    ),
    "Running as Non-root": lambda pod: pod["spec"]["securityContext"].pop("runAsNonRoot"),
    "Running as Non-root user": lambda pod: pod["spec"]["containers"][0]["securityContext"].update(
        runAsUser=0
    ),
    "Seccomp": lambda pod: pod["spec"]["securityContext"].pop("seccompProfile"),
    "Capabilities": lambda pod: pod["spec"]["containers"][0]["securityContext"].pop("capabilities"),
    "Volume Types": lambda pod: pod["spec"]["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
    "Host Namespaces": lambda pod: pod["spec"].update(hostNetwork=True),
    "Privileged Containers": lambda pod: pod["spec"]["containers"][0]["securityContext"].update(
        privileged=True
    ),
}


@pytest.mark.parametrize("control", sorted(BREAKAGES))
@pytest.mark.parametrize("name", sorted(kconform_pods()))
def test_each_rule_catches_its_breakage(name: str, control: str) -> None:
    """The checks can fail: a copy broken on one control is reported on exactly that control."""
    pod = copy.deepcopy(kconform_pods()[name])
    BREAKAGES[control](pod)
    assert control in violations(pod)


def test_the_curl_container_without_a_numeric_uid_would_not_start() -> None:
    """curlimages/curl's USER is a name, so runAsNonRoot alone would stop the app container at start."""
    sidecar = kconform_pods()["bridge sidecar pod (bridge 1.1.0)"]
    app = next(c for c in sidecar["spec"]["containers"] if c["name"] == "app")
    del app["securityContext"]["runAsUser"]
    assert violations(sidecar) == ["kubelet: a numeric non-root uid"]


def test_the_client_pod_writes_only_to_its_emptydir() -> None:
    """Non-root cannot write the image's site-packages: kafka-python is unpacked into the emptyDir, which is
    on PYTHONPATH next to the shipped code, and HOME, TMPDIR and the readiness file live there too."""
    pod = client_pod.pod("ns", {}, "python:3.11-slim")
    container = pod["spec"]["containers"][0]
    command = container["command"][-1]
    assert command.startswith(f"python -m zipfile -e {client_pod.MOUNT_PATH}/{client_pod.KAFKA_PYTHON_ZIP} ")
    assert f" {client_pod.DEPS_PATH} &&" in command
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["PYTHONPATH"].split(":") == [client_pod.MOUNT_PATH, client_pod.DEPS_PATH]
    assert env["HOME"] == env["TMPDIR"] == client_pod.WORK_PATH
    assert client_pod.READY_FILE.startswith(client_pod.WORK_PATH + "/")
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    work = mounts[client_pod.WORK_PATH]
    assert not work.get("readOnly")
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == work["name"])
    assert "emptyDir" in volume
    assert client_pod.DEPS_PATH.startswith(client_pod.WORK_PATH + "/")
