"""release plan: what the release will hold, read from the assets folder, with nothing changed."""

from __future__ import annotations

from pathlib import Path

from packaging.utils import canonicalize_name

from release_kit.errors import InputError
from release_kit.release import preflight, record
from release_kit.release.build import CHECKSUMS, FRONTEND_SBOM, asset_of, sbom_name
from release_kit.release.models import Asset, ReleasePlan, Role


def _read_checksums(folder: Path) -> dict[str, str]:
    path = folder / CHECKSUMS
    if not path.is_file():
        raise InputError(f"--assets-dir {folder}: no {CHECKSUMS} (run 'release-kit release build' first)")
    sums = {}
    for line in path.read_text().splitlines():
        digest, _, name = line.partition("  ")
        sums[name.strip()] = digest.strip()
    return sums


def _built_name(folder: Path, package: Path) -> str:
    """A package with no [project] name (setup.py only): the name release build recorded for it."""
    built = record.read(folder)
    for entry in built.builds if built else []:
        if Path(entry.package).resolve() == package.resolve():
            return entry.name
    raise InputError(f"--package {package}: no [project] name, and release build recorded none for it")


def plan(
    *, repository: str | None, tag: str, packages: list[Path], frontend: Path | None, assets_dir: Path
) -> ReleasePlan:
    """Every expected asset, present and matching SHA256SUMS; a declared file that is missing is an error."""
    if not packages and frontend is None:  # a release of nothing must not pass
        raise InputError(
            "nothing to release: give --package DIR and/or --frontend DIR, or run 'release-kit release build' "
            "first (later steps read what it recorded)"
        )
    version = preflight.check_versions(tag, packages)
    if not assets_dir.is_dir():
        raise InputError(f"--assets-dir {assets_dir}: no such folder (run 'release-kit release build' first)")
    sums = _read_checksums(assets_dir)
    assets: list[Asset] = []
    for package in packages:
        name = preflight.read_project(package).name or _built_name(assets_dir, package)
        stem = str(canonicalize_name(name)).replace("-", "_")
        wheels = sorted(assets_dir.glob(f"{stem}-{version}-*.whl"))
        if not wheels:
            raise InputError(f"--package {package}: no wheel {stem}-{version}-*.whl in {assets_dir}")
        for wheel in wheels:
            assets.append(asset_of(wheel, Role.WHEEL))
            sbom_path = assets_dir / sbom_name(wheel)
            if not sbom_path.is_file():
                raise InputError(f"{wheel.name}: its SBOM {sbom_path.name} is missing from {assets_dir}")
            assets.append(asset_of(sbom_path, Role.SBOM, subject=wheel.name))
        for sdist in sorted(assets_dir.glob(f"{stem}-{version}.tar.gz")):
            assets.append(asset_of(sdist, Role.SDIST))
    if frontend is not None:
        path = assets_dir / FRONTEND_SBOM
        if not path.is_file():
            raise InputError(f"--frontend {frontend}: {FRONTEND_SBOM} is missing from {assets_dir}")
        from release_kit.release.frontend_sbom import lockfile_of

        assets.append(asset_of(path, Role.SBOM, subject=f"{frontend.name} ({lockfile_of(path.read_text())})"))
    for asset in assets:
        if sums.get(asset.name) != asset.sha256:
            raise InputError(f"{asset.name}: its sha256 does not match {CHECKSUMS} (rebuild the assets)")
    extra = sorted(set(sums) - {a.name for a in assets})
    if extra:
        raise InputError(f"{CHECKSUMS} lists assets nobody declared: {', '.join(extra)}")
    assets.append(asset_of(assets_dir / CHECKSUMS, Role.CHECKSUMS))
    return ReleasePlan(
        repository=repository, tag=tag, version=str(version), prerelease=version.is_prerelease, assets=assets
    )
