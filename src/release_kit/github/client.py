"""A small GitHub REST client on httpx: auth, API base, pagination, ETags, error mapping.

Honours ``GITHUB_TOKEN``, ``GITHUB_API_URL`` (GitHub Enterprise Server, local fakes)
and ``GITHUB_REPOSITORY``. Every request goes through :mod:`release_kit.http`'s retry
policy. Anonymous access works for public repositories.

The token goes only to GitHub's own origin (scheme, host and port of ``GITHUB_API_URL``; on
github.com also its upload host), whatever URL a caller or an API answer names: a
``Link: rel="next"`` elsewhere is refused, a redirect elsewhere (asset storage) is followed
without it, and downloads of URLs found in answers never carry it and are capped.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from release_kit import __version__, gha
from release_kit.errors import ExitCode, InputError, RemoteError
from release_kit.http import ANONYMOUS_HINT, RetryPolicy, make_client, rate_limit_note

DEFAULT_API_URL = "https://api.github.com"
GITHUB_COM_UPLOADS = "https://uploads.github.com"  # release asset uploads on github.com (GHES: /api/uploads)
_DEFAULT_PORTS = {"http": 80, "https": 443}
ERROR_BODY_LIMIT = 64 * 1024
API_VERSION = "2022-11-28"
PER_PAGE = 100
_REPO_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}\Z")
_LINK_RE = re.compile(r'<([^>]+)>\s*;\s*rel="([^"]+)"')

Json = Any


@dataclass(frozen=True)
class RepoName:
    owner: str
    name: str

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def __str__(self) -> str:
        return self.full_name


def parse_repo(value: str | None, *, flag: str = "--repo") -> RepoName:
    """``OWNER/NAME``, defaulting to ``$GITHUB_REPOSITORY``, else (outside Actions) to the ``origin``
    remote of the git checkout we run in, said on stderr. Every command resolves its repository here."""
    value = value or os.environ.get("GITHUB_REPOSITORY") or ""
    if not value and not gha.in_actions():
        from release_kit.params import origin_repo

        found, how = origin_repo()
        if found is None:
            raise InputError(f"{flag} is required: expected OWNER/NAME (or set GITHUB_REPOSITORY); {how}")
        if not _REPO_RE.match(found):
            raise InputError(f"the origin remote names {found!r}, not a repository: give {flag} OWNER/NAME")
        gha.echo(f"release-kit: {flag} {found} ({how})", err=True)
        value = found
    if not value:
        raise InputError(f"{flag} is required: expected OWNER/NAME (or set GITHUB_REPOSITORY)")
    if value.endswith(".git") or value == "." or ".." in value or not _REPO_RE.match(value):
        raise InputError(f"{flag} {value!r} is not a repository: expected OWNER/NAME, e.g. octo-org/app")
    owner, name = value.split("/", 1)
    return RepoName(owner, name)


class GitHubError(RemoteError):
    """GitHub answered with a status that retrying cannot change."""

    def __init__(self, status: int, method: str, path: str, message: str) -> None:
        self.errors: list[dict[str, Any]] = []
        super().__init__(f"GitHub answered {status} to {method} {path}: {message}")
        if status >= 500:
            self.exit_code = ExitCode.REMOTE
        self.status = status
        self.path = path
        self.api_message = message


def _api_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no message"
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return " ".join(str(body["message"]).split())
    return response.reason_phrase or "no message"


Origin = tuple[str, str, int]


def origin_of(url: str | httpx.URL) -> Origin:
    """(scheme, host, port) with the default port spelled out, as browsers compare origins."""
    parsed = httpx.URL(url) if isinstance(url, str) else url
    scheme = parsed.scheme.lower()
    return scheme, parsed.host.lower(), parsed.port or _DEFAULT_PORTS.get(scheme, 0)


def _show(origin: Origin) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}" + ("" if _DEFAULT_PORTS.get(scheme) == port else f":{port}")


class _TokenForOrigins(httpx.Auth):
    """``Authorization: Bearer`` on requests to the trusted origins only (httpx then drops it on a
    redirect to any other origin)."""

    def __init__(self, token: str, origins: frozenset[Origin]) -> None:
        self._header = f"Bearer {token}"
        self.origins = origins

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if origin_of(request.url) in self.origins:
            request.headers["Authorization"] = self._header
        yield request


def clean_token(token: str | None, source: str) -> str | None:
    """The token without surrounding whitespace (a secret pasted with its newline), or None when empty.

    Whitespace, control or non-ASCII characters inside it cannot be sent as a header: exit 2.
    """
    if token is None:
        return None
    gha.mask(token)
    token = token.strip()
    if not token:
        return None
    if not token.isascii() or any(c.isspace() or not c.isprintable() for c in token):
        raise InputError(
            f"{source}: the token holds whitespace, control or non-ASCII characters inside it; "
            "expected a single word such as ghp_... (check the secret's value)"
        )
    gha.mask(token)
    return token


def next_link(response: httpx.Response) -> str | None:
    for url, rel in _LINK_RE.findall(response.headers.get("link", "")):
        if rel == "next":
            return str(url)
    return None


class GitHubClient:
    """Thread-safe: the gates check issues independent requests concurrently."""

    def __init__(
        self,
        *,
        token: str | None = None,
        api_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        env = os.environ
        source = "token"
        if token is None:  # an action's token input, then the usual variables
            source = next((n for n in (gha.input_env("token"), "GITHUB_TOKEN", "GH_TOKEN") if env.get(n)), source)
            token = env.get(source)
        token = clean_token(token, source)
        self.api_url = (api_url or env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
        api = httpx.URL(self.api_url)
        if api.scheme not in ("http", "https") or not api.host:
            raise InputError(f"GITHUB_API_URL {self.api_url!r} is not a URL: expected e.g. https://api.github.com")
        self.api_origin = origin_of(api)
        trusted = {self.api_origin}
        if self.api_origin == origin_of(DEFAULT_API_URL):
            trusted.add(origin_of(GITHUB_COM_UPLOADS))
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": f"release-kit/{__version__}",
        }
        self.authenticated = bool(token)
        unreachable = f"check GITHUB_API_URL ({self.api_url}) and the network"
        self._http = make_client(
            base_url=self.api_url, headers=headers, transport=transport, policy=policy, unreachable=unreachable
        )
        if token:
            self._http.auth = _TokenForOrigins(token, frozenset(trusted))
        # pre-signed storage URLs (attestation bundles) get no token, through the same transport and policy;
        # made on first use (most commands download nothing: no second TLS set-up for them)
        self._anonymous_options: dict[str, Any] = {
            "headers": {"User-Agent": headers["User-Agent"]},
            "transport": transport,
            "policy": policy,
        }
        self._anonymous: httpx.Client | None = None
        self._etags: dict[str, tuple[str, Json, str | None]] = {}
        self._lock = threading.Lock()
        self.requests = 0

    def close(self) -> None:
        self._http.close()
        if self._anonymous is not None:
            self._anonymous.close()

    def _without_token(self) -> httpx.Client:
        with self._lock:
            if self._anonymous is None:
                self._anonymous = make_client(**self._anonymous_options)
            return self._anonymous

    def get_without_token(self, url: str, *, limit: int) -> bytes:
        """A pre-signed URL (such as an attestation's bundle_url): the GitHub token is never sent.

        At most ``limit`` bytes are read: a longer body raises :class:`DownloadTooLarge`.
        """
        if httpx.URL(url).scheme not in ("http", "https"):
            raise RemoteError(f"GitHub named a download URL that is not http(s): {url[:100]!r}")
        with self._lock:
            self.requests += 1
        try:
            with self._without_token().stream("GET", url) as response:
                if response.status_code >= 400:
                    raise self._bounded_error("GET", url, response)
                return read_capped(response, limit, what=httpx.URL(url).path.rsplit("/", 1)[-1] or url)
        except httpx.TooManyRedirects:
            raise RemoteError(f"GET {httpx.URL(url).path}: redirected in circles") from None

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ---------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Json = None,
        content: bytes | Iterator[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """Any request (a path under the API, or an absolute URL such as an upload URL).

        POSTs and streamed bodies are never re-sent by the retry policy: after a failure the
        caller re-reads the state and decides again.
        """
        with self._lock:
            self.requests += 1
        response = self._http.request(
            method,
            url,
            params=params,
            json=json,
            content=content,
            headers=headers,
            timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )
        if response.status_code >= 400:
            raise self._error(method, url, response)
        return response

    @contextmanager
    def stream(self, url: str, *, headers: Mapping[str, str] | None = None) -> Iterator[httpx.Response]:
        """GET whose body is read piece by piece (downloads are never held whole)."""
        with self._lock:
            self.requests += 1
        with self._http.stream("GET", url, headers=headers) as response:
            if response.status_code >= 400:
                raise self._bounded_error("GET", url, response)
            yield response

    def _bounded_error(self, method: str, url: str, response: httpx.Response) -> GitHubError:
        """The error for a streamed answer, reading at most 64 KiB of its body (a download may be huge)."""
        try:
            body = read_capped(response, ERROR_BODY_LIMIT, what="the error answer")
        except DownloadTooLarge:
            body = b""
        kept = {"content-type": response.headers.get("content-type", "")}
        return self._error(method, url, httpx.Response(response.status_code, headers=kept, content=body))

    def _error(self, method: str, path: str, response: httpx.Response) -> GitHubError:
        message = _api_message(response)
        status = response.status_code
        shown = httpx.URL(path).path or path
        if status == 401:
            err: GitHubError = GitHubAuthError(status, method, shown, message)
        elif status == 404:
            err = GitHubNotFound(status, method, shown, message)
        elif status == 403:
            err = GitHubForbidden(status, method, shown, message)
        else:
            err = GitHubError(status, method, shown, message)
        note = rate_limit_note(response, time.time())
        if note is not None:  # GitHub's message stays; when the limit resets, and how to get more
            err.message = f"{err.message} ({note})"
            err.hint = ANONYMOUS_HINT if not self.authenticated else None
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("errors"), list):
            err.errors = [e for e in body["errors"] if isinstance(e, dict)]
        return err

    def _get(self, url: str, params: Mapping[str, str | int] | None) -> tuple[Json, str | None]:
        """GET with ETag revalidation: a 304 answers from the cache and costs no rate limit."""
        key = str(self._http.build_request("GET", url, params=params).url)
        cached = self._etags.get(key)
        headers = {"If-None-Match": cached[0]} if cached else None
        with self._lock:
            self.requests += 1
        response = self._http.get(url, params=params, headers=headers)
        if response.status_code == 304 and cached:
            return cached[1], cached[2]
        if response.status_code >= 400:
            raise self._error("GET", url, response)
        data, following = response.json(), next_link(response)
        if following is not None and origin_of(response.url.join(following)) != self.api_origin:
            raise RemoteError(
                f"GitHub's next-page link for GET {httpx.URL(url).path or url} points to "
                f"{_show(origin_of(response.url.join(following)))}, not {_show(self.api_origin)}: refusing to follow it"
            )
        etag = response.headers.get("etag")
        if etag:
            with self._lock:
                self._etags[key] = (etag, data, following)
        return data, following

    def get_json(self, path: str, params: Mapping[str, str | int] | None = None) -> Json:
        return self._get(path, params)[0]

    def paginate(
        self,
        path: str,
        params: Mapping[str, str | int] | None = None,
        *,
        key: str | None = None,
        limit: int | None = None,
    ) -> Iterator[Json]:
        """Every item of a list endpoint, following ``Link: rel="next"`` to the end.

        ``key`` names the list inside wrapped answers (``workflow_runs``, ``check_runs``).
        ``limit`` stops early once that many items were read.
        """
        query: dict[str, str | int] | None = {"per_page": PER_PAGE, **(params or {})}
        url: str | None = path
        seen = 0
        while url:
            body, url = self._get(url, query)
            items = body.get(key, []) if key and isinstance(body, dict) else body
            if not isinstance(items, list):
                raise RemoteError(f"GitHub answered GET {path} with an unexpected shape (no list)")
            for item in items:
                yield item
                seen += 1
                if limit is not None and seen >= limit:
                    return
            query = None  # the next link carries the whole query (params={} would drop it)


class DownloadTooLarge(RemoteError):
    """A download went past its cap; nothing beyond the cap was read."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"{what} is larger than {format_size(limit)}: not read")
        self.limit = limit


def download_limit(variable: str, default_mib: int) -> int:
    """A download cap in bytes: ``default_mib`` MiB unless the environment variable sets another."""
    value = os.environ.get(variable, "").strip()
    if not value:
        return default_mib * 1024 * 1024
    try:
        mib = float(value)
    except ValueError:
        mib = -1.0
    if not 0 < mib <= 1024 * 1024:
        raise InputError(f"{variable}={value!r}: expected a size in MiB greater than 0, e.g. {default_mib}")
    return int(mib * 1024 * 1024)


def format_size(size: int) -> str:
    return f"{size / 1024 / 1024:g} MiB" if size >= 1024 * 1024 else f"{size} bytes"


def read_capped(response: httpx.Response, limit: int, *, what: str) -> bytes:
    """The body of a streamed response, refused once it passes ``limit`` bytes (never held whole)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise DownloadTooLarge(what, limit)
    chunks: list[bytes] = []
    size = 0
    for piece in response.iter_bytes():  # as received: at most one network read past the cap
        size += len(piece)
        if size > limit:
            raise DownloadTooLarge(what, limit)
        chunks.append(piece)
    return b"".join(chunks)


class GitHubAuthError(GitHubError):
    def one_line(self) -> str:
        return (
            f"GitHub rejected the token (401 {self.api_message}) on {self.path}: "
            "check GITHUB_TOKEN, or unset it for anonymous access to a public repository"
        )


class GitHubNotFound(GitHubError):
    pass


class GitHubForbidden(GitHubError):
    pass
