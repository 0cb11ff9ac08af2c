"""Digest-pinned image references for deploy and migrate: ``repo@sha256:<hex>`` or ``repo:tag@sha256:<hex>``.

A tag alone is refused: it can move between the check and the rollout. ``--images-from`` reads the
JSON report publish-images writes (``images[].name``, ``repository``, ``digest``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from release_kit.deploy.settings import ROLES, Role
from release_kit.errors import InputError

DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
# repository: [host[:port]/]path, lower-case components; tag: the distribution grammar
_REPO_RE = re.compile(
    r"^(?:[A-Za-z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$"
)
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
MAX_REPORT_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ImageRef:
    repository: str
    digest: str
    tag: str | None = None

    def __str__(self) -> str:
        return f"{self.repository}{':' + self.tag if self.tag else ''}@{self.digest}"


def parse_image(text: str, what: str = "--image") -> ImageRef:
    """An image reference that pins a digest; exit 2 naming ``what`` for anything else."""
    raw = text.strip()
    name, at, digest = raw.partition("@")
    if not at:
        raise InputError(
            f"{what} {raw!r}: not pinned to a digest; expected REPOSITORY@sha256:<64 hex> or "
            "REPOSITORY:TAG@sha256:<64 hex> (a tag can move, so deploys use digests)"
        )
    if not DIGEST_RE.match(digest):
        raise InputError(f"{what} {raw!r}: the digest must be sha256: followed by 64 lower-case hex digits")
    repository, tag = name, None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        repository, _, tag = name.rpartition(":")
        if not _TAG_RE.match(tag):
            raise InputError(f"{what} {raw!r}: {tag!r} is not a valid tag")
    if not _REPO_RE.match(repository):
        raise InputError(f"{what} {raw!r}: {repository!r} is not a valid repository (lower-case path, optional host)")
    return ImageRef(repository, digest, tag)


def parse_image_pairs(values: tuple[str, ...] | list[str]) -> dict[Role, ImageRef]:
    """``--image ROLE=REF`` flags, in the order given; a role given twice is an error."""
    out: dict[Role, ImageRef] = {}
    for raw in values:
        for item in raw.split():
            role, sep, ref = item.partition("=")
            if not sep or not ref:
                raise InputError(f"--image {item!r}: expected ROLE=REF with ROLE one of {', '.join(ROLES)}")
            if role not in ROLES:
                raise InputError(f"--image {item!r}: unknown role {role!r}; expected {', '.join(ROLES)}")
            if role in out:
                raise InputError(f"--image: role {role!r} is given twice")
            out[role] = parse_image(ref, f"--image {role}")
    return out


def images_from_report(path: Path) -> tuple[dict[Role, ImageRef], list[str]]:
    """The role images in a publish-images report (runbook order: api, web, worker), and the
    names of images in it that are no role (listed, not deployed)."""
    what = f"--images-from {path}"
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_REPORT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{what}: cannot read it ({exc.strerror or exc})") from None
    if len(data) > MAX_REPORT_BYTES:
        raise InputError(f"{what}: larger than 1 MiB; expected a publish-images JSON report")
    try:
        report = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{what}: not JSON; expected the report publish-images writes with --report") from None
    images = report.get("images") if isinstance(report, dict) else None
    if not isinstance(images, list):
        raise InputError(f"{what}: no images list; expected the report publish-images writes with --report")
    found: dict[str, ImageRef] = {}
    others: list[str] = []
    for index, entry in enumerate(images):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) for k in ("name", "repository", "digest")
        ):
            raise InputError(f"{what}: images[{index}] needs string name, repository and digest")
        name = entry["name"]
        ref = parse_image(f"{entry['repository']}@{entry['digest']}", f"{what}: images[{index}] ({name})")
        if name in ROLES:
            if name in found:
                raise InputError(f"{what}: image {name!r} appears twice")
            found[name] = ref
        else:
            others.append(name)
    ordered: dict[Role, ImageRef] = {role: found[role] for role in ROLES if role in found}
    if not ordered:
        raise InputError(f"{what}: no image named {', '.join(ROLES)}")
    return ordered, others
