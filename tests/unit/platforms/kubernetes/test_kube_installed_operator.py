"""On provider `existing`, the operator kconform waits for is the one it found, whatever its Deployment's name.

`installed.is_operator` recognises an operator by its pod label `strimzi.io/kind: cluster-operator` (Strimzi's
packaging/install/cluster-operator/060-Deployment-strimzi-cluster-operator.yaml and the Helm chart's
templates/060-Deployment-strimzi-cluster-operator.yaml, 0.45.2 and 1.2.0); an install other than Strimzi's own
(OLM, a renamed chart release) may name the Deployment otherwise. The readiness wait must then read that
Deployment and select its pods by that label, not by Strimzi's default name. `Api` plays the API server's part.
"""

from __future__ import annotations

from typing import Any

from kconform.platforms.kubernetes import connect, install, installed
from kconform.platforms.kubernetes.kube_preflight import check_existing_strimzi
from kconform.platforms.kubernetes.settings import INSTALLED, KubeSettings
from kconform.versions import profile

NAME = "strimzi-cluster-operator-v0.45.2"
POD_LABELS = {"name": "strimzi-cluster-operator", "strimzi.io/kind": "cluster-operator"}  # 060-Deployment


def deployment() -> dict[str, Any]:
    container = {
        "name": "strimzi-cluster-operator",
        "image": "quay.io/strimzi/operator:0.45.2",
        "env": [{"name": "STRIMZI_NAMESPACE", "value": "*"}],
    }
    return {
        "metadata": {"name": NAME, "namespace": "operators", "generation": 1},
        "spec": {
            "replicas": 1,
            "template": {"metadata": {"labels": POD_LABELS}, "spec": {"containers": [container]}},
        },
        "status": {
            "observedGeneration": 1,
            "readyReplicas": 1,
            "conditions": [{"type": "Available", "status": "True"}],
        },
    }


class Api:
    def __init__(self) -> None:
        self.selectors: list[str] = []

    def list_objects(self, api_version: str, kind: str, *_: Any, **__: Any) -> list[dict[str, Any]]:
        return [deployment()]

    def crds(self) -> list[dict[str, Any]]:
        versions = [{"name": "v1beta2", "served": True, "storage": True}]
        return [{"metadata": {"name": installed.KAFKA_CRD}, "spec": {"versions": versions}}]

    def service_account_can(self, namespace: str, account: str, *_: str) -> bool:
        # Bound cluster-wide; the Deployment names no ServiceAccount, so the pod runs as `default`.
        return (namespace, account) == ("operators", "default")

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return deployment() if (namespace, name) == ("operators", NAME) else None

    def pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        self.selectors.append(selector)
        key, value = selector.split("=", 1)
        labels = {**POD_LABELS, "pod-template-hash": "abc"}
        return (
            [{"metadata": {"name": f"{NAME}-abc", "labels": labels}, "status": {"phase": "Running"}}]
            if labels.get(key) == value
            else []
        )


def test_the_found_operator_is_the_one_awaited() -> None:
    api = Api()
    settings = KubeSettings(
        profile=profile("0.45.2"), run_id="r1", provider="existing", install=INSTALLED, context="c"
    )
    found = check_existing_strimzi(settings, api)
    assert (found.operator_namespace, found.operator_deployment) == ("operators", NAME)
    connect.wait_operator(api, found.operator_namespace, 5, found.operator_deployment)  # type: ignore[arg-type]
    assert api.selectors and all(s == install.OPERATOR_SELECTOR for s in api.selectors)
    assert install.OPERATOR_SELECTOR == "strimzi.io/kind=cluster-operator"
