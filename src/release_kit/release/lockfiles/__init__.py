"""The frontend's lockfile, found and read: pnpm-lock.yaml (6.x, 9.x), yarn.lock (classic v1 and
berry), package-lock.json / npm-shrinkwrap.json (v1, v2, v3) and bun.lock. Pure parsing: no
network, no package manager run, every read bounded and kept inside the repository.

``find_lockfile`` looks in the frontend folder, then in each folder above it up to the repository
root (a workspace root holds the lockfile of all its packages); ``read_lockfile`` returns the
third-party packages the frontend installs (its own dependencies and what they reach, each package
once) and what it set aside (workspace packages and local folders).
"""

from __future__ import annotations

from pathlib import Path

from release_kit.errors import InputError
from release_kit.release.lockfiles.files import confined, inside, manifest, read_text
from release_kit.release.lockfiles.models import Component, Excluded, Kind, Lockfile, Reading

__all__ = ["Component", "Excluded", "Kind", "Lockfile", "Reading", "find_lockfile", "read_components", "read_lockfile"]

LOOKED_FOR = (Kind.PNPM, Kind.YARN, Kind.NPM_SHRINKWRAP, Kind.NPM, Kind.BUN)
_MANAGERS = {"pnpm": Kind.PNPM, "yarn": Kind.YARN, "npm": Kind.NPM, "bun": Kind.BUN}


def find_lockfile(frontend: Path, repo_root: Path) -> Lockfile:
    """The lockfile of ``frontend``: in it, or in the nearest folder above it that has one, never
    above ``repo_root``. Exit 2 (InputError) naming --frontend when there is none, when the
    frontend is outside the repository, or when a lockfile is a symlink leading out of it."""
    root = repo_root.resolve()
    if not frontend.is_dir():
        raise InputError(f"--frontend {frontend}: not a folder")
    start = frontend.resolve()
    if not inside(start, root):
        raise InputError(f"--frontend {frontend}: outside the repository {root}")
    folder = start
    while True:
        found = [kind for kind in LOOKED_FOR if (folder / kind.value).is_file() or (folder / kind.value).is_symlink()]
        if len(found) > 1:
            found = [_choose(folder, root, found, frontend)]
        if found:
            kind = found[0]
            path = confined(folder / kind.value, root, "the lockfile")
            return Lockfile(path=path, kind=kind, repo_root=root)
        if (folder / "bun.lockb").is_file():
            raise InputError(
                f"--frontend {frontend}: {folder / 'bun.lockb'} is bun's binary lockfile, which is not read; "
                "write the text one with bun install --save-text-lockfile (bun 1.2 and newer write bun.lock)"
            )
        if folder == root:
            break
        folder = folder.parent
    names = ", ".join(kind.value for kind in LOOKED_FOR)
    raise InputError(
        f"--frontend {frontend}: no lockfile found; looked for {names} in {start} and each folder above it "
        f"up to the repository root {root}",
        hint="commit the lockfile your package manager writes (pnpm install, yarn install, npm install)",
    )


def _choose(folder: Path, root: Path, found: list[Kind], frontend: Path) -> Kind:
    """Several lockfiles in one folder: the one of package.json's packageManager, else refuse."""
    data = manifest(folder, root, required=False) or {}
    manager = data.get("packageManager")
    if isinstance(manager, str):
        kind = _MANAGERS.get(manager.split("@", 1)[0].strip())
        if kind is Kind.NPM and Kind.NPM_SHRINKWRAP in found:
            return Kind.NPM_SHRINKWRAP
        if kind in found:
            return kind
    names = " and ".join(kind.value for kind in found)
    raise InputError(
        f"--frontend {frontend}: {folder} has {names}; say which one is used with packageManager in its "
        'package.json (e.g. "packageManager": "pnpm@9.15.0") or remove the stale lockfile'
    )


def read_lockfile(lockfile: Lockfile, frontend: Path) -> Reading:
    """Everything the lockfile says about the frontend (a folder at or below the lockfile's)."""
    start = frontend.resolve()
    if not inside(start, lockfile.folder):
        raise InputError(f"--frontend {frontend}: not inside {lockfile.folder}, the folder of {lockfile.path}")
    folder = start.relative_to(lockfile.folder).as_posix() or "."
    text = read_text(lockfile.path)
    if lockfile.kind is Kind.PNPM:
        from release_kit.release.lockfiles import pnpm

        fmt, components, excluded = pnpm.read(lockfile, pnpm.load_yaml(text, lockfile.path), folder)
    elif lockfile.kind is Kind.YARN:
        from release_kit.release.lockfiles import yarn

        fmt, components, excluded = yarn.read(lockfile, text, folder)
    elif lockfile.kind in (Kind.NPM, Kind.NPM_SHRINKWRAP):
        from release_kit.release.lockfiles import npm

        fmt, components, excluded = npm.read(lockfile, text, folder)
    else:
        from release_kit.release.lockfiles import bun

        fmt, components, excluded = bun.read(lockfile, text, folder)
    return Reading(lockfile=lockfile, format=fmt, components=tuple(components), excluded=tuple(excluded))


def read_components(lockfile: Lockfile, frontend: Path) -> list[Component]:
    """The frontend's third-party packages, each once, sorted by purl."""
    return list(read_lockfile(lockfile, frontend).components)
