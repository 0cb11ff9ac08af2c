"""When a command started and finished: UTC instants, written as ISO 8601 with a ``Z``.

The start is captured once, at the CLI edge (:func:`mark_started`, which the root group or the
command calls before any work), and kept in the click context's ``meta`` (shared by the whole
context chain), so every report the command writes carries the same start without each command
passing it along. Without a mark (a command invoked some other way) the start is the moment this
module was first imported in the process: in a real run that is when the command's own modules
were loaded, before its first request.

Only the standard library and click: the root CLI may import this without slowing ``--help``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

import click

if TYPE_CHECKING:
    from pydantic import BaseModel

STARTED = "release_kit.started_at"
FINISHED = "release_kit.finished_at"
_IMPORTED_AT = datetime.now(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(at: datetime) -> str:
    """``2026-12-08T02:34:07.123Z``: UTC, milliseconds, a ``Z`` (naive datetimes are taken as UTC)."""
    at = (at.replace(tzinfo=UTC) if at.tzinfo is None else at).astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """An ISO 8601 instant with a zone (``Z`` or an offset) as an aware UTC datetime; ValueError otherwise."""
    at = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return at.astimezone(UTC)


Spanned = TypeVar("Spanned", bound="BaseModel")


def spanned(row: Spanned, started: datetime, seconds: float | None = None) -> Spanned:
    """``row`` with ``started_at`` and ``finished_at``: ``seconds`` after the start, else now."""
    finished = started + timedelta(seconds=max(0.0, seconds)) if seconds is not None else utc_now()
    return row.model_copy(update={"started_at": started, "finished_at": finished})


def mark_started(ctx: click.Context | None = None, at: datetime | None = None) -> datetime:
    """Record the command's start once (a second call keeps the first); returns the start recorded."""
    ctx = ctx if ctx is not None else click.get_current_context(silent=True)
    start = at if at is not None else utc_now()
    if ctx is None:
        return start
    value = ctx.meta.setdefault(STARTED, start)
    return value if isinstance(value, datetime) else start


def started_at(ctx: click.Context | None = None) -> datetime:
    """The start :func:`mark_started` recorded, else the moment this module was first imported."""
    ctx = ctx if ctx is not None else click.get_current_context(silent=True)
    value = ctx.meta.get(STARTED) if ctx is not None else None
    return value if isinstance(value, datetime) else _IMPORTED_AT


def finished_at(ctx: click.Context | None = None) -> datetime:
    """The command's end: fixed the first time it is asked, so the file report and stdout agree."""
    ctx = ctx if ctx is not None else click.get_current_context(silent=True)
    if ctx is None:
        return utc_now()
    value = ctx.meta.setdefault(FINISHED, utc_now())
    return value if isinstance(value, datetime) else utc_now()


def command_path(ctx: click.Context | None = None) -> str | None:
    """``release-kit release build``: the command being run, whatever name the root was invoked by."""
    ctx = ctx if ctx is not None else click.get_current_context(silent=True)
    if ctx is None:
        return None
    names: list[str] = []
    node: click.Context | None = ctx
    while node is not None:
        names.append(node.command.name or node.info_name or "")
        node = node.parent
    names.reverse()
    return " ".join(["release-kit", *(names[1:] if len(names) > 1 else names)])
