"""Answers a service (or something in front of it) can give that must not pass, crash or leak:
a page where a stream was expected, a JMESPath that does not fit the answer, a key set that is no
key set or never ends, a token not valid yet, a secret with characters JSON escapes."""

from __future__ import annotations

import base64
import json
import secrets
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from release_kit import gha
from release_kit.cli import run_cli
from release_kit.probes.jwt_checks import JwksVerifier, check_jwt
from release_kit.probes.smoke_spec import JwtCheck
from release_kit.probes.sse import read_events
from release_kit.probes.verdicts import SHOWN, Expectations, compile_expr, evaluate, parse_expect_json, show
from tests.fakes import runner, runner_log

CAPTURED = "session-token-captured-0123456789"
FORGED = {"user": "##[stop-commands]x", "role": "##[error]forged", "note": "::error::forged"}
PAGE = b"<html>\n<head>\n\n<title>app</title>\n\n</head>\n<body>\n\n</body>\n\n</html>\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path == "/chat":  # the web app's index page for any path, blank lines and all
            self._send(200, "text/html", PAGE)
        elif self.path == "/forged":  # fields that would command the runner if printed raw
            self._send(200, "application/json", json.dumps(FORGED).encode())
        elif self.path == "/login":
            self._send(200, "application/json", json.dumps({"token": CAPTURED}).encode())
        else:
            self._send(200, "application/json", json.dumps({"user": "someone", "items": 3}).encode())

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def app() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def smoke(tmp_path: Path, url: str, steps: list[dict[str, Any]]) -> tuple[int, dict[str, Any], str]:
    spec = tmp_path / "smoke.yml"
    spec.write_text(json.dumps({"secrets": {"pw": "SMOKE_PW"}, "flows": [{"name": "f", "steps": steps}]}))
    report = tmp_path / "r.json"
    code = run_cli(["smoke", "--spec", str(spec), "--api-url", url, "--report", str(report)])
    return code, json.loads(report.read_text()), report.read_text()


def test_a_page_is_no_event_stream_however_many_blank_lines_it_has(
    app: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMOKE_PW", "unused-secret-0")
    step = {"name": "send", "method": "POST", "url": "{api_url}/chat", "idempotent": True, "stream": "sse"}
    code, report, _ = smoke(tmp_path, app, [{**step, "expect": {"status": 200, "sse_min_events": 3}}])
    assert code == 1
    assert "expected text/event-stream" in report["flows"][0]["steps"][0]["reason"]


def test_only_events_with_data_count() -> None:
    read = read_events([b"event: ping\n\nevent: ping\n\nid: 3\n\ndata: hello\n\n"], ends=float("inf"))
    assert read.events == 1


def test_a_secret_with_characters_json_escapes_never_shows(
    app: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = 'pa"ss\\wörd-secret'
    monkeypatch.setenv("SMOKE_PW", secret)
    step = {"name": "who", "method": "GET", "url": "{api_url}/me", "expect": {"json": {"user": "{pw}"}}}
    code, _, raw_report = smoke(tmp_path, app, [step])
    out = capsys.readouterr()
    assert code == 1
    escaped = json.dumps(secret)[1:-1]
    for text in (out.out, out.err, raw_report):
        assert secret not in text and escaped not in text and json.dumps(escaped)[1:-1] not in text
    assert show({"nested": [secret]}) == '{"nested": ["***"]}'


def test_a_jmespath_that_does_not_fit_the_answer_is_a_failed_check_not_a_crash(
    app: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMOKE_PW", "unused-secret-0")
    step = {"name": "who", "method": "GET", "url": "{api_url}/me", "expect": {"json": {"length(items)": 3}}}
    code, report, _ = smoke(tmp_path, app, [step])
    assert code == 1 and "cannot be applied to the answer" in report["flows"][0]["steps"][0]["reason"]
    health = Expectations(
        statuses=frozenset({200}),
        json=(parse_expect_json("length(items)=3"),),
        version=None,
        version_expr=compile_expr("version", "--version-field"),
    )
    attempt = evaluate(200, {}, b'{"items": 3}', False, health)
    assert not attempt.ok and "cannot be applied" in attempt.reason


def test_a_health_url_with_credentials_is_refused_without_echoing_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["health", "--url", "http://deploy:s3cr3t-t0ken@127.0.0.1:9/health", "--deadline", "1"]) == 2
    err = capsys.readouterr().err
    assert "s3cr3t-t0ken" not in err and "Authorization" in err


def jwks_client(body: bytes | list[bytes]) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        if isinstance(body, list):
            return httpx.Response(200, stream=httpx.ByteStream(b"".join(body)))
        return httpx.Response(200, content=body)

    return httpx.Client(transport=httpx.MockTransport(answer))


def header(alg: str = "RS256", kid: str = "k1") -> dict[str, Any]:
    return {"alg": alg, "kid": kid}


@pytest.mark.parametrize("body", [b"[1, 2]", b'"x"', b'{"keys": "no"}', b"not json"])
def test_a_key_set_that_is_no_key_set_is_a_reason(body: bytes) -> None:
    verifier = JwksVerifier("https://api.example/.well-known/jwks.json", jwks_client(body))
    problem = verifier.verify("a.b.c", header())
    assert problem is not None and "JWKS" in problem


def test_a_key_set_is_read_bounded() -> None:
    verifier = JwksVerifier("https://api.example/jwks", jwks_client([b" " * 65536] * 8))
    problem = verifier.verify("a.b.c", header())
    assert problem is not None and "over 256 KiB" in problem


def test_a_token_not_valid_yet_fails() -> None:
    now = 1_800_000_000.0

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    token = f"{part({'alg': 'RS256'})}.{part({'sub': 'u', 'exp': now + 600, 'nbf': now + 300})}.c2ln"
    assert "nbf" in (check_jwt(token, JwtCheck(), {}, now) or "")
    gha.forget_secrets()


@pytest.mark.parametrize("body", ["2024-01-01", "{a: 2024-01-01T00:00:00}", "!!binary aGVsbG8=", "{a: .nan}"])
def test_a_body_yaml_can_say_but_json_cannot_is_a_spec_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str
) -> None:
    spec = tmp_path / "smoke.yml"
    spec.write_text(
        "flows:\n  - name: f\n    steps:\n      - name: put\n"
        f"        method: PUT\n        url: x\n        json: {body}\n"
    )
    assert run_cli(["smoke", "--spec", str(spec), "--api-url", "http://127.0.0.1:9"]) == 2
    assert "not a JSON body" in capsys.readouterr().err


def test_remote_values_with_a_trailing_newline_are_not_ours() -> None:
    from release_kit.image_refs import image_problem
    from release_kit.records.payload import parse_payload
    from release_kit.rollout.restore import RDS_ID_RE

    digest = "sha256:" + "a" * 64
    payload = {"release_kit": 1, "images": {"api": f"r.example/a/api@{digest}"}, "snapshot": "release-kit-v1\n"}
    assert parse_payload(payload) is None
    assert image_problem(f"r.example/a/api@{digest}\n") is not None
    assert RDS_ID_RE.match("release-kit-v1-202601010000\n") is None


@pytest.mark.parametrize("field", sorted(FORGED))
def test_a_json_field_cannot_stop_command_processing_before_a_capture_is_masked(
    app: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], field: str
) -> None:
    """Smoke quotes a mismatching field in its progress line; printed raw, ``##[stop-commands]x``
    would make the runner ignore the ``::add-mask::`` of the token the next flow captures."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("SMOKE_PW", "unused-secret-0")
    monkeypatch.setattr(sys, "stderr", sys.stdout)  # one stream, in the order the runner reads it
    spec = tmp_path / "smoke.yml"
    flows = [
        {"name": "status", "steps": [{"name": "who", "url": "{api_url}/forged", "expect": {"json": {field: "ok"}}}]},
        {"name": "login", "steps": [{"name": "in", "url": "{api_url}/login", "capture": {"token": "token"}}]},
    ]
    spec.write_text(json.dumps({"secrets": {"pw": "SMOKE_PW"}, "flows": flows}))
    assert run_cli(["smoke", "--spec", str(spec), "--api-url", app]) == 1
    out = capsys.readouterr().out
    assert f"json {field} = " in out and "##[" not in out
    shown = runner_log.log(out)
    assert any(f"json {field} = " in line for line in shown)  # the reason is shown, inert
    assert CAPTURED not in "\n".join(shown)
    assert [name for name, _ in runner.commands(out) if name != "add-mask"] == ["error"]  # ours, for the flow


def test_the_expect_json_reason_redacts_a_reflected_secret_before_escaping_and_cutting() -> None:
    secret = 'pa"ss\\wörd-' + secrets.token_urlsafe(SHOWN)  # longer than the cut, with characters JSON escapes
    gha.mask(secret)
    health = Expectations(json=(parse_expect_json("status=ready"),))
    for found in (secret, {"token": secret}, [secret, "x"]):
        reason = evaluate(200, {}, json.dumps({"status": found}).encode(), False, health).reason
        assert "***" in reason and reason.startswith("json status = ")
        for form in (secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]):
            assert not any(form[i : i + 6] in reason for i in range(len(form) - 6)), reason
    gha.forget_secrets()


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("##[stop-commands]x", "#\\x23[stop-commands]x"),
        ("::error::forged", "\\x3a:error::forged"),
        ("   ::warning::w", "   \\x3a:warning::w"),
        (" \u3000::warning::w", " \\u3000::warning::w"),  # JSON writes it as an escape: no line start
        ("a\n::error::x", "a\\n::error::x"),  # JSON keeps it on one line
        ({"k": "##[error]x"}, '{"k": "#\\x23[error]x"}'),
    ],
)
def test_show_never_passes_a_runner_command(value: Any, shown: str) -> None:
    assert show(value) == shown
    assert runner.commands(show(value)) == []
