"""Where a verdict goes: the JSON report file, stdout as text or JSON."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol

import click

from release_kit import gha
from release_kit.errors import InputError


class JsonReport(Protocol):
    """A pydantic model, or anything else that renders itself as JSON the same way."""

    def model_dump_json(self, *, indent: int | None = None) -> str: ...


def write_report(report: JsonReport, path: Path) -> None:
    """Write the JSON report atomically: a reader never sees half a file."""
    text = gha.redact(report.model_dump_json(indent=2)) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).replace(path)
    except OSError as exc:
        raise InputError(f"--report {path}: cannot write it ({exc.strerror or exc})") from None


def emit(report: JsonReport, text: str, fmt: str) -> None:
    if fmt == "json":
        click.echo(gha.redact(report.model_dump_json(indent=2)))
    else:
        click.echo(gha.redact(text))


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain-text table with columns padded to their widest cell."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
