"""`--image-registry`: every image a cell makes the cluster pull comes from the mirror, and `kconform plan`
names each one.

The release YAML read here is Strimzi's real one (../shared/strimzi-install/<v>/, assembled from the tag's
packaging/install/cluster-operator/), so every image reference Strimzi puts there is covered, not a list of
the ones known today.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kconform import paths, resources
from kconform.commands import plan
from kconform.errors import UsageError
from kconform.platforms.kubernetes import images, install, strimzi_files
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.versions import PROFILES, profile

MIRROR = "mirror.example:5000/quay-and-hub"
SHARED_INSTALL = paths.PROJECT_ROOT.parent / "shared" / "strimzi-install"
# Anything that reads as an image reference at a registry: host with a dot or a port, then a path.
REFERENCE = re.compile(r"\b[a-z0-9.-]+(?:\.[a-z]+|:\d+)/[a-z0-9._/-]+:[A-Za-z0-9._-]+")


@pytest.fixture(autouse=True)
def _release_files(monkeypatch: pytest.MonkeyPatch) -> None:
    if SHARED_INSTALL.is_dir():
        monkeypatch.setenv(strimzi_files.ENV_FOLDER, str(SHARED_INSTALL))
    for name in ("KCONFORM_CLIENT_IMAGE", "KCONFORM_CLIENT_PIP_INSTALL", "KCONFORM_IMAGE_REGISTRY"):
        monkeypatch.delenv(name, raising=False)


def release_yaml(version: str) -> list[dict[str, Any]]:
    """A fresh copy of the parsed release YAML (parsed once: its CRD-sized documents are slow to read)."""
    if version not in _PARSED:
        text = strimzi_files.read(version, install.operator_yaml_url(version))
        loader = getattr(
            yaml, "CSafeLoader", yaml.SafeLoader
        )  # libyaml: the same documents, ten times faster
        documents = [d for d in yaml.load_all(text, Loader=loader) if isinstance(d, dict) and d.get("kind")]
        _PARSED[version] = [d for d in documents if d["kind"] != "CustomResourceDefinition"]
    return copy.deepcopy(_PARSED[version])


_PARSED: dict[str, list[dict[str, Any]]] = {}


def operator_deployment(documents: list[dict[str, Any]]) -> dict[str, Any]:
    return next(
        d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == install.DEPLOYMENT
    )


def env_of(deployment: dict[str, Any]) -> dict[str, str]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("quay.io/strimzi/kafka:1.2.0-kafka-4.3.1", f"{MIRROR}/strimzi/kafka:1.2.0-kafka-4.3.1"),
        ("python:3.11-slim", f"{MIRROR}/library/python:3.11-slim"),  # Docker Hub's implied library/
        ("docker.io/curlimages/curl:8.11.1", f"{MIRROR}/curlimages/curl:8.11.1"),
        ("curlimages/curl:8.11.1", f"{MIRROR}/curlimages/curl:8.11.1"),
        ("localhost:5000/x/y:1", f"{MIRROR}/x/y:1"),
        (f"{MIRROR}/strimzi/operator:1.2.0", f"{MIRROR}/strimzi/operator:1.2.0"),  # already there: unchanged
    ],
)
def test_a_reference_at_the_mirror_keeps_its_repository_path(reference: str, expected: str) -> None:
    assert images.at_registry(reference, MIRROR) == expected
    assert images.at_registry(reference, None) == reference


@pytest.mark.parametrize("bad", ["mirror", "https://mirror.example", "mirror.example/UPPER", ""])
def test_a_registry_that_container_runtimes_would_not_read_as_one_is_refused(bad: str) -> None:
    with pytest.raises(UsageError, match="is not a registry host"):
        images.check_registry(bad)


def test_a_mirror_is_taken_without_its_trailing_slash() -> None:
    settings = KubeSettings(profile=profile("1.2.0"), run_id="r", image_registry="localhost:5000/")
    assert settings.image_registry == "localhost:5000"


@pytest.mark.parametrize("version", sorted(PROFILES))
def test_the_release_yaml_at_a_mirror_names_no_other_registry(version: str) -> None:
    settings = KubeSettings(profile=profile(version), run_id="r", install="yaml", image_registry=MIRROR)
    before = operator_deployment(release_yaml(version))
    changed = yaml.safe_dump(operator_deployment(install.release_documents(release_yaml(version), settings)))
    found = REFERENCE.findall(changed)
    # Every reference the real Deployment holds, and as many: the image, each STRIMZI_*_IMAGE(S) line, the
    # Maven builder.
    assert len(found) == len(REFERENCE.findall(yaml.safe_dump(before))) > 20
    assert all(ref.startswith(f"{MIRROR}/strimzi/") for ref in found), [
        r for r in found if not r.startswith(MIRROR)
    ]
    env = env_of(operator_deployment(install.release_documents(release_yaml(version), settings)))
    assert env["STRIMZI_DEFAULT_MAVEN_BUILDER"].startswith(f"{MIRROR}/strimzi/maven-builder:")


@pytest.mark.parametrize("version", sorted(PROFILES))
def test_the_images_kconform_names_are_the_ones_strimzi_runs(version: str) -> None:
    """strimzi_images and the sidecar's bridge image agree with the release YAML's Deployment: its container
    image, STRIMZI_KAFKA_IMAGES for the profile's Kafka, STRIMZI_DEFAULT_KAFKA_BRIDGE_IMAGE."""
    prof = profile(version)
    deployment = operator_deployment(release_yaml(version))
    env = env_of(deployment)
    kafka_images = dict(line.split("=", 1) for line in env["STRIMZI_KAFKA_IMAGES"].split())
    named = images.strimzi_images(prof, None)
    assert named["operator"] == deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert (
        named["operator"]
        == env["STRIMZI_DEFAULT_TOPIC_OPERATOR_IMAGE"]
        == env["STRIMZI_DEFAULT_KAFKA_INIT_IMAGE"]
    )
    assert named["kafka"] == kafka_images[prof.kafka_version]
    assert named["bridge"] == env["STRIMZI_DEFAULT_KAFKA_BRIDGE_IMAGE"]
    sidecar, _ = resources.bridge_sidecar(
        name="s", namespace="ns", cluster="c", user="u", bridge_version=prof.bridge_version, run_id="r"
    )
    assert named["bridge"] in images.pod_images(sidecar)


def test_helm_takes_the_mirror_as_its_default_image_registry() -> None:
    settings = KubeSettings(profile=profile("1.2.0"), run_id="r", image_registry=MIRROR)
    argv = install.helm_command(settings, None)
    assert argv[argv.index(f"defaultImageRegistry={MIRROR}") - 1] == "--set"
    assert not any(
        "defaultImageRegistry" in a
        for a in install.helm_command(KubeSettings(profile=profile("1.2.0"), run_id="r"), None)
    )


def run_plan(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser()
    plan.register(parser.add_subparsers(dest="command"))
    assert plan.run(parser.parse_args(["plan", *argv, "--format", "json"])) == 0
    return list(json.loads(capsys.readouterr().out))


def images_step(steps: list[dict[str, Any]]) -> dict[str, str]:
    return next(s["images"] for s in steps if "images" in s)


@pytest.mark.parametrize("version", sorted(PROFILES))
def test_plan_names_every_image_of_the_cell_at_the_mirror_and_no_other(
    capsys: pytest.CaptureFixture[str], version: str
) -> None:
    """The issue's done-when: `kconform plan --platform kubernetes --provider existing --install yaml
    --profile <v> --image-registry M` names the operator, the Kafka image, the bridge, the client and curl,
    each a full reference at M/, and no image anywhere in the plan at any other registry."""
    steps = run_plan(
        capsys, "--platform", "kubernetes", "--provider", "existing", "--install", "yaml",
        "--profile", version, "--image-registry", MIRROR,
    )  # fmt: skip
    named = images_step(steps)
    prof = profile(version)
    assert set(named.values()) == {
        f"{MIRROR}/strimzi/operator:{version}",
        f"{MIRROR}/strimzi/kafka:{version}-kafka-{prof.kafka_version}",
        f"{MIRROR}/strimzi/kafka-bridge:{prof.bridge_version}",
        f"{MIRROR}/library/python:3.11-slim",
        f"{MIRROR}/curlimages/curl:8.11.1",
    }
    # The images the mirrored release YAML makes the operator run are the ones the plan names.
    settings = KubeSettings(profile=prof, run_id="r", install="yaml", image_registry=MIRROR)
    env = env_of(operator_deployment(install.release_documents(release_yaml(version), settings)))
    assert (
        named["strimzi operator (also Topic/User Operator, Kafka init)"]
        == env["STRIMZI_DEFAULT_USER_OPERATOR_IMAGE"]
    )
    assert f"{prof.kafka_version}={named[f'kafka {prof.kafka_version}']}" in env["STRIMZI_KAFKA_IMAGES"]
    assert named["bridge sidecar pod, container bridge"] == env["STRIMZI_DEFAULT_KAFKA_BRIDGE_IMAGE"]
    every_image = [m.group(1) for m in re.finditer(r'"image": "([^"]+)"', json.dumps(steps))]
    assert every_image and all(i.startswith(f"{MIRROR}/") for i in every_image)
    assert all(i.startswith(f"{MIRROR}/") for i in REFERENCE.findall(json.dumps(named)))


def test_plan_shows_the_client_image_a_run_would_use(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KCONFORM_CLIENT_IMAGE", "registry.example/own/python-kafka:1")
    monkeypatch.setenv("KCONFORM_CLIENT_PIP_INSTALL", "0")
    steps = run_plan(capsys, "--platform", "kubernetes", "--provider", "kind", "--profile", "1.2.0")
    pod = next(s["manifest"] for s in steps if s.get("manifest", {}).get("kind") == "Pod")
    assert pod["spec"]["containers"][0]["image"] == "registry.example/own/python-kafka:1"
    assert images_step(steps)["kconform client pod"] == "registry.example/own/python-kafka:1"
    monkeypatch.setenv(
        "KCONFORM_IMAGE_REGISTRY", "localhost:5000"
    )  # the environment twin of --image-registry
    steps = run_plan(capsys, "--platform", "kubernetes", "--provider", "kind", "--profile", "1.2.0")
    assert images_step(steps)["kconform client pod"] == "localhost:5000/own/python-kafka:1"


def test_plan_refuses_the_obsolete_pip_install_like_a_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KCONFORM_CLIENT_PIP_INSTALL", "1")
    with pytest.raises(UsageError, match="obsolete"):
        run_plan(capsys, "--platform", "kubernetes", "--provider", "kind", "--profile", "1.2.0")


def test_the_platform_applies_its_pods_at_the_mirror() -> None:
    """The bridge sidecar pod is built by the scenario with Strimzi's and Docker Hub's references; the
    platform applies it (and the client pod) at the mirror. `Api` records what the API server was given."""
    from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
    from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo
    from kconform.schemas import SchemaSet

    class Api:
        applied: list[dict[str, Any]] = []

        def apply(self, resource: dict[str, Any]) -> dict[str, Any]:
            self.applied.append(resource)
            return resource

        def get(self, *_: Any) -> None:
            return None

    api = Api()
    settings = KubeSettings(profile=profile("1.2.0"), run_id="r", image_registry="localhost:5000")
    platform = KubernetesPlatform(
        settings, api, ClusterInfo(None, None, "127.0.0.1", created=False), SchemaSet([], "none")
    )  # type: ignore[arg-type]
    pod, _ = resources.bridge_sidecar(
        name="s", namespace="ns", cluster="c", user="u", bridge_version="1.1.0", run_id="r"
    )
    platform.apply(pod)
    assert images.pod_images(api.applied[-1]) == [
        "localhost:5000/curlimages/curl:8.11.1",
        "localhost:5000/strimzi/kafka-bridge:1.1.0",
    ]
    assert images.pod_images(pod)[0] == "docker.io/curlimages/curl:8.11.1"  # the caller's manifest untouched


def test_shared_release_files_are_here() -> None:
    """The tests above read Strimzi's real release YAML; say plainly when it is not beside the project."""
    assert (
        Path(SHARED_INSTALL, "1.2.0", "strimzi-cluster-operator-1.2.0.yaml").is_file()
        or strimzi_files.cache_path("1.2.0", install.operator_yaml_url("1.2.0")).is_file()
    )


def test_the_mirror_travels_from_kconform_run_through_pytest_to_the_platform_settings() -> None:
    """`kconform run --image-registry M` hands it to pytest, whose plugin option (or KCONFORM_IMAGE_REGISTRY)
    reaches the run config and the kubernetes settings; a local run ignores it."""
    from kconform import config as run_config
    from kconform.commands import run

    config = run_config.build(platform="kubernetes", image_registry="localhost:5000", env={})
    argv = run.pytest_argv(config, None, [])
    assert argv[argv.index("--image-registry") + 1] == "localhost:5000"
    assert (
        run_config.build(platform="kubernetes", env={"KCONFORM_IMAGE_REGISTRY": MIRROR}).image_registry
        == MIRROR
    )
    settings = KubeSettings.from_run_config(config, profile("1.2.0"), "kraft")
    assert settings.image_registry == "localhost:5000"
    assert settings.client_image == "localhost:5000/library/python:3.11-slim"
    local = run_config.build(platform="local", image_registry="localhost:5000", env={})
    assert "--image-registry" not in run.pytest_argv(local, None, [])
