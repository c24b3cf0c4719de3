"""The client pod's kconform code is derived from its entry module, not listed by hand: what the entry imports
at load time is shipped, and an import the pod could not satisfy is an error before any pod runs.

The import-linter contract `shipped_client` (tests/support/import_contracts.py, configured in pyproject.toml)
states what that code may import, function-level imports included; it is exercised here on small graphs.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp
import pytest

from kconform.errors import PlatformError
from kconform.paths import PROJECT_ROOT
from kconform.platforms.kubernetes import client_pod
from tests.support.import_contracts import ShippedClientContract


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"kconform/__init__.py": "", "kconform/clients/__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_pod_gets_the_entry_module_and_what_it_imports_from_kconform() -> None:
    shipped = client_pod.shipped_modules()
    assert shipped[0] == "kconform/__init__.py"
    assert shipped[-1] == "kconform/clients/remote.py"  # after everything it imports
    assert {"kconform/errors.py", "kconform/clients/operations.py", "kconform/clients/kafka.py"} <= set(
        shipped
    )
    assert not any(p.startswith("kconform/platforms/") for p in shipped)
    assert "kconform/secrets.py" not in shipped  # imported inside a function that runs on the host only
    configmap = client_pod.code_configmap("ns", {})
    volume = next(
        v for v in client_pod.pod("ns", {}, "python:3.11-slim")["spec"]["volumes"] if "configMap" in v
    )
    mounted = {item["path"] for item in volume["configMap"]["items"]}
    assert set(shipped) <= mounted
    assert {k for k in configmap["data"] if k != "entry.py"} == {p.replace("/", "__") for p in shipped}


def test_a_module_the_entry_imports_is_shipped_without_being_listed(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "kconform/clients/remote.py": "import json\nfrom kconform.clients import probes\n",
            "kconform/clients/probes.py": "from . import wire\nimport kafka.errors\n",
            "kconform/clients/wire.py": "def f():\n    from kconform import platforms  # not at load time\n",
        },
    )
    assert client_pod.shipped_modules(root) == (
        "kconform/__init__.py",
        "kconform/clients/__init__.py",
        "kconform/clients/wire.py",
        "kconform/clients/probes.py",
        "kconform/clients/remote.py",
    )
    data = client_pod.code_configmap("ns", {}, root=root)["data"]
    assert data["kconform__clients__probes.py"] == (root / "kconform/clients/probes.py").read_text()


@pytest.mark.parametrize(
    ("probes", "named"),
    [
        ("import httpx\n", "httpx"),  # a third-party package the pod does not have
        ("if True:\n    import kconform.clients.gone\n", "kconform.clients.gone"),  # no such module
    ],
)
def test_an_import_the_pod_cannot_satisfy_fails_the_configmap_before_any_pod(
    tmp_path: Path, probes: str, named: str
) -> None:
    root = _tree(
        tmp_path,
        {
            "kconform/clients/remote.py": "from kconform.clients import probes\n",
            "kconform/clients/probes.py": probes,
        },
    )
    with pytest.raises(PlatformError, match=named.replace(".", r"\.")):
        client_pod.code_configmap("ns", {}, root=root)


def _graph(imports: list[tuple[str, str]]) -> grimp.ImportGraph:
    graph = grimp.ImportGraph()
    for importer, imported in imports:
        for module in (importer, imported):
            graph.add_module(module, is_squashed=not module.startswith("kconform"))
        graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="import")
    return graph


def _contract(**options: object) -> ShippedClientContract:
    return ShippedClientContract(
        "shipped",
        {},
        {
            "entry": "kconform.clients.remote",
            "modules": ["kconform", "kconform.errors", "kconform.clients", "kconform.clients.*"],
            "externals": ["kafka"],
            **options,
        },
    )


CLEAN = [
    ("kconform.clients.remote", "kconform.clients.kafka"),
    ("kconform.clients.kafka", "kafka"),
    ("kconform.clients.kafka", "json"),
    ("kconform.clients.kafka", "kconform.errors"),
    ("kconform.platforms.kubernetes.client_pod", "kconform.clients.kafka"),  # an importer, not shipped
    ("kconform.platforms.kubernetes.client_pod", "httpx"),
]


def test_the_contract_holds_for_stdlib_kafka_and_client_modules() -> None:
    assert _contract().check(_graph(CLEAN), verbose=False).kept


@pytest.mark.parametrize(
    "extra",
    [
        ("kconform.clients.kafka", "kconform.secrets"),  # a kconform module outside the client code
        ("kconform.errors", "yaml"),  # a third-party package, reached indirectly
        ("kconform.clients", "kconform.platforms"),  # from a package's __init__, which runs first
    ],
)
def test_the_contract_breaks_on_an_import_the_pod_would_not_have(extra: tuple[str, str]) -> None:
    check = _contract().check(_graph([*CLEAN, extra]), verbose=False)
    assert not check.kept
    assert [(i, m) for i, m, _ in check.metadata["illegal"]] == [extra]


def test_an_ignored_import_is_not_followed() -> None:
    graph = _graph(
        [*CLEAN, ("kconform.clients.kafka", "kconform.secrets"), ("kconform.secrets", "cryptography")]
    )
    check = _contract(ignore_imports=["kconform.clients.kafka -> kconform.secrets"]).check(
        graph, verbose=False
    )
    assert check.kept


def test_the_projects_contract_and_the_pod_agree_on_the_entry_and_the_externals() -> None:
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "shipped_client"]
    assert contract["entry"] == client_pod.ENTRY_MODULE
    assert set(contract["externals"]) == client_pod.SHIPPED_EXTERNALS
    assert (PROJECT_ROOT / "manifests/clients/entry.py").read_text().count(
        f'"-m", "{client_pod.ENTRY_MODULE}"'
    ) == 1
