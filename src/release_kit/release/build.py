"""release build: wheels with ``python -m build``, an SBOM per wheel, the frontend SBOM, SHA256SUMS.

Everything goes to the assets folder (never SBOMs into dist/, so a later PyPI upload of dist/
stays clean). The folder is filled through a staging folder and swapped in at the end, so a
failed build leaves the previous assets as they were.

Versions: a static ``[project] version`` must equal the tag's before anything is built; a dynamic
one is built at the tag's version (the SCM plugin's pretend variable, set for that package's build
only), and every wheel's own METADATA must then say the tag's version, or nothing is released.
Packages are built in dependency order; a wheel's dependencies on wheels of the same run are
resolved to those files for its SBOM, never looked up on the index.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from release_kit import gha
from release_kit.errors import InputError
from release_kit.release import preflight, record, sbom
from release_kit.release.models import Asset, PackageBuild, ReleasePlan, Role

CHECKSUMS = "SHA256SUMS"
FRONTEND_SBOM = "frontend-sbom.json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build_wheel(
    package: Path, outdir: Path, *, sdist: bool = False, env: Mapping[str, str] | None = None
) -> list[Path]:
    """``python -m build`` for one package (isolated, with uv as the installer when present), with
    ``env`` added to its environment (the pretend version of its SCM plugin)."""
    kinds = ["--wheel", "--sdist"] if sdist else ["--wheel"]
    cmd = [sys.executable, "-m", "build", *kinds, "--outdir", str(outdir)]
    try:
        import uv  # noqa: F401

        cmd += ["--installer", "uv"]
    except ImportError:
        pass
    before = set(outdir.iterdir()) if outdir.exists() else set()
    done = subprocess.run(
        [*cmd, str(package)],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env={**os.environ, **env} if env else None,
    )
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:]) or done.stdout.strip().splitlines()[-1:]
        raise InputError(f"--package {package}: python -m build failed: {tail}")
    return sorted(set(outdir.iterdir()) - before)


def sbom_name(wheel: Path) -> str:
    """``starter_contracts-1.2.3-py3-none-any.whl`` -> ``starter_contracts-sbom.json``."""
    return wheel.name.split("-", 1)[0] + sbom.SBOM_SUFFIX


def asset_of(path: Path, role: Role, subject: str | None = None) -> Asset:
    size = path.stat().st_size
    preflight.check_asset(path.name, size, sbom=role is Role.SBOM)
    return Asset(name=path.name, path=path, size=size, sha256=sha256_file(path), role=role, subject=subject)


def write_checksums(assets: list[Asset], folder: Path) -> Path:
    """shasum format: ``<hex>  <name>``, sorted by name."""
    path = folder / CHECKSUMS
    path.write_text("".join(f"{a.sha256}  {a.name}\n" for a in sorted(assets, key=lambda a: a.name)))
    return path


def check_wheel_count(count: int, max_wheels: int | None, what: str) -> None:
    """The release action attests each wheel's SBOM in its own step, and it has ``max_wheels`` of them:
    more wheels are refused here, before anything is built or uploaded, never published half-attested."""
    if max_wheels is not None and count > max_wheels:
        raise InputError(
            f"{what}, but at most {max_wheels} can be released here (--max-wheels {max_wheels}: the release "
            f"action has {max_wheels} SBOM attestation steps, one per wheel); release the others from a workflow "
            "of your own with one actions/attest-sbom step per wheel, or merge packages"
        )


def _progress(line: str) -> None:
    click.echo(gha.redact(f"release-kit: {line}"), err=True)


def _cycle(edges: Mapping[str, set[str]], among: set[str]) -> list[str]:
    """One dependency cycle among ``among`` (which holds one), as a path that ends where it starts."""
    path: list[str] = []
    node = min(among)
    while node not in path:
        path.append(node)
        node = min(edges[node] & among)
    return [*path[path.index(node) :], node]


def dependency_order(names: list[str], edges: Mapping[str, set[str]], what: str) -> list[str]:
    """``names`` so that each comes after the ones it needs (``edges``: name -> the names it needs,
    among ``names``); otherwise in the order given. A cycle is exit 2 naming it."""
    done: list[str] = []
    left = list(names)
    while left:
        ready = next((n for n in left if edges.get(n, set()) <= set(done)), None)
        if ready is None:
            stuck = set(left)
            trimmed = {n: edges.get(n, set()) & stuck for n in stuck}
            # drop the names that only wait on the cycle, so the message names the cycle itself
            while True:
                leaves = {n for n in stuck if not any(n in trimmed[m] for m in stuck)}
                if not leaves or leaves == stuck:
                    break
                stuck -= leaves
            raise InputError(
                f"{what}: the packages depend on each other in a cycle ({' -> '.join(_cycle(trimmed, stuck))}); "
                "a release builds each package after the ones it needs: break the cycle"
            )
        done.append(ready)
        left.remove(ready)
    return done


def _build_order(projects: list[preflight.Project]) -> list[preflight.Project]:
    keys = [str(canonicalize_name(p.name)) if p.name else f"\0{i}" for i, p in enumerate(projects)]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        folders = [p.folder.as_posix() for p, k in zip(projects, keys, strict=True) if k in twice]
        raise InputError(f"--package: {', '.join(folders)} are the same package ({', '.join(twice)}); give it once")
    by_key = dict(zip(keys, projects, strict=True))
    names = {k for k in keys if not k.startswith("\0")}
    edges = {k: (set(p.needs) & names) - {k} for k, p in by_key.items()}
    return [by_key[k] for k in dependency_order(keys, edges, "--package")]


def _sdist_version(path: Path) -> str:
    """The version part of an sdist's file name (older backends keep hyphens in the name part)."""
    stem = path.name.removesuffix(".tar.gz").removesuffix(".zip")
    return stem.rsplit("-", 1)[1] if "-" in stem else ""


def _check_built(
    project: preflight.Project, files: list[Path], wanted: Version, env: dict[str, str], digests: dict[str, str]
) -> list[sbom.BuiltWheel]:
    """Each wheel's METADATA (and each sdist's name) says the tag's version, or exit 2 naming the cause."""
    wheels = []
    for path in files:
        if path.suffix == ".whl":
            wheel = sbom.built_wheel(path, digests[path.name])
            name, version = wheel.name, wheel.version
            wheels.append(wheel)
        else:
            name, version = project.name or path.name, _sdist_version(path)
        try:
            same = Version(version) == wanted
        except InvalidVersion:
            same = False
        if not same:
            raise preflight.version_mismatch(project, name, version, wanted, env)
    if not wheels:
        raise InputError(f"--package {project.folder}: python -m build made no wheel")
    return wheels


def build(
    *,
    repository: str | None,
    tag: str,
    packages: list[Path],
    frontend: Path | None,
    assets_dir: Path,
    sdist: bool,
    max_wheels: int | None = None,
) -> ReleasePlan:
    if not packages and frontend is None:
        raise InputError("nothing to release: give --package DIR (repeatable) and/or --frontend DIR")
    check_wheel_count(len(packages), max_wheels, f"--package: {len(packages)} packages make at least as many wheels")
    version = preflight.check_versions(tag, packages)
    order = _build_order([preflight.read_project(p) for p in packages])
    assets_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{assets_dir.name}.", dir=assets_dir.parent))
    try:
        assets: list[Asset] = []
        built: dict[str, sbom.BuiltWheel] = {}
        builds: list[PackageBuild] = []
        for project in order:
            env = preflight.pretend_env(project, version)
            how = ", ".join(f"{k}={v}" for k, v in env.items()) or "no variable"
            _progress(f"building {project.name or project.folder} ({project.folder}, {project.versioning}: {how})")
            files = build_wheel(project.folder, staging, sdist=sdist, env=env)
            new = [asset_of(p, Role.WHEEL if p.suffix == ".whl" else Role.SDIST) for p in files]
            wheels = _check_built(project, files, version, env, {a.name: a.sha256 for a in new})
            for wheel in wheels:
                if wheel.name in built:
                    raise InputError(f"--package {project.folder}: two packages build {wheel.name}")
                built[wheel.name] = wheel
            assets += new
            builds.append(
                PackageBuild(
                    package=project.folder.as_posix(),
                    name=wheels[0].name,
                    version=wheels[0].version,
                    versioning=project.versioning,
                    pretend=env,
                    files=[p.name for p in files],
                )
            )
        check_wheel_count(len(built), max_wheels, f"the packages built {len(built)} wheels")
        edges = {n: _needs(w, set(built)) for n, w in built.items()}
        dependency_order(list(built), edges, "the built wheels")  # dependencies only the wheels declare count too
        for entry in builds:
            entry.siblings = sorted(f"{n}=={built[n].version}" for n in _reachable(entry.name, edges))
        wheels = list(built.values())
        with ThreadPoolExecutor(max_workers=4) as pool:
            texts = list(pool.map(lambda w: sbom.wheel_sbom(w.path, w.sha256, built), wheels))
        for wheel, text in zip(wheels, texts, strict=True):
            path = staging / sbom_name(wheel.path)
            path.write_text(text, encoding="utf-8")
            assets.append(asset_of(path, Role.SBOM, subject=wheel.path.name))
        if frontend is not None:
            from release_kit.release.frontend_sbom import frontend_sbom, lockfile_of, repository_root

            path = staging / FRONTEND_SBOM
            text = frontend_sbom(frontend, repository_root(frontend))
            path.write_text(text, encoding="utf-8")
            assets.append(asset_of(path, Role.SBOM, subject=f"{frontend.name} ({lockfile_of(text)})"))
        assets.append(asset_of(write_checksums(assets, staging), Role.CHECKSUMS))
        names = [a.name for a in assets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise InputError(f"two assets would share a name: {', '.join(dupes)}")
        record.write(
            staging,
            tag=tag,
            repository=repository,
            packages=[p.folder for p in order],
            frontend=frontend,
            sdist=sdist,
            builds=[
                record.BuiltPackage(package=b.package, name=b.name, version=b.version, versioning=b.versioning)
                for b in builds
            ],
        )
        if assets_dir.exists():
            shutil.rmtree(assets_dir)
        staging.rename(assets_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for asset in assets:
        asset.path = assets_dir / asset.name
    return ReleasePlan(
        repository=repository,
        tag=tag,
        version=str(version),
        prerelease=version.is_prerelease,
        assets=assets,
        builds=builds,
    )


def _needs(wheel: sbom.BuiltWheel, names: set[str]) -> set[str]:
    return {str(canonicalize_name(r.name)) for r in sbom.runtime(wheel.requirements)} & names - {wheel.name}


def _reachable(name: str, edges: Mapping[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(edges.get(name, set()))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo += edges.get(node, set())
    return seen
