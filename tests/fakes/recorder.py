"""A second origin on 127.0.0.1 that records every request it gets (method, path, headers, body)
and answers each path with what the test set: where a token must never arrive."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    answers: dict[str, tuple[int, bytes, dict[str, str]]] = field(default_factory=dict)

    def answer(self, path: str, body: bytes, *, status: int = 200, headers: dict[str, str] | None = None) -> str:
        """Serve ``body`` at ``path``; returns the full URL."""
        self.answers[path] = (status, body, headers or {})
        return self.url + path

    def saw(self, text: str) -> bool:
        """Whether ``text`` reached this origin anywhere: path, header or body."""
        return any(
            text in r.path or text in r.body.decode("latin-1") or any(text in v for v in r.headers.values())
            for r in self.requests
        )


@contextmanager
def recording_server() -> Iterator[Recorder]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            recorder.requests.append(Recorded(self.command, self.path, headers, body))
            status, data, extra = recorder.answers.get(self.path.split("?")[0], (404, b'{"message":"Not Found"}', {}))
            self.send_response(status)
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
