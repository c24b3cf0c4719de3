"""No reachable cluster and no way to create one: one line saying why and what to do."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kconform.errors import MissingPrerequisite, UsageError
from kconform.platforms.kubernetes import connect
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.versions import profile


def test_docker_client_without_engine_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "docker"  # a docker client whose engine is down, as on this machine
    fake.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin{os.pathsep}/bin")
    settings = KubeSettings(profile=profile("1.2.0"), run_id="nocluster1")
    with pytest.raises(MissingPrerequisite) as caught:
        connect.create_platform(settings)
    message = str(caught.value)
    assert "\n" not in message
    assert "start Docker or use --provider existing" in message


def test_existing_context_that_does_not_exist_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    settings = KubeSettings(
        profile=profile("1.2.0"),
        run_id="nocluster2",
        provider="existing",
        install="installed",
        context="gone",
        kubeconfig=str(kubeconfig),
    )
    with pytest.raises(UsageError) as caught:  # exit 2 like a missing prerequisite, found before any test
        connect.create_platform(settings)
    assert "\n" not in str(caught.value) and "gone" in str(caught.value)
    assert "kubectl config get-contexts" in str(caught.value)
