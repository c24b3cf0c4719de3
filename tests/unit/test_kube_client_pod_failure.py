"""The in-cluster client pod that cannot start says why and how to do without egress.

The pod pip-installs kafka-python from PyPI at start (client_pod.pod); on a cluster without egress pip exits
non-zero, the container ends and, with restartPolicy Never, the pod's phase is Failed (core API PodStatus).
The failure must carry pip's own last lines (the container log) and the settings that avoid the download.
`Api` plays the API server's part.
"""

from __future__ import annotations

from typing import Any

import pytest

from kconform.errors import PlatformError
from kconform.platforms.kubernetes import client_pod
from kconform.platforms.kubernetes.platform import KubernetesPlatform
from kconform.platforms.kubernetes.providers.base import ClusterInfo
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.schemas import SchemaSet
from kconform.versions import profile

PIP_ERROR = (
    "ERROR: Could not find a version that satisfies the requirement kafka-python (from versions: none)"
)


class Api:
    def __init__(self) -> None:
        self.applied: list[str] = []

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        if kind != "Pod" or "Pod" not in self.applied:
            return None
        terminated = {"terminated": {"exitCode": 1, "reason": "Error"}}
        status = {
            "phase": "Failed",
            "containerStatuses": [{"name": client_pod.CONTAINER, "state": terminated}],
        }
        return {"metadata": {"name": name, "namespace": namespace}, "status": status}

    def apply(self, resource: dict[str, Any]) -> dict[str, Any]:
        self.applied.append(resource["kind"])
        return resource

    def events(self, namespace: str) -> list[dict[str, Any]]:
        return []

    def pod_log(self, namespace: str, pod: str, container: str | None = None, **_: Any) -> str:
        return f"WARNING: Retrying ... connection timed out\n{PIP_ERROR}\n"


def test_a_failed_pip_install_is_named_with_its_log_and_the_way_round_it() -> None:
    settings = KubeSettings(profile=profile("1.2.0"), run_id="r1")
    plat = KubernetesPlatform(
        settings, Api(), ClusterInfo(None, None, "127.0.0.1", created=False), SchemaSet([], "none")
    )  # type: ignore[arg-type]
    with pytest.raises(PlatformError) as failed:
        plat.internal_clients("kc-1")
    message = str(failed.value)
    assert "ended: Failed" in message and PIP_ERROR in message
    assert "KCONFORM_CLIENT_IMAGE" in message and "KCONFORM_CLIENT_PIP_INSTALL=0" in message


def test_the_client_image_and_pip_install_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from kconform.config import RunConfig

    monkeypatch.setenv("KCONFORM_CLIENT_IMAGE", "registry.example/kconform-client:1")
    monkeypatch.setenv("KCONFORM_CLIENT_PIP_INSTALL", "0")
    config = RunConfig(platform="kubernetes")
    settings = KubeSettings.from_run_config(config, profile("1.2.0"), "kraft")
    assert (settings.client_image, settings.client_pip_install) == (
        "registry.example/kconform-client:1",
        False,
    )
    pod = client_pod.pod("kc-1", {}, settings.client_image, pip_install=settings.client_pip_install)
    assert "pip install" not in pod["spec"]["containers"][0]["command"][-1]
