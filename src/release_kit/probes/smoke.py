"""The smoke runner: flows of HTTP steps in order, with captures, cookies, JWT checks and SSE reads.

A POST or PATCH step without ``idempotent: true`` is sent exactly once. A step that needs a
capture an earlier step did not produce is ``skipped``, and so is the rest of its flow (a step
with ``always: true`` aside: it runs after a failure, as a teardown); the next flows still run.
Each flow has its own cookie jar. Secrets, credentials captured (see :mod:`masking`), cookies
set and ``Authorization`` headers are masked the moment they exist.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import jmespath

from release_kit import gha, timing
from release_kit.http import Clock, SystemClock
from release_kit.probes.cookies import SetCookie, set_by
from release_kit.probes.cookies import check as check_cookie
from release_kit.probes.jwt_checks import JwksVerifier, inspect_jwt
from release_kit.probes.masking import credential_name, excerpt, mask_header_value, plain, should_mask
from release_kit.probes.models import FlowResult, SmokeReport, StepResult, Verdict
from release_kit.probes.smoke_spec import Capture, Match, SmokeSpec, SseExpect, Step, expand, step_needs
from release_kit.probes.sse import SseEvent, SseRead, read_events
from release_kit.probes.verdicts import BODY_LIMIT, search, show

SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


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
    cookies: Mapping[str, SetCookie] = field(default_factory=dict)  # what the answer set, for its origin
    jar: Mapping[str, str] = field(default_factory=dict)  # the flow's cookies after the answer


@dataclass(frozen=True)
class Outcome:
    ok: bool
    reason: str
    captures: dict[str, str]
    evidence: tuple[str, ...] = ()
    excerpt: str | None = None


def _text(answer: Answer) -> str:
    return answer.sse.text if answer.sse else answer.body.decode("utf-8", errors="replace")


def _fail(reason: str, answer: Answer | None = None) -> Outcome:
    """A failed check; with ``answer``, an excerpt of what it said (a stream: its end)."""
    shown = None
    if answer is not None and answer.status is not None:
        text = _text(answer)
        shown = f"{answer.status} {excerpt(text, tail=answer.sse is not None)}".rstrip() if text.strip() else None
    return Outcome(False, reason, {}, excerpt=shown)


def _matches(event: SseEvent, match: Match, values: Mapping[str, str]) -> bool:
    if match.event is not None and event.name != match.event:
        return False
    if match.data_contains is not None and expand(match.data_contains, values) not in event.data:
        return False
    if match.json_:
        if not event.is_json:
            return False
        for expr, wanted in match.json_.items():
            found, problem = search(jmespath.compile(expr), event.json)
            if problem or found != expand(wanted, values):
                return False
    return True


def _describe(match: Match) -> str:
    parts = [f"{k} = {show(v)}" for k, v in match.json_.items()]
    if match.event is not None:
        parts.append(f"event {show(match.event)}")
    if match.data_contains is not None:
        parts.append(f"data containing {show(match.data_contains)}")
    return ", ".join(parts)


def judge_sse(read: SseRead, expect: SseExpect, values: Mapping[str, str]) -> tuple[str | None, str]:
    """(None, evidence) when the events pass, else (the first failure, "")."""
    events = read.content
    if expect.min_events is not None and read.events < expect.min_events:
        return f"{read.events} event(s), expected at least {expect.min_events}", ""
    if expect.done and not read.done:
        return f"no [DONE]/done event (the stream stopped at: {read.stopped})", ""
    if events and all(e.is_error for e in events):
        return f"every event ({len(events)}) is an error, last: {show(events[-1].kind or events[-1].data)}", ""
    if expect.none is not None:
        bad = next((e for e in events if _matches(e, expect.none, values)), None)
        if bad is not None:
            return f"an event matches none: {_describe(expect.none)} (event {events.index(bad) + 1})", ""
    if expect.any_ is not None and not any(_matches(e, expect.any_, values) for e in events):
        return f"no event has {_describe(expect.any_)}", ""
    if expect.last is not None:
        if not events:
            return "no event, expected a last one", ""
        if not _matches(events[-1], expect.last, values):
            last = events[-1]
            said = f"kind {show(last.kind)}" if last.kind else f"data {show(last.data)}"
            return f"the last event has {said}, expected {_describe(expect.last)}", ""
    last_kind = f", last kind {show(events[-1].kind)}" if events and events[-1].kind else ""
    done = ", then done" if read.done else ""
    return None, f"sse: {len(events)} event(s){last_kind}{done}"


def judge_step(
    step: Step,
    answer: Answer,
    values: Mapping[str, str],
    now: float,
    verifier: JwksVerifier | None,
) -> Outcome:
    """Pure apart from the JWKS fetch and the masks: the answer against the step's ``expect`` and ``capture``."""
    expect = step.expect
    evidence: list[str] = []
    if answer.status is None:
        return Outcome(False, answer.error or "no answer", {})
    if answer.status not in expect.statuses:
        wanted = " or ".join(str(s) for s in expect.statuses)
        return _fail(f"status {answer.status}, expected {wanted}", answer)
    if answer.truncated:
        return _fail(f"body over {BODY_LIMIT // 1024} KiB, not judged")
    text = _text(answer)
    for needle in expect.contains:
        wanted = expand(needle, values)
        if wanted not in text:
            return _fail(f"body does not contain {show(needle)}", answer)
    negative = expect.not_
    for needle in negative.contains if negative else []:
        if expand(needle, values) in text:
            return _fail(f"body contains {show(needle)}", answer)
    if answer.sse is not None:
        if answer.sse.stopped == "content-type":
            return _fail(f"content-type {show(answer.sse.text) or '(none)'}, expected text/event-stream")
        problem, said = judge_sse(answer.sse, expect.sse_checks, values)
        if problem:
            return _fail(problem, answer)
        evidence.append(said)
    for name, wanted_cookie in expect.cookies.items():
        problem = check_cookie(name, answer.cookies.get(name), wanted_cookie)
        if problem:
            return _fail(problem)
        evidence.append(f"cookie {answer.cookies[name].describe()}")
    captures_from = step.captures()
    needs_json = bool(
        expect.json_ or expect.jwt or (negative and negative.json_) or any(c.json_ for c in captures_from.values())
    )
    data: Any = None
    if needs_json:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # nesting deeper than Python parses: not JSON we judge
            return _fail("body is not JSON", answer)
    for expr, wanted in expect.json_.items():
        found, problem = search(jmespath.compile(expr), data)
        if problem:
            return _fail(f"json {problem}", answer)
        wanted = expand(wanted, values)
        if found != wanted:
            shown = "***" if isinstance(found, str) and gha.redact(found) != found else show(found)
            return _fail(f"json {expr} = {shown}, expected {show(wanted)}", answer)
    for expr, unwanted in (negative.json_ if negative else {}).items():
        found, problem = search(jmespath.compile(expr), data)
        if not problem and found == expand(unwanted, values):
            return _fail(f"json {expr} = {show(found)}, expected anything else", answer)
    for expr, check in expect.jwt.items():
        token, problem = search(jmespath.compile(expr), data)
        if problem:
            return _fail(f"jwt {problem}")
        if isinstance(token, str):
            gha.mask(token)
        problem, said = inspect_jwt(token, check, values, now, verifier)
        if problem:
            return _fail(f"jwt {expr}: {problem}")
        evidence.append(f"jwt {expr} {said}")
    captures: dict[str, str] = {}
    for name, source in captures_from.items():
        value, problem = _capture(name, source, data, answer)
        if problem or value is None:
            return Outcome(False, f"capture {name}: {problem}", captures)
        captures[name] = value
    return Outcome(True, f"status {answer.status}", captures, tuple(evidence))


def _capture(name: str, source: Capture, data: Any, answer: Answer) -> tuple[str | None, str | None]:
    """(the value, None) or (None, why not); a credential is masked the moment it is read."""
    raw: Any
    if source.json_:
        raw, problem = search(jmespath.compile(source.json_), data)
        if problem:
            return None, problem
        if raw is None:
            return None, f"nothing at {source.json_}"
        kind, origin = "json", source.json_
    elif source.header:
        raw = answer.headers.get(source.header)
        if raw is None:
            return None, f"no {source.header} header in the answer"
        kind, origin = "header", source.header
    else:
        cookie = answer.cookies.get(source.cookie or "")
        raw = cookie.value if cookie is not None else answer.jar.get(source.cookie or "")
        if raw is None:
            return None, f"no cookie {source.cookie} set for this origin"
        kind, origin = "cookie", source.cookie or ""
    value = raw if isinstance(raw, str) else json.dumps(raw)
    if should_mask(raw, declared=source.secret, names=(name, origin), source=kind):
        if kind == "header":
            mask_header_value(value)
        else:
            gha.mask(value)  # the moment it exists
    return value, None


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

    def run(self, only: set[str] | None = None) -> SmokeReport:
        flows = [self.run_flow(f.name, f.steps) for f in self.spec.flows if only is None or f.name in only]
        return SmokeReport(passed=all(f.verdict is Verdict.PASS for f in flows), flows=flows)

    def run_flow(self, name: str, steps: list[Step]) -> FlowResult:
        results: list[StepResult] = []
        failed: str | None = None
        failed_at: str | None = None
        self.client.cookies = httpx.Cookies()  # a jar of the flow's own: no cookie crosses flows
        try:
            for step in steps:
                if failed is not None and not step.always:
                    results.append(
                        StepResult(
                            name=step.name,
                            verdict=Verdict.SKIPPED,
                            status=None,
                            elapsed_s=0.0,
                            reason=f"skipped: {failed}",
                        )
                    )
                    continue
                missing = sorted(n for n in step_needs(step) if n not in self.values)
                if missing:
                    made_by = ", ".join(f"{{{n}}} from {self.origin.get(n, 'an earlier step')}" for n in missing)
                    reason = f"needs {made_by}, which did not pass"
                    results.append(
                        StepResult(
                            name=step.name,
                            verdict=Verdict.SKIPPED,
                            status=None,
                            elapsed_s=0.0,
                            reason=reason,
                            always=step.always,
                        )
                    )
                    if failed is None:
                        failed = f"step {step.name} was skipped"
                    continue
                result = self.run_step(name, step)
                results.append(result)
                if result.verdict is not Verdict.PASS and failed is None:
                    failed, failed_at = f"step {step.name} failed", step.name
        finally:
            self.client.cookies = httpx.Cookies()
        verdict = Verdict.PASS if all(r.verdict is Verdict.PASS for r in results) else Verdict.FAIL
        if verdict is Verdict.FAIL and failed_at is None:
            failed_at = next((r.name for r in results if r.verdict is not Verdict.PASS), None)
        return FlowResult(name=name, verdict=verdict, steps=results, failed_at=failed_at)

    def run_step(self, flow: str, step: Step) -> StepResult:
        started, started_at = time.monotonic(), timing.utc_now()
        outcome = Outcome(False, "not run", {})
        status: int | None = None
        for attempt in range(1, step.attempts + 1):
            answer = self.send(step)
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
        elapsed = round(time.monotonic() - started, 3)
        verdict = Verdict.PASS if outcome.ok else Verdict.FAIL
        said = "; ".join((outcome.reason, *outcome.evidence))
        if outcome.excerpt:
            said += f": {outcome.excerpt}"
        self.progress(f"smoke: {flow}/{step.name}: {verdict.value} ({said}, {elapsed:.2f}s)")
        return StepResult(
            name=step.name,
            verdict=verdict,
            status=status,
            elapsed_s=elapsed,
            reason=outcome.reason,
            excerpt=None if outcome.ok else outcome.excerpt,
            evidence=list(outcome.evidence),
            always=step.always,
            started_at=started_at,
            finished_at=timing.utc_now(),
        )

    def send(self, step: Step) -> Answer:
        values = self.values
        url = expand(step.url, values)
        headers = {k: expand(v, values) for k, v in step.headers.items()}
        for key, value in headers.items():
            if key.lower() in SENSITIVE_HEADERS or (credential_name(key) and not plain(value)):
                mask_header_value(value)
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
                cookies = set_by(response)
                for cookie in cookies.values():
                    if not plain(cookie.value):
                        gha.mask(cookie.value)  # a cookie is a credential until shown otherwise
                jar = {c.name: c.value or "" for c in self.client.cookies.jar}
                if step.stream and response.status_code < 300:
                    kind = response.headers.get("content-type", "")
                    if not kind.lower().startswith("text/event-stream"):  # a page is no stream, however it reads
                        return Answer(
                            response.status_code,
                            response.headers,
                            sse=SseRead(kind, 0, False, "content-type"),
                            cookies=cookies,
                            jar=jar,
                        )
                    read = _read_sse(response, ends)
                    return Answer(response.status_code, response.headers, sse=read, cookies=cookies, jar=jar)
                body, truncated = _read_body(response, ends)
                return Answer(
                    response.status_code, response.headers, body=body, truncated=truncated, cookies=cookies, jar=jar
                )
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
