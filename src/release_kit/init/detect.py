"""What a repository already has: its workflows (name and path), matched against the runbook's gates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

RUNBOOK_GATES = (
    "Backend CI",
    "Frontend CI",
    "Starter Console CI",
    "Contracts CI",
    "Providers CI",
    "Dependency Review",
    "CodeQL",
    "Secrets Scan",
    "build-images",
)
MAX_WORKFLOW_BYTES = 1 << 20


@dataclass(frozen=True)
class Workflow:
    name: str  # the workflow's `name:`, or its path when it has none (as GitHub shows it)
    path: str  # .github/workflows/<file>


@dataclass(frozen=True)
class GateMatch:
    gate: str
    workflow: Workflow | None  # None: the repository has no workflow for this gate


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def workflows(repo: Path) -> list[Workflow]:
    """The repository's workflows; unreadable or malformed files are skipped (they are not ours to judge)."""
    folder = repo / ".github" / "workflows"
    if not folder.is_dir():
        return []
    found: list[Workflow] = []
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_WORKFLOW_BYTES:
            continue
        rel = f".github/workflows/{path.name}"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError, UnicodeDecodeError, RecursionError):
            continue
        name = data.get("name") if isinstance(data, dict) else None
        found.append(Workflow(name=str(name) if isinstance(name, str) and name.strip() else rel, path=rel))
    return found


def match_gates(found: list[Workflow]) -> list[GateMatch]:
    """Each runbook gate with the workflow that provides it: same name, else a file named after it.

    Names compare without case, spaces or punctuation ("backend-ci" is "Backend CI"); nothing is
    guessed beyond that, since a wrong guess would gate releases on an unrelated workflow.
    """
    by_name = {_key(w.name): w for w in found}
    by_stem = {_key(Path(w.path).stem): w for w in found}
    return [GateMatch(gate, by_name.get(_key(gate)) or by_stem.get(_key(gate))) for gate in RUNBOOK_GATES]
