"""Pure health verdicts: one attempt's answer in, success or a reason out; no I/O.

The poller (health.py) feeds these with what it read; the tests sit mostly here.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jmespath
import jmespath.exceptions
import jmespath.parser

from release_kit import gha
from release_kit.errors import InputError

BODY_LIMIT = 1024 * 1024
SHOWN = 80  # characters of a remote value shown in a reason


@dataclass(frozen=True)
class JsonCheck:
    expr: str
    compiled: jmespath.parser.ParsedResult
    value: Any


@dataclass(frozen=True)
class Expectations:
    statuses: frozenset[int] = frozenset({200})
    json: tuple[JsonCheck, ...] = ()
    version: str | None = None
    version_field: str = "version"
    version_expr: jmespath.parser.ParsedResult = field(default_factory=lambda: jmespath.compile("version"))

    @property
    def needs_body(self) -> bool:
        return bool(self.json) or self.version is not None


@dataclass(frozen=True)
class Attempt:
    """What one attempt saw: ``ok`` or a ``reason``; ``status`` is None when nothing answered."""

    ok: bool
    reason: str
    status: int | None = None
    fatal: bool = False  # cannot be transient (e.g. an untrusted certificate): stop polling


def compile_expr(expr: str, what: str) -> jmespath.parser.ParsedResult:
    try:
        return jmespath.compile(expr)
    except jmespath.exceptions.JMESPathError as exc:
        raise InputError(f"{what} {expr!r}: not a JMESPath expression ({exc})") from None


def parse_value(text: str) -> Any:
    """JSON when it parses (``true``, ``3``, ``"x"``, ``[1]``), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_expect_json(item: str) -> JsonCheck:
    """``EXPR=VALUE``, split at the first ``=`` that is not part of ``==``, ``!=``, ``<=`` or ``>=``."""
    for i, char in enumerate(item):
        if char != "=":
            continue
        before = item[i - 1] if i else ""
        after = item[i + 1] if i + 1 < len(item) else ""
        if (before and before in "=!<>") or after == "=":
            continue
        expr, value = item[:i].strip(), item[i + 1 :].strip()
        if not expr:
            break
        return JsonCheck(expr, compile_expr(expr, "--expect-json"), parse_value(value))
    raise InputError(f"--expect-json {item!r}: expected EXPR=VALUE, e.g. status=ready")


SHOWN_DEPTH = 16  # a quoted value is cut to a line: what is nested deeper is never shown, so never walked


def _redacted(value: Any, depth: int = 0) -> Any:
    """``value`` with every known secret replaced in its strings, before anything escapes them; below
    :data:`SHOWN_DEPTH` levels it is ``"…"`` (a body nested a thousand deep cannot exhaust the stack)."""
    if isinstance(value, str):
        return gha.redact(value)
    if isinstance(value, list | dict) and depth >= SHOWN_DEPTH:
        return "…"
    if isinstance(value, list):
        return [_redacted(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {gha.redact(str(k)): _redacted(v, depth + 1) for k, v in value.items()}
    return value


def show(value: Any, *, quoted: bool = False) -> str:
    """A remote value as one short line, the one way a reason quotes one: every known secret in it
    redacted first (an escaped or cut secret would no longer match its mask), then written as JSON,
    then through :func:`gha.inert` (no runner command, no control character, cut to :data:`SHOWN`).

    A string is shown without its JSON quotes unless ``quoted``.
    """
    text = json.dumps(_redacted(value), ensure_ascii=True)
    if isinstance(value, str) and not quoted:
        text = text[1:-1]
    return gha.inert(text, limit=SHOWN)


def search(expression: Any, data: Any) -> tuple[Any, str | None]:
    """A compiled JMESPath expression on a remote answer: (found, None), or (None, why it could not
    be applied): a type the expression does not fit is the answer's fault, judged, never a crash."""
    try:
        return expression.search(data), None
    except jmespath.exceptions.JMESPathError as exc:
        return (
            None,
            f"{getattr(expression, 'expression', expression)}: cannot be applied to the answer ({type(exc).__name__})",
        )


def evaluate(status: int, headers: Mapping[str, str], body: bytes, truncated: bool, expect: Expectations) -> Attempt:
    """Judge one HTTP answer against ``expect``."""
    if 300 <= status < 400:
        location = headers.get("location")
        where = f" to {show(location)}" if location else " with no Location"
        return Attempt(False, f"redirect {status}{where} (not followed)", status)
    if status not in expect.statuses:
        wanted = " or ".join(str(s) for s in sorted(expect.statuses))
        return Attempt(False, f"status {status}, expected {wanted}", status)
    if not expect.needs_body:
        return Attempt(True, f"status {status}", status)
    if truncated:
        return Attempt(False, f"body over {BODY_LIMIT // 1024} KiB, not judged", status)
    try:
        data = json.loads(body)
    except ValueError:
        return Attempt(False, "body is not JSON", status)
    for check in expect.json:
        found, problem = search(check.compiled, data)
        if problem:
            return Attempt(False, f"json {problem}", status)
        if found != check.value:
            return Attempt(
                False,
                f"json {check.expr} = {show(found, quoted=True)}, expected {show(check.value, quoted=True)}",
                status,
            )
    if expect.version is not None:
        found, problem = search(expect.version_expr, data)
        if problem:
            return Attempt(False, f"version {problem}", status)
        if found is None:
            return Attempt(False, f"no {expect.version_field} in the body, expected {expect.version}", status)
        if str(found).removeprefix("v") != expect.version.removeprefix("v"):  # v1.4.0 and 1.4.0 are one release
            return Attempt(False, f"version {show(found)}, expected {expect.version}", status)
    return Attempt(True, f"status {status}", status)


def summarize(history: Sequence[Attempt], consecutive: int) -> str:
    """Why an endpoint failed, from its last attempts: the most common failure and how often it came."""
    if not history:
        return "no attempt finished before the deadline"
    failures = [a.reason for a in history if not a.ok]
    if not failures:
        return f"only {len(history)} passing answer(s) in a row before the deadline, {consecutive} needed"
    reason, count = Counter(failures).most_common(1)[0]
    if count < len(history):
        reason += f" ({count} of the last {len(history)} answers)"
    if len(failures) < len(history):
        reason += f"; never {consecutive} passing answers in a row"
    return reason
