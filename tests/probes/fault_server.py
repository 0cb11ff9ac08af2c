"""A local fault server for health checks: every way a readiness endpoint misleads a poller.

Each path is a scenario; time-based ones count from :meth:`FaultServer.reset`:

| path | answers |
| --- | --- |
| `/ready` | 200 `{"status": "ready", "version": "1.4.0"}` |
| `/warmup-404` | 404 until `ready_after` seconds, then ready |
| `/warmup-503` | 503 until `ready_after` seconds, then ready |
| `/degraded` | 200 `{"status": "degraded", ...}` |
| `/mixed` | 200, version 1.4.0 and 1.3.9 by turns (two old of every five) |
| `/flapping` | ready, ready, 503, over and over (never three in a row) |
| `/stall` | waits `stall` seconds (10), then ready |
| `/slow-body` | 200 headers, then one byte every 0.2 s, forever |
| `/redirect` | 302 to `/login` |
| `/big` | 200 with a 2 MB JSON body |
| `/json-stop-commands` | 200, `status` is `##[stop-commands]x` (stops the runner's command processing) |
| `/json-error` | 200, `status` is `##[error]forged` (a forged annotation) |
| `/location-stop-commands` | 302 to `/##[stop-commands]x` |
| `/location-error` | 302 to `/login?next=##[error]forged` |
| `/reflect` | 200, `status` is the caller's bearer credential (an app that echoes it back) |

The hostile answers are what an app (or anything between it and us) can send to steer the
runner through our progress lines: :data:`HOSTILE_PATHS` lists them.

:func:`start_later` serves on a port that refuses connections until ``after`` seconds.
:func:`tls_files` makes a CA and a server certificate for 127.0.0.1 (for the TLS scenario).
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

READY = {"status": "ready", "version": "1.4.0"}
MIXED = ["1.4.0", "1.3.9", "1.4.0", "1.3.9", "1.4.0"]
HOSTILE_JSON = {"/json-stop-commands": "##[stop-commands]x", "/json-error": "##[error]forged"}
HOSTILE_LOCATION = {"/location-stop-commands": "/##[stop-commands]x", "/location-error": "/login?next=##[error]forged"}
HOSTILE_PATHS = [p[1:] for p in [*HOSTILE_JSON, *HOSTILE_LOCATION]]
FLAPPING = [200, 200, 503]


class FaultServer:
    def __init__(self, *, ready_after: float = 1.0, stall: float = 10.0) -> None:
        self.ready_after = ready_after
        self.stall = stall
        self.stop = threading.Event()
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()
        self.t0 = time.monotonic()
        self.first_ready: float | None = None  # seconds after t0 the first ready answer went out

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()
            self.t0 = time.monotonic()
            self.first_ready = None

    def count(self, path: str) -> int:
        with self.lock:
            n = self.counts.get(path, 0)
            self.counts[path] = n + 1
            return n

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes] | str:
        """(status, headers, body), or the name of a special behaviour."""
        n = self.count(path)
        age = time.monotonic() - self.t0
        ready = (200, {"content-type": "application/json"}, json.dumps(READY).encode())
        if path in ("/ready", "/warmup-404", "/warmup-503"):
            if path != "/ready" and age < self.ready_after:
                return (404 if path.endswith("404") else 503), {}, b"starting"
            with self.lock:
                self.first_ready = age if self.first_ready is None else self.first_ready
            return ready
        if path == "/degraded":
            return 200, {"content-type": "application/json"}, b'{"status": "degraded", "version": "1.4.0"}'
        if path == "/mixed":
            body = {"status": "ready", "version": MIXED[n % len(MIXED)]}
            return 200, {"content-type": "application/json"}, json.dumps(body).encode()
        if path == "/flapping":
            status = FLAPPING[n % len(FLAPPING)]
            return ready if status == 200 else (503, {}, b"unavailable")
        if path == "/redirect":
            return 302, {"location": "/login"}, b""
        if path in HOSTILE_JSON:
            body = {"status": HOSTILE_JSON[path], "version": "1.4.0"}
            return 200, {"content-type": "application/json"}, json.dumps(body).encode()
        if path in HOSTILE_LOCATION:
            return 302, {"location": HOSTILE_LOCATION[path]}, b""
        if path == "/big":
            pad = "x" * (2 * 1024 * 1024)
            return 200, {"content-type": "application/json"}, json.dumps({**READY, "pad": pad}).encode()
        if path in ("/stall", "/slow-body"):
            return path[1:]
        return 404, {}, b"no such scenario"


def handler_for(fault: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path == "/reflect":
                credential = (self.headers.get("authorization") or "").partition(" ")[2]
                body = json.dumps({"status": credential, "version": "1.4.0"}).encode()
                answer: tuple[int, dict[str, str], bytes] | str = (200, {"content-type": "application/json"}, body)
            else:
                answer = fault.answer(self.path.split("?")[0])
            if answer == "stall":
                if fault.stop.wait(fault.stall):
                    return
                answer = (200, {"content-type": "application/json"}, json.dumps(READY).encode())
            if answer == "slow-body":
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "100000")
                self.end_headers()
                try:
                    while not fault.stop.wait(0.2):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                except OSError:
                    pass
                return
            assert not isinstance(answer, str)
            status, headers, body = answer
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            with suppress(OSError):
                self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up early (a cut-off body) is one of the scenarios


@contextmanager
def serve(fault: FaultServer, *, port: int = 0, tls: ssl.SSLContext | None = None, after: float = 0.0) -> Iterator[str]:
    """Serve ``fault`` on 127.0.0.1 (from ``after`` seconds on: connections are refused until then)."""
    port = port or free_port()
    holder: dict[str, _Server] = {}
    scheme = "https" if tls else "http"

    def start() -> None:
        if after and fault.stop.wait(after):
            return
        server = _Server(("127.0.0.1", port), handler_for(fault))
        if tls:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        holder["server"] = server
        server.serve_forever(poll_interval=0.05)

    thread = threading.Thread(target=start, daemon=True)
    thread.start()
    if not after:
        deadline = time.monotonic() + 5
        while "server" not in holder and time.monotonic() < deadline:
            time.sleep(0.01)
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        fault.stop.set()
        server = holder.get("server")
        if server is None:
            time.sleep(0.05)
            server = holder.get("server")
        if server is not None:
            server.shutdown()
            server.server_close()
        fault.stop.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tls_files(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA (its PEM path is returned) and a server context whose certificate it signed, for 127.0.0.1."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "release-kit test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = folder / "ca.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path = folder / "server.pem"
    cert_path.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path)
    return ca_path, context
