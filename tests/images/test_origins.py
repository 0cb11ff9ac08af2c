"""Registry credentials go only to the registry's own origin (and, for the token protocol, to the
realm it names). Two local servers on different ports: a fake registry front that hands out upload
locations elsewhere, and the other one, which records every header it is sent."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from release_kit.cli import run_cli
from release_kit.errors import AccessError, RemoteError
from release_kit.images.distribution import DistributionClient
from release_kit.images.layout import read_image
from release_kit.images.push import MountSources, push_image
from tests.images.images import oci_layout, random_layer

USER = "pusher"
PASSWORD = "Or1gin-Test-Pass-93e1"  # made for these servers only
TOKEN = "tok-fake-registry-5b2d"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


@dataclass
class Seen:
    server: str
    host: str
    method: str
    path: str
    authorization: str | None


@dataclass
class Fake:
    """One server: a registry API under /v2/, blob storage under /storage/, a token service at /token.

    ``location`` is the upload location the registry hands out (``{other}`` and ``{self}`` are
    replaced by the two servers' ports); ``auth`` is basic or bearer; ``realm`` the token realm."""

    name: str
    log: list[Seen]
    auth: str = "basic"
    location: str = "/storage/u1"
    realm: str = ""
    storage_challenge: bool = False
    refuse_mount: bool = False
    port: int = 0
    ports: dict[str, int] = field(default_factory=dict)

    def fill(self, template: str) -> str:
        return template.format(**self.ports)

    def authorized(self, header: str | None) -> bool:
        return header == (BASIC if self.auth == "basic" else f"Bearer {TOKEN}")

    def challenge(self) -> tuple[str, str]:
        if self.auth == "basic":
            return ("WWW-Authenticate", 'Basic realm="fake"')
        return ("WWW-Authenticate", f'Bearer realm="{self.fill(self.realm)}",service="fake"')


@contextmanager
def serving(*fakes: Fake) -> Iterator[None]:
    servers = []
    for fake in fakes:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
        fake.port = int(server.server_address[1])
        servers.append(server)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    ports = {f.name: f.port for f in fakes}
    for fake in fakes:
        fake.ports.update(ports)
    try:
        yield
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def _handler(fake: Fake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def answer(self, status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def handle_any(self) -> None:
            url = urlparse(self.path)
            fake.log.append(
                Seen(fake.name, self.headers.get("Host", ""), self.command, url.path, self.headers.get("Authorization"))
            )
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if url.path.startswith("/storage/"):
                if fake.storage_challenge and self.command == "PUT":
                    return self.answer(401, dict([fake.challenge()]))
                status = {"PUT": 201, "PATCH": 202, "DELETE": 204}.get(self.command, 405)
                return self.answer(status, {"Location": url.path} if status == 202 else {})
            if url.path == "/token":
                if self.headers.get("Authorization") != BASIC:
                    return self.answer(401)
                return self.answer(200, {"Content-Type": "application/json"}, json.dumps({"token": TOKEN}).encode())
            if not fake.authorized(self.headers.get("Authorization")):
                return self.answer(401, dict([fake.challenge()]))
            if self.command == "HEAD":
                return self.answer(404)
            if self.command == "POST" and url.path.endswith("/blobs/uploads/"):
                query = parse_qs(url.query)
                if "mount" in query and not fake.refuse_mount:
                    return self.answer(201)
                return self.answer(202, {"Location": fake.fill(fake.location)})
            if self.command == "PUT" and "/manifests/" in url.path:
                digest = "sha256:" + hashlib.sha256(body).hexdigest()
                return self.answer(201, {"Docker-Content-Digest": digest})
            return self.answer(404)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def image(tmp_path: Path) -> Any:
    return read_image(oci_layout(tmp_path / "img", [random_layer(3000)]))


def storage_requests(log: list[Seen]) -> list[Seen]:
    return [s for s in log if s.path.startswith("/storage/")]


@pytest.mark.parametrize(
    ("location", "expected_server", "expected_host"),
    [
        ("http://127.0.0.1:{other}/storage/u1", "other", "127.0.0.1:{other}"),  # another port
        ("http://localhost:{home}/storage/u1", "home", "localhost:{home}"),  # the same server, another host name
        ("/storage/u1", "home", "127.0.0.1:{home}"),  # relative: the registry's own origin
    ],
)
@pytest.mark.parametrize("auth", ["basic", "bearer"])
@pytest.mark.parametrize("chunked", [False, True])
def test_upload_locations_elsewhere_get_no_credentials(
    image: Any, auth: str, chunked: bool, location: str, expected_server: str, expected_host: str
) -> None:
    log: list[Seen] = []
    home = Fake("home", log, auth=auth, location=location, realm="http://127.0.0.1:{other}/token")
    other = Fake("other", log)
    with serving(home, other):
        client = DistributionClient(
            f"http://127.0.0.1:{home.port}", username=USER, password=PASSWORD, chunk_size=1024 if chunked else None
        )
        digest, counts = push_image(client, "org/app", image, ["1"], workers=1)
    assert digest == image.digest and counts.uploaded == 2
    uploads = storage_requests(log)
    assert uploads and {s.server for s in uploads} == {expected_server}
    assert {s.host for s in uploads} == {expected_host.format(home=home.port, other=other.port)}
    same_origin = location.startswith("/")
    for seen in uploads:
        assert (seen.authorization is not None) == same_origin, seen
    registry = [s for s in log if s.path.startswith("/v2/")]
    assert registry and all(s.authorization for s in registry[1 if auth == "bearer" else 0 :])
    tokens = [s for s in log if s.path == "/token"]
    if auth == "bearer":  # the realm (another origin) gets Basic, as the token protocol requires; nothing else
        assert tokens and {s.server for s in tokens} == {"other"} and all(s.authorization == BASIC for s in tokens)
    else:
        assert not tokens
    elsewhere = [s for s in log if s.host != f"127.0.0.1:{home.port}" and s.path != "/token"]
    assert all(s.authorization is None for s in elsewhere)


def test_a_refused_mount_cancels_its_session_elsewhere_without_credentials(image: Any) -> None:
    log: list[Seen] = []
    home = Fake("home", log, location="http://127.0.0.1:{other}/storage/m1", refuse_mount=True)
    other = Fake("other", log)
    with serving(home, other):
        client = DistributionClient(f"http://127.0.0.1:{home.port}", username=USER, password=PASSWORD)
        sources = MountSources()
        push_image(client, "org/api", image, ["1"], sources=sources, workers=1)
        _, counts = push_image(client, "org/web", image, ["1"], sources=sources, workers=1)
    assert counts.uploaded == 2  # the mounts were refused, so both blobs were uploaded again
    deletes = [s for s in log if s.method == "DELETE"]
    assert len(deletes) == 2 and all(s.server == "other" and s.authorization is None for s in deletes)


def test_a_challenge_from_another_origin_is_not_answered(image: Any) -> None:
    """Storage that answers 401 with a Bearer challenge does not get a token, nor trigger a token request."""
    log: list[Seen] = []
    home = Fake("home", log, location="http://127.0.0.1:{other}/storage/u1")
    other = Fake("other", log, auth="bearer", realm="http://127.0.0.1:{other}/token", storage_challenge=True)
    with serving(home, other):
        client = DistributionClient(f"http://127.0.0.1:{home.port}", username=USER, password=PASSWORD)
        with pytest.raises(AccessError, match=r"answered 401 to PUT http://127.0.0.1:\d+ \(an upload location\)"):
            push_image(client, "org/app", image, ["1"], workers=1)
    assert not [s for s in log if s.path == "/token"]
    assert all(s.authorization is None for s in log if s.server == "other")


# -- an HTTPS registry: a local fake at the transport, since the test servers speak plain HTTP ----------


class Recording(httpx.BaseTransport):
    """registry.example over HTTPS; its upload location and token realm are set per test."""

    def __init__(self, location: str, realm: str | None = None, redirect: str | None = None) -> None:
        self.location = location
        self.realm = realm
        self.redirect = redirect
        self.seen: list[tuple[str, str | None]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.seen.append((f"{request.method} {request.url}", request.headers.get("authorization")))
        url = request.url
        if url.host != "registry.example":
            return httpx.Response({"PUT": 201, "PATCH": 202}.get(request.method, 204), headers={"Location": str(url)})
        if self.realm and request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, headers={"WWW-Authenticate": f'Bearer realm="{self.realm}",service="x"'})
        if request.method == "HEAD":
            if self.redirect:
                return httpx.Response(307, headers={"Location": self.redirect})
            return httpx.Response(404)
        if request.method == "POST":
            return httpx.Response(202, headers={"Location": self.location})
        return httpx.Response(
            201, headers={"Docker-Content-Digest": "sha256:" + hashlib.sha256(request.content).hexdigest()}
        )


def https_client(transport: Recording) -> DistributionClient:
    return DistributionClient("https://registry.example", username=USER, password=PASSWORD, transport=transport)


@pytest.mark.parametrize(
    "location",
    ["http://storage.example/upload/1?sig=SIGNED", "http://registry.example/upload/1", "http://registry.example:443/u"],
)
def test_plain_http_location_from_an_https_registry_is_refused(image: Any, location: str) -> None:
    transport = Recording(location)
    with pytest.raises(RemoteError, match="sent an upload location on plain HTTP") as info:
        push_image(https_client(transport), "org/app", image, ["1"], workers=1)
    assert info.value.exit_code == 2 and "SIGNED" not in info.value.one_line()
    assert not [s for s in transport.seen if s[0].startswith(("PUT", "PATCH")) and "http://" in s[0]]


def test_an_https_location_elsewhere_gets_no_credentials_and_loopback_http_is_allowed(image: Any) -> None:
    for location in ("https://storage.example/upload/1", "http://127.0.0.1:9/upload/1"):
        transport = Recording(location)
        digest, _ = push_image(https_client(transport), "org/app", image, ["1"], workers=1)
        assert digest == image.digest
        away = [auth for line, auth in transport.seen if "registry.example" not in line]
        assert away and all(auth is None for auth in away)
        home = [auth for line, auth in transport.seen if "registry.example" in line]
        assert all(auth == BASIC for auth in home)


def test_token_realms_over_plain_http_from_an_https_registry_are_refused(image: Any) -> None:
    transport = Recording("/upload/1", realm="http://auth.example/token")
    with pytest.raises(RemoteError, match=r"sent a token realm on plain HTTP \(http://auth.example\)"):
        push_image(https_client(transport), "org/app", image, ["1"], workers=1)
    assert not [line for line, _ in transport.seen if "auth.example" in line]  # the Basic credentials stayed home


def test_a_redirect_to_another_origin_drops_the_credentials(image: Any) -> None:
    transport = Recording("/upload/1", redirect="https://cdn.example/blob")
    push_image(https_client(transport), "org/app", image, ["1"], workers=1)
    cdn = [auth for line, auth in transport.seen if "cdn.example" in line]
    assert cdn and all(auth is None for auth in cdn)
    transport = Recording("/upload/1", redirect="http://cdn.example/blob")
    with pytest.raises(RemoteError, match=r"sent a redirect on plain HTTP \(http://cdn.example\)"):
        push_image(https_client(transport), "org/app", image, ["1"], workers=1)


# -- the CLI: credentials never in the endpoint, never printed ------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        f"http://{USER}:{PASSWORD}@127.0.0.1:5000",
        f"https://{USER}:{PASSWORD}@mirror.example.com/v2",
        f"https://{PASSWORD}@mirror.example.com",
    ],
)
def test_an_endpoint_with_credentials_is_refused_without_echoing_them(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = oci_layout(tmp_path / "img", [random_layer(10)])
    args = ["publish-images", "--registry", "127.0.0.1:5000", "--image-prefix", "org", f"--image=api={layout}"]
    assert run_cli([*args, "--tag", "1", "--registry-endpoint", endpoint]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "credentials in the URL are not accepted" in lines[0]
    assert "REGISTRY_USERNAME" in lines[0] and PASSWORD not in captured.out + captured.err


def test_the_cli_against_a_front_with_storage_elsewhere_leaks_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log: list[Seen] = []
    home = Fake("home", log, auth="bearer", location="http://127.0.0.1:{other}/storage/u1", realm="/token")
    home.realm = "http://127.0.0.1:{home}/token"
    other = Fake("other", log)
    layout = oci_layout(tmp_path / "img", [random_layer(2000)])
    monkeypatch.setenv("REGISTRY_USERNAME", USER)
    monkeypatch.setenv("REGISTRY_PASSWORD", PASSWORD)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    with serving(home, other):
        host = f"127.0.0.1:{home.port}"
        args = ["publish-images", "--registry", host, "--image-prefix", "org", f"--image=api={layout}", "--tag", "1"]
        assert run_cli([*args, "--report", str(tmp_path / "report.json")]) == 0
    captured = capsys.readouterr()
    assert all(s.authorization is None for s in log if s.server == "other")
    printed = [line for line in (captured.out + captured.err).splitlines() if not line.startswith("::add-mask::")]
    written = "".join((tmp_path / n).read_text() for n in ("summary.md", "out", "report.json"))
    for secret in (PASSWORD, TOKEN, BASIC.split()[1]):
        assert secret not in "\n".join(printed) + written
