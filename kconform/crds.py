"""The Strimzi CRDs each profile validates manifests against: where they come from and what they hash to.

Lookup order for a Strimzi version: KCONFORM_CRD_DIR/<version>/ (an explicit choice: never downloaded
into), then ../shared/strimzi-crds/<version>/ beside the project, then the cache
(<cache>/crds/<version>/), filled on first use from the Strimzi repository at the release tag. Every
downloaded file must match the SHA-256 pinned here, which is the digest of
`packaging/install/cluster-operator/<file>` at that tag.
"""

from __future__ import annotations

from pathlib import Path

from kconform import fetch, options, paths
from kconform.errors import MissingPrerequisite

STRIMZI_URL_ENV = (
    "KCONFORM_STRIMZI_URL"  # a mirror of raw.githubusercontent.com/strimzi/strimzi-kafka-operator
)
DEFAULT_STRIMZI_URL = "https://raw.githubusercontent.com/strimzi/strimzi-kafka-operator"
CRD_PATH = "packaging/install/cluster-operator"

# Strimzi version -> CRD file -> SHA-256 of that file at the release tag. Only the kinds the harness
# renders are listed (Kafka, KafkaNodePool, KafkaTopic, KafkaUser, KafkaBridge).
CRD_SHA256: dict[str, dict[str, str]] = {
    "0.45.2": {
        "040-Crd-kafka.yaml": "d345f6c9eb72f991e1018a08f5a40bad6d4c41c2f6a7e492b43bbbf2cd4e5a72",
        "043-Crd-kafkatopic.yaml": "b6ef3c460eb018c63a37c662ef4251ccd03d321ba3a6ae27c7e0e6a94eb63395",
        "044-Crd-kafkauser.yaml": "58df902c3122452ecd3b207fcee395fbd84aea365bdd57ca4a69416eee4e2998",
        "046-Crd-kafkabridge.yaml": "dfcfb929ed1c709a635379293cf993893934db8b04adcbb42be9c3d540b9e2be",
        "04A-Crd-kafkanodepool.yaml": "7812a7bcb236217c8460258cbc9cfae6194f0eb3be8a07afc5f19cbea45ff0ab",
    },
    "1.2.0": {
        "040-Crd-kafka.yaml": "b5b27fc8d52068a77cde7c40d47c068023c7b4e92fc266c45200db2d2506392a",
        "043-Crd-kafkatopic.yaml": "36390f0731c699448076d4ee739e8b7f331d083e91a7fb71500aaa830ab1127e",
        "044-Crd-kafkauser.yaml": "c7e91b9b027a516b43dc7d369e781ee23a6ea177ae15fe0c33af6f722e26e05f",
        "045-Crd-kafkanodepool.yaml": "411c1b32ef8c1a6408ac9d4fe791115a6ce2b41107204588f976a3ed19be2430",
        "046-Crd-kafkabridge.yaml": "0b20cb76e3217b9183a40464b51e2344cbd672bdf5bab33f39c9f67e9326a411",
    },
}

FIX = (
    "set KCONFORM_CRD_DIR to a folder with one <strimzi-version>/ subfolder holding that release's CRD files"
)


def base_url() -> str:
    return (options.setting(STRIMZI_URL_ENV) or DEFAULT_STRIMZI_URL).rstrip("/")


def crd_url(version: str, file: str) -> str:
    return f"{base_url()}/{version}/{CRD_PATH}/{file}"


def cache_folder(version: str) -> Path:
    return paths.cache_dir() / "crds" / version


def _complete(folder: Path, version: str) -> bool:
    return all((folder / name).is_file() for name in CRD_SHA256.get(version, {}))


def crd_folder(version: str, *, fetch_missing: bool = True, root: Path | None = None) -> Path:
    """The folder holding the CRDs of Strimzi `version`, downloading them into the cache if needed.

    `root` (pytest's --crd-dir) is an explicit choice like KCONFORM_CRD_DIR and wins over it."""
    setting = "--crd-dir" if root is not None else "KCONFORM_CRD_DIR"
    override = str(root) if root is not None else options.from_environment().get("crd_dir")
    if override:
        folder = Path(override).expanduser() / version
        if not folder.is_dir():
            raise MissingPrerequisite(
                f"no CRDs for Strimzi {version}: {folder} does not exist ({setting}={override}); "
                f"put that release's CRD files there or drop {setting} to download them"
            )
        return folder
    shared = paths.shared_crd_root()
    if shared is not None and (shared / version).is_dir():
        return shared / version
    pinned = CRD_SHA256.get(version)
    if pinned is None:
        raise MissingPrerequisite(f"kconform pins no CRDs for Strimzi {version}; {FIX}")
    folder = cache_folder(version)
    if _complete(folder, version):
        return folder
    if not fetch_missing:
        raise fetch.NotFetchedYet(f"fetched on first use into {folder}")
    for name, sha256 in pinned.items():
        try:
            fetch.download(
                crd_url(version, name),
                folder / name,
                digest=fetch.Digest("sha256", sha256),
                label=f"Strimzi {version} {name}",
            )
        except fetch.DownloadFailed as err:
            raise type(err)(f"cannot fetch the Strimzi {version} CRDs: {err}; {FIX}") from err
    return folder
