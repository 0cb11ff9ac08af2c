"""bun.lock, bun's text lockfile (JSON with trailing commas; lockfileVersion 0 to 2).

``workspaces`` holds each workspace package's dependencies by folder; ``packages`` holds every
package under a key that is its install path (``debug/ms`` is the ``ms`` that ``debug`` gets).
A dependency is found the way bun places it: under the depender's key, then each key above it.
The binary bun.lockb (bun 1.1 and older) is not read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from release_kit.errors import InputError
from release_kit.release.lockfiles.files import load_jsonc, mapping, string_map
from release_kit.release.lockfiles.graph import Edge, Node, walk
from release_kit.release.lockfiles.identity import shown, split_name, sri_hashes
from release_kit.release.lockfiles.models import Component, Excluded, Lockfile

SUPPORTED = (0, 1, 2)
_SRI_PREFIX = re.compile(r"(sha512|sha384|sha256|sha1)-")
_TARBALL_VERSION = re.compile(r"/-/[^/]+?-(\d+\.\d+\.\d+[^/]*)\.tgz$")
_LOCAL = ("workspace", "file", "link", "portal", "root")


def _segments(key: str) -> list[str]:
    """ "@a/b/c/@d/e" -> ["@a/b", "c", "@d/e"]."""
    parts, found = key.split("/"), []
    i = 0
    while i < len(parts):
        if parts[i].startswith("@") and i + 1 < len(parts):
            found.append(f"{parts[i]}/{parts[i + 1]}")
            i += 2
        else:
            found.append(parts[i])
            i += 1
    return found


class _Bun:
    def __init__(self, lockfile: Lockfile, doc: dict[str, Any]) -> None:
        self.lockfile = lockfile
        where = str(lockfile.path)
        self.workspaces = mapping(doc.get("workspaces"), f"{where}: workspaces")
        self.packages = mapping(doc.get("packages"), f"{where}: packages")

    # node ids are keys of "packages"; a workspace package is "w:<folder>"
    def find(self, name: str, base: str) -> str | None:
        segments = _segments(base) if base else []
        for i in range(len(segments), -1, -1):
            key = "/".join([*segments[:i], name])
            if key in self.packages:
                return key
        return None

    def entry(self, key: str) -> list[Any]:
        value = self.packages.get(key)
        if not isinstance(value, list) or not value or not isinstance(value[0], str):
            raise InputError(
                f'{self.lockfile.path}: package {key!r}: expected ["name@version", ...], got {shown(value)}'
            )
        return value

    def target(self, key: str) -> str:
        _name, reference = split_name(self.entry(key)[0])
        if reference.startswith("workspace:"):
            return f"w:{reference[len('workspace:') :]}|{key}"
        return key

    def dependency_edges(self, fields: dict[str, Any], base: str, where: str, dev: bool) -> list[tuple[Edge, bool]]:
        optional_peers = fields.get("optionalPeers")
        optional_peers = optional_peers if isinstance(optional_peers, list) else []
        wanted = [("dependencies", False), ("optionalDependencies", True), ("peerDependencies", False)]
        if dev:
            wanted.append(("devDependencies", False))
        found, seen = [], set()
        for field, optional in wanted:
            for name in string_map(fields.get(field), f"{where}: {field}"):
                if name in seen or (field == "peerDependencies" and name in optional_peers):
                    continue  # an optional peer is there only when something else installs it
                seen.add(name)
                key = self.find(name, base)
                if key is None:
                    if optional or field == "peerDependencies":
                        continue
                    raise InputError(f"{where}: {name} ({field}) has no entry in packages")
                found.append((Edge(self.target(key), optional), field == "devDependencies"))
        return found

    def workspace_edges(self, folder: str, base: str, dev: bool) -> list[tuple[Edge, bool]]:
        where = f"{self.lockfile.path}: workspace {folder!r}"
        return self.dependency_edges(mapping(self.workspaces.get(folder), where), base, where, dev)

    def edges(self, node_id: str) -> Iterable[Edge]:
        if node_id.startswith("w:"):
            folder, _, key = node_id[2:].partition("|")
            return [edge for edge, _ in self.workspace_edges(folder, key, dev=False)]
        value = self.entry(node_id)
        meta = value[2] if len(value) > 2 and isinstance(value[2], dict) else value[1] if len(value) > 1 else {}
        if not isinstance(meta, dict):
            return []
        return [edge for edge, _ in self.dependency_edges(meta, node_id, f"{self.lockfile.path}: {node_id!r}", False)]

    def node(self, node_id: str) -> Node:
        if node_id.startswith("w:"):
            folder, _, key = node_id[2:].partition("|")
            return Node(name=split_name(self.entry(key)[0])[0], version="", local=f"workspace package {folder}")
        value = self.entry(node_id)
        name, version = split_name(value[0])
        protocol, colon, rest = version.partition(":")
        if colon and protocol in _LOCAL:
            return Node(name=name, version="", local=f"local folder {rest} ({protocol}:)")
        # [ident, registry, meta, integrity] from a registry; [ident, meta, integrity] for a tarball
        # URL; a git dependency's last item is a commit, not an integrity
        integrity = next((v for v in reversed(value[1:]) if isinstance(v, str) and _SRI_PREFIX.match(v)), None)
        if colon and protocol in ("http", "https") and (tarball := _TARBALL_VERSION.search(version)):
            version = tarball.group(1)  # a registry-layout tarball URL: .../name/-/name-1.2.3.tgz
        where = f"{self.lockfile.path}: package {node_id!r}"
        return Node(name=name, version=version, hashes=sri_hashes(integrity, where))


def read(lockfile: Lockfile, text: str, folder: str) -> tuple[str, list[Component], list[Excluded]]:
    path = lockfile.path
    doc = mapping(load_jsonc(text, path), str(path))
    version = doc.get("lockfileVersion")
    if version not in SUPPORTED:
        raise InputError(f"{path}: lockfileVersion {shown(version)} is not read; 0 to 2 are (bun 1.1.39 and newer)")
    lock = _Bun(lockfile, doc)
    key = "" if folder == "." else folder
    if key not in lock.workspaces:
        known = ", ".join(repr(k) for k in sorted(lock.workspaces)[:10])
        raise InputError(
            f"{path}: no workspace {key!r} (it has {known}); is the frontend in the root package.json's "
            "workspaces, and the lockfile up to date (bun install)?"
        )
    info = mapping(lock.workspaces[key], f"{path}: workspace {key!r}")
    base = str(info.get("name") or "") if key else ""
    components, excluded = walk(lock, lock.workspace_edges(key, base, dev=True))
    excluded = [e for e in excluded if e.reason != f"workspace package {folder}"]
    return f"bun.lock v{version}", components, excluded
