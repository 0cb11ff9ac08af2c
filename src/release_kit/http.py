"""One retry and back-off policy for every remote.

:class:`RetryingTransport` wraps any httpx transport. It retries 408/429/5xx and
connection errors with exponential back-off and jitter, honours ``Retry-After``,
waits for ``x-ratelimit-reset`` on GitHub's primary rate limit, waits at least a
minute on a secondary rate limit, and gives up with :class:`RemoteGaveUp` (exit 3)
once the total wait budget is spent. Every wait is announced with one line on
stderr, so a waiting job is never silent. A host that does not resolve or refuses
connections gets one more try, then a message saying what to check: no wait cures
a typo. Requests that are not safe to repeat (POST, PATCH, or any request whose
body is a one-shot stream) are never re-sent: the caller re-reads state and decides
instead. Clock, sleep and the retry-line sink are injectable. ``HTTPS_PROXY`` and
friends are honoured by :class:`EnvProxyTransport`.
"""

from __future__ import annotations

import email.utils
import errno
import os
import random
import socket
import ssl
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import httpx

from release_kit import gha
from release_kit.durations import parse_seconds
from release_kit.errors import InputError, RemoteGaveUp

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
SECONDARY_LIMIT_MIN_WAIT = 60.0
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
#: Extension key a caller sets to allow retrying a POST it knows to be safe.
RETRY_UNSAFE = "release_kit.retry_unsafe"
#: Attempts for a host that cannot be resolved or refuses connections: one quick second try.
UNREACHABLE_ATTEMPTS = 2
UNREACHABLE_HINT = "check the host name and the network: GITHUB_API_URL for GitHub, --registry-endpoint for a registry"
ANONYMOUS_HINT = "set GITHUB_TOKEN: an anonymous client gets 60 requests an hour"
_MESSAGE_LIMIT = 300


class Clock(Protocol):
    def now(self) -> float:
        """Wall-clock seconds since the epoch."""

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def stderr_line(line: str) -> None:
    """Where a retry wait is announced: one line on stderr through :func:`gha.progress` (it quotes remote text)."""
    gha.progress(line)


@dataclass
class RetryPolicy:
    max_attempts: int = 8
    budget: float = field(default_factory=lambda: _env_seconds("RELEASE_KIT_RETRY_BUDGET", 600.0))
    """Total seconds one request may spend waiting between attempts."""
    base_delay: float = 1.0
    max_delay: float = 60.0
    clock: Clock = field(default_factory=SystemClock)
    jitter: Callable[[], float] = random.random
    notify: Callable[[str], None] = stderr_line
    """Receives one line per retry wait (tests capture them)."""

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
        return parse_seconds(value)
    except ValueError as exc:
        raise InputError(f"{name}={value!r}: {exc}") from None


def primary_limit_reset(response: httpx.Response) -> float | None:
    """When GitHub's primary rate limit resets (epoch seconds), if ``response`` is that limit."""
    headers = response.headers
    if response.status_code not in (403, 429) or headers.get("x-ratelimit-remaining") != "0":
        return None
    try:
        return float(headers.get("x-ratelimit-reset", ""))
    except ValueError:
        return None


def remote_message(response: httpx.Response) -> str:
    """The remote's own ``message`` (GitHub's, for one), one line of printable text, bounded; '' if none."""
    text = ""
    try:
        response.read()
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            text = body["message"]
    except (httpx.HTTPError, ValueError, UnicodeDecodeError):
        text = ""
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return gha.inert(text, limit=_MESSAGE_LIMIT)  # redacted, runner commands neutralised, then cut


def rate_limit_note(response: httpx.Response, now: float) -> str | None:
    """'the limit resets at 14:05:00 UTC (in 47 min)' for a primary rate limit, else None."""
    reset = primary_limit_reset(response)
    if reset is None:
        return None
    when = datetime.fromtimestamp(reset, UTC).strftime("%H:%M:%S UTC")
    return f"the limit resets at {when} (in {_duration(max(0.0, reset - now))})"


def anonymous(request: httpx.Request) -> bool:
    return "authorization" not in request.headers


def unreachable_cause(exc: BaseException) -> str | None:
    """What no wait will cure (a name that does not resolve, a refused connection, no route),
    or None for failures worth retrying (time-outs, resets)."""
    if not isinstance(exc, httpx.ConnectError):
        return None
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, socket.gaierror):
            return "cannot resolve the host name"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "no route to the host"
        cause = cause.__cause__ or cause.__context__
    text = str(exc).lower()
    if "name or service not known" in text or "name resolution" in text or "nodename nor servname" in text:
        return "cannot resolve the host name"
    if "connection refused" in text:
        return "connection refused"
    return None


def unreachable_hint(hint: str | None = None) -> str:
    """What to check when a host cannot be reached, naming a proxy when one is configured."""
    text = hint or UNREACHABLE_HINT
    proxies = sorted({k.upper() for k in os.environ if k.lower() in ("https_proxy", "http_proxy", "all_proxy")})
    if proxies:
        text += f"; a proxy is set in {proxies[0]}: check it too"
    else:
        text += "; behind a proxy, set HTTPS_PROXY"
    return text


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f}".rstrip("0").rstrip(".") + " s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


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

    def __init__(
        self, inner: httpx.BaseTransport, policy: RetryPolicy | None = None, *, unreachable: str | None = None
    ) -> None:
        self.inner = inner
        self.policy = policy or RetryPolicy()
        self.unreachable = unreachable  # what the user should check when the host cannot be reached

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        policy = self.policy
        remote = request.url.host or str(request.url)
        what = f"{request.method} {request.url.path}"
        waited = 0.0
        attempt = 0
        replayable = _replayable(request)  # decided before a transport may buffer the body
        while True:
            attempt += 1
            cause: str
            hint = "try again later"
            advice = ""  # appended to the retry line
            last = policy.max_attempts
            try:
                response = self.inner.handle_request(request)
            except httpx.TransportError as exc:
                if not replayable:
                    raise
                delay = policy.backoff(attempt)
                cause = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                unreachable = unreachable_cause(exc)
                if unreachable is not None:  # a typo or no network: no wait cures it
                    cause, hint = unreachable, unreachable_hint(self.unreachable)
                    last = min(last, UNREACHABLE_ATTEMPTS)
                    delay = min(delay, 1.0)
            else:
                wait = policy.wait_for(response, attempt)
                if wait is None or not replayable:
                    return response
                delay = wait
                cause = f"{response.status_code} {response.reason_phrase}".strip()
                note = rate_limit_note(response, policy.clock.now())
                if note is not None:
                    cause = f"{remote_message(response) or cause} ({note})"
                    hint = (
                        ANONYMOUS_HINT
                        if anonymous(request)
                        else "wait for the reset, or raise RELEASE_KIT_RETRY_BUDGET"
                    )
                    advice = f"; {ANONYMOUS_HINT}" if anonymous(request) else ""
                elif response.status_code in (403, 429) and (message := remote_message(response)):
                    cause = f"{response.status_code} {message}"
                response.close()
            if attempt >= last or waited + delay > policy.budget:
                raise RemoteGaveUp(
                    f"{remote}: {cause}; gave up on {what} after {attempt} attempt{'s' if attempt > 1 else ''} "
                    f"and {waited:.0f} s of waiting",
                    hint=hint,
                )
            policy.notify(
                f"{remote}: {cause}, retrying in {_duration(delay)} (attempt {attempt + 1} of {last}){advice}"
            )
            policy.clock.sleep(delay)
            waited += delay

    def close(self) -> None:
        self.inner.close()


class EnvProxyTransport(httpx.BaseTransport):
    """Direct connections, or through the proxy of ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``
    except for hosts in ``NO_PROXY`` (httpx ignores these variables once a transport is given)."""

    def __init__(self, *, verify: bool | ssl.SSLContext = True) -> None:
        self.direct = httpx.HTTPTransport(verify=verify, retries=0)
        found = urllib.request.getproxies_environment()
        self.proxies: dict[str, httpx.HTTPTransport] = {}
        for scheme in ("http", "https"):
            url = found.get(scheme) or found.get("all")
            if url:
                self.proxies[scheme] = httpx.HTTPTransport(verify=verify, retries=0, proxy=url)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        proxy = self.proxies.get(request.url.scheme)
        if proxy is None or urllib.request.proxy_bypass(request.url.host):
            return self.direct.handle_request(request)
        return proxy.handle_request(request)

    def close(self) -> None:
        for transport in (self.direct, *self.proxies.values()):
            transport.close()


def make_client(
    *,
    base_url: str = "",
    headers: dict[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
    policy: RetryPolicy | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    verify: bool | ssl.SSLContext = True,
    unreachable: str | None = None,
    retrying: bool = True,
    follow_redirects: bool = True,
) -> httpx.Client:
    """An httpx client with our timeouts and retry policy around ``transport``.

    ``unreachable`` says what the user should check when the host cannot be resolved or
    refuses connections (e.g. ``GITHUB_API_URL``); a generic hint otherwise. ``retrying=False`` is
    for callers whose own loop is the retry (the health poller, a smoke step): they get the same
    transport and timeouts, and no second retry stacked under theirs.
    """
    inner = transport or EnvProxyTransport(verify=verify)
    return httpx.Client(
        base_url=base_url,
        headers=headers,
        transport=RetryingTransport(inner, policy, unreachable=unreachable) if retrying else inner,
        timeout=timeout,
        follow_redirects=follow_redirects,
    )
