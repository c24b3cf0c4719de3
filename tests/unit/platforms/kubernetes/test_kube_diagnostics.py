"""Diagnostics on kubernetes are best effort part by part: one API call that fails (here listing the operator's
pods, which a user's RBAC on a shared cluster may forbid) must not hide the evidence already collected.
`Api` plays the API server's part; the shapes are the core API's (Event involvedObject, Pod status)."""

from __future__ import annotations

from typing import Any

from kconform.errors import PlatformError
from kconform.platforms.kubernetes import diagnostics


class Api:
    def list_objects(self, *_: Any, **__: Any) -> list[dict[str, Any]]:
        return []

    def events(self, namespace: str) -> list[dict[str, Any]]:
        obj = {"kind": "Pod", "name": "c1-dual-role-0"}
        return [
            {"type": "Warning", "reason": "FailedScheduling", "message": "0/3 nodes", "involvedObject": obj}
        ]

    def pods(self, namespace: str, selector: str | None = None) -> list[dict[str, Any]]:
        if namespace == "strimzi":
            raise PlatformError(
                'list pods in strimzi: pods is forbidden: User "dev" cannot list resource "pods"'
            )
        return [
            {"metadata": {"namespace": namespace, "name": "c1-dual-role-0"}, "status": {"phase": "Pending"}}
        ]


def test_a_forbidden_pod_list_keeps_the_other_evidence() -> None:
    out = diagnostics.collect(Api(), "kc-1", "kafka.strimzi.io/v1", "strimzi")  # type: ignore[arg-type]
    assert "FailedScheduling" in out["events.txt"]
    assert out["pods/c1-dual-role-0.phase"] == "Pending"
    assert "forbidden" in out["pods-strimzi.txt"]
