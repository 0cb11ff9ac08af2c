"""pnpm-lock.yaml, lockfile 6.x (pnpm 8) and 9.x (pnpm 9 and 10).

In a workspace only the frontend's importer counts: its dependencies, and what they reach through
``snapshots`` (9.x) or ``packages`` (6.x). A ``link:`` to another importer is a workspace package:
it is not a component, its runtime dependencies are followed. ``file:`` packages are local folders.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from release_kit.errors import InputError
from release_kit.release.lockfiles.files import manifest, mapping
from release_kit.release.lockfiles.graph import Edge, Node, walk
from release_kit.release.lockfiles.identity import shown, split_name, sri_hashes
from release_kit.release.lockfiles.models import Component, Excluded, Lockfile

SUPPORTED = ("6", "9")
_IMPORTER_FIELDS = (("dependencies", False), ("optionalDependencies", True))


def load_yaml(text: str, path: Path) -> Any:
    """The last YAML document of ``text`` (pnpm may put its own environment's lockfile first)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        documents = [doc for doc in yaml.load_all(text, Loader=loader) if doc is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path}: not valid YAML ({exc.problem or exc.context}{where})") from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise InputError(f"{path}: not valid YAML ({type(exc).__name__})") from None
    except (ValueError, TypeError, OverflowError) as exc:  # a scalar YAML types but cannot build (a bad date)
        raise InputError(f"{path}: not valid YAML ({str(exc)[:120]})") from None
    if not documents:
        raise InputError(f"{path}: empty")
    return documents[-1]


class _Pnpm:
    def __init__(self, lockfile: Lockfile, doc: dict[str, Any]) -> None:
        self.lockfile = lockfile
        path = self.path = lockfile.path
        version = str(doc.get("lockfileVersion", ""))
        self.major = version.split(".")[0]
        if self.major not in SUPPORTED:
            raise InputError(
                f"{path}: lockfileVersion {version or 'missing'} is not read; lockfile 6.x (pnpm 8) and 9.x "
                "(pnpm 9 and 10) are (run a recent pnpm install --lockfile-only to update it)"
            )
        self.version = version
        where = str(path)
        if "importers" in doc:
            self.importers = mapping(doc["importers"], f"{where}: importers")
        else:  # lockfile 6 of a project that is not a workspace
            self.importers = {".": {k: doc[k] for k, _ in (*_IMPORTER_FIELDS, ("devDependencies", True)) if k in doc}}
        self.packages = mapping(doc.get("packages"), f"{where}: packages")
        self.snapshots = mapping(doc.get("snapshots"), f"{where}: snapshots") if self.major == "9" else self.packages

    # node ids: "i:<importer folder>" for workspace packages, "s:<snapshot key>" for packages,
    # "l:<folder>" for a link: to a folder that is no importer
    def key_of(self, alias: str, ref: str) -> str:
        """pnpm's own rule (dependency-path refToRelative) for the key a reference points at."""
        if self.major == "6":
            if ref.startswith("file:"):
                return ref
            bracket = ref.find("(")
            if "/" not in ref or (bracket >= 0 and ref.rfind("/", 0, bracket) < 0):
                return f"/{alias}@{ref}"
            return ref
        if ref.startswith("@"):
            return ref
        at, colon, bracket = ref.find("@"), ref.find(":"), ref.find("(")
        if at >= 0 and (colon < 0 or at < colon) and (bracket < 0 or at < bracket):
            return ref
        return f"{alias}@{ref}"

    def target(self, alias: str, ref: object, base: str, where: str) -> str:
        if not isinstance(ref, str):
            raise InputError(f"{where}: {alias} must have a version string, got {shown(ref)}")
        if ref.startswith("link:"):
            folder = posixpath.normpath(posixpath.join(base, ref[5:]))
            return f"i:{folder}" if folder in self.importers else f"l:{folder}"
        key = self.key_of(alias, ref)
        if key not in self.snapshots:
            raise InputError(
                f"{where}: {alias} {ref} has no entry ({key!r}) in {'snapshots' if self.major == '9' else 'packages'}"
            )
        return f"s:{key}"

    def importer_edges(self, folder: str, fields: Iterable[tuple[str, bool]]) -> list[tuple[Edge, str]]:
        where = f"{self.path}: importer {folder!r}"
        importer = mapping(self.importers.get(folder), where)
        found = []
        for field, optional in fields:
            for alias, spec in mapping(importer.get(field), f"{where}: {field}").items():
                ref = spec.get("version") if isinstance(spec, dict) else spec
                found.append((Edge(self.target(str(alias), ref, folder, f"{where}: {field}"), optional), field))
        return found

    def edges(self, node_id: str) -> Iterable[Edge]:
        kind, _, key = node_id.partition(":")
        if kind == "i":
            return [edge for edge, _ in self.importer_edges(key, _IMPORTER_FIELDS)]
        if kind == "l":
            return []
        where = f"{self.path}: package {key!r}"
        snapshot = mapping(self.snapshots.get(key), where)
        found = []
        for field, optional in _IMPORTER_FIELDS:
            for alias, ref in mapping(snapshot.get(field), f"{where}: {field}").items():
                found.append(Edge(self.target(str(alias), ref, ".", f"{where}: {field}"), optional))
        return found

    def node(self, node_id: str) -> Node:
        kind, _, key = node_id.partition(":")
        if kind == "i":
            return Node(name=self.importer_name(key), version="", local=f"workspace package {key}")
        if kind == "l":
            return Node(name=posixpath.basename(key), version="", local=f"local folder {key} (link:)")
        where = f"{self.path}: package {key!r}"
        bare = key.split("(", 1)[0]
        entry = mapping(self.packages.get(bare) if self.major == "9" else self.snapshots.get(key), where)
        name, version = split_name(bare[1:] if bare.startswith("/") else bare)
        if self.major == "6" and bare.startswith("file:"):
            name, version = str(entry.get("name") or posixpath.basename(bare)), bare
        for field, value in (("name", entry.get("name")), ("version", entry.get("version"))):
            if value is not None and not isinstance(value, str):
                raise InputError(f"{where}: {field} must be a string, got {shown(value)}")
        resolution = mapping(entry.get("resolution"), f"{where}: resolution")
        if version.startswith(("file:", "link:")) or resolution.get("type") == "directory":
            folder = resolution.get("directory") or version.partition(":")[2]
            return Node(name=name, version="", local=f"local folder {folder} (file:)")
        version = entry.get("version") or version
        if not name or not version:
            raise InputError(f"{where}: not a package name and version")
        return Node(name=name, version=version, hashes=sri_hashes(resolution.get("integrity"), where))

    def importer_name(self, folder: str) -> str:
        data = manifest(self.lockfile.folder / folder, self.lockfile.repo_root, required=False) or {}
        name = data.get("name")
        return name if isinstance(name, str) and name else posixpath.basename(folder) or folder


def read(lockfile: Lockfile, doc: object, folder: str) -> tuple[str, list[Component], list[Excluded]]:
    """(format, components, exclusions) for the importer ``folder`` (relative to the lockfile's
    folder, posix, "." for the root)."""
    path = lockfile.path
    lock = _Pnpm(lockfile, mapping(doc, str(path), "a YAML mapping"))
    if folder not in lock.importers:
        known = ", ".join(sorted(map(str, lock.importers))[:10])
        raise InputError(
            f"{path}: no importer {folder!r} (it has {known}); is the frontend one of the workspace's packages "
            "in pnpm-workspace.yaml, and the lockfile up to date (pnpm install)?"
        )
    fields = (*_IMPORTER_FIELDS, ("devDependencies", False))
    roots = [(edge, field == "devDependencies") for edge, field in lock.importer_edges(folder, fields)]
    components, excluded = walk(lock, roots)
    # the frontend's own importer, reached back through a cycle, is not an exclusion worth naming
    excluded = [e for e in excluded if e.reason != f"workspace package {folder}"]
    return f"pnpm-lock.yaml {lock.version}", components, excluded
