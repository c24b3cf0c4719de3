"""The in-cluster client pod that cannot start says why and how to do without egress.

The pod unpacks the kafka-python kconform ships at start (client_pod.pod); when that fails (e.g. an image
whose `python` cannot), the container ends and, with restartPolicy Never, the pod's phase is Failed (core API
PodStatus). The failure must carry the container's own last lines (its log) and the settings that help.
`Api` plays the API server's part.
"""

from __future__ import annotations

from typing import Any

import pytest

from kconform.errors import PlatformError
from kconform.platforms.kubernetes import client_pod
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.schemas import SchemaSet
from kconform.versions import profile

UNPACK_ERROR = "sh: 1: python: not found"


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
        return f"{UNPACK_ERROR}\n"


def test_a_failed_start_is_named_with_its_log_and_the_way_round_it() -> None:
    settings = KubeSettings(profile=profile("1.2.0"), run_id="r1")
    plat = KubernetesPlatform(
        settings, Api(), ClusterInfo(None, None, "127.0.0.1", created=False), SchemaSet([], "none")
    )  # type: ignore[arg-type]
    with pytest.raises(PlatformError) as failed:
        plat.internal_clients("kc-1")
    message = str(failed.value)
    assert "ended: Failed" in message and UNPACK_ERROR in message
    assert "KCONFORM_CLIENT_IMAGE" in message and "--image-registry" in message


def test_the_client_image_comes_from_the_environment_and_pip_is_never_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kconform.config import RunConfig

    monkeypatch.setenv("KCONFORM_CLIENT_IMAGE", "registry.example/kconform-client:1")
    monkeypatch.setenv("KCONFORM_CLIENT_PIP_INSTALL", "0")  # what air-gapped users set: still accepted
    config = RunConfig(platform="kubernetes")
    settings = KubeSettings.from_run_config(config, profile("1.2.0"), "kraft")
    assert settings.client_image == "registry.example/kconform-client:1"
    pod = client_pod.pod("kc-1", {}, settings.client_image)
    assert "pip" not in pod["spec"]["containers"][0]["command"][-1]


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_asking_for_pip_install_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    from kconform.config import RunConfig
    from kconform.errors import UsageError

    monkeypatch.setenv("KCONFORM_CLIENT_PIP_INSTALL", value)
    with pytest.raises(UsageError, match=r"KCONFORM_CLIENT_PIP_INSTALL=.* is obsolete") as refused:
        KubeSettings.from_run_config(RunConfig(platform="kubernetes"), profile("1.2.0"), "kraft")
    assert "\n" not in str(refused.value)
