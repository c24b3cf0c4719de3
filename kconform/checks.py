"""One line of `kconform doctor` or of a preflight: what was checked, whether it is there, and the fix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        """The one line a user reads when this is missing."""
        return f"{self.name}: {self.fix or self.detail}"
