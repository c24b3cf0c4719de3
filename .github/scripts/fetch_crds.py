"""Prepare KCONFORM_CRD_DIR in CI: a <strimzi-version>/ folder of CRD files per profile of the versions table.

GitHub runners do not have ../shared/strimzi-crds beside the checkout, so this downloads each profile's
`strimzi-crds-<version>.yaml` release asset (all CRDs in one multi-document file) and splits it into one
file per CustomResourceDefinition, the layout kconform's schema validation reads.

Standard library only (plus kconform.versions, which is too), so CI can run it before anything is installed.

Usage: PYTHONPATH=. python .github/scripts/fetch_crds.py DEST_DIR
"""

from __future__ import annotations

import re
import sys
import urllib.request
from pathlib import Path

from kconform.versions import PROFILES

RELEASE_ASSET = (
    "https://github.com/strimzi/strimzi-kafka-operator/releases/download/{v}/strimzi-crds-{v}.yaml"
)
_DOCUMENT_START = re.compile(r"^---[ \t]*$", re.MULTILINE)
# Strimzi's CRD documents are plain block YAML: top-level keys at column 0, metadata fields two spaces in.
_CRD_KIND = re.compile(r"^kind:[ \t]*CustomResourceDefinition[ \t]*$", re.MULTILINE)
_METADATA_NAME = re.compile(r"^metadata:[ \t]*\n(?:[ \t]+.*\n)*?  name:[ \t]*[\"']?([\w.-]+)", re.MULTILINE)


def split_crds(text: str, dest: Path) -> list[Path]:
    """Write every CRD document of a multi-document YAML stream to dest/<crd name>.yaml, byte for byte."""
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for chunk in _DOCUMENT_START.split(text):
        name = _METADATA_NAME.search(chunk)
        if _CRD_KIND.search(chunk) is None or name is None:
            continue  # empty documents between separators, or anything that is not a CRD
        path = dest / f"{name[1]}.yaml"
        path.write_text(chunk.strip("\n") + "\n", encoding="utf-8")
        written.append(path)
    if not written:
        raise SystemExit(f"no CustomResourceDefinition found for {dest.name}; is the release asset right?")
    return written


def download(version: str) -> str:
    url = RELEASE_ASSET.format(v=version)
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - a fixed https URL
        body: bytes = response.read()
    return body.decode("utf-8")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[0])
    for version in PROFILES:
        files = split_crds(download(version), root / version)
        print(f"{version}: {len(files)} CRDs in {root / version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
