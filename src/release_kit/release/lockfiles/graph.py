"""From a lockfile's dependency graph to the frontend's components: follow the edges from the
frontend's own dependencies, mark what only development (or only optional) edges reach, list each
package once and set workspace and local packages aside."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from release_kit.release.lockfiles.identity import purl
from release_kit.release.lockfiles.models import Component, Excluded, Hash


@dataclass(frozen=True)
class Node:
    """One package of a lockfile; ``local`` says why it is not a third-party component."""

    name: str
    version: str
    hashes: tuple[Hash, ...] = ()
    local: str | None = None


@dataclass(frozen=True)
class Edge:
    target: str  # a node id of the source
    optional: bool = False


class Source(Protocol):
    """A lockfile's graph, read lazily: only what the frontend reaches is looked at."""

    def node(self, node_id: str) -> Node: ...

    def edges(self, node_id: str) -> Iterable[Edge]: ...


def walk(source: Source, roots: Iterable[tuple[Edge, bool]]) -> tuple[list[Component], list[Excluded]]:
    """Components (sorted by purl) and exclusions for the nodes reachable from ``roots``
    ((edge, dev) pairs). A package is development-only when every path to it starts with a
    development dependency, optional when every other path goes through an optional edge."""
    seen: dict[str, set[tuple[bool, bool]]] = {}
    stack = [(edge.target, dev, edge.optional) for edge, dev in roots]
    while stack:
        node_id, dev, optional = stack.pop()
        states = seen.setdefault(node_id, set())
        if any(d <= dev and o <= optional for d, o in states):  # nothing this path could change
            continue
        states.add((dev, optional))
        for edge in source.edges(node_id):
            stack.append((edge.target, dev, optional or edge.optional))
    return collect((source.node(node_id), states) for node_id, states in seen.items())


def collect(found: Iterable[tuple[Node, set[tuple[bool, bool]]]]) -> tuple[list[Component], list[Excluded]]:
    """Nodes with the (dev, optional) states they were reached in -> one component per purl."""
    merged: dict[str, tuple[Node, set[tuple[bool, bool]], tuple[Hash, ...]]] = {}
    excluded: dict[tuple[str, str], Excluded] = {}
    for node, states in found:
        if node.local is not None:
            excluded.setdefault((node.name, node.local), Excluded(name=node.name, reason=node.local))
            continue
        ref = purl(node.name, node.version)
        if ref in merged:
            first, seen, hashes = merged[ref]
            merged[ref] = (first, seen | states, hashes or node.hashes)
        else:
            merged[ref] = (node, set(states), node.hashes)
    components = []
    for ref, (node, states, hashes) in sorted(merged.items()):
        dev = all(d for d, _ in states)
        optional = all(o for d, o in states if not d) if not dev else all(o for _, o in states)
        components.append(
            Component(name=node.name, version=node.version, purl=ref, hashes=hashes, dev=dev, optional=optional)
        )
    return components, sorted(excluded.values(), key=lambda e: (e.name, e.reason))
