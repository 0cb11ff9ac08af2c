"""The CycloneDX 1.6 SBOM of a JavaScript frontend, from the lockfile it really has: in its folder
or at the root of the workspace above it (pnpm, yarn classic and berry, npm v1 to v3, bun).

Every third-party package the frontend installs is a component, once, with its purl, version and
the integrity hashes the lockfile records; development-only ones carry
``cdx:npm:package:development`` (a bundled frontend ships code from devDependencies too), runtime
ones ``scope: required`` (``optional`` when only optional dependencies reach them). Workspace
packages and local folders are not components: the metadata names them
(``release-kit:frontend:excluded``), with the lockfile read and its format.

Rebuilding gives the same bytes (see ``release_kit.release.sbom``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from release_kit.errors import InputError
from release_kit.release.lockfiles import Component, Kind, Lockfile, Reading, find_lockfile, read_lockfile
from release_kit.release.lockfiles.files import load_json, manifest, read_text
from release_kit.release.sbom import NPM_DEVELOPMENT, _lib, build_time, serial_number, validate

LOCKFILE_PROPERTY = "release-kit:frontend:lockfile"
FORMAT_PROPERTY = "release-kit:frontend:lockfile-format"
EXCLUDED_PROPERTY = "release-kit:frontend:excluded"


def frontend_sbom(frontend: Path, repo_root: Path) -> str:
    """The SBOM (CycloneDX 1.6 JSON text, validated) of the frontend folder ``frontend``, whose
    lockfile is looked for up to ``repo_root`` and never outside it."""
    lockfile = find_lockfile(frontend, repo_root)
    return sbom_of(read_lockfile(lockfile, frontend), frontend)


def sbom_of(reading: Reading, frontend: Path) -> str:
    """The SBOM text of what was read: the JSON that cyclonedx-python-lib's model and serializer
    write for these components (tests compare the two byte for byte), built directly, which is
    ten times faster on a thousand-package lockfile; then checked against the CycloneDX 1.6 schema."""
    _lib()  # the release extra (cyclonedx-python-lib and its schema files) is needed to validate
    lockfile = reading.lockfile
    name, version = _root_identity(lockfile, frontend)
    folder = frontend.resolve().relative_to(lockfile.folder).as_posix()
    digest = hashlib.sha256(lockfile.path.read_bytes()).hexdigest()
    if folder != ".":  # the apps of one workspace share its lockfile
        digest = f"{digest}:{folder}"
    properties = [
        (LOCKFILE_PROPERTY, lockfile.path.relative_to(lockfile.repo_root).as_posix()),
        (FORMAT_PROPERTY, reading.format),
        *((EXCLUDED_PROPERTY, e.describe()) for e in reading.excluded),
    ]
    root_ref = f"npm-root:{name}@{version}"
    # cyclonedx-python-lib's order: components by (group, None last; name; version; bom-ref),
    # dependencies by ref, properties by (name, value), hashes by (algorithm, content)
    ordered = sorted(reading.components, key=lambda c: (c.namespace is None, c.namespace or "", c.short_name,
                                                        c.version, c.purl))  # fmt: skip
    document: dict[str, Any] = {"components": [_component(found) for found in ordered]} if ordered else {}
    document |= {
        "dependencies": sorted(
            [
                {"dependsOn": sorted(c.purl for c in ordered), "ref": root_ref} if ordered else {"ref": root_ref},
                *({"ref": c.purl} for c in ordered),
            ],
            key=lambda d: str(d["ref"]),
        ),
        "metadata": {
            "component": {"bom-ref": root_ref, "name": name, "type": "application", "version": version},
            "properties": [{"name": n, "value": v} for n, v in sorted(set(properties))],
            "timestamp": build_time().isoformat(),
        },
        "serialNumber": serial_number(name, version, digest).urn,
        "version": 1,
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
    }
    text = json.dumps(document, indent=2)
    error = validate(text)
    if error is not None:
        raise InputError(f"the SBOM does not validate against CycloneDX 1.6: {error}")
    return text + "\n"


def _component(found: Component) -> dict[str, Any]:
    entry: dict[str, Any] = {"bom-ref": found.purl}
    if found.namespace is not None:
        entry["group"] = found.namespace
    if found.hashes:
        entry["hashes"] = [{"alg": a, "content": c} for a, c in sorted({(h.alg, h.content) for h in found.hashes})]
    entry["name"] = found.short_name
    if found.dev:
        entry["properties"] = [{"name": NPM_DEVELOPMENT, "value": "true"}]
    entry["purl"] = found.purl
    if not found.dev:
        entry["scope"] = "optional" if found.optional else "required"
    entry["type"] = "library"
    entry["version"] = found.version
    return entry


def _root_identity(lockfile: Lockfile, frontend: Path) -> tuple[str, str]:
    """The frontend's name and version: its package.json's, else (a lone package-lock.json) the
    lockfile's, else "frontend" 0.0.0."""
    data: dict[str, Any] = manifest(frontend.resolve(), lockfile.repo_root, required=False) or {}
    if not data and lockfile.kind in (Kind.NPM, Kind.NPM_SHRINKWRAP) and lockfile.folder == frontend.resolve():
        lock = load_json(read_text(lockfile.path), lockfile.path)
        if isinstance(lock, dict):
            packages = lock.get("packages")
            top = packages.get("") if isinstance(packages, dict) else None
            top = top if isinstance(top, dict) else {}
            data = {"name": top.get("name") or lock.get("name"), "version": top.get("version") or lock.get("version")}
    name, version = data.get("name"), data.get("version")
    return (
        name if isinstance(name, str) and name else "frontend",
        version if isinstance(version, str) and version else "0.0.0",
    )


def repository_root(start: Path) -> Path:
    """The repository the frontend belongs to: ``git rev-parse --show-toplevel`` run in ``start``.
    Outside a git work tree (or without git): the current directory when ``start`` is inside it,
    else ``start`` itself. The lockfile is never looked for above it."""
    import subprocess

    folder = (start if start.is_dir() else start.parent).resolve()
    top = ""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=folder, capture_output=True, text=True, check=False, timeout=30,
        )  # fmt: skip
        top = done.stdout.strip() if done.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        pass
    if top:
        return Path(top).resolve()
    here = Path.cwd().resolve()
    return here if folder == here or here in folder.parents else folder


def lockfile_of(sbom_text: str) -> str:
    """The lockfile a frontend SBOM was made from (its path in the repository), as its metadata
    records it; "package-lock.json" for an SBOM that does not say (made before lockfiles were found)."""
    try:
        properties = json.loads(sbom_text).get("metadata", {}).get("properties", [])
    except (ValueError, AttributeError):
        return "package-lock.json"
    for item in properties if isinstance(properties, list) else []:
        if isinstance(item, dict) and item.get("name") == LOCKFILE_PROPERTY and isinstance(item.get("value"), str):
            return str(item["value"])
    return "package-lock.json"
