"""kconform's own CRD validator (kconform/schemas.py) against the real API server, over a generated corpus.

Every document of tests/apiserver/corpus.py goes to both: SchemaSet.problems() and a server-side apply with
dryRun=All and fieldValidation=Strict. They must agree on accept/refuse; where they may not, KNOWN says why.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from kconform.errors import ManifestError
from kconform.platforms.kubernetes import crd_install
from kconform.platforms.kubernetes.kube import Kube
from kconform.schemas import SchemaSet
from kconform.versions import Profile
from tests.apiserver import corpus
from tests.apiserver.conftest import WORKER
from tests.apiserver.test_manifests import scenario_documents

pytestmark = pytest.mark.apiserver
MIN_CASES = 500
LOG_DIR = Path(__file__).resolve().parents[2] / "reports" / "logs" / f"apiserver-{WORKER}"

# Disagreements that stay, as (regex on the case label, regex on the API server's message, why).
KNOWN: list[tuple[str, str, str]] = [
    (
        r"^KafkaUser spec\.authentication\.(validityDays|renewalDays): optional field added$",
        r"validityDays.*renewalDays|renewalDays.*validityDays",
        "a CEL rule (x-kubernetes-validations) of the 1.x KafkaUser CRD: only the API server evaluates CEL",
    ),
]


def _schemas_by_kind(profile: Profile) -> dict[str, dict]:
    out = {}
    for document in crd_install.crd_documents(crd_install.crd_folder(profile)):
        version = next(v for v in document["spec"]["versions"] if v["name"] == profile.crd_api)
        out[document["spec"]["names"]["kind"]] = version["schema"]["openAPIV3Schema"]
    return out


def _known(label: str, server_message: str) -> str | None:
    for label_rule, message_rule, why in KNOWN:
        if re.search(label_rule, label) and re.search(message_rule, server_message):
            return why
    return None


def test_kconform_validator_agrees_with_the_api_server(profile: Profile, profile_kube: Kube) -> None:
    namespace = f"diff-{uuid.uuid4().hex[:8]}"
    profile_kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    schemas = _schemas_by_kind(profile)
    seeds = [
        d
        for mode in profile.modes
        for d in scenario_documents(profile, mode, namespace, "differential")
        if d["kind"] in schemas
    ]
    cases = corpus.build(seeds, schemas.__getitem__)
    validator = SchemaSet.from_crds(profile_kube.crds(), origin="the installed CRDs")

    agreed, explained, disagreements = 0, [], []
    valid = refused = 0
    for case in cases:
        problems = validator.problems(case.document)
        try:
            profile_kube.apply(case.document, dry_run=True)
            server_ok, server_message = True, ""
            valid += 1
        except ManifestError as err:
            server_ok, server_message = False, str(err)
            refused += 1
        if server_ok == (not problems):
            agreed += 1
            continue
        why = _known(case.label, server_message)
        line = f"{case.label}: kconform {'refused' if problems else 'accepted'} ({'; '.join(problems)[:300]}), API server {'accepted' if server_ok else 'refused'} ({server_message[:300]})"
        (explained if why else disagreements).append(f"{line} -> {why}" if why else line)

    summary = "\n".join(
        [
            f"Strimzi {profile.strimzi}: {len(cases)} documents ({valid} accepted, {refused} refused by the API "
            f"server); kconform agrees on {agreed}, {len(explained)} known disagreements",
            *(f"  known: {line}" for line in explained),
        ]
    )
    print("\n" + summary)  # shown with -s; kept in the file below either way
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    (LOG_DIR / f"differential-{profile.strimzi}.txt").write_text(summary + "\n")
    assert len(cases) >= MIN_CASES
    assert valid >= 50 and refused >= 50, "the corpus must hold both valid and broken documents"
    assert not disagreements, f"{len(disagreements)} disagreements:\n" + "\n".join(disagreements[:40])
