"""The frontend SBOM is written directly as JSON for speed; it is byte for byte what
cyclonedx-python-lib's model and serializer (sbom._depend, sbom._render) write for the same
components, on every fixture, a large real lockfile and npm's flag combinations."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from release_kit.release import frontend_sbom as module
from release_kit.release.lockfiles import Reading, find_lockfile, read_lockfile
from release_kit.release.sbom import NPM_DEVELOPMENT, _depend, _lib, _render, build_time, serial_number
from tests.release.lockfiles.test_reference import FIXTURES, KINDS
from tests.release.projects import _integrity

BENCH_DATA = Path(__file__).resolve().parents[3] / "scripts" / "bench" / "data"
_ALGORITHMS = {"SHA-512": "SHA_512", "SHA-384": "SHA_384", "SHA-256": "SHA_256", "SHA-1": "SHA_1"}


def through_the_library(reading: Reading, frontend: Path) -> str:
    """The same SBOM built with cyclonedx-python-lib's model, as release_kit.release.sbom does."""
    import hashlib

    model = _lib()
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentScope, ComponentType
    from packageurl import PackageURL

    lockfile = reading.lockfile
    name, version = module._root_identity(lockfile, frontend)
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
        model.Property(name=module.LOCKFILE_PROPERTY, value=lockfile.path.relative_to(lockfile.repo_root).as_posix()),
        model.Property(name=module.FORMAT_PROPERTY, value=reading.format),
        *(model.Property(name=module.EXCLUDED_PROPERTY, value=e.describe()) for e in reading.excluded),
    ]
    folder = frontend.resolve().relative_to(lockfile.folder).as_posix()
    digest = hashlib.sha256(lockfile.path.read_bytes()).hexdigest()
    if folder != ".":
        digest = f"{digest}:{folder}"
    root = Component(name=name, version=version, type=ComponentType.APPLICATION, bom_ref=f"npm-root:{name}@{version}")
    bom = Bom(
        serial_number=serial_number(name, version, digest),
        metadata=BomMetaData(component=root, timestamp=build_time(), properties=properties),
        components=components,
    )
    _depend(bom, root, components)
    return _render(bom)


def same(frontend: Path, repo: Path) -> None:
    reading = read_lockfile(find_lockfile(frontend, repo), frontend)
    assert module.sbom_of(reading, frontend) == through_the_library(reading, frontend)


@pytest.fixture(autouse=True)
def _fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_fixture_gives_the_librarys_bytes(tmp_path: Path, kind: str) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / kind, repo)
    same(repo / "apps" / "web-app", repo)
    same(repo, repo)


def test_a_large_real_lockfile_gives_the_librarys_bytes(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for name, text in json.loads((BENCH_DATA / "pnpm-large.manifests.json").read_text()).items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    (repo / "pnpm-lock.yaml").write_bytes(gzip.decompress((BENCH_DATA / "pnpm-large.yaml.gz").read_bytes()))
    same(repo / "apps" / "web-app", repo)


def test_npm_flags_names_and_hashes_give_the_librarys_bytes(tmp_path: Path) -> None:
    packages: dict[str, Any] = {
        "": {"name": "wéb", "version": "1.0.0"},
        "node_modules/a": {"version": "1.0.0", "integrity": f"{_integrity('a')} sha1-{'A' * 27}="},
        "node_modules/@z/b": {"version": "2.0.0-rc.1+build", "dev": True},
        "node_modules/@a/b": {"version": "1.0.0", "optional": True},
        "node_modules/JSONStream": {"version": "1.3.5", "devOptional": True},
        "node_modules/x/node_modules/a": {"version": "0.9.0", "dev": True, "optional": True},
        "node_modules/empty": {"version": "1.0.0", "dev": True},
    }
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "packages": packages}))
    same(repo, repo)


def test_a_frontend_without_packages_gives_the_librarys_bytes(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "packages": {"": {"name": "web"}}}))
    same(repo, repo)
