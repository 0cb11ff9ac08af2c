"""A client for the OCI distribution API: blob existence, cross-repository mount, streamed
upload, manifest push. Authentication by Basic credentials or the Bearer token challenge."""

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
from release_kit.registry.layout import CHUNK, Blob, Manifest

_CHALLENGE_RE = re.compile(r'(\w+)="([^"]*)"')


def _stream(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK):
        yield chunk


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
        self._basic = (username, password) if username and password else None
        plain = self.endpoint.startswith("http://")  # loopback only: no TLS context to build
        self._http = make_client(base_url=self.endpoint, transport=transport, policy=policy, verify=not plain)
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    # -- auth ---------------------------------------------------------------------------

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
        query: dict[str, str | list[str]] = {"scope": scope.split()}  # one parameter per scope
        if "service" in params:
            query["service"] = params["service"]
        response = self._http.get(realm, params=query, auth=self._basic)
        if response.status_code in (401, 403):
            raise AccessError(
                f"registry {self.endpoint} refused the credentials for {scope} ({response.status_code})",
                hint="check REGISTRY_USERNAME / REGISTRY_PASSWORD",
            )
        if response.status_code >= 400:
            raise RemoteError(f"token service {realm} answered {response.status_code}")
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
        refreshed = False
        while True:
            used = self._tokens.get(scope)
            sent = {**(headers or {}), **self._auth_header(scope)}
            response = self._http.request(method, url, params=params, content=content, headers=sent)
            challenge = response.headers.get("www-authenticate", "")
            if response.status_code != 401 or not replayable or refreshed or not challenge.lower().startswith("bearer"):
                break  # with Basic (or no credentials) a 401 is the answer
            self._token(challenge, scope, used)  # first token for this scope, or a refresh of an expired one
            refreshed = True
        if response.status_code == 401:
            raise AccessError(
                f"registry {self.endpoint} answered 401 to {method} {httpx.URL(url).path}",
                hint="missing or wrong credentials: set REGISTRY_USERNAME and REGISTRY_PASSWORD",
            )
        if response.status_code == 403:
            raise AccessError(
                f"registry {self.endpoint} denied {method} {httpx.URL(url).path} (403)",
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
        if response.status_code == 202:  # mount refused: cancel the session the registry opened
            location = response.headers.get("location")
            if location:
                self.request("DELETE", location, both)
        return False

    def _session(self, repo: str) -> httpx.URL:
        start = self.request("POST", f"/v2/{repo}/blobs/uploads/", self.scope(repo))
        if start.status_code != 202 or "location" not in start.headers:
            raise RemoteError(f"registry {self.endpoint} refused an upload to {repo} ({start.status_code})")
        return self._location(start)

    def _location(self, response: httpx.Response) -> httpx.URL:
        return httpx.URL(self.endpoint).join(response.headers["location"])

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
