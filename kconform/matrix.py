"""The nightly CI matrix: every valid Kubernetes x Strimzi x metadata-mode cell, read from the versions table.

Per profile the matrix takes the oldest and the newest kind node image the table pins and crosses them with
every mode the profile supports, so ZooKeeper never appears on 1.x and no cell leaves a profile's Kubernetes
range. Each cell carries the exact `kconform run` argv that reproduces it on a laptop.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from kconform import options
from kconform.errors import InvalidCombination
from kconform.versions import PROFILES, KindNodeImage, Profile

# The kind release every node image in the versions table was built for. Node images are only guaranteed to
# work with the kind release that published them, so bumping this means re-pinning every digest.
KIND_VERSION = "v0.31.0"
PLATFORM = options.KUBERNETES  # the CI matrix runs the kubernetes platform's kind provider
PROVIDER = "kind"

_PINNED_IMAGE = re.compile(r"kindest/node:v(?P<version>\d+\.\d+\.\d+)@sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class MatrixCell:
    """One CI job: a Strimzi profile on one Kubernetes version in one metadata mode."""

    id: str
    strimzi: str
    kafka: str  # the profile's default Kafka version, which `kconform run` uses unless told otherwise
    kubernetes: str
    node_image: str
    mode: str
    argv: tuple[str, ...]
    platform: str = PLATFORM
    provider: str = PROVIDER
    kind_version: str = KIND_VERSION

    @property
    def reports_dir(self) -> str:
        return _reports_dir(self.id)

    @property
    def command(self) -> str:
        """The argv as one shell line, for a person to paste or a CI step to run."""
        return shlex.join(self.argv)

    def as_dict(self) -> dict[str, object]:
        """The cell as one entry of GitHub's `strategy.matrix.include` list."""
        return {
            "id": self.id,
            "platform": self.platform,
            "provider": self.provider,
            "kubernetes": self.kubernetes,
            "strimzi": self.strimzi,
            "kafka": self.kafka,
            "mode": self.mode,
            "node_image": self.node_image,
            "kind_version": self.kind_version,
            "reports": self.reports_dir,
            "argv": list(self.argv),
            "command": self.command,
        }


def cells(profiles: Mapping[str, Profile] = PROFILES) -> list[MatrixCell]:
    """All cells, ordered by Strimzi version, then Kubernetes version, then the profile's mode order."""
    result: list[MatrixCell] = []
    for prof in sorted(profiles.values(), key=lambda p: _version_key(p.strimzi)):
        for image in _oldest_and_newest(prof):
            for mode in prof.modes:
                result.append(_cell(prof, image, mode))
    return result


def include(selected: list[MatrixCell]) -> dict[str, list[dict[str, object]]]:
    """GitHub's matrix include form: `strategy.matrix: ${{ fromJSON(...) }}` expands one job per entry."""
    return {"include": [cell.as_dict() for cell in selected]}


def _cell(prof: Profile, image: KindNodeImage, mode: str) -> MatrixCell:
    cell_id = f"strimzi-{prof.strimzi}-k8s-{image.kubernetes}-{mode}"
    argv = (
        "kconform",
        "run",
        "--platform",
        PLATFORM,
        "--provider",
        PROVIDER,
        "--profile",
        prof.strimzi,
        "--mode",
        mode,
        "--kubernetes",
        image.kubernetes,
        "--reports",
        _reports_dir(cell_id),
    )
    return MatrixCell(
        id=cell_id,
        strimzi=prof.strimzi,
        kafka=prof.kafka_version,
        kubernetes=image.kubernetes,
        node_image=image.image,
        mode=mode,
        argv=argv,
    )


def _oldest_and_newest(prof: Profile) -> list[KindNodeImage]:
    """The profile's oldest and newest node image (one when they coincide), after checking every pin."""
    fix = f"fix kind_node_images of Strimzi {prof.strimzi} in kconform/versions.py"
    if not prof.kind_node_images:
        raise InvalidCombination(f"Strimzi {prof.strimzi} pins no kind node image; {fix}")
    low, high = _version_key(prof.min_kubernetes), _version_key(prof.max_kubernetes)
    for image in prof.kind_node_images:
        match = _PINNED_IMAGE.fullmatch(image.image)
        if match is None or match["version"] != image.kubernetes:
            raise InvalidCombination(
                f"node image {image.image!r} is not kindest/node:v{image.kubernetes}@sha256:<digest>; {fix}"
            )
        # The profile's range is by minor version: max 1.32 admits every 1.32.x patch.
        if not low <= _version_key(image.kubernetes)[:2] <= high:
            raise InvalidCombination(
                f"Kubernetes {image.kubernetes} is outside Strimzi {prof.strimzi}'s range "
                f"{prof.min_kubernetes}-{prof.max_kubernetes}; {fix}"
            )
    ordered = sorted(prof.kind_node_images, key=lambda image: _version_key(image.kubernetes))
    oldest, newest = ordered[0], ordered[-1]
    return [oldest] if oldest.kubernetes == newest.kubernetes else [oldest, newest]


def _reports_dir(cell_id: str) -> str:
    return f"reports/{cell_id}"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
