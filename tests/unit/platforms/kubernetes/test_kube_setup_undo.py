"""Each setup has its finish: the kubernetes platform removes what its own setup made when it closes (an
ephemeral cluster, an operator installed on the user's cluster), and a setup that fails removes it at once.
No module-level list holds it (connect.SetupUndo belongs to one platform)."""

from __future__ import annotations

from typing import Any

import pytest

from kconform.errors import PlatformError
from kconform.platforms.kubernetes import connect
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.schemas import SchemaSet
from kconform.versions import PROFILES


class _Provider:
    name = "fake"
    ephemeral = True
    creates_cluster = True

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def delete(self) -> None:
        self.calls.append("cluster deleted")


class _Kube:
    def __init__(self, calls: list[str]) -> None:
        outer = calls

        class Api:
            def close(self) -> None:
                outer.append("api closed")

        self.api_client = Api()


def _settings(**kwargs: Any) -> KubeSettings:
    return KubeSettings(profile=PROFILES["1.2.0"], run_id="undo1", **kwargs)


def test_closing_the_platform_uninstalls_then_disconnects_then_removes_its_cluster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(connect, "uninstall", lambda kube, *_: calls.append("operator uninstalled"))
    kube = _Kube(calls)
    undo = connect.SetupUndo()
    undo.remove_at_end(_Provider(calls))  # type: ignore[arg-type]
    undo.installed = (kube, _settings(), None, None)  # type: ignore[assignment]
    plat = KubernetesPlatform(
        _settings(), kube, ClusterInfo(None, None, "127.0.0.1", created=True), SchemaSet([], "none"), undo
    )  # type: ignore[arg-type]
    plat.close()
    assert calls == ["operator uninstalled", "cluster deleted", "api closed"]
    plat.close()  # twice: what was removed is not removed again
    assert calls[3:] == ["api closed"]


def test_a_setup_that_fails_removes_what_it_made_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    provider = _Provider(calls)
    monkeypatch.setattr(connect, "preflight", lambda settings: settings)
    monkeypatch.setattr(connect, "provider_for", lambda settings: provider)

    def set_up(provider: Any, settings: KubeSettings, undo: connect.SetupUndo) -> Any:
        undo.remove_at_end(provider)
        raise PlatformError("the operator never became Available")

    monkeypatch.setattr(connect, "_set_up", set_up)
    with pytest.raises(PlatformError):
        connect.create_platform(_settings(provider="k3s"))
    assert calls == ["cluster deleted"]


def test_with_keep_an_ephemeral_cluster_is_not_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    """--keep: the k3s container outlives the run, and the run says how to remove it."""
    calls: list[str] = []
    said: list[str] = []
    provider: Any = _Provider(calls)
    provider.exists = lambda: False
    provider.fingerprint = lambda: type("F", (), {"to_configmap": lambda self: {}})()
    provider.kept_note = lambda: "--keep: remove it by hand"
    monkeypatch.setattr(connect, "_create", lambda p: ClusterInfo(None, None, "127.0.0.1", created=True))
    monkeypatch.setattr(connect.progress, "report", said.append)

    class Kube:
        def __init__(self, **_: Any) -> None: ...

        def apply(self, _: Any) -> None: ...

    monkeypatch.setattr(connect, "Kube", Kube)
    undo = connect.SetupUndo()
    connect.ensure_cluster(provider, _settings(provider="k3s", keep_cluster=True), undo)
    assert undo.ephemeral is None and said == ["--keep: remove it by hand"]
    connect.ensure_cluster(provider, _settings(provider="k3s"), undo)
    assert undo.ephemeral is provider
    undo()
    assert calls == ["cluster deleted"] and undo.ephemeral is None
