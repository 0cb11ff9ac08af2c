"""What ``release build`` decided, recorded beside the assets so later steps need no flags again.

``release plan``, ``upload`` and ``publish`` read ``<assets-dir>/release-kit-build.json``: the tag,
the repository, the package folders and the frontend. A flag given again must agree with the record
(exit 2 naming the difference), so a step can never publish a release other than the one built.
The record is not a release asset: it is not in SHA256SUMS and never uploaded.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from release_kit.errors import InputError
from release_kit.release.preflight import resolve_tag

RECORD = "release-kit-build.json"


class BuiltPackage(BaseModel):
    """One package as built: the name its wheel carries and how its version was decided."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    package: str
    name: str
    version: str
    versioning: str


class BuildRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tag: str
    repository: str | None
    packages: list[str]
    frontend: str | None
    sdist: bool = False
    builds: list[BuiltPackage] = []


@dataclass(frozen=True)
class Decided:
    """The inputs a later step works with: the record's, or the flags' when nothing was recorded."""

    repository: str | None
    tag: str
    packages: list[Path]
    frontend: Path | None


def tag_name(tag: str) -> str:
    return tag.removeprefix("refs/tags/")


def write(
    folder: Path,
    *,
    tag: str,
    repository: str | None,
    packages: list[Path],
    frontend: Path | None,
    sdist: bool,
    builds: list[BuiltPackage] | None = None,
) -> None:
    record = BuildRecord(
        tag=tag_name(tag),
        repository=repository or os.environ.get("GITHUB_REPOSITORY") or None,
        packages=[p.as_posix() for p in packages],
        frontend=frontend.as_posix() if frontend is not None else None,
        sdist=sdist,
        builds=builds or [],
    )
    (folder / RECORD).write_text(record.model_dump_json(indent=2) + "\n", encoding="utf-8")


def read(folder: Path) -> BuildRecord | None:
    path = folder / RECORD
    if not path.is_file():
        return None
    try:
        return BuildRecord.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError):
        raise InputError(f"{path}: not a record release build wrote (run 'release-kit release build' again)") from None


def _same_folder(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _differs(folder: Path, flag: str, given: str, recorded: str) -> InputError:
    return InputError(
        f"{flag} {given}: the assets were built with {recorded} (recorded by release build in "
        f"{folder / RECORD}); give the same, or leave {flag} out"
    )


def decide(
    folder: Path, *, repository: str | None, tag: str | None, packages: list[Path], frontend: Path | None
) -> Decided:
    """The record wins where a flag is left out; a flag that is given must say the same."""
    record = read(folder)
    if record is None:
        return Decided(repository, resolve_tag(tag), packages, frontend)
    if tag and tag_name(tag) != record.tag:
        raise _differs(folder, "--tag", tag_name(tag), f"--tag {record.tag}")
    if repository and record.repository and repository.lower() != record.repository.lower():
        raise _differs(folder, "--repo", repository, f"--repo {record.repository}")
    recorded = [Path(p) for p in record.packages]
    if packages and (
        len(packages) != len(recorded) or not all(any(_same_folder(p, r) for r in recorded) for p in packages)
    ):
        was = " ".join(f"--package {p}" for p in record.packages) or "no --package"
        raise _differs(folder, "--package", " ".join(p.as_posix() for p in packages), was)
    if frontend is not None and (record.frontend is None or not _same_folder(frontend, Path(record.frontend))):
        was = f"--frontend {record.frontend}" if record.frontend else "no --frontend"
        raise _differs(folder, "--frontend", frontend.as_posix(), was)
    return Decided(
        repository=repository or record.repository,
        tag=record.tag,
        packages=recorded,
        frontend=Path(record.frontend) if record.frontend else None,
    )
