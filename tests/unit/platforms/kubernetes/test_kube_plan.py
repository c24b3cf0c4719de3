"""`kconform plan` for every provider x profile: exit 0, every manifest valid, the right shapes."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest
import yaml

from kconform import config as run_config
from kconform.commands import plan
from kconform.platforms.kubernetes import runplan
from kconform.platforms.kubernetes.providers.kind import render_config
from kconform.schemas import SchemaSet
from kconform.versions import PROFILES, profile


def run_plan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    plan.register(parser.add_subparsers(dest="command"))
    rc = plan.run(parser.parse_args(["plan", "--platform", "kubernetes", *argv]))
    return rc, capsys.readouterr().out


def steps(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    rc, out = run_plan(capsys, *argv, "--format", "json")
    assert rc == 0
    return list(json.loads(out))


def manifests(all_steps: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [s["manifest"] for s in all_steps if s.get("manifest", {}).get("kind") == kind]


@pytest.mark.parametrize("prof", sorted(PROFILES))
@pytest.mark.parametrize("provider", ["kind", "minikube", "existing"])
def test_every_provider_and_profile_plans_valid_manifests(
    capsys: pytest.CaptureFixture[str], provider: str, prof: str
) -> None:
    extra = ["--context", "ctx", "--install", "helm"] if provider == "existing" else []
    all_steps = steps(capsys, "--provider", provider, "--profile", prof, *extra)
    schemas = SchemaSet.for_profile(profile(prof))
    strimzi = [s["manifest"] for s in all_steps if schemas.covers(s.get("manifest") or {})]
    assert {m["kind"] for m in strimzi} >= {"Kafka"}
    for manifest in strimzi:
        assert schemas.problems(manifest) == []
        assert manifest["apiVersion"] == profile(prof).api_version
        assert manifest["metadata"]["labels"]["kconform.io/run"] == "plan"
    commands = [s["argv"] for s in all_steps if "argv" in s]
    assert (["docker", "info"] in commands) == (provider != "existing")
    helm = next(c for c in commands if c[:2] == ["helm", "upgrade"])
    assert helm[helm.index("--version") + 1] == prof
    assert "oci://quay.io/strimzi-helm/strimzi-kafka-operator" in helm
    urls = [s["url"] for s in all_steps if "url" in s]
    assert urls[0].endswith(
        f"/{prof}/strimzi-crds-{prof}.yaml"
    )  # CRDs first: helm upgrade never updates them
    assert all_steps.index(next(s for s in all_steps if "url" in s)) < all_steps.index(
        next(s for s in all_steps if s.get("argv") == helm)
    )


@pytest.mark.parametrize("prof", sorted(PROFILES))
def test_existing_without_install_plans_no_install(capsys: pytest.CaptureFixture[str], prof: str) -> None:
    """Provider existing tests the Strimzi already installed: the plan installs nothing (issue 8, point 11)."""
    all_steps = steps(capsys, "--provider", "existing", "--context", "ctx", "--profile", prof)
    assert not [s for s in all_steps if "url" in s or "argv" in s]
    assert not [
        s for s in all_steps if (s.get("manifest") or {}).get("metadata", {}).get("name") == "strimzi"
    ]
    assert any("installed Strimzi Cluster Operator" in s["describe"] for s in all_steps)


def test_k3s_plans_without_options(capsys: pytest.CaptureFixture[str]) -> None:
    """`kconform plan --provider k3s` needs no option: the image follows the profile's Kubernetes (issue 8,
    point 12: the hint named options that did not exist)."""
    all_steps = steps(capsys, "--provider", "k3s", "--profile", "1.2.0")
    docker = next(s["argv"] for s in all_steps if (s.get("argv") or [])[:2] == ["docker", "run"])
    assert "rancher/k3s:v1.35.0-k3s1" in docker


def test_k3s_plan_with_pinned_image(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    plan.register(parser.add_subparsers(dest="command"))
    argv = ["--platform", "kubernetes", "--provider", "k3s", "--kubernetes-version", "1.33.1"]
    args = parser.parse_args(["plan", *argv, "--format", "json"])
    assert plan.run(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert any("rancher/k3s:v1.33.1-k3s1" in (s.get("argv") or []) for s in out)


def test_zookeeper_plan_has_no_node_pool(capsys: pytest.CaptureFixture[str]) -> None:
    # The example cluster; the kraft-migration workflow's own resources follow (tests/unit/platforms/kubernetes/test_migration_plan.py).
    all_steps = [
        s
        for s in steps(capsys, "--profile", "0.45.2", "--mode", "zookeeper")
        if not s["describe"].startswith("[kraft-migration]")
    ]
    assert manifests(all_steps, "KafkaNodePool") == []
    (kafka,) = manifests(all_steps, "Kafka")
    assert "zookeeper" in kafka["spec"]
    annotations = kafka["metadata"].get("annotations") or {}
    assert annotations.get("strimzi.io/kraft") != "enabled"


def test_kraft_on_045_has_annotations_and_a_pool(capsys: pytest.CaptureFixture[str]) -> None:
    all_steps = steps(capsys, "--profile", "0.45.2", "--mode", "kraft")
    (kafka,) = manifests(all_steps, "Kafka")
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    assert kafka["metadata"]["annotations"]["strimzi.io/node-pools"] == "enabled"
    pools = manifests(all_steps, "KafkaNodePool")
    assert pools and all(
        p["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"] for p in pools
    )


def test_dedicated_controllers_on_1x_have_two_pools(capsys: pytest.CaptureFixture[str]) -> None:
    all_steps = steps(capsys, "--profile", "1.2.0", "--mode", "kraft-dedicated")
    roles = sorted(tuple(p["spec"]["roles"]) for p in manifests(all_steps, "KafkaNodePool"))
    assert roles == [("broker",), ("controller",)]


def test_external_listener_overrides_match_kind_port_mappings(capsys: pytest.CaptureFixture[str]) -> None:
    all_steps = steps(capsys, "--profile", "1.2.0")
    (kafka,) = manifests(all_steps, "Kafka")
    (listener,) = [item for item in kafka["spec"]["kafka"]["listeners"] if item["type"] == "nodeport"]
    kind_config = next(s["manifest"] for s in all_steps if s.get("manifest", {}).get("kind") == "Cluster")
    assert kind_config == render_config(
        runplan.plan_settings(
            run_config.build(
                platform="kubernetes",
                profiles=["1.2.0"],
                run_id="plan",
                provider="kind",
                install="helm",
                env={},
            )
        )
    )
    mapped = {
        (m["hostPort"], m["containerPort"], m["listenAddress"])
        for node in kind_config["nodes"]
        for m in node.get("extraPortMappings", [])
    }
    config = listener["configuration"]
    assert (config["bootstrap"]["nodePort"], config["bootstrap"]["nodePort"], "127.0.0.1") in mapped
    for broker in config["brokers"]:
        assert broker["advertisedHost"] == "127.0.0.1"
        assert broker["advertisedPort"] == broker["nodePort"]
        assert (broker["nodePort"], broker["nodePort"], "127.0.0.1") in mapped


def test_text_output_is_yaml_documents(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run_plan(capsys, "--profile", "1.2.0", "--install", "yaml")
    assert rc == 0
    documents = [d for d in yaml.safe_load_all(out) if isinstance(d, dict)]
    assert any(d.get("kind") == "Kafka" for d in documents)
    assert "strimzi-cluster-operator-1.2.0.yaml" in out and "helm upgrade" not in out


def test_invalid_combination_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from kconform.errors import InvalidCombination

    with pytest.raises(InvalidCombination, match="zookeeper"):
        run_plan(capsys, "--profile", "1.2.0", "--mode", "zookeeper")
