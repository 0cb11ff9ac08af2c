from __future__ import annotations

import httpx
import pytest

from release_kit.errors import ExitCode, RemoteGaveUp
from release_kit.github.client import GitHubClient
from release_kit.http import RetryPolicy, make_client
from tests.fakes.clock import FakeClock
from tests.fakes.fixtures import payload
from tests.fakes.github import FakeGitHub


def scripted(
    *answers: httpx.Response | Exception,
) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler), seen


def client(transport: httpx.MockTransport, clock: FakeClock, **kw: float) -> httpx.Client:
    policy = RetryPolicy(clock=clock, jitter=lambda: 1.0, **kw)  # type: ignore[arg-type]
    return make_client(base_url="https://api.example.test", transport=transport, policy=policy)


def test_429_waits_for_retry_after() -> None:
    clock = FakeClock()
    transport, seen = scripted(httpx.Response(429, headers={"retry-after": "7"}), httpx.Response(200, json={"ok": 1}))
    assert client(transport, clock).get("/x").json() == {"ok": 1}
    assert clock.sleeps == [7.0] and len(seen) == 2


def test_primary_rate_limit_waits_until_reset() -> None:
    rec = payload("ANY.403.rate_limit_exceeded.json")
    reset = int(rec["headers"]["X-RateLimit-Reset"])
    clock = FakeClock(start=reset - 120)
    limited = httpx.Response(
        403,
        json=rec["body"],
        headers={k: str(v) for k, v in rec["headers"].items() if k != "Status"},
    )
    transport, _ = scripted(limited, httpx.Response(200, json=[]))
    client(transport, clock).get("/x")
    assert clock.sleeps == [121.0]


def test_secondary_rate_limit_waits_at_least_a_minute_then_backs_off() -> None:
    rec = payload("ANY.403.secondary_rate_limit.json")
    limited = httpx.Response(403, json=rec["body"])
    clock = FakeClock()
    transport, seen = scripted(limited, limited, httpx.Response(200, json=[]))
    client(transport, clock).get("/x")
    assert len(seen) == 3
    assert clock.sleeps[0] >= 60 and clock.sleeps[1] >= 60


def test_plain_403_is_final_and_not_retried() -> None:
    clock = FakeClock()
    transport, seen = scripted(httpx.Response(403, json={"message": "Resource not accessible by integration"}))
    assert client(transport, clock).get("/x").status_code == 403
    assert len(seen) == 1 and clock.sleeps == []


def test_502_then_success_backs_off_exponentially() -> None:
    clock = FakeClock()
    transport, seen = scripted(httpx.Response(502), httpx.Response(503), httpx.Response(200, json=[]))
    assert client(transport, clock, base_delay=2.0).get("/x").status_code == 200
    assert clock.sleeps == [2.0, 4.0] and len(seen) == 3


def test_connection_reset_is_retried() -> None:
    clock = FakeClock()
    transport, seen = scripted(httpx.ReadError("connection reset by peer"), httpx.Response(200, json=[]))
    assert client(transport, clock).get("/x").status_code == 200
    assert len(seen) == 2


def test_budget_exhausted_gives_up_with_exit_3_naming_the_remote() -> None:
    clock = FakeClock()
    transport, _seen = scripted(httpx.Response(503))
    with pytest.raises(RemoteGaveUp) as info:
        client(transport, clock, budget=30.0).get("/x")
    assert info.value.exit_code == ExitCode.REMOTE
    assert "api.example.test" in info.value.one_line() and "503 Service Unavailable" in info.value.one_line()
    assert sum(clock.sleeps) <= 30.0


def test_post_is_never_retried_blindly() -> None:
    clock = FakeClock()
    transport, seen = scripted(httpx.Response(502), httpx.Response(201))
    assert client(transport, clock).post("/upload", content=b"data").status_code == 502
    assert len(seen) == 1


def test_streamed_put_is_not_resent() -> None:
    clock = FakeClock()
    transport, seen = scripted(httpx.ReadError("reset"), httpx.Response(201))

    def chunks():  # type: ignore[no-untyped-def]
        yield b"abc"

    with pytest.raises(httpx.ReadError):
        client(transport, clock).put("/blob", content=chunks())
    assert len(seen) == 1


def test_github_client_rate_limited_through_cli_path() -> None:
    """PyGithub-free: the GitHub client uses the same policy (429 + Retry-After on a fake clock)."""
    fake = FakeGitHub()
    fake.add_workflow("CI")
    fake.fail(
        "GET",
        r"/actions/workflows$",
        429,
        body={"message": "slow down"},
        headers={"retry-after": "3"},
    )
    clock = FakeClock()
    gh = GitHubClient(token="", transport=fake.transport(), policy=RetryPolicy(clock=clock))
    items = list(gh.paginate(f"/repos/{fake.full_name}/actions/workflows", key="workflows"))
    assert [w["name"] for w in items] == ["CI"] and clock.sleeps == [3.0]
