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
from pathlib import Path
from typing import Any

from release_kit.release.lockfiles import Kind, Lockfile, Reading, find_lockfile, read_lockfile
from release_kit.release.lockfiles.files import load_json, manifest, read_text
from release_kit.release.sbom import NPM_DEVELOPMENT, _depend, _lib, _render, build_time, serial_number

LOCKFILE_PROPERTY = "release-kit:frontend:lockfile"
FORMAT_PROPERTY = "release-kit:frontend:lockfile-format"
EXCLUDED_PROPERTY = "release-kit:frontend:excluded"
_ALGORITHMS = {"SHA-512": "SHA_512", "SHA-384": "SHA_384", "SHA-256": "SHA_256", "SHA-1": "SHA_1"}


def frontend_sbom(frontend: Path, repo_root: Path) -> str:
    """The SBOM (CycloneDX 1.6 JSON text, validated) of the frontend folder ``frontend``, whose
    lockfile is looked for up to ``repo_root`` and never outside it."""
    lockfile = find_lockfile(frontend, repo_root)
    return sbom_of(read_lockfile(lockfile, frontend), frontend)


def sbom_of(reading: Reading, frontend: Path) -> str:
    model = _lib()
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentScope, ComponentType
    from packageurl import PackageURL

    lockfile = reading.lockfile
    name, version = _root_identity(lockfile, frontend)
    components = []
    for found in reading.components:
        purl = PackageURL(type="npm", namespace=found.namespace, name=found.short_name, version=found.version)
        scope = None if found.dev else (ComponentScope.OPTIONAL if found.optional else ComponentScope.REQUIRED)
        components.append(
            Component(
                name=found.short_name,
                group=found.namespace,
                version=found.version,
                bom_ref=found.purl,
                purl=purl,
                hashes=[
                    model.HashType(alg=getattr(model.HashAlgorithm, _ALGORITHMS[h.alg]), content=h.content)
                    for h in found.hashes
                ],
                scope=scope,
                properties=[model.Property(name=NPM_DEVELOPMENT, value="true")] if found.dev else [],
            )
        )
    properties = [
        model.Property(name=LOCKFILE_PROPERTY, value=lockfile.path.relative_to(lockfile.repo_root).as_posix()),
        model.Property(name=FORMAT_PROPERTY, value=reading.format),
        *(model.Property(name=EXCLUDED_PROPERTY, value=e.describe()) for e in reading.excluded),
    ]
    folder = frontend.resolve().relative_to(lockfile.folder).as_posix()
    digest = hashlib.sha256(lockfile.path.read_bytes()).hexdigest()
    if folder != ".":  # the apps of one workspace share its lockfile
        digest = f"{digest}:{folder}"
    root = Component(name=name, version=version, type=ComponentType.APPLICATION, bom_ref=f"npm-root:{name}@{version}")
    bom = Bom(
        serial_number=serial_number(name, version, digest),
        metadata=BomMetaData(component=root, timestamp=build_time(), properties=properties),
        components=components,
    )
    _depend(bom, root, components)
    return _render(bom)


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
