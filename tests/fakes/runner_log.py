"""What the Actions log shows of a step's output, for tests that a secret never reaches it.

Lines are read as tests/fakes/runner.py reads them (the same rules as actions/runner's
ActionCommandManager): ``::name ...::data`` after leading whitespace, or ``##[name ...]data``
anywhere in a line, for a registered command name. A processed command is not shown as text;
``::add-mask::VALUE`` masks VALUE in every later line; ``::stop-commands::TOKEN`` (or the legacy
``##[stop-commands]TOKEN``) stops all processing until the line ``::TOKEN::``. While processing is
stopped an ``::add-mask::`` line is plain text: it is shown, with the value it meant to hide. That
is the leak a remote ``##[stop-commands]`` in our output would buy.
"""

from __future__ import annotations

import re

from tests.fakes.runner import REGISTERED

_V2 = re.compile(r"::([^:\s]*)(?: [^:]*)?::(.*)", re.S)
_V1 = re.compile(r"##\[([^\]\s]*)(?: [^\]]*)?\](.*)", re.S)
ANNOTATIONS = ("error", "warning", "notice", "debug")


def _parse(line: str, registered: set[str]) -> tuple[str, str] | None:
    trimmed = line.lstrip()
    match = _V2.match(trimmed) if trimmed.startswith("::") else None
    if match is None or match.group(1).lower() not in registered:
        match = _V1.search(line)
        if match is None or match.group(1).lower() not in registered:
            return None
    data = match.group(2).replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")
    return match.group(1).lower(), data


def log(output: str) -> list[str]:
    """The lines the log shows for ``output`` (stdout and stderr in the order they were written);
    an annotation shows as ``error: message``."""
    shown: list[str] = []
    masks: list[str] = []
    registered = set(REGISTERED)
    stop_token: str | None = None

    def show(text: str) -> None:
        for value in sorted(masks, key=len, reverse=True):
            text = text.replace(value, "***")
        shown.append(text)

    for line in re.split(r"\r\n|\r|\n", output):
        parsed = _parse(line, registered)
        if stop_token is not None:
            if parsed is not None and parsed[0] == stop_token:
                registered.discard(stop_token)
                stop_token = None
            else:
                show(line)
            continue
        if parsed is None:
            show(line)
            continue
        name, data = parsed
        if name == "stop-commands":
            stop_token = data.lower()
            registered.add(stop_token)
        elif name == "add-mask":
            masks.extend(v for v in data.split("\n") if v)
        elif name in ANNOTATIONS:
            show(f"{name}: {data}")
    return shown
