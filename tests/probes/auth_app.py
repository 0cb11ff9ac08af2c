"""A local FastAPI-style auth API for smoke tests: RS256 tokens, a JWKS endpoint, key rotation, SSE chat.

Keys are generated at start (``cryptography``); nothing is stored. Paths follow a typical FastAPI app:

| path | behaviour |
| --- | --- |
| `POST /api/v1/auth/register` | JSON `{email, password}`: 201, or 409 when the email exists |
| `POST /api/v1/auth/token` | form `username`, `password`: `{access_token, refresh_token, token_type}` |
| `POST /api/v1/auth/refresh` | JSON `{refresh_token}`: a new access token (refresh tokens survive a rotation) |
| `GET /api/v1/auth/me` | `Authorization: Bearer <access>`, verified with the current keys |
| `POST /api/v1/chat` | SSE: three `data:` events then `data: [DONE]` |
| `GET /.well-known/jwks.json` | the public keys |
| `POST /test/rotate` | a new signing key (new `kid`); the JWKS then holds only the new key |

``mode`` changes what it does wrong: ``expired`` (tokens already expired), ``opaque`` (access tokens
that are not JWTs), ``same_refresh`` (a refresh returns the same access token), ``stale_signer``
(after a rotation the JWKS has the new key but tokens are still signed by the old one),
``no_done`` (the chat stream ends without a done event).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass
class Key:
    kid: str
    private: rsa.RSAPrivateKey = field(repr=False)

    def jwk(self) -> dict[str, Any]:
        data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**data, "kid": self.kid, "alg": "RS256", "use": "sig"}


def new_key(kid: str) -> Key:
    return Key(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))


class AuthApp:
    def __init__(self, mode: str = "") -> None:
        self.mode = mode
        self.signer = new_key("key-1")
        self.published = [self.signer]
        self.users: dict[str, str] = {}
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> email
        self.last_access: dict[str, str] = {}  # email -> last access token
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()

    # -- keys -----------------------------------------------------------------

    def rotate(self) -> None:
        new = new_key(f"key-{len(self.published) + 1}-{secrets.token_hex(2)}")
        with self.lock:
            if self.mode != "stale_signer":
                self.signer = new
            self.published = [new]

    def sign(self, email: str, *, key: Key | None = None, ttl: float = 900) -> str:
        key = key or self.signer
        now = time.time()
        if self.mode == "expired":
            now -= 3600
        claims = {"sub": email, "iat": int(now), "exp": int(now + ttl), "jti": secrets.token_hex(8)}
        return jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid})

    def verify(self, token: str) -> str | None:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = next((k for k in self.published if k.kid == kid), None)
            if key is None:
                return None
            claims = jwt.decode(token, key.private.public_key(), algorithms=["RS256"])
        except jwt.PyJWTError:
            return None
        return str(claims["sub"])

    def access_token(self, email: str) -> str:
        token = f"opaque-{secrets.token_hex(16)}" if self.mode == "opaque" else self.sign(email)
        if self.mode == "same_refresh" and email in self.last_access:
            token = self.last_access[email]
        self.last_access[email] = token
        return token

    # -- requests ----------------------------------------------------------------

    def posts(self, path: str) -> int:
        return sum(1 for method, p, _, _ in self.requests if method == "POST" and p == path)

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes | Iterator[bytes]]:
        with self.lock:
            self.requests.append((method, path, headers, body))
        json_type = {"content-type": "application/json"}

        def answer(status: int, data: Any) -> tuple[int, dict[str, str], bytes]:
            return status, json_type, json.dumps(data).encode()

        if method == "GET" and path == "/.well-known/jwks.json":
            return answer(200, {"keys": [k.jwk() for k in self.published]})
        if method == "POST" and path == "/test/rotate":
            self.rotate()
            return answer(200, {"kid": self.published[0].kid})
        if method == "POST" and path == "/api/v1/auth/register":
            data = json.loads(body or b"{}")
            email, password = data.get("email"), data.get("password")
            if not email or not password:
                return answer(422, {"detail": "email and password are required"})
            with self.lock:
                if email in self.users:
                    return answer(409, {"detail": "already registered"})
                self.users[email] = password
            return answer(201, {"id": len(self.users), "email": email})
        if method == "POST" and path == "/api/v1/auth/token":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            email = form.get("username", "")
            if self.users.get(email) != form.get("password"):
                return answer(401, {"detail": "Incorrect username or password"})
            refresh = secrets.token_urlsafe(24)
            self.refresh_tokens[refresh] = email
            return answer(
                200, {"access_token": self.access_token(email), "refresh_token": refresh, "token_type": "bearer"}
            )
        if method == "POST" and path == "/api/v1/auth/refresh":
            data = json.loads(body or b"{}")
            email = self.refresh_tokens.get(str(data.get("refresh_token")))
            if email is None:
                return answer(401, {"detail": "invalid refresh token"})
            return answer(200, {"access_token": self.access_token(email), "token_type": "bearer"})
        user = self._bearer(headers)
        if method == "GET" and path == "/api/v1/auth/me":
            return answer(200, {"email": user}) if user else answer(401, {"detail": "Not authenticated"})
        if method == "POST" and path == "/api/v1/chat":
            if not user:
                return answer(401, {"detail": "Not authenticated"})
            return 200, {"content-type": "text/event-stream"}, self._chat()
        return answer(404, {"detail": "Not Found"})

    def _bearer(self, headers: dict[str, str]) -> str | None:
        value = headers.get("authorization", "")
        if not value.startswith("Bearer "):
            return None
        token = value.removeprefix("Bearer ")
        if self.mode == "opaque":
            return next((e for e, t in self.last_access.items() if t == token), None)
        return self.verify(token)

    def _chat(self) -> Iterator[bytes]:
        for word in ("pong", " from", " the model"):
            yield f"data: {json.dumps({'delta': word})}\n\n".encode()
            time.sleep(0.01)
        if self.mode != "no_done":
            yield b"data: [DONE]\n\n"


@contextmanager
def serve(app: AuthApp) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, out_headers, content = app.handle(method, self.path.split("?")[0], headers, body)
            self.send_response(status)
            for key, value in out_headers.items():
                self.send_header(key, value)
            if isinstance(content, bytes):
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
                return
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for chunk in content:
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
