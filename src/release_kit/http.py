"""One retry and back-off policy for every remote.

:class:`RetryingTransport` wraps any httpx transport. It retries 408/429/5xx and
connection errors with exponential back-off and jitter, honours ``Retry-After``,
waits for ``x-ratelimit-reset`` on GitHub's primary rate limit, waits at least a
minute on a secondary rate limit, and gives up with :class:`RemoteGaveUp` (exit 3)
once the total wait budget is spent. Requests that are not safe to repeat (POST,
PATCH, or any request whose body is a one-shot stream) are never re-sent: the
caller re-reads state and decides instead. Clock and sleep are injectable.
"""

from __future__ import annotations

import email.utils
import os
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from release_kit.errors import InputError, RemoteGaveUp

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
SECONDARY_LIMIT_MIN_WAIT = 60.0
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
#: Extension key a caller sets to allow retrying a POST it knows to be safe.
RETRY_UNSAFE = "release_kit.retry_unsafe"


class Clock(Protocol):
    def now(self) -> float:
        """Wall-clock seconds since the epoch."""

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class RetryPolicy:
    max_attempts: int = 8
    budget: float = field(default_factory=lambda: _env_seconds("RELEASE_KIT_RETRY_BUDGET", 600.0))
    """Total seconds one request may spend waiting between attempts."""
    base_delay: float = 1.0
    max_delay: float = 60.0
    clock: Clock = field(default_factory=SystemClock)
    jitter: Callable[[], float] = random.random

    def jittered(self, interval: float) -> float:
        """A polling interval with jitter in [0.8, 1.2] of ``interval`` (pollers do not march in step)."""
        return interval * (0.8 + 0.4 * self.jitter())

    def backoff(self, attempt: int) -> float:
        """Exponential back-off with full jitter in [0.5, 1.0] of the step."""
        step = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return step * (0.5 + self.jitter() / 2)

    def wait_for(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying ``response``, or None when it is final."""
        status = response.status_code
        headers = response.headers
        retry_after = parse_retry_after(headers.get("retry-after"), self.clock.now())
        remaining = headers.get("x-ratelimit-remaining")
        if status in (403, 429) and remaining == "0" and headers.get("x-ratelimit-reset"):
            if retry_after is not None:
                return retry_after
            try:
                reset = float(headers["x-ratelimit-reset"])
            except ValueError:
                return self.backoff(attempt)
            return max(1.0, reset - self.clock.now() + 1.0)
        if status == 403:
            if not _is_secondary_limit(response):
                return None
            if retry_after is not None:
                return max(retry_after, 1.0)
            return max(SECONDARY_LIMIT_MIN_WAIT, self.backoff(attempt))
        if status in RETRY_STATUSES or status >= 500:
            return retry_after if retry_after is not None else self.backoff(attempt)
        return None


def _env_seconds(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise InputError(f"{name}={value!r}: expected a number of seconds") from None
    if seconds < 0:
        raise InputError(f"{name}={value!r}: expected a number of seconds >= 0")
    return seconds


def parse_retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def _is_secondary_limit(response: httpx.Response) -> bool:
    try:
        response.read()
        text = response.text.lower()
    except (httpx.HTTPError, UnicodeDecodeError):
        return False
    return "secondary rate limit" in text or "abuse detection" in text


def _replayable(request: httpx.Request) -> bool:
    """Safe to send again: an idempotent method (or an opted-in POST) with an in-memory body."""
    safe = request.method in IDEMPOTENT_METHODS or bool(request.extensions.get(RETRY_UNSAFE))
    return safe and isinstance(request.stream, httpx.ByteStream)


class RetryingTransport(httpx.BaseTransport):
    """Apply :class:`RetryPolicy` around another transport."""

    def __init__(self, inner: httpx.BaseTransport, policy: RetryPolicy | None = None) -> None:
        self.inner = inner
        self.policy = policy or RetryPolicy()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        policy = self.policy
        remote = request.url.host or str(request.url)
        waited = 0.0
        attempt = 0
        replayable = _replayable(request)  # decided before a transport may buffer the body
        while True:
            attempt += 1
            cause: str
            try:
                response = self.inner.handle_request(request)
            except httpx.TransportError as exc:
                if not replayable:
                    raise
                delay = policy.backoff(attempt)
                cause = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                wait = policy.wait_for(response, attempt)
                if wait is None or not replayable:
                    return response
                delay = wait
                cause = f"HTTP {response.status_code}"
                response.close()
            if attempt >= policy.max_attempts or waited + delay > policy.budget:
                raise RemoteGaveUp(
                    f"{remote} gave up after {attempt} attempts and {waited:.0f}s of waiting "
                    f"({request.method} {request.url.path}: {cause})",
                    hint="try again later",
                )
            policy.clock.sleep(delay)
            waited += delay

    def close(self) -> None:
        self.inner.close()


def make_client(
    *,
    base_url: str = "",
    headers: dict[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
    policy: RetryPolicy | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    verify: bool | ssl.SSLContext = True,
    retrying: bool = True,
    follow_redirects: bool = True,
) -> httpx.Client:
    """An httpx client with our timeouts and retry policy around ``transport``.

    ``retrying=False`` is for callers whose own loop is the retry (the health poller, a smoke
    step): they get the same transport and timeouts, and no second retry stacked under theirs.
    """
    inner = transport or httpx.HTTPTransport(verify=verify, retries=0)
    return httpx.Client(
        base_url=base_url,
        headers=headers,
        transport=RetryingTransport(inner, policy) if retrying else inner,
        timeout=timeout,
        follow_redirects=follow_redirects,
    )
