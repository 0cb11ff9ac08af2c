"""The GitHub Actions runner protocol, and the only module that speaks it.

Outputs, step summary, masks, annotations and log groups. Outside Actions
(``GITHUB_ACTIONS`` is not ``true``) the same calls print plain text.
Every line that leaves the process goes through :func:`redact`, so a value
passed to :func:`mask` never appears in our output, in or out of Actions.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from release_kit.errors import InputError

SUMMARY_LIMIT = 1024 * 1024  # the runner rejects a step summary over 1 MiB
_SUMMARY_TRUNCATED = "\n\n_(summary truncated: the runner accepts at most 1 MiB)_\n"
INPUT_PREFIX = "RK_"

_secrets: set[str] = set()
_lock = threading.Lock()


def in_actions(env: Mapping[str, str] | None = None) -> bool:
    return (env if env is not None else os.environ).get("GITHUB_ACTIONS") == "true"


def input_env(name: str) -> str:
    """The env var our action.yml files set for input ``name`` (``image-prefix`` -> ``RK_IMAGE_PREFIX``)."""
    return INPUT_PREFIX + name.upper().replace("-", "_")


def read_input(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """An action input, or None when unset or empty (runners pass unset inputs as '')."""
    value = (env if env is not None else os.environ).get(input_env(name), "")
    return value.strip() or None


# -- masking -----------------------------------------------------------------


def mask(value: str | None, *, stream: TextIO | None = None) -> None:
    """Register a secret: mask it in the runner log and redact it from everything we print."""
    if not value:
        return
    lines = [line for line in value.splitlines() if line.strip()]
    with _lock:
        new = [v for v in [value, *lines] if len(v) >= 4 and v not in _secrets]
        _secrets.update(new)
    if in_actions() and new:
        out = stream or sys.stdout
        for line in lines:
            out.write(f"::add-mask::{line}\n")
        out.flush()


def redact(text: str) -> str:
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for value in known:
        text = text.replace(value, "***")
    return text


def forget_secrets() -> None:
    """Tests only: start from an empty secret set."""
    with _lock:
        _secrets.clear()


# -- log lines -----------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotate(
    level: str,
    message: str,
    *,
    title: str | None = None,
    file: str | None = None,
    line: int | None = None,
    stream: TextIO | None = None,
) -> None:
    """``::error``/``::warning``/``::notice`` in Actions; ``level: title: message`` elsewhere."""
    if level not in ("error", "warning", "notice"):
        raise ValueError(level)
    message = redact(message)
    if in_actions():
        props = []
        if file:
            props.append(f"file={_escape_property(file)}")
        if line is not None:
            props.append(f"line={line}")
        if title:
            props.append(f"title={_escape_property(redact(title))}")
        head = f"::{level} {','.join(props)}" if props else f"::{level}"
        (stream or sys.stdout).write(f"{head}::{_escape_data(message)}\n")
    else:
        where = f"{file}:{line}: " if file and line is not None else (f"{file}: " if file else "")
        prefix = f"{title}: " if title else ""
        (stream or sys.stderr).write(f"{level}: {where}{prefix}{message}\n")


def error(message: str, **kwargs: object) -> None:
    annotate("error", message, **kwargs)  # type: ignore[arg-type]


@contextmanager
def group(title: str, *, stream: TextIO | None = None) -> Iterator[None]:
    out = stream or (sys.stdout if in_actions() else sys.stderr)
    if in_actions():
        out.write(f"::group::{redact(title)}\n")
        try:
            yield
        finally:
            out.write("::endgroup::\n")
    else:
        out.write(f"== {redact(title)}\n")
        yield


# -- outputs and summary ---------------------------------------------------------


def set_outputs(values: Mapping[str, str], env: Mapping[str, str] | None = None) -> None:
    """Write step outputs to ``$GITHUB_OUTPUT`` with a random heredoc delimiter.

    A value containing the delimiter is refused (it would end the value early and let
    the rest be read as further outputs). Without ``$GITHUB_OUTPUT`` this does nothing.
    """
    path = (env if env is not None else os.environ).get("GITHUB_OUTPUT")
    if not path:
        return
    chunks = []
    for name, value in values.items():
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        if delimiter in name or delimiter in value:
            raise InputError(f"output {name!r} contains the heredoc delimiter; refusing to write it")
        if "\n" in name or "\r" in name:
            raise InputError(f"output name {name!r} must be a single line")
        chunks.append(f"{name}<<{delimiter}\n{redact(value)}\n{delimiter}\n")
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write("".join(chunks))


def add_summary(markdown: str, env: Mapping[str, str] | None = None) -> None:
    """Append markdown to ``$GITHUB_STEP_SUMMARY``, keeping the file under the 1 MiB cap."""
    path = (env if env is not None else os.environ).get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    target = Path(path)
    used = target.stat().st_size if target.exists() else 0
    data = redact(markdown).encode("utf-8")
    room = SUMMARY_LIMIT - used
    if len(data) > room:
        note = _SUMMARY_TRUNCATED.encode("utf-8")
        keep = max(0, room - len(note))
        data = data[:keep].decode("utf-8", errors="ignore").encode("utf-8")
        data = data + note if room >= len(note) else b""
    if data:
        with target.open("ab") as handle:
            handle.write(data)
