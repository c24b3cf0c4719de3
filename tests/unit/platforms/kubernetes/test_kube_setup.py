"""The kubernetes setup's own rules, on real shapes: tool paths, the installed operator, phases and budgets,
namespace ownership, progress lines (issue 8, points 4, 5, 10, 11, 12, 13)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from kconform import progress
from kconform.errors import InfrastructureFailure, PlatformError, UsageError
from kconform.platforms.kubernetes import connect, installed, ownership, shell, tools
from kconform.platforms.kubernetes.settings import SetupBudget
from kconform.versions import PROFILES
from kconform.waits import wait_until
from tests.support.strimzi_doubles import operator_deployment


def test_a_cached_tool_is_the_one_every_command_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point 12: a kind found in the cache (or downloaded) used to be discarded: later commands ran bare
    `kind` from PATH, which has none. Now the path found is what `shell` runs."""
    cached = tools.cached_path("kind", tools.PINNED_VERSIONS["kind"], tmp_path)
    cached.parent.mkdir(parents=True)
    cached.write_text('#!/bin/sh\necho cached-kind "$@"\n')
    cached.chmod(0o755)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no kind anywhere on PATH
    monkeypatch.setattr(shell, "_resolved", {})
    found = tools.ensure_tool("kind", downloads={}, base_dir=tmp_path)
    assert found == cached
    assert shell.run(["kind", "get", "clusters"], timeout=10).strip() == "cached-kind get clusters"


def test_stream_reports_lines_as_they_come_and_names_failures() -> None:
    seen: list[str] = []
    script = "import sys; print('one', flush=True); print('two', file=sys.stderr, flush=True); sys.exit(3)"
    with pytest.raises(PlatformError, match=r"failed \(exit 3\)") as caught:
        shell.stream([sys.executable, "-c", script], timeout=30, on_line=seen.append)
    assert seen == ["one", "two"] and "two" in str(caught.value)


def test_stream_kills_a_command_that_runs_out_of_time() -> None:
    with pytest.raises(PlatformError, match="did not finish within 1s"):
        shell.stream([sys.executable, "-c", "import time; time.sleep(30)"], timeout=1, on_line=lambda _: None)


@pytest.mark.parametrize("tag", ["0.45.2", "1.2.0"])
def test_the_operator_deployment_of_the_release_yaml_is_found_with_its_version(tag: str) -> None:
    deployment = operator_deployment("users-strimzi", f"quay.io/strimzi/operator:{tag}")
    found = installed.find_operators(
        [deployment, {"metadata": {"name": "other", "namespace": "x"}, "spec": {}}]
    )
    assert [(o.namespace, o.version) for o in found] == [("users-strimzi", tag)]


def test_a_mirrored_operator_image_is_versioned_by_its_env() -> None:
    deployment = {
        "metadata": {"name": "strimzi-cluster-operator", "namespace": "ops"},
        "spec": {
            "template": {
                "metadata": {"labels": {"strimzi.io/kind": "cluster-operator"}},
                "spec": {
                    "containers": [
                        {
                            "name": "strimzi-cluster-operator",
                            "image": "registry.example/strimzi/operator@sha256:" + "0" * 64,
                            "env": [
                                {
                                    "name": "STRIMZI_DEFAULT_USER_OPERATOR_IMAGE",
                                    "value": "mirror/operator:0.45.2",
                                }
                            ],
                        }
                    ]
                },
            }
        },
    }
    assert installed.find_operators([deployment])[0].version == "0.45.2"


def _kafka_crd(served: list[str]) -> dict[str, Any]:
    return {
        "metadata": {"name": installed.KAFKA_CRD},
        "spec": {"versions": [{"name": v, "served": True} for v in served]},
    }


def test_profile_for_the_installed_operator() -> None:
    operator = installed.InstalledOperator(
        "ops", "strimzi-cluster-operator", "quay.io/strimzi/operator:1.2.0", "1.2.0"
    )
    assert installed.profile_for([operator], [_kafka_crd(["v1"])]) is PROFILES["1.2.0"]
    with pytest.raises(UsageError, match="serves v1beta2"):
        installed.profile_for([operator], [_kafka_crd(["v1beta2"])])
    with pytest.raises(UsageError, match="install Strimzi, or pass --install"):
        installed.profile_for([], [])
    unknown = installed.InstalledOperator(
        "ops", "strimzi-cluster-operator", "quay.io/strimzi/operator:0.50.0", "0.50.0"
    )
    with pytest.raises(UsageError, match=r"Strimzi 0\.50\.0 is installed .* profiles for 0\.45\.2, 1\.2\.0"):
        installed.profile_for([unknown], [])


def test_a_phase_that_runs_out_names_itself() -> None:
    """Point 5: a timeout says which setup phase ran out, and how the phase's failure is classified."""
    with pytest.raises(
        InfrastructureFailure, match=r"setup phase 'create the kind cluster' ran out of its 1s budget"
    ):
        with connect.setup_phase("create the kind cluster", 1, infrastructure=True):
            wait_until(lambda: None, describe="nothing", timeout=0.1)
    with pytest.raises(PlatformError, match="'Strimzi operator Available' ran out") as caught:
        with connect.setup_phase("Strimzi operator Available", 1, infrastructure=False):
            wait_until(lambda: None, describe="nothing", timeout=0.1)
    assert not isinstance(caught.value, InfrastructureFailure)


def test_setup_budget_is_sized_apart_from_the_test_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    budget = SetupBudget.from_env()
    assert budget.create_cluster > 600 and budget.operator_available >= 600  # not pytest-timeout's 600 s
    monkeypatch.setenv("KCONFORM_SETUP_SCALE", "2")
    assert SetupBudget.from_env().create_cluster == 2 * budget.create_cluster
    monkeypatch.setenv("KCONFORM_SETUP_SCALE", "fast")
    with pytest.raises(UsageError, match="KCONFORM_SETUP_SCALE"):
        SetupBudget.from_env()


def _pending_pod(name: str, image: str, reason: str) -> dict[str, Any]:
    """A Pending pod whose one container waits for its image with `reason` (the Kubernetes API's pod status)."""
    return {
        "metadata": {"name": name},
        "status": {
            "phase": "Pending",
            "containerStatuses": [{"image": image, "state": {"waiting": {"reason": reason}}}],
        },
    }


def test_an_operator_image_that_cannot_be_pulled_is_infrastructure() -> None:
    pod = _pending_pod("strimzi-cluster-operator-1", "quay.io/strimzi/operator:1.2.0", "ImagePullBackOff")

    class Api:
        def pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
            return [pod]

    with pytest.raises(InfrastructureFailure, match="operator image cannot be pulled"):
        connect.wait_operator(Api(), "strimzi", timeout=5)  # type: ignore[arg-type]


def test_only_marked_namespaces_are_kconforms() -> None:
    manifest = ownership.namespace_manifest("kc-1", "run1")
    assert ownership.is_owned(manifest)
    assert not ownership.is_owned({"metadata": {"name": "strimzi", "labels": {"kconform.io/run": "old"}}})
    assert ownership.selector("run1") == "kconform.io/created-by=kconform,kconform.io/run=run1"


def test_progress_goes_to_listeners_and_survives_a_broken_one(capsys: pytest.CaptureFixture[str]) -> None:
    lines: list[str] = []
    stop = progress.listen(lines.append)
    try:
        with progress.phase("install Strimzi"):
            progress.report("apply the CRDs")
    finally:
        stop()
    assert [line.split("] ", 1)[1] for line in lines] == [
        "install Strimzi ...",
        "apply the CRDs",
        lines[-1].split("] ", 1)[1],
    ]
    assert lines[-1].endswith("s") and "install Strimzi: done in" in lines[-1]

    def broken(line: str) -> None:
        raise RuntimeError("terminal gone")

    stop = progress.listen(broken)
    try:
        progress.report("still reported")
    finally:
        stop()
    assert "still reported" in capsys.readouterr().err


def test_the_platform_deletes_only_namespaces_it_created() -> None:
    """Point 10: a namespace the platform did not create (the user's `strimzi`) is never deleted at the end."""
    from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
    from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo
    from kconform.platforms.kubernetes.settings import KubeSettings
    from kconform.schemas import SchemaSet

    class Api:
        def __init__(self) -> None:
            self.namespaces: dict[str, dict[str, Any]] = {"strimzi": {"metadata": {"name": "strimzi"}}}
            self.deleted: list[str] = []

        def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
            return self.namespaces.get(name) if kind == "Namespace" else None

        def apply(self, resource: dict[str, Any]) -> dict[str, Any]:
            self.namespaces[resource["metadata"]["name"]] = resource
            return resource

        def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
            self.deleted.append(name)
            return False

        def list_objects(self, api_version: str, kind: str, **_: Any) -> list[dict[str, Any]]:
            return []  # no ClusterRoleBindings (kafka_init): the namespaces are what this test is about

    api = Api()
    settings = KubeSettings(profile=PROFILES["1.2.0"], run_id="r1")
    plat = KubernetesPlatform(
        settings, api, ClusterInfo(None, None, "127.0.0.1", created=False), SchemaSet([], "none")
    )  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="did not create"):
        plat.create_namespace("strimzi")
    plat.create_namespace("kc-r1-w0-1")
    plat.delete_namespace("strimzi")
    plat.delete_namespace("kc-r1-w0-1")
    assert api.deleted == ["kc-r1-w0-1"]
    assert "labels" not in api.namespaces["strimzi"]["metadata"]  # never labelled either


def test_a_kafka_wait_shows_its_condition_and_its_pods_image_pulls() -> None:
    """Point 13: each change of what the wait sees is one line: the Kafka's latest condition and its pods'
    states (pod status shapes of the Kubernetes API; Strimzi labels its pods strimzi.io/cluster=<name>)."""
    from kconform.platforms.kubernetes.watching import Watch

    pulling = _pending_pod("c1-dual-role-0", "quay.io/strimzi/kafka:1.2.0-kafka-4.3.1", "ErrImagePull")
    running = {
        "metadata": {"name": "c1-dual-role-0"},
        "status": {"phase": "Running", "containerStatuses": []},
    }
    seen_selectors: list[str | None] = []

    class Api:
        pods_now = [pulling]

        def pods(self, namespace: str, label_selector: str | None = None) -> list[dict[str, Any]]:
            seen_selectors.append(label_selector)
            return self.pods_now

    api = Api()
    lines: list[str] = []
    stop = progress.listen(lines.append)
    try:
        watch = Watch(api, "Kafka", "ns1", "c1")  # type: ignore[arg-type]
        not_ready = {"status": {"conditions": [{"type": "NotReady", "status": "True", "reason": "Creating"}]}}
        watch.saw(not_ready)
        watch.saw(not_ready)  # nothing changed: no line
        api.pods_now = [running]
        watch.saw({"status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    finally:
        stop()
    text = [line.split("] ", 1)[1] for line in lines]
    assert text == [
        "waiting for Kafka ns1/c1: NotReady=True Creating",
        "pods of Kafka ns1/c1: c1-dual-role-0: ErrImagePull quay.io/strimzi/kafka:1.2.0-kafka-4.3.1",
        "waiting for Kafka ns1/c1: Ready=True",
        "pods of Kafka ns1/c1: c1-dual-role-0: Running",
    ]
    assert set(seen_selectors) == {"strimzi.io/cluster=c1"}


def test_a_failed_download_of_the_install_files_is_a_missing_prerequisite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Point 4: found by the preflight, one line naming the fix; nothing half-written is cached."""
    import socket

    from kconform.errors import MissingPrerequisite
    from kconform.platforms.kubernetes import strimzi_files

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("KCONFORM_CACHE", str(tmp_path))
    monkeypatch.delenv(strimzi_files.ENV_FOLDER, raising=False)
    url = f"http://127.0.0.1:{port}/strimzi-crds-1.2.0.yaml"
    with pytest.raises(MissingPrerequisite, match=r"cannot download .* KCONFORM_STRIMZI_FILES") as caught:
        strimzi_files.fetch("1.2.0", url)
    assert "\n" not in str(caught.value)
    assert not strimzi_files.cache_path("1.2.0", url).exists()


def test_clean_uses_the_cached_kind_and_deletes_only_kconform_clusters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Point 12: a kind kconform cached (not on PATH) is found by `clean --all` too; only clusters named
    kconform or kconform-* are deleted. The kind here is a script that records its arguments."""
    import argparse

    from kconform.commands import clean

    calls = tmp_path / "calls"
    monkeypatch.setenv("KCONFORM_CACHE", str(tmp_path / "cache"))
    cached = tools.cached_path("kind", tools.PINNED_VERSIONS["kind"])
    cached.parent.mkdir(parents=True)
    cached.write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\necho "kconform users-own kconform-old"\n')
    cached.chmod(0o755)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.setattr(shell, "_resolved", {})
    clean.run(argparse.Namespace(all=True, run_id=None, context=None))
    assert calls.read_text().splitlines() == [
        "get clusters",
        "delete cluster --name kconform",
        "delete cluster --name kconform-old",
    ]
    assert "users-own" not in capsys.readouterr().out
