"""``release-kit init --check``: every ``FILL-IN`` marker left in the files init wrote; writes nothing.

The config and the workflows are read as YAML with line numbers, and their values searched with the
config's own marker finder (:func:`release_kit.config.fill_markers`): a ``# FILL-IN: ...`` comment
is a note, not a value, and is not listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from release_kit import gha
from release_kit.config import FILL, fill_markers, load_yaml
from release_kit.errors import ExitCode, InputError

CONFIG = ".github/release-kit.yml"
WORKFLOWS = tuple(f".github/workflows/{name}.yml" for name in ("release", "deploy", "rollback"))
MAX_BYTES = 1_000_000  # a file init wrote is a few kilobytes


@dataclass(frozen=True)
class Marker:
    file: str  # relative to the repository root
    line: int
    key: str  # the config's key path, or "input NAME" for a workflow's `with:` input

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.key}"


def _shown_key(rel: str, path: str) -> str:
    parts = path.split(".")
    if rel != CONFIG and len(parts) == 4 and parts[0] == "jobs" and parts[2] == "with":
        return f"input {parts[3]} (job {parts[1]})"
    if rel != CONFIG and len(parts) >= 5 and parts[:3] == ["on", "workflow_dispatch", "inputs"]:
        return f"input {parts[3]}: {'.'.join(parts[4:])} (workflow_dispatch)"
    return path or "(the whole file)"


def markers_in(root: Path, rel: str) -> list[Marker]:
    """The markers of one file, in line order (a link or a folder is refused: init writes neither)."""
    path = root / rel
    if path.is_symlink() or not path.is_file():
        raise InputError(f"{rel}: not a file (expected the file release-kit init wrote)")
    with path.open("rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise InputError(f"{rel}: larger than {MAX_BYTES} bytes (expected the file release-kit init wrote)")
    node, _ = load_yaml(data.decode("utf-8", errors="replace"), rel)
    return [Marker(rel, line, _shown_key(rel, key)) for line, key in fill_markers(node, ())]


def check(root: Path) -> tuple[list[Marker], list[str]]:
    """Every marker left (config first, then each workflow), and the workflows that are not there."""
    if not (root / CONFIG).exists() and not (root / CONFIG).is_symlink():
        raise InputError(f"{root}: no {CONFIG}", hint="run release-kit init first")
    found = markers_in(root, CONFIG)
    absent: list[str] = []
    for rel in WORKFLOWS:
        if (root / rel).exists() or (root / rel).is_symlink():
            found += markers_in(root, rel)
        else:
            absent.append(rel)
    return found, absent


def run_check(root: Path) -> int:
    found, absent = check(root)
    for rel in absent:
        gha.echo(f"{rel}: not there (not checked)")
    if not found:
        gha.echo(f"No {FILL} marker left in {CONFIG} or the workflows: ready for the first release.")
        return ExitCode.OK
    gha.echo(f"{len(found)} {FILL} marker(s) left, each a value only you know:")
    for marker in found:
        gha.echo(f"  {marker}")
    gha.echo("Set each one, then run release-kit init --check again (exit 0 once none is left).")
    return ExitCode.NOT_OK
