"""A small HTTP proxy in front of moto's server: records every AWS operation, adds latency, denies actions.

boto3 is pointed at the proxy (``AWS_ENDPOINT_URL``), which forwards each request to moto unchanged.
It names each request's operation from ``X-Amz-Target`` (JSON protocols: ECS, Secrets Manager,
SSM, Application Auto Scaling) or the form's ``Action`` (query protocols: RDS, ElastiCache), so a
test can assert what was called, and never called (``GetSecretValue``). ``deny`` answers an
operation with AWS's ``AccessDeniedException`` instead of forwarding it; ``answers`` answers one
with a canned body (written after the botocore service model) where moto has no such operation.

Lost answers (``lose``): the proxy forwards the request, so moto acts on it, and then answers 500
(``lost_as="500"``, AWS's ``InternalFailure`` in the operation's protocol) or drops the connection
without a byte (``lost_as="reset"``): the client cannot know the cloud acted. ``lose[op] = n``
loses the next ``n`` answers of ``op`` (``ALWAYS``: every one).

ECS idempotency: moto 5.2.5 ignores ``RunTask``'s ``clientToken``; ECS does not. The proxy plays
ECS: a ``RunTask`` whose token it has already forwarded gets the first answer again, unforwarded,
so a client that keeps its token across retries starts one task, and one that drops or regenerates
it starts one per attempt (``forwarded`` counts what reached moto).
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}
ALWAYS = 10**9


@dataclass
class Proxy:
    upstream: str
    latency: float = 0.0
    deny: set[str] = field(default_factory=set)
    # operation -> (status, content type, body): answered here, for what moto does not simulate
    answers: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    operations: list[str] = field(default_factory=list)
    # operation -> how many of its next answers to lose after moto acted (ALWAYS: all)
    lose: dict[str, int] = field(default_factory=dict)
    lost_as: str = "500"  # or "reset"
    forwarded: list[str] = field(default_factory=list)  # operations that reached moto
    run_task_answers: dict[str, tuple[int, list[tuple[str, str]], bytes]] = field(default_factory=dict)
    run_task_tokens: list[str] = field(default_factory=list)  # each RunTask request's clientToken ("" if none)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, operation: str) -> None:
        with self._lock:
            self.operations.append(operation)

    def losing(self, operation: str) -> bool:
        """Whether this answer of ``operation`` is to be lost (counts it down)."""
        with self._lock:
            left = self.lose.get(operation, 0)
            if left <= 0:
                return False
            self.lose[operation] = left - 1
            return True


def server_error(headers: dict[str, str]) -> tuple[str, bytes]:
    """AWS's 500 in the request's protocol: JSON (``X-Amz-Target``) or the query protocol's XML."""
    if headers.get("x-amz-target"):
        return "application/x-amz-json-1.1", b'{"__type":"ServerException","message":"Internal error"}'
    return "text/xml", (
        b"<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code>"
        b"<Message>An internal error occurred</Message></Error><RequestId>lost</RequestId></ErrorResponse>"
    )


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
            token = ""
            if operation == "RunTask":
                token = str(json.loads(body or b"{}").get("clientToken") or "")
                proxy.run_task_tokens.append(token)
            with proxy._lock:
                known = proxy.run_task_answers.get(token) if token else None
            if known is not None:  # ECS: the same clientToken gets the first answer, no second task
                status, headers_out, data = known
            else:
                status, headers_out, data = self._upstream(method, body, headers)
                proxy.forwarded.append(operation)
                if token and status == 200:
                    with proxy._lock:
                        proxy.run_task_answers[token] = (status, headers_out, data)
            if proxy.losing(operation):
                self._lose(headers)
                return
            self.send_response(status)
            for key, value in headers_out:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _upstream(
            self, method: str, body: bytes, headers: dict[str, str]
        ) -> tuple[int, list[tuple[str, str]], bytes]:
            conn = http.client.HTTPConnection(up.hostname or "127.0.0.1", up.port, timeout=30)
            try:
                conn.request(method, self.path, body=body, headers={k: v for k, v in headers.items() if k != "host"})
                answer = conn.getresponse()
                data = answer.read()
                kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP]
                return answer.status, kept, data
            finally:
                conn.close()

        def _lose(self, headers: dict[str, str]) -> None:
            if proxy.lost_as == "reset":  # RST, no status line: the client sees the connection reset
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            content_type, data = server_error(headers)
            self.send_response(500)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

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
