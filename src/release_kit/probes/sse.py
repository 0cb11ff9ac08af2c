"""A bounded reader of server-sent events: it stops at a done event, the end, a time limit or a size limit.

Each event keeps its name and its data, read as JSON when it is JSON; comments (``: heartbeat``)
are no events.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

SSE_LIMIT = 1024 * 1024
DONE_DATA = frozenset({"[DONE]"})
DONE_EVENTS = frozenset({"done"})


NOT_JSON: Any = object()  # the data of an event that is not JSON
ERROR_WORDS = frozenset({"error", "failed", "failure"})


@dataclass(frozen=True)
class SseEvent:
    name: str  # the event: field, "" when none
    data: str
    json: Any = NOT_JSON
    done: bool = False  # a [DONE] data or done event: the end marker

    @property
    def is_json(self) -> bool:
        return self.json is not NOT_JSON

    @property
    def kind(self) -> str | None:
        """What the event says it is: a JSON object's kind or type, else its event name."""
        if isinstance(self.json, dict):
            for key in ("kind", "type"):
                if isinstance(self.json.get(key), str):
                    return str(self.json[key])
        return self.name or None

    @property
    def is_error(self) -> bool:
        """An event that reports a failure: named error, or JSON whose kind/type says so or that holds an error."""
        if self.name.lower() in ERROR_WORDS or (self.kind or "").lower() in ERROR_WORDS:
            return True
        return isinstance(self.json, dict) and self.json.get("error") not in (None, False, "", {}, [])


@dataclass(frozen=True)
class SseRead:
    text: str
    events: int
    done: bool
    stopped: str  # "done", "end", "time", "size", or "content-type" (the answer is no event stream)
    items: tuple[SseEvent, ...] = field(default=())

    @property
    def content(self) -> list[SseEvent]:
        """The events, the end marker aside."""
        return [e for e in self.items if not e.done]


def read_events(chunks: Iterable[bytes], *, ends: float, limit: int = SSE_LIMIT) -> SseRead:
    """Read ``chunks`` as an event stream until a ``[DONE]``/``done`` event, their end, ``ends``
    (a ``time.monotonic()`` instant) or ``limit`` bytes."""
    raw = bytearray()
    events = 0
    pending = bytearray()
    fields: dict[str, list[str]] = {}
    items: list[SseEvent] = []

    def finish(text: str, stopped: str, done: bool = False) -> SseRead:
        return SseRead(text, events, done, stopped, tuple(items))

    for chunk in chunks:
        if len(raw) + len(chunk) > limit:
            raw += chunk[: limit - len(raw)]
            return finish(raw.decode("utf-8", errors="replace"), "size")
        raw += chunk
        pending += chunk
        while True:
            cut = _line_end(pending)
            if cut is None:
                break
            end, width = cut
            line = pending[:end].decode("utf-8", errors="replace")
            del pending[: end + width]
            if line == "":
                if fields:
                    # an event is dispatched only when it carries data (the SSE rules): a block of
                    # `event:`/`id:` lines alone, or a page's blank lines, is no event
                    data = "\n".join(fields.get("data", []))
                    event = (fields.get("event") or [""])[-1]
                    is_done = data.strip() in DONE_DATA or event in DONE_EVENTS
                    if "data" in fields:
                        events += 1
                        items.append(SseEvent(event, data, _json(data), is_done))
                    fields = {}
                    if is_done:
                        return finish(raw.decode("utf-8", errors="replace"), "done", True)
                continue
            if line.startswith(":"):
                continue  # a comment (keep-alive)
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value[1:] if value.startswith(" ") else value)
        if time.monotonic() > ends:
            return finish(raw.decode("utf-8", errors="replace"), "time")
    # an event not closed by its blank line when the stream ends is dropped, as the SSE spec says
    return finish(raw.decode("utf-8", errors="replace"), "end")


def _json(data: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return NOT_JSON


def _line_end(buffer: bytearray) -> tuple[int, int] | None:
    """Where the first line ends (CRLF, LF or CR) and how wide the ending is."""
    for i, byte in enumerate(buffer):
        if byte == 0x0A:
            return i, 1
        if byte == 0x0D:
            if i + 1 == len(buffer):
                return None  # a CR at the end may be half a CRLF
            return (i, 2) if buffer[i + 1] == 0x0A else (i, 1)
    return None
