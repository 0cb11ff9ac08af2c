"""A real OCI registry (Debian's docker-registry, the CNCF distribution server) on 127.0.0.1.

Three modes: no auth, htpasswd Basic auth, and token auth with a small token server issuing
JWTs for ``repository:<name>:<actions>`` scopes, signed by a key generated at test time.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

REGISTRY_BIN = shutil.which("docker-registry") or "/usr/bin/docker-registry"
USER = "pusher"
PASSWORD = "s3cret-Registry-Pass!"  # a test credential made for these servers only


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenServer:
    """Issues registry JWTs after checking Basic credentials; records the scopes asked for."""

    service: str = "test-registry"
    issuer: str = "release-kit-tests"
    scopes: list[str] = field(default_factory=list)
    requests: list[tuple[str, ...]] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "release-kit test token issuer")])
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_pem = self.cert.public_bytes(serialization.Encoding.PEM)
        self.cert_der = self.cert.public_bytes(serialization.Encoding.DER)

    def token(self, scopes: list[str]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        access = []
        for scope in scopes:
            kind, name, actions = scope.split(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self.cert_der).decode()]}
        claims = {
            "iss": self.issuer,
            "sub": USER,
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"

    @contextmanager
    def serve(self) -> Iterator[str]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.end_headers()
                    return
                scopes = parse_qs(urlparse(self.path).query).get("scope", [])
                outer.scopes.extend(scopes)
                outer.requests.append(tuple(scopes))
                body = json.dumps({"token": outer.token(scopes), "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}/token"
        try:
            yield self.url
        finally:
            server.shutdown()
            server.server_close()


def _htpasswd(path: Path, user: str, password: str) -> None:
    import bcrypt

    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    path.write_text(f"{user}:{hashed}\n")


@contextmanager
def registry(
    tmp: Path, auth: str = "none", tokens: TokenServer | None = None, user: str = USER, password: str = PASSWORD
) -> Iterator[str]:
    """Start a registry with its own config (never the package's, which listens on every interface)."""
    if not Path(REGISTRY_BIN).exists():
        pytest.skip("docker-registry is not installed (.ci/run installs it)")
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    lines = [
        "version: 0.1",
        "log: {level: error, accesslog: {disabled: true}}",
        f"storage: {{filesystem: {{rootdirectory: {tmp / 'data'}}}, delete: {{enabled: true}}}}",
        f"http: {{addr: '127.0.0.1:{port}'}}",
    ]
    if auth == "htpasswd":
        _htpasswd(tmp / "htpasswd", user, password)
        lines.append(f"auth: {{htpasswd: {{realm: release-kit-tests, path: {tmp / 'htpasswd'}}}}}")
    elif auth == "token":
        assert tokens is not None and tokens.url
        (tmp / "issuer.pem").write_bytes(tokens.cert_pem)
        lines.append(
            f"auth: {{token: {{realm: '{tokens.url}', service: {tokens.service}, issuer: {tokens.issuer}, "
            f"rootcertbundle: {tmp / 'issuer.pem'}}}}}"
        )
    (tmp / "config.yml").write_text("\n".join(lines) + "\n")
    # its log goes to a file: a pipe nobody reads fills up and then blocks the registry mid-request
    log = (tmp / "registry.log").open("wb")
    proc = subprocess.Popen([REGISTRY_BIN, "serve", str(tmp / "config.yml")], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/v2/", timeout=1).status_code in (200, 401):
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            proc.terminate()
            raise RuntimeError(f"the registry did not start: {(tmp / 'registry.log').read_text()[-2000:]}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@contextmanager
def moto_ecr(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's server mode on 127.0.0.1 for the ECR API; boto3 reaches it through AWS_ENDPOINT_URL."""
    import sys

    binary = shutil.which("moto_server") or shutil.which("moto_server", path=str(Path(sys.executable).parent))
    if binary is None:
        pytest.skip("moto_server is not installed (the dev extra installs it)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{url}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_REGION", "us-west-2")  # the region in the registry host must win
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
