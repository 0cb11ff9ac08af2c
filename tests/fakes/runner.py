"""How the Actions runner reads workflow commands from a step's output, for tests of what we print.

A line is a command when, after leading whitespace, it starts with ``::name ...::`` (v2), or when
it holds ``##[name ...]`` anywhere (v1), for a registered command name. ``::stop-commands::TOKEN``
stops all processing until the line ``::TOKEN::`` (as actions/runner's ActionCommandManager does).
"""

from __future__ import annotations

import re

REGISTERED = {
    "add-mask",
    "add-matcher",
    "add-path",
    "debug",
    "echo",
    "endgroup",
    "error",
    "group",
    "notice",
    "remove-matcher",
    "save-state",
    "set-env",
    "set-output",
    "stop-commands",
    "warning",
}
_V2 = re.compile(r"::([^:\s]*)(?: [^:]*)?::(.*)", re.S)
_V1 = re.compile(r"##\[([^\]\s]*)(?: [^\]]*)?\](.*)", re.S)


def _unescape(data: str) -> str:
    return data.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _parse(line: str, registered: set[str]) -> tuple[str, str] | None:
    trimmed = line.lstrip()
    match = _V2.match(trimmed) if trimmed.startswith("::") else None
    if match is None or match.group(1).lower() not in registered:
        match = _V1.search(line)
        if match is None or match.group(1).lower() not in registered:
            return None
    return match.group(1).lower(), _unescape(match.group(2))


def commands(output: str) -> list[tuple[str, str]]:
    """The (command, data) pairs the runner would process from ``output``, in order."""
    found: list[tuple[str, str]] = []
    registered = set(REGISTERED)
    stop_token: str | None = None
    for line in re.split(r"\r\n|\r|\n", output):
        parsed = _parse(line, registered)
        if parsed is None:
            continue
        name, data = parsed
        if stop_token is not None:
            if name == stop_token:
                registered.discard(stop_token)
                stop_token = None
            continue
        if name == "stop-commands":
            stop_token = data.lower()
            registered.add(stop_token)
            continue
        found.append((name, data))
    return found
