"""CycloneDX 1.6 SBOMs: one per wheel (the wheel and its resolved runtime dependencies) and one for
an npm frontend (from package-lock.json v2/v3). Validated offline against the CycloneDX schema.

Rebuilding gives the same bytes: the serial number is a UUIDv5 of name, version and digest, the
timestamp and the dependency resolution's cut-off come from ``SOURCE_DATE_EPOCH`` when set.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
import zipfile
from datetime import UTC, datetime
from email.parser import Parser
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from release_kit.errors import InputError, MissingExtra
from release_kit.release import schema

SBOM_SUFFIX = "-sbom.json"


def _lib() -> Any:
    try:
        import cyclonedx  # noqa: F401
    except ImportError:
        raise MissingExtra("release", "building SBOMs") from None
    from cyclonedx import model

    return model


def build_time() -> datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except ValueError:
            raise InputError(f"SOURCE_DATE_EPOCH={epoch!r}: expected whole seconds since the epoch") from None
    return datetime.now(UTC).replace(microsecond=0)


def serial_number(name: str, version: str, digest: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"release-kit:{name}@{version}#{digest}")


def wheel_metadata(wheel: Path) -> tuple[str, str, list[Requirement]]:
    """(name, version, runtime requirements) from the wheel's METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        meta_name = next((n for n in archive.namelist() if n.endswith(".dist-info/METADATA")), None)
        if meta_name is None:
            raise InputError(f"{wheel.name}: not a wheel (no .dist-info/METADATA)")
        meta = Parser().parsestr(archive.read(meta_name).decode("utf-8"))
    requirements = []
    for line in meta.get_all("Requires-Dist") or []:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            raise InputError(f"{wheel.name}: unreadable Requires-Dist {line!r}") from None
        if req.marker is None or req.marker.evaluate({"extra": ""}):  # runtime only, no extras
            requirements.append(req)
    return meta["Name"], meta["Version"], requirements


def _uv() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:
        raise MissingExtra("release", "resolving SBOM dependencies (with uv)") from None
    return str(find_uv_bin())


def resolve(requirements: list[Requirement], when: datetime | None) -> list[tuple[str, str]]:
    """The pinned (name, version) set the requirements resolve to, for this Python."""
    if not requirements:
        return []
    cmd = [_uv(), "pip", "compile", "-", "--quiet", "--no-header", "--no-annotate", "--python", sys.executable]
    if when is not None and os.environ.get("SOURCE_DATE_EPOCH"):
        cmd += ["--exclude-newer", when.strftime("%Y-%m-%dT%H:%M:%SZ")]
    done = subprocess.run(
        cmd, input="\n".join(str(r) for r in requirements), capture_output=True, text=True, check=False, timeout=300
    )
    if done.returncode != 0:
        raise InputError(f"could not resolve the wheel's dependencies: {done.stderr.strip().splitlines()[-1:]}")
    pins = []
    for line in done.stdout.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "==" in line:
            name, _, version = line.partition("==")
            pins.append((str(canonicalize_name(name)), version.split(";")[0].strip()))
    return sorted(pins)


def _depend(bom: Any, root: Any, components: list[Any]) -> None:
    """The dependency graph, built in one pass: the library's register_dependency rescans
    the whole graph for every edge, which is quadratic on a thousand-package lockfile."""
    from cyclonedx.model.dependency import Dependency

    leaves = [Dependency(ref=c.bom_ref) for c in components]
    bom.dependencies.update(
        [Dependency(ref=root.bom_ref, dependencies=leaves), *(Dependency(ref=c.bom_ref) for c in components)]
    )


def _render(bom: Any) -> str:
    from cyclonedx.output import make_outputter
    from cyclonedx.schema import OutputFormat, SchemaVersion

    text = make_outputter(bom, OutputFormat.JSON, SchemaVersion.V1_6).output_as_string(indent=2)
    error = validate(text)
    if error is not None:
        raise InputError(f"the SBOM does not validate against CycloneDX 1.6: {error}")
    return str(text) + "\n"


def validate(text: str) -> str | None:
    """The CycloneDX 1.6 schema's complaint about ``text``, or None when it is valid."""
    _lib()
    return schema.first_error(text)


def wheel_sbom(wheel: Path, sha256: str) -> str:
    """The SBOM of one wheel: itself as the root component, its resolved runtime dependencies."""
    model = _lib()
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType
    from packageurl import PackageURL

    name, version, requirements = wheel_metadata(wheel)
    when = build_time()
    root = Component(
        name=name,
        version=version,
        type=ComponentType.LIBRARY,
        bom_ref=f"pkg:pypi/{canonicalize_name(name)}@{version}",
        purl=PackageURL(
            type="pypi", name=str(canonicalize_name(name)), version=version, qualifiers={"file_name": wheel.name}
        ),
        hashes=[model.HashType(alg=model.HashAlgorithm.SHA_256, content=sha256)],
    )
    deps = [
        Component(
            name=dep,
            version=dep_version,
            bom_ref=f"pkg:pypi/{dep}@{dep_version}",
            purl=PackageURL(type="pypi", name=dep, version=dep_version),
        )
        for dep, dep_version in resolve(requirements, when)
    ]
    bom = Bom(
        serial_number=serial_number(name, version, sha256),
        metadata=BomMetaData(component=root, timestamp=when),
        components=deps,
    )
    _depend(bom, root, deps)
    return _render(bom)


def _npm_name(key: str) -> str:
    return key.rsplit("node_modules/", 1)[-1]


NPM_DEVELOPMENT = "cdx:npm:package:development"  # the CycloneDX npm taxonomy's property
_SRI = {"sha512": ("SHA_512", 64), "sha384": ("SHA_384", 48), "sha256": ("SHA_256", 32), "sha1": ("SHA_1", 20)}


def _integrity(value: object, where: str) -> list[Any]:
    """The hashes of an npm ``integrity`` string (Subresource Integrity: ``sha512-<base64>`` ...)."""
    if value is None:
        return []
    if not isinstance(value, str):
        raise InputError(f"{where}: integrity must be a string such as sha512-<base64>, got {_shown(value)}")
    model = _lib()
    hashes = []
    for part in value.split():
        alg, _, b64 = part.partition("-")
        known = _SRI.get(alg)
        try:
            digest = base64.b64decode(b64, validate=True) if known else b""
        except ValueError:
            digest = b""
        if known is None or len(digest) != known[1]:
            raise InputError(
                f"{where}: integrity {_shown(part)} is not a sha512, sha384, sha256 or sha1 hash in base64"
            )
        hashes.append(model.HashType(alg=getattr(model.HashAlgorithm, known[0]), content=digest.hex()))
    return hashes


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _lock_entries(lock_path: Path, packages: object) -> list[tuple[str, dict[str, Any], str]]:
    """(key, entry, where) for every installed package of the lockfile, its shape checked."""
    if not isinstance(packages, dict):
        raise InputError(f"{lock_path}: 'packages' must be an object of package entries")
    entries = []
    for key, info in sorted(packages.items()):
        if not key:
            continue
        where = f"{lock_path}: package {key!r}"
        if not isinstance(info, dict):
            raise InputError(f"{where}: expected an object, got {_shown(info)}")
        if info.get("link") is True or "version" not in info:  # a workspace link, or not installed
            continue
        for field, kind, name in (
            ("version", str, "a string"),
            ("name", str, "a string"),
            ("dev", bool, "true or false"),
            ("optional", bool, "true or false"),
        ):
            if field in info and not isinstance(info[field], kind):
                raise InputError(f"{where}: {field} must be {name}, got {_shown(info[field])}")
        entries.append((key, info, where))
    return entries


def frontend_sbom(frontend: Path) -> str:
    """The SBOM of an npm frontend from its package-lock.json (lockfile v2 or v3): every installed
    package, development ones marked with ``cdx:npm:package:development`` (a bundled frontend ships
    code from devDependencies too), runtime ones with ``scope: required`` (``optional`` when npm
    marks them optional)."""
    model = _lib()
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentScope, ComponentType
    from packageurl import PackageURL

    lock_path = frontend / "package-lock.json"
    try:
        lock = json.loads(lock_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"--frontend {frontend}: no package-lock.json") from None
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"--frontend {frontend}: package-lock.json is not valid JSON") from None
    if not isinstance(lock, dict) or lock.get("lockfileVersion") not in (2, 3) or "packages" not in lock:
        raise InputError(f"--frontend {frontend}: package-lock.json must be lockfile v2 or v3 (npm 7 or newer)")
    entries = _lock_entries(lock_path, lock["packages"])
    top = lock["packages"].get("", {})
    top = top if isinstance(top, dict) else {}
    name, version = (
        str(top.get("name") or lock.get("name") or "frontend"),
        str(top.get("version") or lock.get("version") or "0.0.0"),
    )
    digest = _sha256_text(lock_path)
    found: dict[str, tuple[PackageURL, list[Any], bool, bool]] = {}
    for key, info, where in entries:
        pkg = info.get("name") or _npm_name(key)
        namespace, _, short = pkg.rpartition("/") if pkg.startswith("@") else ("", "", pkg)
        try:
            purl = PackageURL(type="npm", namespace=namespace or None, name=short, version=info["version"])
        except ValueError as exc:
            raise InputError(f"{where}: not a package name and version ({exc})") from None
        ref = purl.to_string()
        hashes = _integrity(info.get("integrity"), where)
        dev, optional = bool(info.get("dev")), bool(info.get("optional"))
        if ref in found:  # the same package at several places: development only if it is everywhere
            _, seen, was_dev, was_optional = found[ref]
            found[ref] = (purl, seen or hashes, was_dev and dev, was_optional and optional)
        else:
            found[ref] = (purl, hashes, dev, optional)
    components = []
    for ref, (purl, hashes, dev, optional) in found.items():
        scope = None if dev else (ComponentScope.OPTIONAL if optional else ComponentScope.REQUIRED)
        components.append(
            Component(
                name=purl.name,
                group=purl.namespace,
                version=purl.version,
                bom_ref=ref,
                purl=purl,
                hashes=hashes,
                scope=scope,
                properties=[model.Property(name=NPM_DEVELOPMENT, value="true")] if dev else [],
            )
        )
    root = Component(name=name, version=version, type=ComponentType.APPLICATION, bom_ref=f"npm-root:{name}@{version}")
    bom = Bom(
        serial_number=serial_number(name, version, digest),
        metadata=BomMetaData(component=root, timestamp=build_time()),
        components=components,
    )
    _depend(bom, root, components)
    return _render(bom)


def _sha256_text(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
