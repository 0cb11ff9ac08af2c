"""release build: wheels with ``python -m build``, an SBOM per wheel, the frontend SBOM, SHA256SUMS.

Everything goes to the assets folder (never SBOMs into dist/, so a later PyPI upload of dist/
stays clean). The folder is filled through a staging folder and swapped in at the end, so a
failed build leaves the previous assets as they were.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from release_kit.errors import InputError
from release_kit.release import preflight, record, sbom
from release_kit.release.models import Asset, ReleasePlan, Role

CHECKSUMS = "SHA256SUMS"
FRONTEND_SBOM = "frontend-sbom.json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build_wheel(package: Path, outdir: Path, *, sdist: bool = False) -> list[Path]:
    """``python -m build`` for one package (isolated, with uv as the installer when present)."""
    kinds = ["--wheel", "--sdist"] if sdist else ["--wheel"]
    cmd = [sys.executable, "-m", "build", *kinds, "--outdir", str(outdir)]
    try:
        import uv  # noqa: F401

        cmd += ["--installer", "uv"]
    except ImportError:
        pass
    before = set(outdir.iterdir()) if outdir.exists() else set()
    done = subprocess.run([*cmd, str(package)], capture_output=True, text=True, check=False, timeout=900)
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
    assets_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{assets_dir.name}.", dir=assets_dir.parent))
    try:
        built: list[Path] = []
        for package in packages:
            built += build_wheel(package, staging, sdist=sdist)
        wheels = [p for p in built if p.suffix == ".whl"]
        check_wheel_count(len(wheels), max_wheels, f"the packages built {len(wheels)} wheels")
        assets = [asset_of(p, Role.WHEEL if p.suffix == ".whl" else Role.SDIST) for p in built]
        digests = {a.name: a.sha256 for a in assets}
        with ThreadPoolExecutor(max_workers=4) as pool:
            texts = list(pool.map(lambda w: sbom.wheel_sbom(w, digests[w.name]), wheels))
        for wheel, text in zip(wheels, texts, strict=True):
            path = staging / sbom_name(wheel)
            path.write_text(text, encoding="utf-8")
            assets.append(asset_of(path, Role.SBOM, subject=wheel.name))
        if frontend is not None:
            path = staging / FRONTEND_SBOM
            path.write_text(sbom.frontend_sbom(frontend), encoding="utf-8")
            assets.append(asset_of(path, Role.SBOM, subject=f"{frontend.name} (package-lock.json)"))
        assets.append(asset_of(write_checksums(assets, staging), Role.CHECKSUMS))
        names = [a.name for a in assets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise InputError(f"two assets would share a name: {', '.join(dupes)}")
        record.write(staging, tag=tag, repository=repository, packages=packages, frontend=frontend, sdist=sdist)
        if assets_dir.exists():
            shutil.rmtree(assets_dir)
        staging.rename(assets_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for asset in assets:
        asset.path = assets_dir / asset.name
    return ReleasePlan(
        repository=repository, tag=tag, version=str(version), prerelease=version.is_prerelease, assets=assets
    )
