"""The record's inputs as users give them: ``ROLE=REF`` images, a publish-images report, ``NAME=pass|fail`` checks."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from release_kit.errors import InputError
from release_kit.image_refs import image_problem, read_publish_report
from release_kit.records.payload import CHECK_VALUES, ROLE_RE


def _pairs(values: Iterable[str], flag: str, shape: str) -> list[tuple[str, str]]:
    """``A=B`` items (click has already split an action input's env var at whitespace)."""
    pairs = []
    for item in values:
        name, sep, rest = item.partition("=")
        if not sep or not name.strip() or not rest.strip():
            raise InputError(f"{flag} {item!r}: expected {shape}")
        pairs.append((name.strip(), rest.strip()))
    return pairs


def parse_images(values: Iterable[str]) -> dict[str, str]:
    images: dict[str, str] = {}
    for role, ref in _pairs(values, "--image", "ROLE=REF, e.g. api=ghcr.io/org/app/api@sha256:<64 hex>"):
        if not ROLE_RE.match(role):
            raise InputError(
                f"--image {role}={ref}: the role must be lower-case letters, digits, '-' or '_' (e.g. api)"
            )
        if role in images:
            raise InputError(f"--image {role}: given twice")
        if problem := image_problem(ref):
            raise InputError(f"--image {role}={ref}: {problem}")
        images[role] = ref
    return images


def parse_checks(values: Iterable[str]) -> dict[str, str]:
    checks: dict[str, str] = {}
    for name, verdict in _pairs(values, "--check", "NAME=pass or NAME=fail"):
        if verdict not in CHECK_VALUES:
            raise InputError(f"--check {name}={verdict}: expected pass or fail")
        if name in checks:
            raise InputError(f"--check {name}: given twice")
        checks[name] = verdict
    return checks


def images_from_report(path: Path) -> dict[str, str]:
    """``{name: repository@digest}`` from the JSON report publish-images writes."""
    images: dict[str, str] = {}
    for name, ref in read_publish_report(path):
        if not ROLE_RE.match(name):
            raise InputError(f"--images-from {path}: image name {name!r} is not a role name such as api")
        images[name] = str(ref)
    return images


def default_ref(env: dict[str, str] | None = None) -> str | None:
    """The tag being deployed (GITHUB_REF_NAME when the run is for a tag), else the commit (GITHUB_SHA)."""
    env = dict(os.environ) if env is None else env
    tagged = env.get("GITHUB_REF_TYPE") == "tag" or env.get("GITHUB_REF", "").startswith("refs/tags/")
    if tagged and env.get("GITHUB_REF_NAME"):
        return env["GITHUB_REF_NAME"]
    if tagged and env.get("GITHUB_REF", "").startswith("refs/tags/"):
        return env["GITHUB_REF"].removeprefix("refs/tags/")
    return env.get("GITHUB_SHA") or None
