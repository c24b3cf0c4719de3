"""Providers' command construction, the kind config and the fingerprint/reuse logic."""

from __future__ import annotations

from pathlib import Path

import pytest

from kconform.errors import UsageError
from kconform.platforms.kubernetes import fingerprint
from kconform.platforms.kubernetes.providers import provider_for
from kconform.platforms.kubernetes.providers.cluster_provider import version_from_image
from kconform.platforms.kubernetes.providers.kind import KindProvider, render_config
from kconform.platforms.kubernetes.settings import FIXED_NODE_PORTS, KubeSettings
from kconform.versions import profile

P12 = profile("1.2.0")


def settings(**kw: object) -> KubeSettings:
    base: dict[str, object] = {"profile": P12, "run_id": "t1", "cluster_name": "kconform-t1"}
    base.update(kw)
    return KubeSettings(**base)  # type: ignore[arg-type]


def test_kind_create_command_and_config(tmp_path: Path) -> None:
    provider = KindProvider(settings(), config_dir=tmp_path)
    assert provider.commands_for_create() == [
        [
            "kind",
            "create",
            "cluster",
            "--name",
            "kconform-t1",
            "--config",
            str(tmp_path / "kconform-t1.yaml"),
            "--wait",
            "300s",
        ]
    ]
    assert provider.kubeconfig_context() == "kind-kconform-t1"
    written = provider.write_config().read_text()
    assert "extraPortMappings" in written and "listenAddress: 127.0.0.1" in written


def test_kind_config_topology_image_and_fixed_port_mappings() -> None:
    config = render_config(settings())
    roles = [n["role"] for n in config["nodes"]]
    assert roles == ["control-plane", "worker", "worker"]
    image = P12.kind_node_images[-1].image
    assert all(n["image"] == image for n in config["nodes"])
    mappings = config["nodes"][0]["extraPortMappings"]
    assert [(m["containerPort"], m["hostPort"], m["listenAddress"]) for m in mappings] == [
        (p, p, "127.0.0.1") for p in FIXED_NODE_PORTS
    ]


def test_kind_unknown_kubernetes_version_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"no kind node image pinned for Kubernetes 1\.10"):
        render_config(settings(kubernetes_version="1.10"))


def test_minikube_command() -> None:
    argv = provider_for(settings(provider="minikube")).commands_for_create()[0]
    assert argv[:4] == ["minikube", "start", "--profile", "kconform-t1"]
    assert argv[argv.index("--driver") + 1] == "docker"
    version = version_from_image(P12.kind_node_images[-1].image)
    assert argv[argv.index("--kubernetes-version") + 1] == f"v{version}"


def test_k3s_command_binds_fixed_ports_and_needs_pinned_image() -> None:
    provider = provider_for(settings(provider="k3s", k3s_image="rancher/k3s:v1.33.1-k3s1"))
    argv = provider.commands_for_create()[0]
    assert "rancher/k3s:v1.33.1-k3s1" in argv and "32100:32100" in argv
    assert provider.fingerprint().kubernetes == "1.33.1"
    # Without an image or --kubernetes: the k3s build of the profile's newest pinned Kubernetes.
    default = provider_for(settings(provider="k3s")).commands_for_create()[0]
    newest = settings(provider="k3s").profile.kind_node_images[-1].kubernetes
    assert f"rancher/k3s:v{newest}-k3s1" in default


def test_existing_needs_context_never_creates_or_deletes() -> None:
    with pytest.raises(UsageError, match="--context"):
        settings(provider="existing")
    provider = provider_for(settings(provider="existing", context="prod-like"))
    assert provider.commands_for_create() == [] and provider.exists()
    assert provider.kubeconfig_context() == "prod-like"
    provider.delete()  # a no-op by contract
    with pytest.raises(UsageError, match="never creates"):
        provider.create()


def test_fingerprint_round_trip_through_configmap() -> None:
    wanted = provider_for(settings()).fingerprint()
    assert wanted.strimzi == "1.2.0" and wanted.provider == "kind"
    assert wanted.node_image == P12.kind_node_images[-1].image
    configmap = wanted.to_configmap()
    assert configmap["metadata"]["namespace"] == "kube-system"
    assert fingerprint.Fingerprint.from_configmap(configmap) == wanted


def test_reuse_only_on_identical_fingerprint() -> None:
    wanted = fingerprint.Fingerprint("kind", "1.35.0", "kindest/node:v1.35.0@sha256:aa", "1.2.0")
    other_strimzi = fingerprint.Fingerprint("kind", "1.35.0", "kindest/node:v1.35.0@sha256:aa", "0.45.2")
    assert fingerprint.decide(False, None, wanted) is fingerprint.Reuse.CREATE
    assert fingerprint.decide(True, wanted, wanted) is fingerprint.Reuse.REUSE
    assert fingerprint.decide(True, other_strimzi, wanted) is fingerprint.Reuse.RECREATE
    assert fingerprint.decide(True, None, wanted) is fingerprint.Reuse.RECREATE
    assert fingerprint.mismatch(other_strimzi, wanted) == "strimzi 0.45.2 != 1.2.0"
    incomplete = wanted.to_configmap()
    del incomplete["metadata"]["annotations"]["kconform.io/node_image"]
    assert fingerprint.Fingerprint.from_configmap(incomplete) is None
