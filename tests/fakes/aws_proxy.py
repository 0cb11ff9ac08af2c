"""A small HTTP proxy in front of moto's server: records every AWS operation, adds latency, denies actions.

boto3 is pointed at the proxy (``AWS_ENDPOINT_URL``), which forwards each request to moto unchanged.
It names each request's operation from ``X-Amz-Target`` (JSON protocols: ECS, Secrets Manager,
SSM, Application Auto Scaling) or the form's ``Action`` (query protocols: RDS, ElastiCache), so a
test can assert what was called, and never called (``GetSecretValue``). ``deny`` answers an
operation with AWS's ``AccessDeniedException`` instead of forwarding it; ``answers`` answers one
with a canned body (written after the botocore service model) where moto has no such operation.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class Proxy:
    upstream: str
    latency: float = 0.0
    deny: set[str] = field(default_factory=set)
    # operation -> (status, content type, body): answered here, for what moto does not simulate
    answers: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    operations: list[str] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, operation: str) -> None:
        with self._lock:
            self.operations.append(operation)


def operation_of(headers: dict[str, str], body: bytes) -> str:
    target = headers.get("x-amz-target", "")
    if target:
        return target.rsplit(".", 1)[-1]
    form = parse_qs(body.decode("utf-8", "replace"))
    return (form.get("Action") or ["?"])[0]


@contextmanager
def serve_proxy(upstream: str, *, latency: float = 0.0) -> Iterator[Proxy]:
    proxy = Proxy(upstream=upstream, latency=latency)
    up = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            self._forward("GET")

        def do_POST(self) -> None:
            self._forward("POST")

        def _forward(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            operation = operation_of(headers, body)
            proxy.record(operation)
            if proxy.latency:
                time.sleep(proxy.latency)
            if operation in proxy.deny:
                data = (
                    b'{"__type":"AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/ci '
                    b'is not authorized to perform: this action"}'
                )
                self.send_response(400)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if operation in proxy.answers:
                status, content_type, data = proxy.answers[operation]
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            conn = http.client.HTTPConnection(up.hostname or "127.0.0.1", up.port, timeout=30)
            try:
                conn.request(method, self.path, body=body, headers={k: v for k, v in headers.items() if k != "host"})
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            finally:
                conn.close()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
