"""The health poller: every endpoint polled concurrently until it passes or the deadline comes.

I/O only: each answer is judged by :func:`verdicts.evaluate`. The deadline is strict: an
attempt's timeout is clamped to the time left, a body still trickling in is cut off when its
attempt's time is up, and the verdict is given no later than the deadline plus
:data:`GRACE` whatever a server does.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import httpx

from release_kit import gha, timing
from release_kit.http import RetryPolicy, make_client
from release_kit.probes.models import EndpointResult, HealthReport, Verdict
from release_kit.probes.verdicts import BODY_LIMIT, Attempt, Expectations, evaluate, summarize

GRACE = 0.3  # seconds past the deadline the verdict may take (the promise is 0.5)
MIN_ATTEMPT = 0.05  # less time left than this: no further attempt
HISTORY = 5  # attempts a failure reason is drawn from


@dataclass(frozen=True)
class HealthOptions:
    urls: tuple[str, ...]
    deadline: float = 300.0
    attempt_timeout: float = 5.0
    interval: float = 2.0
    consecutive: int = 3
    expect: Expectations = field(default_factory=Expectations)
    per_url: Mapping[str, Expectations] = field(default_factory=dict)  # a service's own, where the config says
    headers: tuple[tuple[str, str], ...] = ()
    verify: bool | ssl.SSLContext = True


class Progress:
    """One line on stderr per change of what an endpoint answers (and every tenth attempt).

    Each line holds remote values (a reason quoting a JSON field or a ``Location``): it goes through
    :func:`gha.inert` before any writer sees it, so a custom writer cannot print it raw either.
    """

    def __init__(self, write: Callable[[str], None] | None = None) -> None:
        self._write = write or gha.progress
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        with self._lock:
            self._write(gha.inert(text))


class EndpointPoller:
    def __init__(
        self, url: str, options: HealthOptions, started: float, policy: RetryPolicy, progress: Progress
    ) -> None:
        self.url = url
        self.options = options
        self.started = started
        self.deadline_at = started + options.deadline
        self.policy = policy
        self.progress = progress
        self.attempts = 0
        self.streak = 0
        self.history: deque[Attempt] = deque(maxlen=HISTORY)
        self.last_status: int | None = None
        self.passed_at: float | None = None
        self.fatal: Attempt | None = None
        self.busy = False  # an attempt is under way
        self._lock = threading.Lock()

    # -- the loop ---------------------------------------------------------------

    def run(self) -> None:
        clock = self.policy.clock
        with make_client(
            verify=self.options.verify,
            retrying=False,  # this loop is the retry: nothing stacked under it
            follow_redirects=False,
            headers={"accept-encoding": "identity", **dict(self.options.headers)},
        ) as client:
            previous = ""
            while True:
                left = self.deadline_at - clock.now()
                if left < MIN_ATTEMPT:
                    return
                with self._lock:
                    self.busy = True
                result = self.attempt(client, min(self.options.attempt_timeout, left))
                with self._lock:
                    self.busy = False
                    self.attempts += 1
                    self.history.append(result)
                    if result.status is not None:
                        self.last_status = result.status
                    self.streak = self.streak + 1 if result.ok else 0
                    if self.streak >= self.options.consecutive:
                        self.passed_at = clock.now()
                    if result.fatal:
                        self.fatal = result
                if self.passed_at is not None or result.fatal:
                    self.progress.line(f"health: {self.url}: {'pass' if result.ok else result.reason}")
                    return
                wait = self.policy.jittered(self.spacing())
                left = self.deadline_at - clock.now()
                shown = "ok" if result.ok else result.reason
                if shown != previous or self.attempts % 10 == 0:
                    streak = f", {self.streak} of {self.options.consecutive} in a row" if result.ok else ""
                    self.progress.line(
                        f"health: {self.url}: attempt {self.attempts}: {shown}{streak}; "
                        f"next in {min(wait, max(left, 0)):.1f}s ({max(left, 0):.0f}s left)"
                    )
                previous = shown
                if left - wait < MIN_ATTEMPT:
                    return
                clock.sleep(wait)

    def spacing(self) -> float:
        """The interval while failing; once an answer passes, the confirmations are spread over one
        interval, so the verdict comes one interval after the first passing answer."""
        if self.streak == 0 or self.options.consecutive < 2:
            return self.options.interval
        return self.options.interval / (self.options.consecutive - 1)

    def attempt(self, client: httpx.Client, timeout: float) -> Attempt:
        """One GET, its body read up to :data:`BODY_LIMIT` and cut off when ``timeout`` is spent."""
        ends = time.monotonic() + timeout
        try:
            with client.stream("GET", self.url, timeout=httpx.Timeout(timeout)) as response:
                body, truncated, late = read_bounded(response, ends, BODY_LIMIT)
                if late:
                    return Attempt(False, "body still arriving when the attempt's time was up", response.status_code)
                expect = self.options.per_url.get(self.url, self.options.expect)
                return evaluate(response.status_code, response.headers, body, truncated, expect)
        except httpx.TimeoutException as exc:
            return Attempt(False, f"no answer within the attempt's time ({type(exc).__name__})")
        except httpx.InvalidURL as exc:
            return Attempt(False, f"not a valid URL ({exc})", fatal=True)
        except httpx.TransportError as exc:
            if _untrusted_certificate(exc):
                return Attempt(
                    False,
                    "TLS certificate not trusted (give --ca-bundle for a private CA)",
                    fatal=True,
                )
            return Attempt(False, f"no answer ({type(exc).__name__})")

    # -- the verdict ----------------------------------------------------------------

    def result(self) -> EndpointResult:
        with self._lock:
            history = list(self.history)
            if self.passed_at is not None:
                return EndpointResult(
                    url=self.url,
                    verdict=Verdict.PASS,
                    attempts=self.attempts,
                    healthy_after_s=round(self.passed_at - self.started, 2),
                    last_status=self.last_status,
                    reason=f"{self.options.consecutive} passing answers in a row",
                )
            if self.fatal is not None:
                reason = self.fatal.reason
            else:
                reason = summarize(history, self.options.consecutive)
                if self.busy:
                    reason += "; an attempt was still waiting at the deadline"
            return EndpointResult(
                url=self.url,
                verdict=Verdict.FAIL,
                attempts=self.attempts,
                healthy_after_s=None,
                last_status=self.last_status,
                reason=reason,
            )


def read_bounded(response: httpx.Response, ends: float, limit: int) -> tuple[bytes, bool, bool]:
    """The body up to ``limit`` bytes: (body, truncated, late). Stops reading at either bound."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True, False
        if time.monotonic() > ends:
            return b"".join(chunks), False, True
    return b"".join(chunks), False, False


def _untrusted_certificate(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def poll(
    options: HealthOptions,
    *,
    policy: RetryPolicy | None = None,
    progress: Progress | None = None,
) -> HealthReport:
    """Poll every URL concurrently; the report is ready by the deadline plus :data:`GRACE`."""
    policy = policy or RetryPolicy()
    progress = progress or Progress()
    if options.verify is True:  # one TLS context for every poller: building one costs ~0.1 s of CPU
        options = replace(options, verify=httpx.create_ssl_context())
    started, started_at = policy.clock.now(), timing.utc_now()
    pollers = [EndpointPoller(url, options, started, policy, progress) for url in options.urls]
    threads = [threading.Thread(target=p.run, name=f"health {p.url}", daemon=True) for p in pollers]
    for thread in threads:
        thread.start()
    hard_end = time.monotonic() + options.deadline + GRACE
    for thread in threads:
        thread.join(timeout=max(0.0, hard_end - time.monotonic()))
    # a thread still in an attempt at this point is abandoned: it is a daemon and its own
    # timeout ends it; the verdict does not wait for it
    results = [timing.spanned(p.result(), started_at, _ready_after(p, started)) for p in pollers]
    return HealthReport(passed=all(r.verdict is Verdict.PASS for r in results), endpoints=results)


def _ready_after(poller: EndpointPoller, started: float) -> float | None:
    return None if poller.passed_at is None else poller.passed_at - started


def endpoints(
    api_url: str | None, web_url: str | None, urls: Sequence[str], paths: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """The runbook's endpoints for ``--api-url``/``--web-url`` (``paths`` by role, else the runbook's),
    then every ``--url``, without repeats."""
    paths = paths or {}
    found: list[str] = []
    if api_url:
        found.append(api_url.rstrip("/") + paths.get("api", "/health/ready"))
    if web_url:
        found.append(web_url.rstrip("/") + paths.get("web", "/api/health/ready"))
    found += urls
    return tuple(dict.fromkeys(found))
