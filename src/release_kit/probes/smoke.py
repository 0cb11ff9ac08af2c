"""The smoke runner: flows of HTTP steps in order, with captures, JWT checks and SSE reads.

A POST or PATCH step without ``idempotent: true`` is sent exactly once. A step that needs a
capture an earlier step did not produce is ``skipped``, and so is the rest of its flow; the
next flows still run. Secrets, captured values and ``Authorization`` headers are masked the
moment they exist.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx
import jmespath

from release_kit import gha
from release_kit.http import Clock, SystemClock
from release_kit.probes.jwt_checks import JwksVerifier, check_jwt
from release_kit.probes.models import FlowResult, SmokeReport, StepResult, Verdict
from release_kit.probes.smoke_spec import PLACEHOLDER, SmokeSpec, Step, step_needs
from release_kit.probes.sse import SseRead, read_events
from release_kit.probes.verdicts import BODY_LIMIT, search, show

SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


def expand(value: Any, values: Mapping[str, str]) -> Any:
    """``{name}`` replaced in a string, or in every string value of a JSON-like value."""
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {k: expand(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, values) for v in value]
    return value


@dataclass(frozen=True)
class Answer:
    """What a step's request got back (``status`` None: no answer)."""

    status: int | None
    headers: httpx.Headers
    body: bytes = b""
    truncated: bool = False
    sse: SseRead | None = None
    error: str | None = None
    unreachable: bool = False  # nothing answered (refused, reset, timed out)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    reason: str
    captures: dict[str, str]


def judge_step(
    step: Step,
    answer: Answer,
    values: Mapping[str, str],
    now: float,
    verifier: JwksVerifier | None,
) -> Outcome:
    """Pure apart from the JWKS fetch: the answer against the step's ``expect`` and ``capture``."""
    expect = step.expect
    if answer.status is None:
        return Outcome(False, answer.error or "no answer", {})
    if answer.status not in expect.statuses:
        wanted = " or ".join(str(s) for s in expect.statuses)
        return Outcome(False, f"status {answer.status}, expected {wanted}", {})
    if answer.truncated:
        return Outcome(False, f"body over {BODY_LIMIT // 1024} KiB, not judged", {})
    text = answer.sse.text if answer.sse else answer.body.decode("utf-8", errors="replace")
    for needle in expect.contains:
        wanted = expand(needle, values)
        if wanted not in text:
            return Outcome(False, f"body does not contain {show(needle)}", {})
    if answer.sse is not None:
        if answer.sse.stopped == "content-type":
            return Outcome(False, f"content-type {show(answer.sse.text) or '(none)'}, expected text/event-stream", {})
        if expect.sse_min_events is not None and answer.sse.events < expect.sse_min_events:
            return Outcome(False, f"{answer.sse.events} event(s), expected at least {expect.sse_min_events}", {})
        if expect.sse_done and not answer.sse.done:
            return Outcome(False, f"no [DONE]/done event (the stream stopped at: {answer.sse.stopped})", {})
    needs_json = bool(expect.json_ or expect.jwt or step.capture)
    data: Any = None
    if needs_json:
        try:
            data = json.loads(text)
        except ValueError:
            return Outcome(False, "body is not JSON", {})
    for expr, wanted in expect.json_.items():
        found, problem = search(jmespath.compile(expr), data)
        if problem:
            return Outcome(False, f"json {problem}", {})
        wanted = expand(wanted, values)
        if found != wanted:
            shown = "***" if isinstance(found, str) and gha.redact(found) != found else show(found)
            return Outcome(False, f"json {expr} = {shown}, expected {show(wanted)}", {})
    for expr, check in expect.jwt.items():
        token, problem = search(jmespath.compile(expr), data)
        if problem:
            return Outcome(False, f"jwt {problem}", {})
        if isinstance(token, str):
            gha.mask(token)
        problem = check_jwt(token, check, values, now, verifier)
        if problem:
            return Outcome(False, f"jwt {expr}: {problem}", {})
    captures: dict[str, str] = {}
    for name, expr in step.capture.items():
        found, problem = search(jmespath.compile(expr), data)
        if problem:
            return Outcome(False, f"capture {name}: {problem}", captures)
        if found is None:
            return Outcome(False, f"capture {name}: nothing at {expr}", captures)
        value = found if isinstance(found, str) else json.dumps(found)
        gha.mask(value)  # the moment it exists
        captures[name] = value
    return Outcome(True, f"status {answer.status}", captures)


class SmokeRunner:
    def __init__(
        self,
        spec: SmokeSpec,
        values: Mapping[str, str],
        client: httpx.Client,
        *,
        verifier: JwksVerifier | None = None,
        clock: Clock | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.spec = spec
        self.values = dict(values)
        self.client = client
        self.verifier = verifier
        self.clock = clock or SystemClock()
        self.progress = progress or (lambda line: print(gha.redact(line), file=sys.stderr, flush=True))
        self.origin: dict[str, str] = {}  # capture name -> "flow/step" that makes it
        for flow in spec.flows:
            for step in flow.steps:
                for name in step.capture:
                    self.origin.setdefault(name, f"{flow.name}/{step.name}")
        self.no_answer = False  # some step got no answer at all

    def run(self, only: set[str] | None = None) -> SmokeReport:
        flows = [self.run_flow(f.name, f.steps) for f in self.spec.flows if only is None or f.name in only]
        return SmokeReport(passed=all(f.verdict is Verdict.PASS for f in flows), flows=flows)

    def run_flow(self, name: str, steps: list[Step]) -> FlowResult:
        results: list[StepResult] = []
        failed: str | None = None
        for step in steps:
            if failed is not None:
                results.append(
                    StepResult(
                        name=step.name, verdict=Verdict.SKIPPED, status=None, elapsed_s=0.0, reason=f"skipped: {failed}"
                    )
                )
                continue
            missing = sorted(n for n in step_needs(step) if n not in self.values)
            if missing:
                made_by = ", ".join(f"{{{n}}} from {self.origin.get(n, 'an earlier step')}" for n in missing)
                reason = f"needs {made_by}, which did not pass"
                results.append(
                    StepResult(name=step.name, verdict=Verdict.SKIPPED, status=None, elapsed_s=0.0, reason=reason)
                )
                failed = f"step {step.name} was skipped"
                continue
            result = self.run_step(name, step)
            results.append(result)
            if result.verdict is not Verdict.PASS:
                failed = f"step {step.name} failed"
        verdict = Verdict.PASS if all(r.verdict is Verdict.PASS for r in results) else Verdict.FAIL
        return FlowResult(name=name, verdict=verdict, steps=results)

    def run_step(self, flow: str, step: Step) -> StepResult:
        started = time.monotonic()
        outcome = Outcome(False, "not run", {})
        status: int | None = None
        unreachable = False
        for attempt in range(1, step.attempts + 1):
            answer = self.send(step)
            unreachable = answer.unreachable
            status = answer.status
            outcome = judge_step(step, answer, self.values, self.clock.now(), self.verifier)
            if outcome.ok:
                break
            if attempt < step.attempts and step.retry is not None:
                self.progress(
                    f"smoke: {flow}/{step.name}: attempt {attempt} of {step.attempts}: {outcome.reason}; "
                    f"again in {step.retry.interval:g}s"
                )
                self.clock.sleep(step.retry.interval)
        if outcome.ok:
            self.values.update(outcome.captures)
        elif unreachable:
            self.no_answer = True
        elapsed = round(time.monotonic() - started, 3)
        verdict = Verdict.PASS if outcome.ok else Verdict.FAIL
        self.progress(f"smoke: {flow}/{step.name}: {verdict.value} ({outcome.reason}, {elapsed:.2f}s)")
        return StepResult(name=step.name, verdict=verdict, status=status, elapsed_s=elapsed, reason=outcome.reason)

    def send(self, step: Step) -> Answer:
        values = self.values
        url = expand(step.url, values)
        headers = {k: expand(v, values) for k, v in step.headers.items()}
        for key, value in headers.items():
            if key.lower() in SENSITIVE_HEADERS:
                gha.mask(value)
                scheme, _, credential = value.partition(" ")
                if credential.strip() and scheme.isalpha():
                    gha.mask(credential.strip())
        kwargs: dict[str, Any] = {"headers": headers, "timeout": httpx.Timeout(step.timeout_s)}
        if step.json_ is not None:
            kwargs["json"] = expand(step.json_, values)
        elif step.form is not None:
            kwargs["data"] = expand(step.form, values)
        elif step.body is not None:
            kwargs["content"] = expand(step.body, values).encode("utf-8")
        if step.stream:
            headers.setdefault("accept", "text/event-stream")
        ends = time.monotonic() + step.timeout_s
        try:
            with self.client.stream(step.method, url, **kwargs) as response:
                if step.stream and response.status_code < 300:
                    kind = response.headers.get("content-type", "")
                    if not kind.lower().startswith("text/event-stream"):  # a page is no stream, however it reads
                        return Answer(
                            response.status_code, response.headers, sse=SseRead(kind, 0, False, "content-type")
                        )
                    return Answer(response.status_code, response.headers, sse=_read_sse(response, ends))
                body, truncated = _read_body(response, ends)
                return Answer(response.status_code, response.headers, body=body, truncated=truncated)
        except httpx.InvalidURL as exc:
            return Answer(None, httpx.Headers(), error=f"not a valid URL once expanded ({exc})")
        except httpx.TimeoutException as exc:
            return Answer(
                None,
                httpx.Headers(),
                error=f"no answer within {step.timeout_s:g}s ({type(exc).__name__})",
                unreachable=True,
            )
        except httpx.TransportError as exc:
            return Answer(None, httpx.Headers(), error=f"no answer ({type(exc).__name__})", unreachable=True)


def _read_body(response: httpx.Response, ends: float) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > BODY_LIMIT:
            return b"".join(chunks)[:BODY_LIMIT], True
        if time.monotonic() > ends:
            raise httpx.ReadTimeout("body still arriving", request=response.request)
    return b"".join(chunks), False


def _read_sse(response: httpx.Response, ends: float) -> SseRead:
    stalled = False

    def chunks() -> Iterator[bytes]:
        nonlocal stalled
        try:
            yield from response.iter_bytes()
        except httpx.ReadTimeout:
            stalled = True

    read = read_events(chunks(), ends=ends)
    return replace(read, stopped="time") if stalled and read.stopped == "end" else read
