"""One real single-node Kubernetes (tests/node/cluster.py) for the tests marked `node`, started once per session.

The tier is opt-in: its tests run only when `-m` names `node` (`python -m pytest -m node`, as .ci/run does in
an invocation of its own), so the README's `python -m pytest -n 2` never starts a node per xdist worker. A
node holds fixed addresses inside its own namespaces but shares the host's cgroups and sysctls, so one
machine runs one node at a time: `-m node` with several xdist workers is refused, and a machine-wide lock
makes a second session wait for the first.

The node stops at the end of the session, also on Ctrl-C and SIGTERM (and at exit after a crash of the
session), and the teardown fails when anything is left: a process, the veth, a cgroup, a changed sysctl.
The binaries and images come from `python -m tests.node.build`; when they are missing every test fails with
that one line, never skips. Logs: reports/logs/node/.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from _pytest.mark.expression import Expression

from kconform.platforms.kubernetes.kube import Kube
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.schemas import SchemaSet
from kconform.versions import PROFILES
from tests.node import build, cluster, images
from tests.node.cluster import Node

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NODE_LOCK_TIMEOUT_S = 1800.0  # another session's node on this machine: wait for it to stop
# Debian's python3 and nothing else: kconform ships kafka-python into the client pod itself (no PyPI, no egress).
PYTHON_IMAGE = images.PYTHON.reference


def _selects_node(config: pytest.Config) -> bool:
    """Whether `-m` asks for this tier by name: its expression holds for a test marked `node` but not for an
    unmarked one (`-m "not bridge"` holds for both, and must not start a node in every xdist worker)."""
    markexpr = config.getoption("markexpr", "") or ""
    if not markexpr:
        return False
    expression = Expression.compile(markexpr)

    def only_node(name: str, /, **kwargs: str | int | bool | None) -> bool:
        return name == "node"

    def unmarked(name: str, /, **kwargs: str | int | bool | None) -> bool:
        return False

    return bool(expression.evaluate(only_node)) and not expression.evaluate(unmarked)


def pytest_configure(config: pytest.Config) -> None:
    workers = config.getoption("numprocesses", None) if config.pluginmanager.hasplugin("xdist") else None
    if _selects_node(config) and workers not in (None, 0, "0"):
        raise pytest.UsageError(
            "the node tier runs one node per machine: run `python -m pytest -m node` without -n"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _selects_node(config):
        return
    node_items = [item for item in items if item.get_closest_marker("node")]
    if node_items:
        config.hook.pytest_deselected(items=node_items)
        items[:] = [item for item in items if not item.get_closest_marker("node")]


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    if os.geteuid() != 0:
        pytest.fail(
            "the node tier runs as root (network namespaces, cgroups, host sysctls): "
            "sudo -E python -m pytest -m node",
            pytrace=False,
        )
    if not build.is_built():
        pytest.fail(
            f"the node is not built in {build.install_dir()}: run `python -m tests.node.build` "
            "(needs Go and the Debian packages in .ci/apt-packages.txt; .ci/run does it)",
            pytrace=False,
        )
    if threading.current_thread() is threading.main_thread():
        # SIGTERM ends the session as Ctrl-C does (pytest stops and runs this teardown); as SystemExit it would
        # fail only the running test, and the session would go on with the next.
        signal.signal(signal.SIGTERM, _interrupt)
    with cluster.machine_lock(NODE_LOCK_TIMEOUT_S):
        running = cluster.start(
            workdir=tmp_path_factory.mktemp("node"), log_dir=PROJECT_ROOT / "reports" / "logs" / "node"
        )
        atexit.register(running.stop)  # a session that dies without its teardown still cleans up
        try:
            yield running
        finally:
            left = running.stop()
            atexit.unregister(running.stop)
            assert not left, f"the node left something behind: {left}"


@pytest.fixture(scope="session")
def kube(node: Node) -> Iterator[Kube]:
    """The kubernetes platform's own API facade, through the node's admin kubeconfig."""
    facade = Kube(context=node.context, kubeconfig=str(node.kubeconfig))
    yield facade
    facade.api_client.close()


def run_id() -> str:
    return f"node{os.getpid() % 1000}{uuid.uuid4().hex[:5]}"


def make_platform(
    node: Node, *, profile: str = "1.2.0", run: str | None = None, client_image: str = PYTHON_IMAGE
) -> KubernetesPlatform:
    """The kubernetes platform as `--provider existing --external-host <node IP>` hands it out, with the
    node's python image as the client image."""
    settings = KubeSettings(
        profile=PROFILES[profile],
        run_id=run or run_id(),
        provider="existing",
        context=node.context,
        kubeconfig=str(node.kubeconfig),
        client_image=client_image,
        external_host=node.node_ip,
    )
    kube = Kube(context=node.context, kubeconfig=str(node.kubeconfig))
    info = ClusterInfo(node.context, str(node.kubeconfig), node.node_ip, created=False)
    return KubernetesPlatform(settings, kube, info, SchemaSet.from_crds([]))


@pytest.fixture(scope="module")
def platform(node: Node) -> Iterator[KubernetesPlatform]:
    """One platform per test module (as one kconform run has one)."""
    made = make_platform(node)
    yield made
    made.close()


@pytest.fixture(scope="module")
def namespace(platform: KubernetesPlatform) -> Iterator[str]:
    """A namespace the module's platform creates (kconform's marker and run label) and deletes after it."""
    name = f"{platform.settings.run_id}-ns"
    platform.create_namespace(name)
    yield name
    platform.delete_namespace(name)
