"""Bounded reads of a lockfile and the package.json files it refers to, confined to the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from release_kit.errors import InputError
from release_kit.release.lockfiles.identity import shown

MAX_LOCKFILE_BYTES = 64 * 1024 * 1024  # a 10,000-package pnpm lockfile is about 5 MiB
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_WORKSPACES = 5_000


def inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def confined(path: Path, repo_root: Path, what: str) -> Path:
    """``path`` resolved (symlinks followed), refused when it leaves the repository."""
    resolved = path.resolve()
    if not inside(resolved, repo_root):
        raise InputError(f"{what} {path} leads to {resolved}, outside the repository {repo_root}; refusing to read it")
    return resolved


def read_text(path: Path, limit: int | None = None) -> str:
    """The file's text, refused above ``limit`` bytes (MAX_LOCKFILE_BYTES) or when it is not UTF-8."""
    limit = MAX_LOCKFILE_BYTES if limit is None else limit
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise InputError(f"{path}: larger than {limit:,} bytes, more than a lockfile can sensibly be")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def load_json(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError(f"{path}: nested too deeply to be a lockfile") from None
    except ValueError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None


# strings are matched first so that nothing inside them is touched; an unterminated /* comment
# runs to the end (one linear pass, then refused), never rescanned
_COMMENTS = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*|/\*.*?(?:\*/|\Z)', re.DOTALL)
_TRAILING_COMMAS = re.compile(r'"(?:[^"\\\n]|\\.)*"|,(?=\s*[}\]])')


def load_jsonc(text: str, path: Path) -> Any:
    """JSON with comments and trailing commas (bun.lock): both removed outside strings, then JSON."""

    def drop_comment(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("/*") and (len(token) < 4 or not token.endswith("*/")):
            raise InputError(f"{path}: a /* comment is never closed")
        return token if token.startswith('"') else ""

    def drop_comma(match: re.Match[str]) -> str:
        token = match.group(0)
        return token if token.startswith('"') else ""

    return load_json(_TRAILING_COMMAS.sub(drop_comma, _COMMENTS.sub(drop_comment, text)), path)


def mapping(value: object, where: str, what: str = "an object") -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(f"{where}: expected {what}, got {shown(value)}")
    return value


def string_map(value: object, where: str) -> dict[str, str]:
    """A name -> string object (dependencies, specifiers), its shape checked."""
    found = mapping(value, where)
    for key, item in found.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise InputError(f"{where}: {shown(key)} must map to a string, got {shown(item)}")
    return found


def manifest(folder: Path, repo_root: Path, *, required: bool) -> dict[str, Any] | None:
    """``folder/package.json`` (bounded, confined to the repository), or None when absent (or,
    when not ``required``, outside the repository: a lockfile may name a folder beside it)."""
    path = folder / "package.json"
    if not required and not inside(path.resolve(), repo_root):
        return None
    if not path.exists():
        if required:
            raise InputError(f"{path}: missing (the lockfile names this folder as a workspace package)")
        return None
    resolved = confined(path, repo_root, "package.json")
    data = load_json(read_text(resolved, MAX_MANIFEST_BYTES), path)
    return mapping(data, str(path))


MAX_FOLDERS_WALKED = 100_000


def _skipped(parts: tuple[str, ...]) -> bool:
    return any(part == "node_modules" or part.startswith(".") for part in parts)


def _folders(root: Path, pattern: str) -> list[Path]:
    """The folders a workspaces glob matches; ``**`` walks the tree without entering
    node_modules or hidden folders, and at most MAX_FOLDERS_WALKED of them."""
    if "**" not in pattern:
        return sorted(p for p in root.glob(pattern) if p.is_dir() and not _skipped(p.relative_to(root).parts))
    import os
    import re

    parts = [re.escape(part).replace(r"\*\*", ".*").replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
             for part in pattern.split("/")]  # fmt: skip
    matcher = re.compile("/".join(parts).replace(".*/", "(?:.*/)?"))
    found = []
    for walked, (current, dirs, _) in enumerate(os.walk(root), 1):
        dirs[:] = sorted(d for d in dirs if not _skipped((d,)))
        if walked > MAX_FOLDERS_WALKED:
            raise InputError(f"{root}: the workspaces glob {pattern!r} walks more than {MAX_FOLDERS_WALKED} folders")
        relative = Path(current).relative_to(root).as_posix()
        if relative != "." and matcher.fullmatch(relative):
            found.append(Path(current))
    return found


DEPENDENCY_FIELDS = ("dependencies", "optionalDependencies", "devDependencies", "peerDependencies")


def dependencies_of(data: dict[str, Any], where: str) -> dict[str, dict[str, str]]:
    """The dependency objects of a package.json, each one checked."""
    return {field: string_map(data.get(field), f"{where}: {field}") for field in DEPENDENCY_FIELDS}


def workspace_folders(root: Path, repo_root: Path, patterns: object, where: str) -> dict[str, str]:
    """name -> folder (relative to ``root``, posix) of each workspace package that the ``workspaces``
    globs of a root package.json (a list, or ``{"packages": [...]}``) match."""
    if isinstance(patterns, dict):
        patterns = patterns.get("packages")
    if patterns is None:
        return {}
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise InputError(f"{where}: workspaces must be a list of folder globs, got {shown(patterns)}")
    found: dict[str, str] = {}
    for pattern in patterns:
        if pattern.startswith("!") or pattern.startswith("/") or ".." in Path(pattern).parts:
            continue
        for folder in _folders(root, pattern.rstrip("/")):
            if not (folder / "package.json").is_file():
                continue
            if not inside(folder.resolve(), repo_root):
                continue
            data = manifest(folder, repo_root, required=True) or {}
            name = data.get("name")
            if isinstance(name, str) and name:
                found.setdefault(name, folder.relative_to(root).as_posix())
            if len(found) > MAX_WORKSPACES:
                raise InputError(f"{where}: the workspaces globs match more than {MAX_WORKSPACES} packages")
    return found
