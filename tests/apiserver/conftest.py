"""Real kube-apiservers (each with its etcd) for tests marked `apiserver`, started once per session and worker.

The two Strimzi generations' CRDs share their names, and 1.2.0's cannot be installed over 0.45.2's (one test
proves the API server refuses it), so each worker runs one server per CRD generation, plus a bare one for
the upgrade test; each starts on first use (~2 s) and all stop at the end of the session — also on Ctrl-C
and SIGTERM — and the teardown checks that no process is left.

The binaries come from `python -m tests.apiserver.build` (.ci/run calls it); when they are missing every
test here fails with that one line, never skips. Logs: reports/logs/apiserver-<worker>/<server>/.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kconform.platforms.kubernetes import crd_install
from kconform.platforms.kubernetes.kube import Kube
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.platforms.local.processes import group_members, install_signal_handlers
from kconform.schemas import SchemaSet
from kconform.versions import PROFILES, Profile
from tests.apiserver import build, server
from tests.apiserver.server import ApiServer

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


class ServerPool:
    """API servers by name, started on first use; `stop_all` stops every one and checks none is left."""

    def __init__(self, binaries: tuple[Path, Path], workdir: Path) -> None:
        self._binaries = binaries
        self._workdir = workdir
        self._servers: dict[str, ApiServer] = {}
        self._kubes: dict[str, Kube] = {}
        self.run_id = f"apiserver-{WORKER}-{uuid.uuid4().hex[:6]}"

    def get(self, name: str) -> ApiServer:
        if name not in self._servers:
            kube_apiserver, etcd = self._binaries
            self._servers[name] = server.start(
                kube_apiserver=kube_apiserver,
                etcd=etcd,
                workdir=self._workdir / name,
                log_dir=PROJECT_ROOT / "reports" / "logs" / f"apiserver-{WORKER}" / name,
                run_id=self.run_id,
            )
        return self._servers[name]

    def kube(self, name: str) -> Kube:
        """The kubernetes platform's own API facade, connected through that server's kubeconfig."""
        if name not in self._kubes:
            running = self.get(name)
            self._kubes[name] = Kube(context=running.context, kubeconfig=str(running.kubeconfig))
        return self._kubes[name]

    def undo_test_wrappers(self) -> list[str]:
        """Drop what a test double set on a pooled Kube (e.g. its `get` wrapped to play the operator on each
        read): the Kubes outlive the test, and a wrapper left behind plays its part in later tests (one
        wrote Ready over another test's Kafka). Returns what was dropped."""
        dropped = []
        for name, kube in self._kubes.items():
            for attribute in [a for a in vars(kube) if callable(getattr(type(kube), a, None))]:
                del vars(kube)[attribute]
                dropped.append(f"{name}: Kube.{attribute}")
        return dropped

    def pids(self) -> list[int]:
        return [pid for s in self._servers.values() for pid in s.pids()]

    def stop_all(self) -> None:
        for kube in self._kubes.values():
            kube.api_client.close()
        for running in reversed(self._servers.values()):
            running.stop()
        left = [pid for pid in self.pids() if group_members(pid)]
        assert not left, f"processes left after stopping the API servers: {left}"


@pytest.fixture(scope="session")
def apiserver_binaries() -> tuple[Path, Path]:
    missing = [t for t in build.TARGETS if not build.is_built(t)]
    if missing:
        pytest.fail(
            f"{', '.join(t.name for t in missing)} not built in {build.install_dir()}: "
            "run `python -m tests.apiserver.build` (needs Go; .ci/run does it)",
            pytrace=False,
        )
    return build.binary(build.KUBE_APISERVER), build.binary(build.ETCD)


@pytest.fixture(scope="session")
def servers(
    apiserver_binaries: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerPool]:
    if threading.current_thread() is threading.main_thread():
        install_signal_handlers()  # SIGTERM -> SystemExit, so this teardown runs
    pool = ServerPool(apiserver_binaries, tmp_path_factory.mktemp("apiservers"))
    try:
        yield pool
    finally:
        pool.stop_all()


@pytest.fixture(scope="session", params=sorted(PROFILES), ids=lambda v: f"strimzi-{v}")
def profile(request: pytest.FixtureRequest) -> Profile:
    return PROFILES[request.param]


def kube_with_crds(servers: ServerPool, profile: Profile) -> Kube:
    """The server holding exactly this profile's CRDs, installed from the profile's CRD files on first use."""
    kube = servers.kube(profile.strimzi)
    if not kube.crds():
        crd_install.apply_crds(kube, crd_install.crd_documents(crd_install.crd_folder(profile)))
    return kube


def make_platform(servers: ServerPool, profile: Profile, mode: str, run_id: str) -> KubernetesPlatform:
    """The kubernetes platform exactly as connect.create_platform hands it out, minus installing the operator:
    provider `existing`, this server's context, the validator built from the CRDs the server serves."""
    kube = kube_with_crds(servers, profile)
    running = servers.get(profile.strimzi)
    settings = KubeSettings(
        profile=profile,
        run_id=run_id,
        provider="existing",
        mode=mode,
        context=running.context,
        kubeconfig=str(running.kubeconfig),
    )
    cluster = ClusterInfo(running.context, str(running.kubeconfig), "127.0.0.1", created=False)
    return KubernetesPlatform(settings, kube, cluster, SchemaSet.from_crds(kube.crds()))


@pytest.fixture(autouse=True)
def _pooled_kubes_as_found(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that used the servers, the pooled Kubes lose any method a test double wrapped."""
    yield
    if "servers" in request.fixturenames:
        request.getfixturevalue("servers").undo_test_wrappers()


@pytest.fixture(scope="session")
def profile_kube(servers: ServerPool, profile: Profile) -> Kube:
    return kube_with_crds(servers, profile)
