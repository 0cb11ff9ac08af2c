"""A local app with the shapes of a production FastAPI + Next.js SaaS, for smoke tests.

The API signs JWTs (EdDSA by default, RS256 or ES256 on request) and publishes its keys at a JWKS; the
web side keeps sessions in httpOnly cookies and wants a CSRF header on writes. Keys are generated at
start (``cryptography``); nothing is stored. ``users`` are the pre-provisioned accounts (the smoke
user a team creates once).

| path | behaviour |
| --- | --- |
| `POST /api/v1/auth/register` | JSON `{email, password}`: 201 `{id, email}`, or 409 when the email exists |
| `POST /api/v1/auth/token` | JSON `{email, password}` (or a form): `{access_token, refresh_token, token_type}` |
| `POST /api/v1/auth/refresh` | JSON `{refresh_token}`: a new access token (refresh tokens survive a rotation) |
| `GET /api/v1/auth/me` | `Authorization: Bearer <access>`, verified with the current keys: `{id, email}` |
| `DELETE /api/v1/auth/me` | deletes the caller's account: 204 |
| `POST /api/v1/chat/stream` | SSE: `: heartbeat` comments, `{"kind": "delta"}` events, a `{"kind": "final"}` |
| `POST /api/v1/chat` | SSE: three `data:` events then `data: [DONE]` (an OpenAI-style stream) |
| `GET /.well-known/jwks.json` | the public keys |
| `POST /api/auth/login` | web: JSON `{email, password}`: cookie `session` (HttpOnly, Secure, Lax), `X-CSRF-Token` |
| `GET /api/auth/session` | web: `{user: {email}}` for the session cookie, 401 without it |
| `POST /api/auth/logout` | web: needs the cookie and the `X-CSRF-Token` header (403 without it); clears the cookie |
| `POST /test/rotate` | a new signing key (new `kid`); the JWKS then holds only the new key |

``mode`` changes what it does wrong: ``expired`` (tokens already expired), ``opaque`` (access tokens
that are not JWTs), ``same_refresh`` (a refresh returns the same access token), ``stale_signer``
(after a rotation the JWKS has the new key but tokens are still signed by the old one),
``no_done`` (the OpenAI-style stream ends without a done event), ``chat_error`` (the chat stream's
only event is an error), ``no_httponly`` (the session cookie lacks HttpOnly), ``es256_vs_rsa`` (the
JWKS holds an RSA key with no ``alg`` under the kid of tokens signed ES256), ``me_500`` (``/me``
fails). ``jwks_redirect`` (a URL) makes the JWKS answer a 302 to it.
"""

from __future__ import annotations

import json
import secrets
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

AUDIENCE = "agent-api"
SMOKE_EMAIL = "smoke@example.com"
Answer = tuple[int, dict[str, str], bytes | Iterator[bytes]]


@dataclass
class Key:
    kid: str
    alg: str
    private: Any = field(repr=False)
    publish_alg: bool = True

    def jwk(self) -> dict[str, Any]:
        algorithm = {"RS256": jwt.algorithms.RSAAlgorithm, "ES256": jwt.algorithms.ECAlgorithm}.get(
            self.alg, jwt.algorithms.OKPAlgorithm
        )
        data = json.loads(algorithm.to_jwk(self.private.public_key()))  # type: ignore[attr-defined]
        data = {**data, "kid": self.kid, "use": "sig"}
        return {**data, "alg": self.alg} if self.publish_alg else data


def new_key(kid: str, alg: str = "EdDSA") -> Key:
    if alg == "RS256":
        return Key(kid, alg, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    if alg == "ES256":
        return Key(kid, alg, ec.generate_private_key(ec.SECP256R1()))
    return Key(kid, "EdDSA", ed25519.Ed25519PrivateKey.generate())


class AuthApp:
    def __init__(self, mode: str = "", *, alg: str = "EdDSA", users: dict[str, str] | None = None) -> None:
        self.mode = mode
        self.alg = alg
        self.signer = new_key("key-1", alg)
        self.published = [self.signer]
        if mode == "es256_vs_rsa":  # the JWKS says RSA (no alg), the tokens say ES256 under the same kid
            self.signer = new_key("key-1", "ES256")
            self.published = [Key("key-1", "RS256", new_key("key-1", "RS256").private, publish_alg=False)]
        self.users: dict[str, str] = dict(users or {})
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> email
        self.last_access: dict[str, str] = {}  # email -> last access token
        self.sessions: dict[str, tuple[str, str]] = {}  # web session cookie -> (email, csrf token)
        self.deleted: list[str] = []
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.issuer = ""  # the URL the app is served at (set by serve)
        self.jwks_redirect: str | None = None
        self.lock = threading.Lock()

    # -- keys -----------------------------------------------------------------

    def rotate(self) -> None:
        new = new_key(f"key-{len(self.published) + 1}-{secrets.token_hex(2)}", self.alg)
        with self.lock:
            if self.mode != "stale_signer":
                self.signer = new
            self.published = [new]

    def sign(self, email: str, *, key: Key | None = None, ttl: float = 900) -> str:
        key = key or self.signer
        now = time.time()
        if self.mode == "expired":
            now -= 3600
        claims = {
            "sub": email,
            "iss": self.issuer,
            "aud": [AUDIENCE],
            "iat": int(now),
            "exp": int(now + ttl),
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, key.private, algorithm=key.alg, headers={"kid": key.kid})

    def verify(self, token: str) -> str | None:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = next((k for k in self.published if k.kid == kid), None)
            if key is None or self.mode == "es256_vs_rsa":
                return None
            claims = jwt.decode(token, key.private.public_key(), algorithms=[key.alg], audience=AUDIENCE)
        except jwt.PyJWTError:
            return None
        return str(claims["sub"])

    def access_token(self, email: str) -> str:
        token = f"opaque-{secrets.token_hex(16)}" if self.mode == "opaque" else self.sign(email)
        if self.mode == "same_refresh" and email in self.last_access:
            token = self.last_access[email]
        self.last_access[email] = token
        return token

    def user_id(self, email: str) -> int:
        return 1000 + list(self.users).index(email) if email in self.users else 0

    # -- requests ----------------------------------------------------------------

    def posts(self, path: str) -> int:
        return sum(1 for method, p, _, _ in self.requests if method == "POST" and p == path)

    def calls(self, method: str, path: str) -> int:
        return sum(1 for m, p, _, _ in self.requests if m == method and p == path)

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        with self.lock:
            self.requests.append((method, path, headers, body))
        if path.startswith("/api/auth/"):
            return self._web(method, path, headers, body)
        if method == "GET" and path == "/.well-known/jwks.json":
            if self.jwks_redirect:
                return 302, {"location": self.jwks_redirect, "content-length": "0"}, b""
            return _json(200, {"keys": [k.jwk() for k in self.published]})
        if method == "POST" and path == "/test/rotate":
            self.rotate()
            return _json(200, {"kid": self.published[0].kid})
        if method == "POST" and path == "/api/v1/auth/register":
            data = _body(body)
            email, password = data.get("email"), data.get("password")
            if not email or not password:
                return _json(422, {"detail": "email and password are required"})
            with self.lock:
                if email in self.users:
                    return _json(409, {"detail": "already registered"})
                self.users[email] = password
            return _json(201, {"id": len(self.users), "email": email})
        if method == "POST" and path == "/api/v1/auth/token":
            if headers.get("content-type", "").startswith("application/json"):
                data = _body(body)
                email, password = str(data.get("email", "")), data.get("password")
            else:
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                email, password = form.get("username", ""), form.get("password")
            if email not in self.users or self.users.get(email) != password:
                return _json(401, {"detail": "bad credentials"})
            refresh = secrets.token_urlsafe(24)
            self.refresh_tokens[refresh] = email
            return _json(
                200, {"access_token": self.access_token(email), "refresh_token": refresh, "token_type": "bearer"}
            )
        if method == "POST" and path == "/api/v1/auth/refresh":
            email = self.refresh_tokens.get(str(_body(body).get("refresh_token")))
            if email is None:
                return _json(401, {"detail": "invalid refresh token"})
            return _json(200, {"access_token": self.access_token(email), "token_type": "bearer"})
        user = self._bearer(headers)
        if path == "/api/v1/auth/me" and method in ("GET", "DELETE"):
            if not user:
                return _json(401, {"detail": "Not authenticated"})
            if self.mode == "me_500" and method == "GET":
                return _json(500, {"detail": "database unavailable"})
            if method == "DELETE":
                with self.lock:
                    self.users.pop(user, None)
                    self.deleted.append(user)
                return 204, {}, b""
            return _json(200, {"id": self.user_id(user), "email": user})
        if method == "POST" and path in ("/api/v1/chat", "/api/v1/chat/stream"):
            if not user:
                return _json(401, {"detail": "Not authenticated"})
            stream = self._chat() if path == "/api/v1/chat" else self._chat_stream()
            return 200, {"content-type": "text/event-stream"}, stream
        return _json(404, {"detail": "Not Found"})

    def _web(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        cookie = _cookies(headers.get("cookie", "")).get("session", "")
        session = self.sessions.get(cookie)
        if method == "POST" and path == "/api/auth/login":
            data = _body(body)
            email = str(data.get("email", ""))
            if email not in self.users or self.users[email] != data.get("password"):
                return _json(401, {"detail": "bad credentials"})
            value, csrf = secrets.token_urlsafe(24), secrets.token_urlsafe(16)
            self.sessions[value] = (email, csrf)
            flags = "Path=/; Secure; SameSite=Lax" + ("" if self.mode == "no_httponly" else "; HttpOnly")
            status, out, content = _json(200, {"ok": True, "user": {"id": self.user_id(email), "email": email}})
            return status, {**out, "set-cookie": f"session={value}; {flags}", "x-csrf-token": csrf}, content
        if method == "GET" and path == "/api/auth/session":
            return _json(200, {"user": {"email": session[0]}}) if session else _json(401, {"user": None})
        if method == "POST" and path == "/api/auth/logout":
            if not session:
                return _json(401, {"detail": "Not authenticated"})
            if headers.get("x-csrf-token") != session[1]:
                return _json(403, {"detail": "CSRF token missing or wrong"})
            del self.sessions[cookie]
            status, out, content = _json(200, {"ok": True})
            return status, {**out, "set-cookie": "session=; Path=/; Max-Age=0; Secure; HttpOnly"}, content
        return _json(404, {"detail": "Not Found"})

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

    def _chat_stream(self) -> Iterator[bytes]:
        yield b": heartbeat\n\n"
        if self.mode == "chat_error":
            yield b'data: {"kind": "error", "message": "model unavailable"}\n\n'
            return
        for word in ("pong", " from", " the model"):
            yield f"data: {json.dumps({'kind': 'delta', 'text': word})}\n\n".encode()
            yield b": heartbeat\n\n"
            time.sleep(0.01)
        yield b'data: {"kind": "final", "usage": {"tokens": 3}}\n\n'


def _json(status: int, data: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"content-type": "application/json"}, json.dumps(data).encode()


def _body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _cookies(header: str) -> dict[str, str]:
    pairs = (part.strip().partition("=") for part in header.split(";") if part.strip())
    return {name: value for name, _, value in pairs}


@contextmanager
def serve(app: AuthApp, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (over TLS with ``tls``, a server context); yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def do_DELETE(self) -> None:
            self._answer("DELETE")

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, out_headers, content = app.handle(method, self.path.split("?")[0], headers, body)
            self.send_response(status)
            for key, value in out_headers.items():
                self.send_header(key, value)
            if isinstance(content, bytes):
                if "content-length" not in out_headers:
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
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    url = f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    app.issuer = app.issuer or url
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
