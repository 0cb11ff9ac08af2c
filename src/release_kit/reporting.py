"""Where a verdict goes: the JSON report file, stdout as text or JSON.

Every string in a verdict may come from a remote (asset, workflow and check names, registry
messages, reasons quoting them), so this layer renders them inert: stdout through
:func:`gha.echo_untrusted` (which applies :func:`gha.inert`: redacted, no runner command, no
control character), JSON with no ``##[`` (:func:`gha.json_safe`), table cells without control
characters, markdown cells with Markdown and HTML escaped and links only to http(s) URLs (the
summary then goes through :func:`gha.add_summary`, which applies :func:`gha.inert` too).

Every JSON report a command writes or prints carries, before its own fields, ``command_path``
(``release-kit deploy``), ``started_at`` and ``finished_at`` (UTC, ISO 8601 with ``Z``; see
:mod:`release_kit.timing`): the stamp is added here, once, for every command. A field of the same
name in the report itself wins (a report that knows its own times better keeps them).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

import click

from release_kit import gha, timing
from release_kit.errors import InputError


class JsonReport(Protocol):
    """A pydantic model, or anything else that renders itself as JSON the same way."""

    def model_dump_json(self, *, indent: int | None = None) -> str: ...


def report_json(report: JsonReport) -> str:
    """The report's JSON (indented) with the command's stamp first, when it runs inside a command.

    Outside a click command (a library call) the report's own JSON is returned unchanged. The
    stamp is computed once per command, so the file report and ``--format json`` agree.
    """
    text = report.model_dump_json(indent=2)
    command = timing.command_path()
    if command is None:
        return text
    data = json.loads(text)
    if not isinstance(data, dict):
        return text
    stamp = {
        "command_path": command,
        "started_at": timing.iso(timing.started_at()),
        "finished_at": timing.iso(timing.finished_at()),
    }
    own = {k: v for k, v in data.items() if k in stamp and v is not None}  # a report's own times win
    merged = {**stamp, **own, **{k: v for k, v in data.items() if k not in stamp}}
    return json.dumps(merged, indent=2, ensure_ascii=False)


_WRITTEN = "release_kit.reports_written"


def _keep_earlier(path: Path) -> None:
    """In Actions, an earlier step's report at the same path is kept beside it, not overwritten.

    A job runs deploy and health once per service, each writing the action's one report path;
    ``release-kit summary`` reads every report of the job, so the earlier one moves to
    ``<name>.<its started_at>.json``. Only a stamped release-kit report that this command did not
    write itself is moved; outside Actions the path is simply overwritten.
    """
    ctx = click.get_current_context(silent=True)
    written: set[str] = ctx.meta.setdefault(_WRITTEN, set()) if ctx is not None else set()
    key = str(path.resolve())
    if key in written:
        return  # this command's own report, written again
    written.add(key)
    if not gha.in_actions() or not path.is_file() or path.is_symlink():
        return
    try:
        if path.stat().st_size > 64 * 1024 * 1024:
            return
        earlier = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(earlier, dict) or not isinstance(earlier.get("command_path"), str):
        return
    started = earlier.get("started_at")
    stamp = re.sub(r"[^0-9TZ]", "", started)[:32] if isinstance(started, str) else ""
    aside = path.with_name(f"{path.stem}.{stamp or 'earlier'}{path.suffix}")
    n = 1
    while aside.exists() and n < 100:
        n += 1
        aside = path.with_name(f"{path.stem}.{stamp or 'earlier'}-{n}{path.suffix}")
    if not aside.exists():
        try:
            path.replace(aside)
        except OSError:
            return


def write_report(report: JsonReport, path: Path) -> None:
    """Write the JSON report atomically: a reader never sees half a file."""
    text = gha.json_safe(gha.redact(report_json(report))) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _keep_earlier(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).replace(path)
    except OSError as exc:
        raise InputError(f"--report {path}: cannot write it ({exc.strerror or exc})") from None


def emit(report: JsonReport, text: str, fmt: str) -> None:
    """stdout: the JSON report (the same data, no workflow command inside) or the text."""
    if fmt == "json":
        click.echo(gha.json_safe(gha.redact(report_json(report))))
    else:
        gha.echo_untrusted(text)


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain-text table with columns padded to their widest cell; every cell is one line."""
    rows = [[gha.printable(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


_MD_SPECIAL = re.compile(r"[\\`\[\]|<>]")
_MD_ENTITIES = {"<": "&lt;", ">": "&gt;"}


def md_escape(text: str) -> str:
    """Text for a markdown table cell that renders as itself: no HTML, link, image, code or column break.

    ``<`` and ``>`` become entities; backticks, brackets, pipes and backslashes are backslash-escaped
    (emphasis is left alone: it cannot hide or link anything); newlines and other control
    characters become spaces.
    """
    text = gha.CONTROL.sub(" ", text)
    return _MD_SPECIAL.sub(lambda m: _MD_ENTITIES.get(m.group(), "\\" + m.group()), text)


def md_code(text: str) -> str:
    """A code span for a markdown table cell that holds ``text`` verbatim, whatever backticks it has."""
    text = gha.CONTROL.sub(" ", text).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_link(label: str, url: str | None) -> str:
    """``[label](url)`` for an http(s) URL with nothing that could end it early; else the escaped label alone."""
    if not url or not re.fullmatch(r"https?://[^\s<>()\[\]`\\|\"']+", url):
        return md_escape(label) if url else "—"
    return f"[{md_escape(label)}]({url})"
