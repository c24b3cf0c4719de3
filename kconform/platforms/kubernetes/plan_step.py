"""One step of `kconform plan`'s kubernetes plan: what it does and the command, manifest or URL behind it.

Its own module so that runplan (the whole plan) and migration_plan (the migration workflow's steps) both build
on it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Step:
    describe: str
    argv: list[str] | None = None
    manifest: dict[str, Any] | None = None
    url: str | None = None
    notes: tuple[str, ...] = field(default=())
    images: dict[str, str] | None = None  # role -> the full reference the cluster pulls

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"describe": self.describe}
        for key in ("argv", "manifest", "url", "images"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.notes:
            out["notes"] = list(self.notes)
        return out
