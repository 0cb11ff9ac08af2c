"""CycloneDX 1.6 SBOMs: one per wheel (the wheel and its resolved runtime dependencies), and the
pieces the frontend's SBOM shares (:mod:`release_kit.release.frontend_sbom`, from the lockfile the
frontend really has). Validated offline against the CycloneDX schema.

A wheel's dependencies that are wheels built in the same run (packages of one monorepo that depend
on each other) are resolved to those files, with their sha256, never looked up on the index.

Rebuilding gives the same bytes: the serial number is a UUIDv5 of name, version and digest, the
timestamp and the dependency resolution's cut-off come from ``SOURCE_DATE_EPOCH`` when set.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class BuiltWheel:
    """A wheel built in this run: what a sibling's SBOM says of it, and where the resolver finds it."""

    name: str  # canonical
    version: str
    path: Path
    sha256: str
    requirements: tuple[Requirement, ...]  # every Requires-Dist, markers kept (extras decide later)


def _read_metadata(wheel: Path) -> Any:
    try:
        with zipfile.ZipFile(wheel) as archive:
            meta_name = next((n for n in archive.namelist() if n.endswith(".dist-info/METADATA")), None)
            if meta_name is None:
                raise InputError(f"{wheel.name}: not a wheel (no .dist-info/METADATA)")
            return Parser().parsestr(archive.read(meta_name).decode("utf-8"))
    except (zipfile.BadZipFile, UnicodeDecodeError):
        raise InputError(f"{wheel.name}: not a wheel (not a readable zip with UTF-8 METADATA)") from None


def _requirements(wheel: Path, lines: list[str]) -> list[Requirement]:
    requirements = []
    for line in lines:
        try:
            requirements.append(Requirement(line))
        except InvalidRequirement:
            raise InputError(f"{wheel.name}: unreadable Requires-Dist {line!r}") from None
    return requirements


def runtime(requirements: Iterable[Requirement], extras: Iterable[str] = ()) -> list[Requirement]:
    """The requirements that apply on this Python with ``extras`` asked for (none: runtime only)."""
    asked = ["", *extras]
    return [r for r in requirements if r.marker is None or any(r.marker.evaluate({"extra": e}) for e in asked)]


def wheel_metadata(wheel: Path) -> tuple[str, str, list[Requirement]]:
    """(name, version, runtime requirements) from the wheel's METADATA."""
    meta = _read_metadata(wheel)
    return meta["Name"], meta["Version"], runtime(_requirements(wheel, meta.get_all("Requires-Dist") or []))


def built_wheel(wheel: Path, sha256: str) -> BuiltWheel:
    meta = _read_metadata(wheel)
    name, version = meta["Name"], meta["Version"]
    if not name or not version:
        raise InputError(f"{wheel.name}: its METADATA has no Name or Version")
    requirements = tuple(_requirements(wheel, meta.get_all("Requires-Dist") or []))
    return BuiltWheel(str(canonicalize_name(name)), str(version), wheel, sha256, requirements)


def _siblings(
    requirements: list[Requirement], built: Mapping[str, BuiltWheel], who: str
) -> tuple[list[Requirement], dict[str, tuple[BuiltWheel, set[str]]]]:
    """Split off the requirements met by wheels of this run, following them through each other:
    (the rest, for the index; each reachable sibling with the extras asked of it)."""
    rest: list[Requirement] = []
    found: dict[str, tuple[BuiltWheel, set[str]]] = {}
    queue = [(who, r) for r in requirements]
    while queue:
        asker, req = queue.pop(0)
        sibling = built.get(str(canonicalize_name(req.name)))
        if sibling is None:
            if asker == who:
                rest.append(req)
            continue  # a sibling's own index requirements come with its wheel's metadata
        if not req.specifier.contains(sibling.version, prereleases=True):
            raise InputError(
                f"{asker} requires {req}, but this run builds {sibling.name} {sibling.version}: "
                "widen the requirement or release them together at one version"
            )
        seen = found.get(sibling.name)
        new_extras = set(req.extras) - (seen[1] if seen else set())
        if seen is not None and not new_extras:
            continue
        extras = (seen[1] if seen else set()) | set(req.extras)
        found[sibling.name] = (sibling, extras)
        wanted = extras if seen is None else new_extras
        queue += [(f"{sibling.name} {sibling.version}", r) for r in runtime(sibling.requirements, wanted)]
    return rest, found


def _uv() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:
        raise MissingExtra("release", "resolving SBOM dependencies (with uv)") from None
    return str(find_uv_bin())


def resolve(
    requirements: list[Requirement],
    when: datetime | None,
    local: Mapping[str, BuiltWheel] | None = None,
    who: str = "the wheel",
) -> list[tuple[str, str]]:
    """The pinned (name, version) set the requirements resolve to, for this Python.

    Requirements met by ``local`` wheels (built in this run) are given to the resolver as those
    files, never looked up on the index, and their own requirements are followed the same way."""
    if not requirements:
        return []
    local = local or {}
    rest, siblings = _siblings(requirements, local, who)
    lines = [str(r) for r in rest]
    for sibling, extras in siblings.values():
        marked = f"[{','.join(sorted(extras))}]" if extras else ""
        lines.append(f"{sibling.name}{marked} @ {sibling.path.resolve().as_uri()}")
    cmd = [_uv(), "pip", "compile", "-", "--quiet", "--no-header", "--no-annotate", "--python", sys.executable]
    if when is not None and os.environ.get("SOURCE_DATE_EPOCH"):
        cmd += ["--exclude-newer", when.strftime("%Y-%m-%dT%H:%M:%SZ")]
    done = subprocess.run(cmd, input="\n".join(lines), capture_output=True, text=True, check=False, timeout=300)
    if done.returncode != 0:
        raise InputError(f"could not resolve the wheel's dependencies: {done.stderr.strip().splitlines()[-1:]}")
    pins = []
    for line in done.stdout.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if " @ " in line:  # a wheel of this run, given as its file
            name = str(canonicalize_name(line.partition(" @ ")[0].partition("[")[0].strip()))
            if name in local:
                pins.append((name, local[name].version))
        elif "==" in line:
            name, _, version = line.partition("==")
            pins.append((str(canonicalize_name(name.partition("[")[0])), version.split(";")[0].strip()))
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


def wheel_sbom(wheel: Path, sha256: str, built: Mapping[str, BuiltWheel] | None = None) -> str:
    """The SBOM of one wheel: itself as the root component, its resolved runtime dependencies.

    A dependency that is a wheel of this run (``built``, by canonical name) is that exact wheel:
    its version, its file name and its sha256."""
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
    local = {k: v for k, v in (built or {}).items() if k != canonicalize_name(name)}
    deps = []
    for dep, dep_version in resolve(requirements, when, local, f"{name} {version}"):
        sibling = local.get(dep)
        qualifiers = {"file_name": sibling.path.name} if sibling is not None else None
        deps.append(
            Component(
                name=dep,
                version=dep_version,
                bom_ref=f"pkg:pypi/{dep}@{dep_version}",
                purl=PackageURL(type="pypi", name=dep, version=dep_version, qualifiers=qualifiers),
                hashes=[model.HashType(alg=model.HashAlgorithm.SHA_256, content=sibling.sha256)] if sibling else [],
            )
        )
    bom = Bom(
        serial_number=serial_number(name, version, sha256),
        metadata=BomMetaData(component=root, timestamp=when),
        components=deps,
    )
    _depend(bom, root, deps)
    return _render(bom)


NPM_DEVELOPMENT = "cdx:npm:package:development"  # the CycloneDX npm taxonomy's property
