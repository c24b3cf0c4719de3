"""badge.svg (drawn with anybadge) and badge.json (a shields.io endpoint document), from one Verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anybadge

from kconform.report.atomic import atomic_write_text
from kconform.report.verdict import Verdict


def badge_svg(verdict: Verdict) -> str:
    """The SVG text: 'kafka conformance | 10/10' in the verdict's colour."""
    badge = anybadge.Badge(label=verdict.label, value=verdict.message, default_color=verdict.badge_color)
    # anybadge numbers masks per process; a fixed id keeps the file identical for identical results
    badge.mask_str = "kconform_badge"
    return str(badge.badge_svg_text)


def shields_document(verdict: Verdict) -> dict[str, Any]:
    """https://shields.io/badges/endpoint-badge: the README points a shields URL at this JSON."""
    return {
        "schemaVersion": 1,
        "label": verdict.label,
        "message": verdict.message,
        "color": verdict.shields_color,
    }


def write_badge_svg(verdict: Verdict, path: Path) -> Path:
    return atomic_write_text(path, badge_svg(verdict))


def write_shields_json(verdict: Verdict, path: Path) -> Path:
    return atomic_write_text(path, json.dumps(shields_document(verdict), indent=2) + "\n")
