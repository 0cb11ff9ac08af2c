"""The payload release-kit writes on a GitHub Deployment, and how it is read back: pure functions.

A record's payload is ``{"release_kit": 1, "images": {role: ref}, "checks": {name: "pass"|"fail"},
"snapshot": id|null, "rollback_of": id|null}``. Image references must pin a digest, so a
rollback redeploys exactly what ran. Everything read back from GitHub is remote text: a
payload that does not parse, or whose values do not have the shapes above, is "not ours"
(never a crash), so nothing it holds can reach the runner's output unchecked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from release_kit.image_refs import IMAGE_RE, image_problem

__all__ = ["IMAGE_RE", "image_problem"]  # re-exported: record's inputs judge images with them

PAYLOAD_VERSION = 1
TASK = "deploy:release-kit"

ROLE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}\Z")
CHECK_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _./:()-]{0,99}\Z")
SNAPSHOT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/+-]{0,254}\Z")
REF_RE = re.compile(r"^(?!.*\.\.)(?!/)[A-Za-z0-9._/+-]{1,255}(?<![/.])\Z")
CHECK_VALUES = ("pass", "fail")
RECORD_ID_RE = re.compile(r"^[0-9a-f]{32}\Z")


@dataclass(frozen=True)
class Payload:
    """A release-kit record's payload, read back and checked."""

    images: dict[str, str]
    checks: dict[str, str] = field(default_factory=dict)
    snapshot: str | None = None
    rollback_of: int | None = None
    record_id: str | None = None  # unique per `record`: a POST whose answer was lost is found by it

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "release_kit": PAYLOAD_VERSION,
            "images": dict(self.images),
            "checks": dict(self.checks),
            "snapshot": self.snapshot,
            "rollback_of": self.rollback_of,
        }
        if self.record_id:
            data["record_id"] = self.record_id
        return data

    @property
    def checks_passed(self) -> bool:
        return all(v == "pass" for v in self.checks.values())

    @property
    def failed_checks(self) -> list[str]:
        return sorted(name for name, v in self.checks.items() if v != "pass")


def parse_payload(raw: Any) -> Payload | None:
    """A deployment's ``payload`` (an object, or the JSON string it was sent as) if release-kit wrote it."""
    if isinstance(raw, str):
        if len(raw) > 65536:
            return None
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    if not isinstance(raw, Mapping):
        return None
    version = raw.get("release_kit")
    if isinstance(version, bool) or version != PAYLOAD_VERSION:
        return None
    images, checks = raw.get("images"), raw.get("checks", {})
    snapshot, rollback_of = raw.get("snapshot"), raw.get("rollback_of")
    if not isinstance(images, Mapping) or not images or not isinstance(checks, Mapping):
        return None
    if not all(
        isinstance(k, str) and ROLE_RE.match(k) and isinstance(v, str) and IMAGE_RE.match(v) for k, v in images.items()
    ):
        return None
    if not all(isinstance(k, str) and CHECK_RE.match(k) and v in CHECK_VALUES for k, v in checks.items()):
        return None
    if snapshot is not None and not (isinstance(snapshot, str) and SNAPSHOT_RE.match(snapshot)):
        return None
    if rollback_of is not None and (isinstance(rollback_of, bool) or not isinstance(rollback_of, int)):
        return None
    record_id = raw.get("record_id")
    return Payload(
        images=dict(images),
        checks=dict(checks),
        snapshot=snapshot,
        rollback_of=rollback_of,
        record_id=record_id if isinstance(record_id, str) and RECORD_ID_RE.match(record_id) else None,
    )


def succeeded(states: list[str]) -> bool:
    """A deployment's statuses, newest first, say it succeeded.

    ``auto_inactive`` turns an older success ``inactive`` when a newer deployment succeeds, so
    inactive statuses are passed over: the newest state that is not ``inactive`` must be
    ``success`` (a success later marked ``failure`` or ``error`` is not good).
    """
    for state in states:
        if state != "inactive":
            return state == "success"
    return False


def latest_state(states: list[str]) -> str:
    return next((s for s in states if s != "inactive"), states[0] if states else "no status")


def clean(text: str, limit: int = 200) -> str:
    """Remote text made safe to print: one line, no control characters, bounded."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
