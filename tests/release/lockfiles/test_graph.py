"""Development and optional marks follow every path to a package: development-only when every
path starts with a development dependency, optional when every runtime path has an optional edge."""

from __future__ import annotations

from collections.abc import Iterable

from release_kit.release.lockfiles.graph import Edge, Node, walk


class Graph:
    def __init__(self, edges: dict[str, list[Edge]], local: frozenset[str] = frozenset()) -> None:
        self._edges, self._local = edges, local

    def node(self, node_id: str) -> Node:
        return Node(name=node_id, version="1.0.0", local="workspace package x" if node_id in self._local else None)

    def edges(self, node_id: str) -> Iterable[Edge]:
        return self._edges.get(node_id, [])


def marks(graph: Graph, roots: list[tuple[Edge, bool]]) -> dict[str, tuple[bool, bool]]:
    components, _ = walk(graph, roots)
    return {c.name: (c.dev, c.optional) for c in components}


def test_runtime_wins_over_development_and_required_over_optional() -> None:
    graph = Graph(
        {
            "app-dep": [Edge("shared"), Edge("opt-only", optional=True)],
            "dev-tool": [Edge("shared"), Edge("dev-only"), Edge("opt-only")],
            "plugin": [Edge("deep")],
        }
    )
    roots = [(Edge("app-dep"), False), (Edge("dev-tool"), True), (Edge("plugin", optional=True), False)]
    assert marks(graph, roots) == {
        "app-dep": (False, False),
        "dev-tool": (True, False),
        "shared": (False, False),  # reached at runtime too
        "dev-only": (True, False),
        "opt-only": (False, True),  # its only runtime path is optional; the development one does not count
        "plugin": (False, True),
        "deep": (False, True),  # optional is inherited down the path
    }


def test_cycles_end_and_workspace_packages_are_followed_not_listed() -> None:
    graph = Graph({"a": [Edge("ui")], "ui": [Edge("b")], "b": [Edge("a")]}, local=frozenset({"ui"}))
    components, excluded = walk(graph, [(Edge("a"), False)])
    assert [c.name for c in components] == ["a", "b"]
    assert [e.describe() for e in excluded] == ["ui (workspace package x)"]
