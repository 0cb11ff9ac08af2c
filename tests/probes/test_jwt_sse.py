"""JWT checks against a real JWKS, and the bounded SSE reader."""

from __future__ import annotations

import base64
import json
import time

import httpx
import jwt
import pytest

from release_kit.probes.jwt_checks import JwksVerifier, check_jwt
from release_kit.probes.smoke_spec import JwtCheck
from release_kit.probes.sse import read_events
from tests.probes.auth_app import AuthApp, serve

NOW = time.time()


def b64(data: dict) -> str:  # type: ignore[type-arg]
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned(claims: dict, header: dict | None = None) -> str:  # type: ignore[type-arg]
    return f"{b64(header or {'alg': 'RS256', 'kid': 'k'})}.{b64(claims)}.c2ln"


@pytest.mark.parametrize(
    ("token", "check", "reason"),
    [
        ("abc", JwtCheck(), "not a JWT (expected three base64url parts)"),
        ("a.b.c", JwtCheck(), "not a JWT (header or payload is not base64url JSON)"),
        (unsigned({"sub": "x"}), JwtCheck(), "no numeric exp claim"),
        (unsigned({"exp": NOW - 120}), JwtCheck(), "expired 120s ago"),
        (unsigned({"exp": NOW + 600, "iat": NOW + 300}), JwtCheck(), "iat 300s in the future"),
        (unsigned({"exp": NOW + 600}), JwtCheck(claims=["sub", "exp"]), "claims missing: sub"),
        (unsigned({"exp": NOW + 600}), JwtCheck(header={"kid": "new"}), "header kid = k, expected new"),
        (None, JwtCheck(), "no token there"),
    ],
)
def test_each_jwt_check_names_what_failed(token: object, check: JwtCheck, reason: str) -> None:
    assert check_jwt(token, check, {}, NOW) == reason


def test_iat_within_the_leeway_and_a_different_token_pass() -> None:
    token = unsigned({"exp": NOW + 600, "iat": NOW + 30, "sub": "a"})
    assert check_jwt(token, JwtCheck(claims=["sub"], differs_from="old"), {"old": "other"}, NOW) is None
    assert check_jwt(token, JwtCheck(differs_from="old"), {"old": token}, NOW) == (
        "the same token as old (expected a new one)"
    )


def test_signatures_verify_against_the_jwks_and_the_retired_key_is_rejected_after_rotation() -> None:
    app = AuthApp()
    old = app.sign("a@example.com")
    with serve(app) as url, httpx.Client() as client:
        verifier = JwksVerifier(f"{url}/.well-known/jwks.json", client)
        assert check_jwt(old, JwtCheck(), {}, time.time(), verifier) is None
        forged = old[: old.rindex(".") + 1] + base64.urlsafe_b64encode(b"x" * 256).rstrip(b"=").decode()
        assert check_jwt(forged, JwtCheck(), {}, time.time(), verifier) == (
            "signature does not verify against JWKS key key-1"
        )
        app.rotate()
        new = app.sign("a@example.com")
        assert check_jwt(new, JwtCheck(), {}, time.time(), verifier) is None
        assert check_jwt(old, JwtCheck(), {}, time.time(), verifier) == "kid key-1 is not in the JWKS"
        hs = jwt.encode({"exp": time.time() + 60}, "secret-key-material-for-this-test-0123", algorithm="HS256")
        assert "not an asymmetric algorithm" in str(check_jwt(hs, JwtCheck(), {}, time.time(), verifier))
        none = unsigned({"exp": time.time() + 60}, {"alg": "none"})
        assert "not an asymmetric algorithm" in str(check_jwt(none, JwtCheck(), {}, time.time(), verifier))


def test_sse_stops_at_the_done_event_and_counts_events_across_chunk_edges() -> None:
    chunks = [b"data: one\r\n", b"\r\n: keep-alive\n\nevent: delta\ndata: t", b"wo\n\ndata: [DONE]\n\ndata: after\n\n"]
    read = read_events(iter(chunks), ends=time.monotonic() + 5)
    assert (read.events, read.done, read.stopped) == (3, True, "done")
    assert "after" not in read.text.split("[DONE]")[0]


def test_sse_done_event_by_name_end_and_size_limit() -> None:
    assert read_events(iter([b"event: done\ndata: {}\n\n"]), ends=time.monotonic() + 5).done
    ended = read_events(iter([b"data: a\n\ndata: b"]), ends=time.monotonic() + 5)
    assert (ended.events, ended.done, ended.stopped) == (1, False, "end")  # an unfinished event is dropped
    big = read_events(iter([b"data: " + b"x" * 1000 + b"\n\n"] * 100), ends=time.monotonic() + 5, limit=5000)
    assert big.stopped == "size" and len(big.text) == 5000


def test_sse_stops_at_its_time_limit() -> None:
    def slow() -> object:
        while True:
            yield b"data: tick\n\n"
            time.sleep(0.05)

    start = time.monotonic()
    read = read_events(slow(), ends=time.monotonic() + 0.3)  # type: ignore[arg-type]
    assert read.stopped == "time" and read.events >= 3 and time.monotonic() - start < 1
