"""package-lock.json and npm-shrinkwrap.json, lockfile v1 (npm 5 and 6), v2 and v3 (npm 7 and newer).

When the frontend is the lockfile's own folder every installed package (``node_modules/...``) is
listed with npm's own ``dev`` and ``optional`` flags. When it is a workspace package below it, its
dependencies are resolved the way Node does (the nearest ``node_modules`` up the folders) and only
what they reach is listed. Links (workspace packages, ``file:`` folders) are followed, not listed.
v1 (nested ``dependencies``) is first turned into v2's flat ``packages`` shape.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any

from release_kit.errors import InputError
from release_kit.release.lockfiles.files import dependencies_of, load_json, manifest, mapping, string_map
from release_kit.release.lockfiles.graph import Edge, Node, collect, walk
from release_kit.release.lockfiles.identity import shown, split_name, sri_hashes
from release_kit.release.lockfiles.models import Component, Excluded, Lockfile

_FIELDS = (("version", str, "a string"), ("name", str, "a string"), ("dev", bool, "true or false"),
           ("optional", bool, "true or false"), ("devOptional", bool, "true or false"))  # fmt: skip


def read(lockfile: Lockfile, text: str, folder: str) -> tuple[str, list[Component], list[Excluded]]:
    path = lockfile.path
    lock = load_json(text, path)
    if not isinstance(lock, dict):
        raise InputError(f"{path}: expected a JSON object")
    version = lock.get("lockfileVersion")
    if version in (2, 3) and "packages" in lock:
        packages = lock["packages"]
        if not isinstance(packages, dict):
            raise InputError(f"{path}: 'packages' must be an object of package entries")
    elif version == 1 and "packages" in lock and "dependencies" not in lock:
        raise InputError(f"{path}: lockfileVersion 1 keeps its packages in 'dependencies', this one has 'packages'")
    elif version == 1 or (version in (2, 3) and "dependencies" in lock):
        packages = _from_v1(lockfile, mapping(lock.get("dependencies"), f"{path}: dependencies"))
    else:
        raise InputError(f"{path}: lockfileVersion {shown(version)} is not read; 1, 2 and 3 are (npm 5 and newer)")
    tree = _Tree(lockfile, packages)
    if folder == ".":
        components, excluded = tree.everything()
    else:
        components, excluded = tree.reached(folder, lock.get("lockfileVersion") == 1)
    return f"{path.name} v{version}", components, excluded


def _from_v1(lockfile: Lockfile, dependencies: dict[str, Any]) -> dict[str, Any]:
    """v1's nested ``dependencies`` as v2's flat ``packages``: "node_modules/a/node_modules/b"."""
    root = manifest(lockfile.folder, lockfile.repo_root, required=False) or {}
    packages: dict[str, Any] = {"": {"workspaces": root.get("workspaces")}}
    stack = [("", dependencies)]
    while stack:
        parent, children = stack.pop()
        for name, info in children.items():
            key = f"{parent}/node_modules/{name}" if parent else f"node_modules/{name}"
            where = f"{lockfile.path}: dependency {key!r}"
            info = mapping(info, where)
            version = info.get("version")
            entry: dict[str, Any] = {k: info[k] for k in ("integrity", "dev", "optional") if k in info}
            entry["dependencies"] = string_map(info.get("requires"), f"{where}: requires")
            if isinstance(version, str) and version.startswith(("file:", "link:")):
                target = version.partition(":")[2]
                packages[key] = {"link": True, "resolved": target}
                packages.setdefault(target, {"dependencies": entry["dependencies"], "_v1_local": True})
            else:
                if isinstance(version, str) and version.startswith("npm:"):  # an alias
                    entry["name"], version = split_name(version[4:])
                entry["version"] = version
                packages[key] = entry
            nested = info.get("dependencies")
            if nested is not None:
                stack.append((key, mapping(nested, f"{where}: dependencies")))
    return packages


def _installed_name(key: str) -> str:
    return key.rsplit("node_modules/", 1)[-1]


class _Tree:
    def __init__(self, lockfile: Lockfile, packages: dict[str, Any]) -> None:
        self.lockfile, self.packages = lockfile, packages

    def entry(self, key: str) -> dict[str, Any]:
        where = f"{self.lockfile.path}: package {key!r}"
        info = self.packages.get(key)
        if not isinstance(info, dict):
            raise InputError(f"{where}: expected an object, got {shown(info)}")
        for field, kind, name in _FIELDS:
            if field in info and not isinstance(info[field], kind):
                raise InputError(f"{where}: {field} must be {name}, got {shown(info[field])}")
        return info

    def local_node(self, key: str) -> Node:
        """A link or a folder of the workspace: named from its package.json or its folder."""
        info = self.packages.get(key)
        folder = key if "node_modules/" not in key else str((info or {}).get("resolved") or key)
        name = (info or {}).get("name") if isinstance(info, dict) else None
        if not isinstance(name, str) or not name:
            data = manifest(self.lockfile.folder / folder, self.lockfile.repo_root, required=False) or {}
            name = data.get("name") if isinstance(data.get("name"), str) else None
        name = name or (_installed_name(key) if "node_modules/" in key else posixpath.basename(folder))
        workspace = self.is_workspace(folder)
        reason = f"workspace package {folder}" if workspace else f"local folder {folder} (file:)"
        return Node(name=name, version="", local=reason)

    def is_workspace(self, folder: str) -> bool:
        root = self.packages.get("")
        patterns = root.get("workspaces") if isinstance(root, dict) else None
        if isinstance(patterns, dict):
            patterns = patterns.get("packages")
        if not isinstance(patterns, list):
            return False
        from fnmatch import fnmatchcase

        return any(isinstance(p, str) and fnmatchcase(folder, p.rstrip("/")) for p in patterns)

    def node(self, key: str) -> Node:
        info = self.entry(key)
        if "node_modules/" not in key or info.get("link") is True or info.get("_v1_local"):
            return self.local_node(key)
        where = f"{self.lockfile.path}: package {key!r}"
        name = info.get("name") or _installed_name(key)
        version = info.get("version")
        if not isinstance(version, str) or not version:
            raise InputError(f"{where}: version must be a string, got {shown(version)}")
        if version.startswith(("file:", "link:")):
            return Node(name=name, version="", local=f"local folder {version.partition(':')[2]} (file:)")
        return Node(name=name, version=version, hashes=sri_hashes(info.get("integrity"), where))

    def everything(self) -> tuple[list[Component], list[Excluded]]:
        """Every installed package, with npm's flags (what today's lockfile says it installs)."""
        found = []
        for key in sorted(self.packages):
            if not key:
                continue
            info = self.entry(key)
            if "node_modules/" not in key or info.get("link") is True or "version" not in info:
                if info.get("link") is True:  # a workspace package or a file: folder
                    found.append((self.local_node(key), {(False, False)}))
                continue
            node = self.node(key)
            optional = bool(info.get("optional")) or bool(info.get("devOptional"))
            found.append((node, {(bool(info.get("dev")), optional)}))
        return collect(found)

    # node ids are the packages' keys: "node_modules/a", "packages/ui" (a link's target)
    def find(self, name: str, base: str) -> str | None:
        """Where Node finds ``name`` from the folder ``base``: the nearest node_modules up."""
        parts = base.split("/") if base else []
        for i in range(len(parts), -1, -1):
            prefix = parts[:i]
            if prefix and prefix[-1] == "node_modules":
                continue
            key = "/".join([*prefix, "node_modules", name])
            if key in self.packages:
                return key
        return None

    def resolve(self, key: str) -> str:
        info = self.packages.get(key)
        if isinstance(info, dict) and info.get("link") is True:
            target = info.get("resolved")
            if not isinstance(target, str) or target not in self.packages:
                return key  # a link to a folder the lockfile does not describe: set aside, not followed
            return target
        return key

    def dependency_edges(self, key: str, info: dict[str, Any], dev: bool) -> list[tuple[Edge, bool]]:
        where = f"{self.lockfile.path}: package {key!r}"
        fields = {f: string_map(info.get(f), f"{where}: {f}") for f in ("dependencies", "optionalDependencies",
                  "peerDependencies", "devDependencies")}  # fmt: skip
        meta = mapping(info.get("peerDependenciesMeta"), f"{where}: peerDependenciesMeta")
        found = []
        wanted = [("dependencies", False), ("optionalDependencies", True), ("peerDependencies", False)]
        if dev:
            wanted.append(("devDependencies", False))
        seen = set()
        for field, optional in wanted:
            for name, spec in fields[field].items():
                peer_optional = isinstance(meta.get(name), dict) and meta[name].get("optional") is True
                if name in seen or (field == "peerDependencies" and peer_optional):
                    continue  # an optional peer is there only when something else installs it
                seen.add(name)
                if spec.startswith(("file:", "link:")) and self.find(name, key) is None:
                    continue
                target = self.find(name, key)
                if target is None:
                    if optional or field == "peerDependencies":
                        continue
                    raise InputError(f"{where}: {name} ({field}) is installed nowhere the package can find it")
                found.append((Edge(self.resolve(target), optional), field == "devDependencies"))
        return found

    def edges(self, node_id: str) -> Iterable[Edge]:
        info = self.entry(node_id)
        if info.get("link") is True:
            return []  # a link to a folder the lockfile does not describe
        return [edge for edge, _ in self.dependency_edges(node_id, info, dev=False)]

    def reached(self, folder: str, v1: bool) -> tuple[list[Component], list[Excluded]]:
        if v1:  # v1 keeps the workspace's own dependencies in its package.json only
            data = manifest(self.lockfile.folder / folder, self.lockfile.repo_root, required=True) or {}
            info: dict[str, Any] = dependencies_of(data, str(self.lockfile.folder / folder / "package.json"))
            key = ""
        elif folder in self.packages:
            info, key = self.entry(folder), folder
        else:
            raise InputError(
                f"{self.lockfile.path}: no package {folder!r}; is the frontend one of the workspaces of "
                f"{self.lockfile.folder / 'package.json'}, and the lockfile up to date (npm install)?"
            )
        components, excluded = walk(self, self.dependency_edges(key, info, dev=True))
        return components, [e for e in excluded if e.reason != f"workspace package {folder}"]
