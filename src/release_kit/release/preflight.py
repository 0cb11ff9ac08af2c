"""Checks made before anything is built or changed: tag, versions, asset names and sizes."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

from packaging.version import InvalidVersion, Version

from release_kit.errors import InputError

MAX_ASSET = 2 * 1024**3  # GitHub's limit per release asset
MAX_SBOM = 16 * 1024**2
# GitHub renames assets with other characters (spaces, most punctuation) on upload
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*\Z")


def resolve_tag(tag: str | None) -> str:
    tag = tag or os.environ.get("GITHUB_REF", "")
    if not tag:
        raise InputError("--tag is required: expected v1.2.3 (or set GITHUB_REF to refs/tags/v1.2.3)")
    return tag.removeprefix("refs/tags/")


def tag_version(tag: str) -> Version:
    """``v1.2.3-rc.1`` -> ``1.2.3rc1``."""
    name = tag.removeprefix("refs/tags/")
    if not name.startswith("v"):
        raise InputError(f"--tag {tag!r}: a release tag must look like v1.2.3")
    try:
        return Version(name[1:])
    except InvalidVersion:
        raise InputError(f"--tag {tag!r}: {name[1:]!r} is not a PEP 440 version") from None


def package_version(package: Path) -> tuple[str, Version]:
    """The (name, version) declared in ``package/pyproject.toml``."""
    pyproject = package / "pyproject.toml"
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except FileNotFoundError:
        raise InputError(f"--package {package}: no pyproject.toml") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"--package {package}: pyproject.toml is not valid TOML ({exc})") from None
    name = project.get("name")
    if not name:
        raise InputError(f"--package {package}: pyproject.toml has no [project] name")
    if "version" not in project:
        raise InputError(f"--package {package}: the version must be static in [project] to be checked against the tag")
    try:
        return str(name), Version(str(project["version"]))
    except InvalidVersion:
        raise InputError(f"--package {package}: version {project['version']!r} is not PEP 440") from None


def check_versions(tag: str, packages: list[Path]) -> Version:
    """Every package's version equals the tag's, after normalisation."""
    wanted = tag_version(tag)
    wrong = []
    for package in packages:
        name, version = package_version(package)
        if version != wanted:
            wrong.append(f"{name} is {version}")
    if wrong:
        raise InputError(f"--tag {tag} means version {wanted}, but {'; '.join(wrong)}: bump them or fix the tag")
    return wanted


def check_asset(name: str, size: int, *, sbom: bool = False) -> None:
    if not _SAFE_NAME.match(name):
        raise InputError(f"asset {name!r}: GitHub would rename it; use letters, digits and . _ + - only")
    if size >= MAX_ASSET:
        raise InputError(f"asset {name}: {size} bytes, GitHub's limit is 2 GiB")
    if sbom and size >= MAX_SBOM:
        raise InputError(f"SBOM {name}: {size} bytes, over the 16 MB that GitHub's SBOM attestations accept")
