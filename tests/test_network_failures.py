"""Network failures that explain themselves: fast failure on what no wait cures, a line for every
retry wait, rate limits with their reset time and the token hint."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from release_kit.cli import run_cli
from release_kit.errors import ExitCode, RemoteGaveUp
from release_kit.github.client import GitHubClient, GitHubError
from release_kit.http import RetryPolicy, make_client
from tests.fakes.clock import FakeClock
from tests.fakes.fixtures import payload


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("api_url", "cause"),
    [
        (f"http://127.0.0.1:{free_port()}", "connection refused"),
        ("http://nonexistent.invalid", "cannot resolve the host name"),
    ],
)
def test_unreachable_github_gives_up_fast_with_what_to_check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], api_url: str, cause: str
) -> None:
    monkeypatch.setenv("GITHUB_API_URL", api_url)
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    start = time.monotonic()
    code = run_cli(["verify-gates", "--repo", "octo-org/app", "--ref", "v1.4.0"])
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err
    assert code == ExitCode.REMOTE
    assert elapsed < 5.0
    lines = err.strip().splitlines()
    host = httpx.URL(api_url).host
    for line in lines[:-1]:  # one per request in flight (the first reads go out together)
        assert line.startswith(f"{host}: {cause}, retrying in ") and line.endswith("(attempt 2 of 2)")
    assert f"release-kit: error: {host}: {cause}; gave up on GET /repos/octo-org/app after 2 attempts" in lines[-1]
    assert f"check GITHUB_API_URL ({api_url})" in lines[-1] and "HTTPS_PROXY" in lines[-1]
    assert "Traceback" not in err and 2 <= len(lines) <= 4


def test_refused_connection_through_a_configured_proxy_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP(S)_PROXY is honoured (and NO_PROXY bypasses it): a dead proxy is what gets named."""
    port = free_port()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", "")
    seen: list[str] = []
    clock = FakeClock()
    with make_client(policy=RetryPolicy(clock=clock, notify=seen.append)) as http, pytest.raises(RemoteGaveUp) as info:
        http.get("http://registry.invalid/v2/")  # through the proxy: no name lookup of the target
    text = info.value.one_line()
    assert "registry.invalid: connection refused" in text
    assert "--registry-endpoint" in text and "a proxy is set in HTTP_PROXY: check it too" in text
    assert len(seen) == 1 and len(clock.sleeps) == 1 and clock.sleeps[0] <= 1.0
    monkeypatch.setenv("NO_PROXY", "registry.invalid")
    with make_client(policy=RetryPolicy(clock=FakeClock())) as http, pytest.raises(RemoteGaveUp) as info:
        http.get("http://registry.invalid/v2/")  # direct now: the name does not resolve
    assert "registry.invalid: cannot resolve the host name" in info.value.one_line()


def test_every_retry_wait_prints_one_line() -> None:
    seen: list[str] = []
    answers = iter([httpx.Response(502), httpx.Response(503), httpx.Response(200, json=[])])
    transport = httpx.MockTransport(lambda request: next(answers))
    policy = RetryPolicy(clock=FakeClock(), jitter=lambda: 1.0, base_delay=2.0, notify=seen.append)
    with make_client(base_url="https://api.github.com", transport=transport, policy=policy) as http:
        assert http.get("/x").status_code == 200
    assert seen == [
        "api.github.com: 502 Bad Gateway, retrying in 2 s (attempt 2 of 8)",
        "api.github.com: 503 Service Unavailable, retrying in 4 s (attempt 3 of 8)",
    ]


def test_retry_lines_go_to_stderr_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter([httpx.Response(429, headers={"retry-after": "3"}), httpx.Response(200)])
    transport = httpx.MockTransport(lambda request: next(answers))
    with make_client(transport=transport, policy=RetryPolicy(clock=FakeClock())) as http:
        http.get("https://ghcr.io/v2/")
    captured = capsys.readouterr()
    assert captured.err == "ghcr.io: 429 Too Many Requests, retrying in 3 s (attempt 2 of 8)\n"
    assert captured.out == ""


def rate_limited(reset: int) -> httpx.Response:
    rec = payload("ANY.403.rate_limit_exceeded.json")
    headers = {k: str(v) for k, v in rec["headers"].items() if k != "Status"}
    headers["X-RateLimit-Reset"] = str(reset)
    return httpx.Response(403, json=rec["body"], headers=headers)


def hhmmss(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S UTC")


def test_anonymous_rate_limit_names_the_reset_and_the_token() -> None:
    clock = FakeClock()
    reset = int(clock.now()) + 3000  # beyond the 600 s budget: give up now, saying when and why
    transport = httpx.MockTransport(lambda request: rate_limited(reset))
    gh = GitHubClient(token="", transport=transport, policy=RetryPolicy(clock=clock))
    with pytest.raises(RemoteGaveUp) as info:
        gh.get_json("/repos/octo-org/app")
    text = info.value.one_line()
    message = payload("ANY.403.rate_limit_exceeded.json")["body"]["message"]
    assert " ".join(message.split()) in text  # GitHub's own message is kept
    assert f"the limit resets at {hhmmss(reset)} (in 50 min)" in text
    assert "set GITHUB_TOKEN: an anonymous client gets 60 requests an hour" in text
    assert info.value.exit_code == ExitCode.REMOTE and clock.sleeps == []


def test_authenticated_rate_limit_waits_with_a_line_and_no_token_hint() -> None:
    clock = FakeClock()
    reset = int(clock.now()) + 120
    answers = iter([rate_limited(reset), httpx.Response(200, json={"ok": True})])
    seen: list[str] = []
    transport = httpx.MockTransport(lambda request: next(answers))
    gh = GitHubClient(token="ghs_x1234", transport=transport, policy=RetryPolicy(clock=clock, notify=seen.append))
    assert gh.get_json("/repos/octo-org/app") == {"ok": True}
    assert len(seen) == 1 and f"the limit resets at {hhmmss(reset)}" in seen[0]
    assert "retrying in 2 min (attempt 2 of 8)" in seen[0] and "GITHUB_TOKEN" not in seen[0]


def test_rate_limited_post_is_not_retried_but_says_when_it_resets() -> None:
    clock = FakeClock()
    reset = int(time.time()) + 600
    transport = httpx.MockTransport(lambda request: rate_limited(reset))
    gh = GitHubClient(token="", transport=transport, policy=RetryPolicy(clock=clock))
    with pytest.raises(GitHubError) as info:
        gh.request("POST", "/repos/octo-org/app/releases", json={})
    text = info.value.one_line()
    assert "API rate limit exceeded" in text and f"the limit resets at {hhmmss(reset)}" in text
    assert "set GITHUB_TOKEN" in text and clock.sleeps == []


def test_remote_text_cannot_inject_runner_commands() -> None:
    evil = {"message": "slow down\n::set-output name=passed::true\r\n::add-mask::x"}
    answers = iter([httpx.Response(429, json=evil, headers={"retry-after": "1"}), httpx.Response(200)])
    seen: list[str] = []
    transport = httpx.MockTransport(lambda request: next(answers))
    with make_client(transport=transport, policy=RetryPolicy(clock=FakeClock(), notify=seen.append)) as http:
        http.get("https://api.github.com/x")
    assert len(seen) == 1 and "\n" not in seen[0] and "\r" not in seen[0]
    assert seen[0].startswith("api.github.com: 429 slow down ::set-output")


def test_a_registry_endpoint_that_refuses_connections_is_exit_3_with_the_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.images.images import oci_layout, random_layer

    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    layout = oci_layout(tmp_path / "api.oci", [random_layer(100)])
    endpoint = f"http://127.0.0.1:{free_port()}"
    args = ["publish-images", "--registry", "registry.example.com", "--image-prefix", "my-org/app"]
    args += ["--image", f"api={layout}", "--tag", "1.0.0", "--registry-endpoint", endpoint]
    start = time.monotonic()
    code = run_cli(args)
    err = capsys.readouterr().err
    assert code == ExitCode.REMOTE and time.monotonic() - start < 5.0
    last = err.strip().splitlines()[-1]
    assert "127.0.0.1: connection refused" in last and "--registry-endpoint" in last
    assert "Traceback" not in err
