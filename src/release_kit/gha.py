"""The GitHub Actions runner protocol, and the only module that speaks it.

Outputs, step summary, masks, annotations and log groups. Outside Actions
(``GITHUB_ACTIONS`` is not ``true``) the same calls print plain text.
Every line that leaves the process goes through :func:`redact`, so a value
passed to :func:`mask` never appears in our output, in or out of Actions.

The runner reads any line that starts with ``::`` (after leading whitespace) or holds ``##[``
anywhere as a workflow command. Every remote value printed therefore goes through one function,
:func:`inert`: redacted first, then runner commands neutralised (:func:`neutralise`), then
control characters shown as ``\\xNN``, then cut to a bound. The writers of this module apply it
themselves, so no call site can forget: :func:`echo` and :func:`progress` (one line),
:func:`echo_untrusted` (a block, in Actions also between ``::stop-commands::`` and a random
resume token), :func:`annotate`/:func:`error` (message and title), :func:`group` (title) and
:func:`add_summary`. JSON is printed with :func:`json_safe`. See docs/security-output.md.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from release_kit.errors import InputError

_RUNNER_LINES = re.compile(r"\r\n|\r|\n")
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
    # the runner masks its log line by line, splitting lines where it reads them: at CR and LF
    lines = [line for line in _RUNNER_LINES.split(value) if line.strip()]
    with _lock:
        new = [v for v in [value, *lines] if len(v) >= 4 and v not in _secrets]
        _secrets.update(new)
    if in_actions() and new:
        out = stream or sys.stdout
        for line in lines:
            out.write(f"::add-mask::{_escape_data(line)}\n")  # the runner unescapes %25 back to %
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


# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str, *, keep: str = "") -> str:
    """Control characters (newlines, terminal escapes) shown as ``\\xNN``, except those in ``keep``."""
    return CONTROL.sub(lambda m: m.group() if m.group() in keep else f"\\x{ord(m.group()):02x}", text)


# where a line can begin: the start of the text, or after a character the runner (or a reader) breaks
# lines at; then whitespace, which the runner strips before it looks for ``::`` (.NET TrimStart, whose
# whitespace Python's ``\s`` covers)
_LEADING_COLONS = re.compile(r"(\A|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029])(\s*)::")
LINE_LIMIT = 2000  # characters of one progress line (a remote value in it is shorter still)
TITLE_LIMIT = 255  # characters of an annotation or group title (GitHub's limit for annotation titles)
MESSAGE_LIMIT = 8000  # characters of an annotation message


def neutralise(text: str) -> str:
    """``text`` with nothing the runner reads as a workflow command, otherwise the same.

    ``##[`` (a legacy command, obeyed anywhere in a line) becomes ``#\\x23[``; ``::`` at the start of
    a line, after any whitespace, becomes ``\\x3a:``. Both read as the characters they stand for, in
    the ``\\xNN`` form :func:`printable` uses.
    """
    while "##[" in text:  # a guard: one pass suffices, the replacement cannot form a new one
        text = text.replace("##[", "#\\x23[")
    return _LEADING_COLONS.sub(lambda m: f"{m.group(1)}{m.group(2)}\\x3a:", text)


def inert(text: str, *, limit: int | None = LINE_LIMIT, keep: str = "") -> str:
    """The one way a remote value is printed: redacted, runner commands neutralised, control
    characters shown as ``\\xNN`` (except those in ``keep``), then cut to ``limit`` characters.

    The order matters: a secret is redacted before anything escapes or cuts it (an escaped or cut
    secret no longer matches its mask), and the cut comes last so it can only shorten the result.
    """
    text = printable(neutralise(redact(text)), keep=keep)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def json_safe(text: str) -> str:
    """JSON the runner cannot read a command from, meaning the same data.

    Lines of JSON never start with ``::``; ``##[`` (a command anywhere in a line) can only sit
    inside a string, where ``\\u0023`` is the same ``#``.
    """
    return text.replace("##[", "#\\u0023[")


def echo(text: str, *, err: bool = False, stream: TextIO | None = None, limit: int | None = LINE_LIMIT) -> None:
    """Print one line that may hold remote values, through :func:`inert` (stdout, or stderr with ``err``)."""
    out = stream or (sys.stderr if err else sys.stdout)
    out.write(inert(text, limit=limit) + "\n")
    out.flush()


def progress(line: str, *, stream: TextIO | None = None) -> None:
    """A progress line on stderr (a wait, an attempt, a retry), through :func:`inert`."""
    echo(line, err=True, stream=stream)


def echo_untrusted(text: str, *, err: bool = False, stream: TextIO | None = None) -> None:
    """Print a block that holds remote data: through :func:`inert` with its line breaks kept (no cut),
    and in Actions never read as a workflow command whatever it holds.

    In Actions the block is also wrapped in ``::stop-commands::<token>`` ... ``::<token>::`` with a
    fresh random token (GitHub's way to print untrusted text): nothing inside, however it starts, is
    processed, and the remote cannot know the token to resume early.
    """
    out = stream or (sys.stderr if err else sys.stdout)
    text = inert(text, limit=None, keep="\n\t").rstrip("\n")
    if in_actions():
        token = secrets.token_hex(16)
        text = f"::stop-commands::{token}\n{text}\n::{token}::"
    out.write(text + "\n")
    out.flush()


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
    message = inert(message, limit=MESSAGE_LIMIT, keep="\n")
    title = inert(title, limit=TITLE_LIMIT) if title else None
    file = inert(file, limit=None) if file else None
    if in_actions():
        props = []
        if file:
            props.append(f"file={_escape_property(file)}")
        if line is not None:
            props.append(f"line={line}")
        if title:
            props.append(f"title={_escape_property(title)}")
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
    title = inert(title, limit=TITLE_LIMIT)
    if in_actions():
        out.write(f"::group::{_escape_data(title)}\n")
        try:
            yield
        finally:
            out.write("::endgroup::\n")
    else:
        out.write(f"== {' '.join(title.split())}\n")
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
    """Append markdown to ``$GITHUB_STEP_SUMMARY``, keeping the file under the 1 MiB cap.

    The markdown goes through :func:`inert` (line breaks and tabs kept, cut by the cap): cells are
    escaped by their builders (``reporting.md_escape``), this makes the rest hold no runner command."""
    path = (env if env is not None else os.environ).get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    target = Path(path)
    used = target.stat().st_size if target.exists() else 0
    data = inert(markdown, limit=None, keep="\n\t").encode("utf-8")
    room = SUMMARY_LIMIT - used
    if len(data) > room:
        note = _SUMMARY_TRUNCATED.encode("utf-8")
        keep = max(0, room - len(note))
        data = data[:keep].decode("utf-8", errors="ignore").encode("utf-8")
        data = data + note if room >= len(note) else b""
    if data:
        with target.open("ab") as handle:
            handle.write(data)


def require_id_token(hint: str) -> None:
    """In Actions, signing an attestation needs an OIDC token: without ``id-token: write`` the runner
    offers none. Checked before anything changes, so the job fails before it pushes or uploads."""
    if in_actions() and not os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL"):
        from release_kit.errors import AccessError

        raise AccessError("this job cannot sign attestations (no OIDC token offered)", hint=hint)
