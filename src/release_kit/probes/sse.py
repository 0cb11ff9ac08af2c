"""A bounded reader of server-sent events: it stops at a done event, the end, a time limit or a size limit."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

SSE_LIMIT = 1024 * 1024
DONE_DATA = frozenset({"[DONE]"})
DONE_EVENTS = frozenset({"done"})


@dataclass(frozen=True)
class SseRead:
    text: str
    events: int
    done: bool
    stopped: str  # "done", "end", "time", "size", or "content-type" (the answer is no event stream)


def read_events(chunks: Iterable[bytes], *, ends: float, limit: int = SSE_LIMIT) -> SseRead:
    """Read ``chunks`` as an event stream until a ``[DONE]``/``done`` event, their end, ``ends``
    (a ``time.monotonic()`` instant) or ``limit`` bytes."""
    raw = bytearray()
    events = 0
    pending = bytearray()
    fields: dict[str, list[str]] = {}

    def finish(text: str, stopped: str, done: bool = False) -> SseRead:
        return SseRead(text, events, done, stopped)

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
                    events += "data" in fields
                    data = "\n".join(fields.get("data", []))
                    event = (fields.get("event") or [""])[-1]
                    fields = {}
                    if data.strip() in DONE_DATA or event in DONE_EVENTS:
                        return SseRead(raw.decode("utf-8", errors="replace"), events, True, "done")
                continue
            if line.startswith(":"):
                continue  # a comment (keep-alive)
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value[1:] if value.startswith(" ") else value)
        if time.monotonic() > ends:
            return finish(raw.decode("utf-8", errors="replace"), "time")
    # an event not closed by its blank line when the stream ends is dropped, as the SSE spec says
    return finish(raw.decode("utf-8", errors="replace"), "end")


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
