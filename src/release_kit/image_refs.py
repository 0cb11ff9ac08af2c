"""Digest-pinned image references and the publish-images report: the one grammar deploy, migrate,
record and rollback share.

A reference pins a digest (``repo@sha256:<hex>`` or ``repo:tag@sha256:<hex>``): a tag alone can move
between a check and a rollout, so it is refused. The same grammar judges what is read back from
GitHub, so a remote value that does not match never reaches the output.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release_kit.errors import InputError

_HEX64 = r"sha256:[0-9a-f]{64}"
# [host[:port]/]path with lower-case components (the distribution grammar); a tag per the same grammar
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_HOST = r"(?:[A-Za-z0-9.-]+(?::\d{1,5})?/)?"
IMAGE_RE = re.compile(
    rf"^(?P<repository>{_HOST}{_COMPONENT}(?:/{_COMPONENT})*)(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9._-]{{0,127}}))?"
    rf"@(?P<digest>{_HEX64})\Z"
)
REPOSITORY_RE = re.compile(rf"^{_HOST}{_COMPONENT}(?:/{_COMPONENT})*\Z")
MAX_REPORT_BYTES = 1024 * 1024  # a publish-images report is a few kB
PUBLISH_REPORT = "the report publish-images writes with --report"


@dataclass(frozen=True)
class ImageRef:
    repository: str
    digest: str
    tag: str | None = None

    def __str__(self) -> str:
        return f"{self.repository}{':' + self.tag if self.tag else ''}@{self.digest}"


def normal_repository(repository: str) -> str:
    """A repository as compared: its registry host lower-cased, its path as given (no ``docker.io``
    normalisation: ``nginx`` and ``docker.io/library/nginx`` are two repositories)."""
    first, sep, rest = repository.partition("/")
    if sep and ("." in first or ":" in first or first.lower() == "localhost"):
        return f"{first.lower()}/{rest}"
    return repository


def repository_of(image: str) -> str | None:
    """The repository of any image reference (tag, digest, both or neither), compared form; None when
    what is left is not a repository name."""
    name = image.strip().partition("@")[0]
    head, slash, last = name.rpartition("/")
    if ":" in last:
        last = last.partition(":")[0]
    name = f"{head}{slash}{last}"
    return normal_repository(name) if REPOSITORY_RE.match(name) else None


def image_problem(ref: str) -> str | None:
    """Why ``ref`` is not a digest-pinned image reference, or None when it is."""
    if IMAGE_RE.match(ref):
        return None
    name, at, digest = ref.partition("@")
    if not at:
        return (
            "a tag without a digest can move (not pinned to a digest): pin it as REPOSITORY@sha256:<64 hex> "
            "or REPOSITORY:TAG@sha256:<64 hex>"
        )
    if not re.fullmatch(_HEX64, digest):
        return "the digest must be sha256:<64 lower-case hex>"
    if ":" in name.rsplit("/", 1)[-1]:
        return f"{name.rpartition(':')[2]!r} is not a valid tag, or the repository before it is not valid"
    return "not a valid repository name before the digest (lower-case path, optional host)"


def parse_image(text: str, what: str = "--image") -> ImageRef:
    """An image reference that pins a digest; exit 2 naming ``what`` for anything else."""
    raw = text.strip()
    match = IMAGE_RE.match(raw)
    if match is None:
        raise InputError(f"{what} {raw!r}: {image_problem(raw)}")
    return ImageRef(match["repository"], match["digest"], match["tag"])


def read_publish_report(path: Path) -> list[tuple[str, ImageRef]]:
    """Each image of a publish-images JSON report as (name, reference), in the report's order.

    Read bounded; exit 2 naming the file and the entry for anything that is not such a report.
    """
    what = f"--images-from {path}"
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_REPORT_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{what}: no such file; expected {PUBLISH_REPORT}") from None
    except OSError as exc:
        raise InputError(f"{what}: cannot read it ({exc.strerror or exc})") from None
    if len(data) > MAX_REPORT_BYTES:
        raise InputError(f"{what}: larger than 1 MiB; expected {PUBLISH_REPORT}")
    try:
        report: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{what}: not JSON; expected {PUBLISH_REPORT}") from None
    entries = report.get("images") if isinstance(report, dict) else None
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{what}: no images list; expected {PUBLISH_REPORT}")
    found: list[tuple[str, ImageRef]] = []
    for index, entry in enumerate(entries):
        fields = [entry.get(k) if isinstance(entry, dict) else None for k in ("name", "repository", "digest")]
        if not all(isinstance(f, str) and f for f in fields):
            raise InputError(f"{what}: images[{index}] needs string name, repository and digest")
        name, repository, digest = (str(f) for f in fields)
        if any(name == seen for seen, _ in found):
            raise InputError(f"{what}: image {name!r} appears twice")
        found.append((name, parse_image(f"{repository}@{digest}", f"{what}: images[{index}]")))
    return found
