"""The platform registry (kconform.platforms.registry): every "which platform?" is asked there.

Outside the registry, the option table and the platforms' own packages no code names a platform: a new
platform then touches the registry, the option table and the import-linter contract, nothing else.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from kconform import config as run_config
from kconform import options, versions
from kconform.errors import InvalidCombination
from kconform.paths import PROJECT_ROOT
from kconform.platforms import registry
from kconform.platforms.kubernetes.providers import PROVIDERS
from kconform.platforms.kubernetes.settings import KubeSettings

# The check: grep -rnE '"(local|kubernetes)"' kconform fixtures
PLATFORM_LITERAL = re.compile(r'"(local|kubernetes)"')
ALLOWED = ("kconform/platforms/", "kconform/options.py")
# "kubernetes" is also the name of a cell's Kubernetes-version field (--kubernetes, RunConfig.kubernetes,
# conformance.json's cells): as a key it names that field, not the platform.
CELL_FIELDS_NAME = "CELL_FIELDS"


def _sources() -> list[Path]:
    return sorted(p for folder in ("kconform", "fixtures") for p in (PROJECT_ROOT / folder).rglob("*.py"))


def _field_keys(tree: ast.AST) -> set[int]:
    """ids of string constants used as a field's key: `x["k"]`, `x.get("k")`, `{"k": ...}`, CELL_FIELDS."""
    keys: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            keys.add(id(node.slice))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            keys.update(id(arg) for arg in node.args[:1])
        elif isinstance(node, ast.Dict):
            keys.update(id(key) for key in node.keys if key is not None)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == CELL_FIELDS_NAME for t in node.targets
        ):
            keys.update(id(element) for element in ast.walk(node.value))
    return keys


def test_platform_names_appear_only_in_the_registry_the_option_table_and_the_platforms() -> None:
    found = []
    for path in _sources():
        relative = path.relative_to(PROJECT_ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        if relative.startswith(ALLOWED) or not PLATFORM_LITERAL.search(text):
            continue
        tree = ast.parse(text)
        keys = _field_keys(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in registry.names() and id(node) not in keys:
                found.append(f"{relative}:{node.lineno}: {node.value!r}")
    assert not found, "ask kconform.platforms.registry instead of naming a platform:\n" + "\n".join(found)


def test_the_check_finds_a_platform_name_in_a_comparison() -> None:
    """The control: a comparison with a platform's name is what the check above reports."""
    tree = ast.parse('if config.platform == "kubernetes":\n    x = values["kubernetes"]\n')
    keys = _field_keys(tree)
    named = [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value == "kubernetes"]
    assert len(named) == 2 and [id(n) in keys for n in named].count(False) == 1


def test_the_registry_and_the_option_table_name_the_same_platforms_and_providers() -> None:
    assert registry.names() == options.PLATFORMS == options.BY_DEST["platform"].choices
    assert tuple(PROVIDERS) == options.PROVIDERS == options.BY_DEST["provider"].choices
    assert registry.with_providers() == (options.KUBERNETES,)
    for kind in registry.KNOWN:
        assert set(kind.providers) <= set(PROVIDERS)
        assert kind.default_provider is None or kind.default_provider in kind.providers


def test_an_unknown_platform_is_one_line() -> None:
    with pytest.raises(InvalidCombination) as caught:
        registry.get("openshift")
    assert str(caught.value) == "unknown platform 'openshift'; choose one of: local, kubernetes"
    with pytest.raises(InvalidCombination, match="unknown platform 'openshift'"):
        run_config.build(platform="openshift", env={})


def test_each_platform_owns_its_option_defaults() -> None:
    local, kubernetes = (run_config.build(platform=name, env={}) for name in options.PLATFORMS)
    assert local.profiles == tuple(versions.PROFILES) and local.provider is None
    assert kubernetes.profiles == (versions.DEFAULT_PROFILE,) and kubernetes.provider == "kind"
    assert (local.cluster_concurrency, kubernetes.cluster_concurrency) == (2, 4)
    with pytest.raises(InvalidCombination, match="--provider applies to --platform kubernetes only"):
        run_config.build(platform="local", provider="kind", env={})


def test_providers_say_whether_they_create_their_cluster_and_keep_it() -> None:
    assert {name for name, p in PROVIDERS.items() if not p.creates_cluster} == {"existing"}
    assert {name for name, p in PROVIDERS.items() if p.ephemeral} == {"k3s"}
    assert {name for name, p in PROVIDERS.items() if p.docker} == {"kind", "minikube", "k3s"}
    settings = KubeSettings(profile=versions.profile("1.2.0"), run_id="reg1")
    written = PROVIDERS["kind"](settings).cluster_config()
    assert written is not None and written[0]["kind"] == "Cluster"
    assert PROVIDERS["minikube"](settings).cluster_config() is None


def test_a_planned_cell_names_the_pinned_kubernetes_of_a_created_cluster_only() -> None:
    prof = versions.profile("1.2.0")
    for provider, kubernetes in (("kind", prof.kind_node_images[-1].kubernetes), ("existing", None)):
        config = run_config.build(platform="kubernetes", provider=provider, context="c", env={})
        cell = registry.get(config.platform).planned_cell(config, prof, "kraft")
        assert dataclasses.asdict(cell) == {
            "platform": "kubernetes",
            "provider": provider,
            "kubernetes": kubernetes,
            "strimzi": "1.2.0",
            "kafka": prof.kafka_version,
            "mode": "kraft",
        }
    local = run_config.build(platform="local", env={})
    assert registry.get("local").planned_cell(local, prof, "kraft") == registry.cell_of(local, prof, "kraft")


def test_only_the_kubernetes_platform_has_a_plan() -> None:
    assert registry.with_plan() == ("kubernetes",)
    assert registry.get("local").plan(run_config.build(platform="local", env={})) is None
