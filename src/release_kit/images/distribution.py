"""A client for the OCI distribution API: blob existence, cross-repository mount, streamed
upload, manifest push. Authentication by Basic credentials or the Bearer token challenge.

Where credentials go:

- Basic credentials and Bearer tokens ride only on requests to the endpoint's own origin
  (scheme, host and port). An upload ``Location`` (or a mount's) on another origin, such as
  blob storage, is followed without an ``Authorization`` header, and a 401 from it is final;
  httpx likewise drops the header on a redirect to another origin.
- The one exception is the token protocol itself: a Bearer challenge from the endpoint's
  origin names a realm, and the Basic credentials go to that realm (and only there) to get a
  token. The token then goes to the endpoint's origin only.
- From an ``https`` endpoint, a plain ``http`` ``Location`` or realm is refused (exit 2) unless
  it is loopback: credentials and blobs never travel in clear text to a remote host.
- Errors print origins, never a ``Location``'s path or query (which may carry signed state).
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterator
from typing import BinaryIO

import httpx

from release_kit import gha
from release_kit.errors import AccessError, RemoteError
from release_kit.http import RetryPolicy, make_client
from release_kit.images.layout import CHUNK, Blob, Manifest
from release_kit.images.reference import is_loopback

_CHALLENGE_RE = re.compile(r'(\w+)="([^"]*)"')


def _stream(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK):
        yield chunk


Origin = tuple[str, str, int]


class UnsafeURL(RemoteError):
    """The registry handed us a URL we refuse to send to: not retried, since it cannot change."""


def origin(url: httpx.URL) -> Origin:
    default = 443 if url.scheme == "https" else 80
    return (url.scheme, url.host.lower(), url.port or default)


def _show(url: httpx.URL) -> str:
    """An origin fit for an error message: no user info, path or query."""
    return f"{url.scheme}://{url.netloc.decode().rpartition('@')[2]}"


class DistributionClient:
    def __init__(
        self,
        endpoint: str,
        *,
        username: str | None = None,
        password: str | None = None,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        denied_hint: str = "the credentials lack push permission on this repository",
        chunk_size: int | None = None,
        fallback_chunk_size: int = 8 * 1024 * 1024,
    ) -> None:
        self.chunk_size = chunk_size  # None: one streamed PUT per blob
        self.fallback_chunk_size = fallback_chunk_size
        gha.mask(password)
        self.denied_hint = denied_hint
        self.endpoint = endpoint.rstrip("/")
        self._origin = origin(httpx.URL(self.endpoint))
        self._basic = (username, password) if username and password else None
        plain = self.endpoint.startswith("http://")  # loopback only: no TLS context to build
        self._http = make_client(base_url=self.endpoint, transport=transport, policy=policy, verify=not plain)
        self._http.event_hooks["request"] = [self._guard]
        self._realms: set[Origin] = set()  # where the token protocol sends the Basic credentials
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    # -- auth ---------------------------------------------------------------------------

    def _home(self, url: str | httpx.URL) -> bool:
        """Whether ``url`` (relative URLs resolve against the endpoint) is on the endpoint's origin."""
        target = httpx.URL(url)
        return not target.is_absolute_url or origin(target) == self._origin

    def _checked(self, url: httpx.URL, what: str) -> httpx.URL:
        """A URL the registry handed us (upload location, token realm): http(s), and never plain
        HTTP to a remote host when the endpoint is HTTPS."""
        if url.scheme not in ("http", "https") or not url.host:
            raise UnsafeURL(f"registry {self.endpoint} sent {what} that is not an http(s) URL")
        if url.scheme == "http" and self._origin[0] == "https" and not is_loopback(url.host):
            raise UnsafeURL(
                f"registry {self.endpoint} sent {what} on plain HTTP ({_show(url)}): refused, "
                "credentials and blobs only travel over HTTPS to a remote host"
            )
        return url

    def _guard(self, request: httpx.Request) -> None:
        """Every request this client sends, redirects included: no clear text to a remote host from
        an HTTPS endpoint, and no Authorization header off the endpoint's (or a realm's) origin."""
        self._checked(request.url, "a redirect")
        if "authorization" in request.headers and origin(request.url) not in {self._origin, *self._realms}:
            del request.headers["authorization"]

    def _auth_header(self, scope: str) -> dict[str, str]:
        token = self._tokens.get(scope)
        if token:
            return {"Authorization": f"Bearer {token}"}
        if self._basic:
            raw = f"{self._basic[0]}:{self._basic[1]}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        return {}

    def _token(self, challenge: str, scope: str, used: str | None) -> None:
        """Fetch a token for ``scope``, once: concurrent callers that saw the same 401 wait,
        then reuse the token the first one fetched; ``used`` is the token that got the 401."""
        with self._lock:
            current = self._tokens.get(scope)
            if current is not None and current != used:
                return
            self._fetch_token(challenge, scope)

    def _fetch_token(self, challenge: str, scope: str) -> None:
        params = dict(_CHALLENGE_RE.findall(challenge))
        realm = params.get("realm")
        if not realm:
            raise AccessError(f"registry {self.endpoint} asked for a token without a realm")
        realm_url = self._checked(httpx.URL(realm), "a token realm")
        self._realms.add(origin(realm_url))
        query: dict[str, str | list[str]] = {"scope": scope.split()}  # one parameter per scope
        if "service" in params:
            query["service"] = params["service"]
        # the token protocol: Basic credentials go to the realm the registry's own origin named
        response = self._http.get(realm_url, params=query, auth=self._basic)
        if response.status_code in (401, 403):
            raise AccessError(
                f"registry {self.endpoint} refused the credentials for {scope} ({response.status_code})",
                hint="check REGISTRY_USERNAME / REGISTRY_PASSWORD",
            )
        if response.status_code >= 400:
            raise RemoteError(f"token service {_show(realm_url)} answered {response.status_code}")
        body = response.json()
        token = str(body.get("token") or body.get("access_token") or "")
        gha.mask(token)
        self._tokens[scope] = token

    def request(
        self,
        method: str,
        url: str,
        scope: str,
        *,
        params: dict[str, str] | None = None,
        content: bytes | Iterator[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send with auth; on a 401 answer the challenge once and send again.

        A streamed body cannot be sent twice, so a 401 on one is final (the session's
        POST has already answered the challenge for the same scope).
        """
        replayable = not isinstance(content, Iterator)
        home = self._home(url)  # credentials only for the endpoint's own origin
        refreshed = False
        while True:
            used = self._tokens.get(scope)
            sent = {**(headers or {}), **(self._auth_header(scope) if home else {})}
            response = self._http.request(method, url, params=params, content=content, headers=sent)
            challenge = response.headers.get("www-authenticate", "")
            if (
                response.status_code != 401
                or not home
                or not replayable
                or refreshed
                or not challenge.lower().startswith("bearer")
            ):
                break  # with Basic (or no credentials), or from another origin, a 401 is the answer
            self._token(challenge, scope, used)  # first token for this scope, or a refresh of an expired one
            refreshed = True
        shown = httpx.URL(url).path if home else f"{_show(httpx.URL(url))} (an upload location)"
        if response.status_code == 401:
            raise AccessError(
                f"registry {self.endpoint} answered 401 to {method} {shown}",
                hint="missing or wrong credentials: set REGISTRY_USERNAME and REGISTRY_PASSWORD",
            )
        if response.status_code == 403:
            raise AccessError(
                f"registry {self.endpoint} denied {method} {shown} (403)",
                hint=self.denied_hint,
            )
        return response

    # -- blobs ---------------------------------------------------------------------------

    @staticmethod
    def scope(repo: str, *, push: bool = True) -> str:
        return f"repository:{repo}:{'pull,push' if push else 'pull'}"

    def has_blob(self, repo: str, digest: str) -> bool:
        response = self.request("HEAD", f"/v2/{repo}/blobs/{digest}", self.scope(repo))
        return response.status_code == 200

    def mount(self, repo: str, digest: str, source: str) -> bool:
        both = f"{self.scope(repo)} {self.scope(source, push=False)}"  # a mount also reads the source
        response = self.request("POST", f"/v2/{repo}/blobs/uploads/", both, params={"mount": digest, "from": source})
        if response.status_code == 201:
            return True
        if response.status_code == 202 and "location" in response.headers:
            # mount refused: cancel the session the registry opened
            self.request("DELETE", str(self._location(response)), both)
        return False

    def _session(self, repo: str) -> httpx.URL:
        start = self.request("POST", f"/v2/{repo}/blobs/uploads/", self.scope(repo))
        if start.status_code != 202 or "location" not in start.headers:
            raise RemoteError(f"registry {self.endpoint} refused an upload to {repo} ({start.status_code})")
        return self._location(start)

    def _location(self, response: httpx.Response) -> httpx.URL:
        """The next upload URL; a relative one is relative to the URL that answered (RFC 9110)."""
        return self._checked(response.request.url.join(response.headers["location"]), "an upload location")

    def upload(self, repo: str, blob: Blob) -> None:
        """POST a session, then one streamed PUT with the digest (no retry: the caller re-HEADs).

        A registry that refuses a whole blob in one request (413) gets it in PATCH chunks.
        """
        if self.chunk_size is None:
            # the session URL carries its own query (state): add the digest to it, never replace it
            location = self._session(repo).copy_merge_params({"digest": blob.digest})
            with blob.open() as handle:
                done = self.request(
                    "PUT",
                    str(location),
                    self.scope(repo),
                    content=_stream(handle),
                    headers={"Content-Type": "application/octet-stream", "Content-Length": str(blob.size)},
                )
            if done.status_code == 413:
                self.chunk_size = self.fallback_chunk_size  # from now on, for every blob
            elif done.status_code != 201:
                raise RemoteError(f"registry {self.endpoint} did not accept blob {blob.digest} ({done.status_code})")
            else:
                return
        self._upload_chunked(repo, blob, self.chunk_size or self.fallback_chunk_size)

    def _upload_chunked(self, repo: str, blob: Blob, chunk_size: int) -> None:
        """PATCH one chunk at a time (memory holds one chunk), then PUT the digest."""
        location = self._session(repo)
        offset = 0
        with blob.open() as handle:
            while chunk := handle.read(chunk_size):
                end = offset + len(chunk) - 1
                part = self.request(
                    "PATCH",
                    str(location),
                    self.scope(repo),
                    content=chunk,
                    headers={"Content-Type": "application/octet-stream", "Content-Range": f"{offset}-{end}"},
                )
                if part.status_code != 202:
                    raise RemoteError(
                        f"registry {self.endpoint} refused chunk {offset}-{end} of {blob.digest} ({part.status_code})"
                    )
                location = self._location(part)
                offset = end + 1
        done = self.request(
            "PUT", str(location.copy_merge_params({"digest": blob.digest})), self.scope(repo), content=b""
        )
        if done.status_code != 201:
            raise RemoteError(f"registry {self.endpoint} did not accept blob {blob.digest} ({done.status_code})")

    # -- manifests -------------------------------------------------------------------------

    def put_manifest(self, repo: str, reference: str, manifest: Manifest) -> str:
        response = self.request(
            "PUT",
            f"/v2/{repo}/manifests/{reference}",
            self.scope(repo),
            content=manifest.data,
            headers={"Content-Type": manifest.media_type},
        )
        if response.status_code not in (200, 201):
            raise RemoteError(
                f"registry {self.endpoint} refused manifest {reference} for {repo} ({response.status_code})"
            )
        answered = str(response.headers.get("docker-content-digest", manifest.digest))
        if answered != manifest.digest:
            raise RemoteError(f"registry stored {repo} as {answered}, but the local manifest is {manifest.digest}")
        return answered
