"""yarn.lock: classic (yarn 1, its own format) and berry (yarn 2 to 4, YAML with ``__metadata``).

Classic lists no workspace packages: the frontend's package.json and the workspace packages named
by the root package.json's ``workspaces`` globs give the first edges. Berry lists each workspace
(``name@workspace:folder``) with its dependencies, development ones included; which are
development-only comes from the workspace's package.json.

Berry's ``checksum`` is the hash of yarn's own cache archive, not of the package as published, so
it is not given as the component's hash (classic's ``integrity`` is, and so is the sha1 of a
``resolved`` URL's fragment when a very old lockfile has no integrity).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from release_kit.errors import InputError
from release_kit.release.lockfiles.files import dependencies_of, manifest, mapping, string_map, workspace_folders
from release_kit.release.lockfiles.graph import Edge, Node, walk
from release_kit.release.lockfiles.identity import shown, split_name, sri_hashes
from release_kit.release.lockfiles.models import Component, Excluded, Hash, Lockfile

_LOCAL = ("file:", "link:", "portal:")
_SHA1_FRAGMENT = re.compile(r"#([0-9a-f]{40})$")


def read(lockfile: Lockfile, text: str, folder: str) -> tuple[str, list[Component], list[Excluded]]:
    if re.search(r"^__metadata:", text, re.MULTILINE):
        return _read_berry(lockfile, text, folder)
    return _read_classic(lockfile, text, folder)


# --- classic -------------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|([^\s:,"]+)|(:)|(,)|(\S))')


def _tokens(line: str, where: str) -> list[str | None]:
    """Strings, and None for ':'; commas dropped (they only separate a key's descriptors)."""
    found: list[str | None] = []
    for match in _TOKEN.finditer(line):
        quoted, bare, colon, _comma, other = match.groups()
        if other is not None:
            raise InputError(f"{where}: unexpected {other!r}")
        if quoted is not None:
            try:
                found.append(json.loads(f'"{quoted}"'))
            except ValueError:
                raise InputError(f"{where}: bad escape in {shown(quoted)}") from None
        elif bare is not None:
            found.append(bare)
        elif colon is not None:
            found.append(None)
    return found


def parse_classic(text: str, path: Path) -> dict[str, dict[str, Any]]:
    """descriptor ("name@range") -> entry {"version": .., "dependencies": {..}, ...} of a yarn 1
    lockfile; entries are shared by all the descriptors of their key line."""
    entries: dict[str, dict[str, Any]] = {}
    entry: dict[str, Any] | None = None
    nested: dict[str, str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{path}: line {number}"
        if stripped.startswith("\t") or line.startswith(("<<<<<<<", "=======", ">>>>>>>")):
            raise InputError(f"{where}: not a yarn lockfile line (tab indentation or a merge conflict marker)")
        indent = len(line) - len(stripped)
        tokens = _tokens(stripped, where)
        if indent == 0:
            if len(tokens) < 2 or tokens[-1] is not None or None in tokens[:-1]:
                raise InputError(f"{where}: expected package descriptors followed by ':'")
            entry, nested = {"_key": stripped[:-1]}, None
            for descriptor in tokens[:-1]:
                entries[str(descriptor)] = entry
        elif indent == 2 and entry is not None:
            if len(tokens) == 2 and tokens[0] is not None and tokens[1] is None:
                nested = entry.setdefault(tokens[0], {})
                if not isinstance(nested, dict):
                    raise InputError(f"{where}: {tokens[0]} given twice")
            elif len(tokens) == 2 and None not in tokens:
                entry[str(tokens[0])], nested = tokens[1], None
            else:
                raise InputError(f"{where}: expected a field and its value")
        elif indent == 4 and nested is not None:
            if len(tokens) != 2 or None in tokens:
                raise InputError(f"{where}: expected a package name and its range")
            nested[str(tokens[0])] = str(tokens[1])
        else:
            raise InputError(f"{where}: unexpected indentation")
    return entries


class _Classic:
    def __init__(self, lockfile: Lockfile, entries: dict[str, dict[str, Any]]) -> None:
        self.lockfile, self.entries = lockfile, entries
        root = manifest(lockfile.folder, lockfile.repo_root, required=False) or {}
        where = str(lockfile.folder / "package.json")
        self.workspaces = workspace_folders(lockfile.folder, lockfile.repo_root, root.get("workspaces"), where)
        self.by_folder = {folder: name for name, folder in self.workspaces.items()}

    # node ids: "e:<descriptor>" a lockfile entry, "w:<folder>" a workspace package,
    # "l:<name>@<range>" a local folder the lockfile has no entry for
    def resolve(self, name: str, spec: str, base: str, where: str, optional: bool) -> str | None:
        if spec.startswith("workspace:") or (name in self.workspaces and f"{name}@{spec}" not in self.entries):
            if name not in self.workspaces:
                raise InputError(f"{where}: {name}@{spec} is no workspace package of {self.lockfile.folder}")
            return f"w:{self.workspaces[name]}"
        if spec.startswith(_LOCAL):
            protocol, _, target = spec.partition(":")
            relative = posixpath.normpath(posixpath.join(base, target))
            for descriptor in (f"{name}@{spec}", f"{name}@{protocol}:{relative}"):
                if descriptor in self.entries:
                    return f"e:{descriptor}"
            return f"l:{name}@{protocol}:{relative}"
        descriptor = f"{name}@{spec}"
        if descriptor in self.entries:
            return f"e:{descriptor}"
        if optional:
            return None
        raise InputError(f"{self.lockfile.path}: no entry for {descriptor} ({where}); run yarn install to update it")

    def manifest_edges(self, folder: str, dev: bool) -> list[tuple[Edge, bool]]:
        data = manifest(self.lockfile.folder / folder, self.lockfile.repo_root, required=True) or {}
        where = str(self.lockfile.folder / folder / "package.json")
        fields = dependencies_of(data, where)
        found = []
        runtime = {**fields["dependencies"], **fields["optionalDependencies"]}
        for name, spec in runtime.items():
            optional = name in fields["optionalDependencies"]
            target = self.resolve(name, spec, folder, where, optional)
            if target is not None:
                found.append((Edge(target, optional), False))
        if dev:
            for name, spec in fields["devDependencies"].items():
                if name not in runtime:
                    target = self.resolve(name, spec, folder, where, False)
                    if target is not None:
                        found.append((Edge(target), True))
        return found

    def edges(self, node_id: str) -> Iterable[Edge]:
        kind, _, key = node_id.partition(":")
        if kind == "w":
            return [edge for edge, _ in self.manifest_edges(key, dev=False)]
        if kind == "l":
            return []
        entry = self.entries[key]
        where = f"{self.lockfile.path}: {entry['_key']!r}"
        found = []
        for field, optional in (("dependencies", False), ("optionalDependencies", True)):
            for name, spec in string_map(entry.get(field), f"{where}: {field}").items():
                target = self.resolve(name, spec, ".", f"a dependency of {entry['_key']}", optional)
                if target is not None:
                    found.append(Edge(target, optional))
        return found

    def node(self, node_id: str) -> Node:
        kind, _, key = node_id.partition(":")
        if kind == "w":
            return Node(name=self.by_folder.get(key, key), version="", local=f"workspace package {key}")
        name, spec = split_name(key)
        if kind == "l":
            return _local(name, spec)
        entry = self.entries[key]
        where = f"{self.lockfile.path}: {entry['_key']!r}"
        if spec.startswith(_LOCAL):
            return _local(name, spec)
        if spec.startswith("npm:"):  # an alias: "ms-latest@npm:ms@2.1.3"
            name = split_name(spec[4:])[0]
        version = entry.get("version")
        if not isinstance(version, str) or not version:
            raise InputError(f"{where}: version must be a string, got {shown(version)}")
        hashes = sri_hashes(entry.get("integrity"), where)
        resolved = entry.get("resolved")
        if not hashes and isinstance(resolved, str) and (sha1 := _SHA1_FRAGMENT.search(resolved)):
            hashes = (Hash(alg="SHA-1", content=sha1.group(1)),)
        return Node(name=name, version=version, hashes=hashes)


def _read_classic(lockfile: Lockfile, text: str, folder: str) -> tuple[str, list[Component], list[Excluded]]:
    lock = _Classic(lockfile, parse_classic(text, lockfile.path))
    if folder != "." and folder not in lock.by_folder:
        raise InputError(
            f"{lockfile.path}: {folder} is not one of the workspaces of {lockfile.folder / 'package.json'}; "
            "add it to its workspaces globs (and run yarn install)"
        )
    components, excluded = walk(lock, lock.manifest_edges(folder, dev=True))
    return "yarn.lock v1", components, [e for e in excluded if e.reason != f"workspace package {folder}"]


# --- berry ---------------------------------------------------------------------------------------


class _Berry:
    def __init__(self, lockfile: Lockfile, doc: dict[str, Any]) -> None:
        self.lockfile = lockfile
        self.entries: dict[str, dict[str, Any]] = {}  # locator (resolution) -> entry
        self.descriptors: dict[str, str] = {}  # descriptor -> locator
        self.bound: dict[tuple[str, str], str] = {}  # (descriptor, parent locator) -> locator
        self.workspaces: dict[str, str] = {}  # folder -> locator
        for key, entry in doc.items():
            if key == "__metadata":
                continue
            where = f"{lockfile.path}: {shown(key)}"
            entry = mapping(entry, where)
            locator = entry.get("resolution")
            if not isinstance(key, str) or not isinstance(locator, str):
                raise InputError(f"{where}: resolution must be a string, got {shown(locator)}")
            self.entries.setdefault(locator, entry)
            for descriptor in key.split(","):
                descriptor = descriptor.strip()
                self.descriptors[descriptor] = locator
                plain, sep, params = descriptor.partition("::")
                if sep and (parent := _param(params, "locator")):
                    self.bound[(plain, parent)] = locator
            _name, reference = split_name(locator)
            if reference.startswith("workspace:"):
                self.workspaces[reference[len("workspace:") :]] = locator

    def target(self, name: str, spec: str, parent: str, optional: bool) -> str | None:
        descriptor = f"{name}@{spec}"
        locator = self.descriptors.get(descriptor) or self.bound.get((descriptor, parent))
        if locator is None and not optional:
            raise InputError(
                f"{self.lockfile.path}: no entry for {descriptor} (a dependency of {parent}); run yarn install"
            )
        return locator

    def dev_only(self, locator: str) -> set[str]:
        """The names a workspace lists only as devDependencies in its package.json."""
        folder = split_name(locator)[1][len("workspace:") :]
        data = manifest(self.lockfile.folder / folder, self.lockfile.repo_root, required=False)
        if data is None:
            return set()
        fields = dependencies_of(data, str(self.lockfile.folder / folder / "package.json"))
        runtime = {*fields["dependencies"], *fields["optionalDependencies"], *fields["peerDependencies"]}
        return set(fields["devDependencies"]) - runtime

    def all_edges(self, locator: str) -> list[tuple[str, Edge]]:
        entry = self.entries[locator]
        where = f"{self.lockfile.path}: {locator!r}"
        meta = mapping(entry.get("dependenciesMeta"), f"{where}: dependenciesMeta")
        found = []
        for field in ("dependencies", "optionalDependencies"):
            for name, spec in string_map(entry.get(field), f"{where}: {field}").items():
                flags = meta.get(name)
                optional = field == "optionalDependencies" or (
                    isinstance(flags, dict) and flags.get("optional") is True
                )
                target = self.target(name, spec, locator, optional)
                if target is not None:
                    found.append((name, Edge(target, optional)))
        return found

    def edges(self, node_id: str) -> Iterable[Edge]:
        if split_name(node_id)[1].startswith("workspace:"):
            dev = self.dev_only(node_id)
            return [edge for name, edge in self.all_edges(node_id) if name not in dev]
        return [edge for _, edge in self.all_edges(node_id)]

    def node(self, node_id: str) -> Node:
        entry = self.entries[node_id]
        name, reference = split_name(node_id)
        protocol, _, rest = reference.partition(":")
        if protocol == "workspace":
            return Node(name=name, version="", local=f"workspace package {rest}")
        if protocol in ("file", "link", "portal"):
            path, _, params = rest.partition("::")
            parent = split_name(_param(params, "locator") or "")[1]
            base = parent[len("workspace:") :] if parent.startswith("workspace:") else "."
            folder = posixpath.normpath(posixpath.join(base, path.split("#")[0]))
            return Node(name=name, version="", local=f"local folder {folder} ({protocol}:)")
        version = entry.get("version")
        if not isinstance(version, str) or not version:
            raise InputError(f"{self.lockfile.path}: {node_id!r}: version must be a string, got {shown(version)}")
        return Node(name=name, version=version)


def _local(name: str, spec: str) -> Node:
    protocol, _, folder = spec.partition(":")
    return Node(name=name, version="", local=f"local folder {folder} ({protocol}:)")


def _param(params: str, key: str) -> str | None:
    for part in params.split("&"):
        name, _, value = part.partition("=")
        if name == key:
            return unquote(value)
    return None


def _read_berry(lockfile: Lockfile, text: str, folder: str) -> tuple[str, list[Component], list[Excluded]]:
    from release_kit.release.lockfiles.pnpm import load_yaml

    doc = mapping(load_yaml(text, lockfile.path), str(lockfile.path), "a YAML mapping")
    meta = mapping(doc.get("__metadata"), f"{lockfile.path}: __metadata")
    lock = _Berry(lockfile, doc)
    locator = lock.workspaces.get(folder)
    if locator is None:
        known = ", ".join(sorted(lock.workspaces)[:10])
        raise InputError(
            f"{lockfile.path}: no workspace {folder!r} (it has {known}); is the frontend in the root package.json's "
            "workspaces, and the lockfile up to date (yarn install)?"
        )
    data = manifest(lockfile.folder / folder, lockfile.repo_root, required=True) or {}
    fields = dependencies_of(data, str(lockfile.folder / folder / "package.json"))
    dev = set(fields["devDependencies"]) - {*fields["dependencies"], *fields["optionalDependencies"]}
    roots = [(edge, name in dev) for name, edge in lock.all_edges(locator)]
    components, excluded = walk(lock, roots)
    excluded = [e for e in excluded if e.reason != f"workspace package {folder}"]
    return f"yarn.lock berry (metadata version {meta.get('version')})", components, excluded
