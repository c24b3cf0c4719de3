"""The Strimzi CRDs from the profile's CRD files, installed with the kubernetes platform's Kube facade, and the
upgrade from 0.45.2's CRDs (which store v1beta2) to 1.2.0's (v1 only) refused — by kconform first, in one
line, and by the API server itself."""

from __future__ import annotations

import pytest

from kconform.errors import ManifestError, UsageError
from kconform.platforms.kubernetes import crd_install
from kconform.platforms.kubernetes.kube import Kube
from kconform.schemas import SchemaSet
from kconform.versions import PROFILES, Profile
from tests.apiserver.conftest import ServerPool

pytestmark = pytest.mark.apiserver
OLD, NEW = PROFILES["0.45.2"], PROFILES["1.2.0"]


def test_profile_crds_install_and_serve_the_profile_api(profile: Profile, profile_kube: Kube) -> None:
    documents = crd_install.crd_documents(crd_install.crd_folder(profile))
    installed = {c["metadata"]["name"]: c for c in profile_kube.crds()}
    assert set(installed) == {d["metadata"]["name"] for d in documents}
    for crd in installed.values():
        assert crd_install.established(crd)
        served = {v["name"] for v in crd["spec"]["versions"] if v["served"]}
        assert profile.crd_api in served
        assert crd["status"]["storedVersions"] == [profile.crd_api]
    # The platform builds its validator from what the server serves: the same kinds as the files.
    from_server = SchemaSet.from_crds(profile_kube.crds(), origin="the installed CRDs")
    assert from_server.kinds == SchemaSet.for_profile(profile).kinds


def test_reapplying_the_same_crds_is_allowed(profile: Profile, profile_kube: Kube) -> None:
    documents = crd_install.crd_documents(crd_install.crd_folder(profile))
    crd_install.check_crd_upgrade(profile_kube.crds(), documents)
    crd_install.apply_crds(profile_kube, documents)
    assert all(crd_install.established(c) for c in profile_kube.crds())


@pytest.fixture(scope="module")
def old_crds_cluster(servers: ServerPool) -> Kube:
    """A cluster that ran Strimzi 0.45.2: its CRDs store v1beta2."""
    kube = servers.kube("upgrade")
    if not kube.crds():
        crd_install.apply_crds(kube, crd_install.crd_documents(crd_install.crd_folder(OLD)))
    return kube


def test_kconform_refuses_the_1x_crds_over_stored_v1beta2_in_one_line(old_crds_cluster: Kube) -> None:
    new_documents = crd_install.crd_documents(crd_install.crd_folder(NEW))
    with pytest.raises(UsageError) as refused:
        crd_install.apply_crds(old_crds_cluster, new_documents)
    message = str(refused.value)
    assert "\n" not in message
    assert "v1beta2" in message and "storedVersions" in message
    assert "convert" in message and "crd-upgrade" in message
    # Nothing was touched: the cluster still serves and stores v1beta2.
    for crd in old_crds_cluster.crds():
        assert "v1beta2" in {v["name"] for v in crd["spec"]["versions"]}


def test_the_api_server_refuses_it_too(old_crds_cluster: Kube) -> None:
    """What kconform's check prevents: the API server rejects a CRD that drops a stored version (422)."""
    kafka_crd = next(
        d
        for d in crd_install.crd_documents(crd_install.crd_folder(NEW))
        if d["metadata"]["name"] == "kafkas.kafka.strimzi.io"
    )
    with pytest.raises(ManifestError) as refused:
        old_crds_cluster.apply(kafka_crd)
    assert "storedVersions" in str(refused.value) and "v1beta2" in str(refused.value)


def test_check_passes_once_v1_is_the_only_stored_version() -> None:
    """After Strimzi's crd-upgrade step storedVersions is [v1]: then the 1.x CRDs may be installed."""
    new_documents = crd_install.crd_documents(crd_install.crd_folder(NEW))
    converted = [
        {"metadata": d["metadata"], "spec": d["spec"], "status": {"storedVersions": ["v1"]}}
        for d in new_documents
    ]
    crd_install.check_crd_upgrade(converted, new_documents)
