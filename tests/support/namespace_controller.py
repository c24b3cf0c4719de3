"""The part of kube-controller-manager a test plays on the apiserver tier, where no controller runs: a deleted
namespace is emptied and then removed (the namespace controller), an object deleted in the foreground loses
its `foregroundDeletion` finalizer (the garbage collector). A test that uses it says so; it proves what
kconform does around deletion, never Kubernetes' deletion itself.
"""

from __future__ import annotations

import threading
from typing import Any

from kconform.errors import WaitTimeout
from kconform.platforms.kubernetes.kube import Kube
from kconform.waits import wait_until

# What kconform's installs and tests put into a namespace (Strimzi's release YAML: ServiceAccount, ConfigMap,
# RoleBindings, Deployment; the tests: pods, Services, Secrets, ConfigMaps, Strimzi's Leases).
CONTENT_KINDS = (
    ("apps/v1", "Deployment"),
    ("apps/v1", "ReplicaSet"),
    ("v1", "Pod"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "ServiceAccount"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("coordination.k8s.io/v1", "Lease"),
)
BACKGROUND = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}


def release_foreground(kube: Kube, api_version: str, kind: str, namespace: str | None, name: str) -> None:
    """The garbage collector's part for an object deleted in the foreground whose dependents are gone."""
    if kube.get(api_version, kind, namespace, name) is not None:
        kube.merge_patch(api_version, kind, namespace, name, {"metadata": {"finalizers": None}})


def finish_deletion(kube: Kube, namespace: str) -> None:
    """The namespace controller's part for a deleted (Terminating) namespace: its objects deleted, then its
    finalizers dropped, so the API server removes it."""
    for api_version, kind in CONTENT_KINDS:
        api = kube.dynamic.resources.get(api_version=api_version, kind=kind)
        for obj in kube.list_objects(api_version, kind, namespace):
            name = obj["metadata"]["name"]
            api.delete(name=name, namespace=namespace, body=BACKGROUND)
            release_foreground(kube, api_version, kind, namespace, name)
    release_foreground(kube, "v1", "Namespace", None, namespace)
    body: dict[str, Any] = {"metadata": {"name": namespace}, "spec": {"finalizers": []}}
    kube.core.replace_namespace_finalize(namespace, body)


class NamespaceController:
    """In a thread of its own: once `namespace` is deleted (within `timeout`), its deletion is finished."""

    def __init__(self, kube: Kube, namespace: str, timeout: float = 300.0) -> None:
        self.kube, self.namespace, self.timeout = kube, namespace, timeout
        self.finished = False
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"namespace-controller-{namespace}", daemon=True
        )

    def _deleted(self) -> bool:
        found = self.kube.get("v1", "Namespace", None, self.namespace)
        return bool(found and found["metadata"].get("deletionTimestamp"))

    def _run(self) -> None:
        try:
            seen = wait_until(
                lambda: "stopped" if self._stop.is_set() else self._deleted() and "deleted",
                describe=f"namespace {self.namespace} to be deleted",
                timeout=self.timeout,
                interval=0.2,
                stop_event=self._stop,
            )
            if seen == "deleted":
                finish_deletion(self.kube, self.namespace)
                self.finished = True
        except WaitTimeout:
            pass  # never deleted: nothing to play
        except BaseException as err:  # handed to the test
            self.error = err

    def __enter__(self) -> NamespaceController:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        if self.error is not None:
            raise self.error
