"""The package keeps one shape: a front door per capability, no prefix families, no import cycles,
and a short root cli.py that declares no command's options itself."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "release_kit"
CAPABILITIES = ("gates", "images", "release", "verify_release", "preflight", "rollout", "records", "probes", "init")


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _import_nodes(tree: ast.AST, *, top_level: bool) -> list[ast.stmt]:
    found: list[ast.stmt] = []
    body = tree.body if isinstance(tree, ast.Module) else []
    todo: list[ast.AST] = list(body) if top_level else [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif not top_level:
            todo.extend(ast.iter_child_nodes(node))
    return found


def imports(path: Path, known: set[str], *, top_level: bool = True) -> set[str]:
    """Modules ``path`` imports: when it is imported (``top_level``), or anywhere but TYPE_CHECKING blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in _import_nodes(tree, top_level=top_level):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                out.add(candidate if candidate in known else node.module)
    return {name for name in out if name in known}


def test_no_folder_holds_a_prefix_family() -> None:
    for folder in {p.parent for p in PACKAGE.rglob("*.py")}:
        prefixes = Counter(p.stem.split("_")[0] for p in folder.glob("*_*.py"))
        family = {prefix: n for prefix, n in prefixes.items() if n >= 3}
        assert not family, f"{folder}: {family} (a package waiting to be made)"


def test_every_capability_has_one_front_door() -> None:
    for name in CAPABILITIES:
        folder = PACKAGE / name
        assert (folder / "cli.py").is_file(), f"{name}/cli.py"
        assert not (folder / "command.py").exists() and not (folder / "commands.py").exists(), name


def test_the_root_cli_assembles_and_maps_errors_only() -> None:
    source = (PACKAGE / "cli.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) < 200
    assert not re.search(r"@click\.(option|argument)\(", source)


def test_no_import_cycle() -> None:
    known = modules()
    graph = {name: imports(path, set(known), top_level=False) - {name} for name, path in known.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


def test_capability_clis_import_nothing_heavy() -> None:
    known = set(modules())
    light = {"release_kit.options", "release_kit.params", "release_kit.gha", "release_kit.platforms"}
    for name in CAPABILITIES:
        imported = imports(PACKAGE / name / "cli.py", known)
        heavy = {m for m in imported if m not in light and not m.startswith("release_kit.target.options")}
        assert not heavy, f"{name}/cli.py imports {heavy} at start-up"
