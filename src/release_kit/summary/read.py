"""The reports a job wrote: bounded reads, one parsed object per file, never a crash on a bad file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from release_kit.errors import InputError

MAX_FILES = 200  # a job writes one report per step: a few dozen at most
MAX_BYTES = 8 * 1024 * 1024  # the largest report (verify-release of many assets) is far smaller


def read_reports(folder: Path) -> tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, str]]]:
    """``(name, report)`` for each ``*.json`` in ``folder`` or one folder below it, and ``(name, why)``
    for each file skipped.

    One level of sub-folders is read too: ``actions/download-artifact`` puts each job's artifact in
    its own folder (``DIR/reports-gates/verify-gates.json``) unless told to merge them. A folder that
    does not exist holds no report (no step wrote one); a path that is not a folder is a usage
    error. Files are read in name order, at most :data:`MAX_FILES` of them; links are not followed.
    """
    if not folder.exists():
        return [], []
    if not folder.is_dir():
        raise InputError(f"--reports {folder}: expected the folder the steps wrote their reports to")
    reports: list[tuple[str, dict[str, Any]]] = []
    skipped: list[tuple[str, str]] = []
    try:
        paths = _json_files(folder)
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()):
            paths += _json_files(sub)
            if len(paths) > MAX_FILES:
                break
    except OSError as exc:
        raise InputError(f"--reports {folder}: cannot list it ({exc.strerror or exc})") from None
    for path in paths[MAX_FILES:]:
        skipped.append((_name(folder, path), f"more than {MAX_FILES} reports: not read"))
    for path in paths[:MAX_FILES]:
        report, why = _read_one(path)
        if report is None:
            skipped.append((_name(folder, path), why))
        else:
            reports.append((_name(folder, path), report))
    return reports, skipped


def _json_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".json") and not p.name.startswith("."))


def _name(folder: Path, path: Path) -> str:
    return path.relative_to(folder).as_posix()


def _read_one(path: Path) -> tuple[dict[str, Any] | None, str]:
    try:
        if path.is_symlink() or not path.is_file():
            return None, "not a regular file"
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        return None, f"cannot read it ({exc.strerror or exc})"
    if len(data) > MAX_BYTES:
        return None, f"larger than {MAX_BYTES // (1024 * 1024)} MiB"
    try:
        parsed = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except json.JSONDecodeError as exc:
        return None, f"not JSON (line {exc.lineno}: {exc.msg})"
    except RecursionError:
        return None, "not JSON (nested too deep)"
    if not isinstance(parsed, dict):
        return None, "not a JSON object"
    return parsed, ""
