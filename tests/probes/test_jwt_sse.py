"""JWT checks against a real JWKS, and the bounded SSE reader."""

from __future__ import annotations

import base64
import json
import time

import httpx
import jwt
import pytest

from release_kit import gha
from release_kit.probes.jwt_checks import JwksVerifier, check_jwt, inspect_jwt
from release_kit.probes.masking import EXCERPT, excerpt, should_mask
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


# -- keys of every kind the JWKS may hold ---------------------------------------------------


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
def test_ed25519_p256_and_rsa_keys_verify_and_a_forged_signature_fails(alg: str) -> None:
    app = AuthApp(alg=alg)
    token = app.sign("a@example.com")
    with serve(app) as url, httpx.Client() as client:
        verifier = JwksVerifier(f"{url}/.well-known/jwks.json", client)
        problem, evidence = inspect_jwt(token, JwtCheck(), {}, time.time(), verifier)
        assert (problem, evidence) == (None, f"verified (alg {alg}, kid key-1)")
        head, body, signature = token.split(".")
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        assert "signature" in str(check_jwt(f"{head}.{body}.{flipped}", JwtCheck(), {}, time.time(), verifier))


def test_an_es256_token_against_an_rsa_key_without_alg_is_a_reason_not_a_crash() -> None:
    app = AuthApp("es256_vs_rsa")
    token = app.sign("a@example.com")
    with serve(app) as url, httpx.Client() as client:
        verifier = JwksVerifier(f"{url}/.well-known/jwks.json", client)
        assert check_jwt(token, JwtCheck(), {}, time.time(), verifier) == (
            "alg ES256 needs a EC key, JWKS key key-1 is RSA"
        )


def test_a_jwks_redirect_is_never_followed() -> None:
    app, other = AuthApp(), AuthApp()
    token = other.sign("a@example.com")  # signed by the keys the redirect leads to
    with serve(app) as url, serve(other) as elsewhere, httpx.Client(follow_redirects=True) as client:
        app.jwks_redirect = f"{elsewhere}/.well-known/jwks.json"
        verifier = JwksVerifier(f"{url}/.well-known/jwks.json", client)
        reason = check_jwt(token, JwtCheck(), {}, time.time(), verifier)
    assert (
        reason == f"JWKS {url}/.well-known/jwks.json: redirect 302 to {elsewhere}/.well-known/jwks.json (not followed)"
    )
    assert other.requests == []


def test_claim_values_expand_and_a_list_audience_holds_the_one_wanted() -> None:
    token = unsigned({"exp": NOW + 600, "iss": "https://api.example.com", "aud": ["agent-api", "web"]})
    check = JwtCheck(claims={"iss": "{api_url}", "aud": "agent-api"})
    assert check_jwt(token, check, {"api_url": "https://api.example.com"}, NOW) is None
    assert check_jwt(token, check, {"api_url": "https://evil.example"}, NOW) == (
        "claim iss = https://api.example.com, expected https://evil.example"
    )
    assert check_jwt(token, JwtCheck(claims={"aud": ["agent-api"]}), {}, NOW) == (
        'claim aud = ["agent-api", "web"], expected ["agent-api"]'
    )
    assert check_jwt(token, JwtCheck(claims={"sub": "x"}), {}, NOW) == "claims missing: sub"


# -- structured events ----------------------------------------------------------------------


def test_events_keep_their_json_data_and_comments_are_not_events() -> None:
    chunks = [
        b": heartbeat\n\n",
        b'data: {"kind": "delta", "text": "po"}\n\n: heartbeat\n\n',
        b"event: note\ndata: plain text\n\n",
        b'data: {"kind": "final"}\n\n',
    ]
    read = read_events(iter(chunks), ends=time.monotonic() + 5)
    assert read.events == 3 and [e.kind for e in read.items] == ["delta", "note", "final"]
    assert read.items[0].json == {"kind": "delta", "text": "po"} and not read.items[1].is_json
    assert not any(e.is_error for e in read.items)


@pytest.mark.parametrize(
    "chunk",
    [b'data: {"kind": "error", "message": "x"}\n\n', b"event: error\ndata: boom\n\n", b'data: {"error": "quota"}\n\n'],
)
def test_an_event_that_reports_a_failure_is_an_error(chunk: bytes) -> None:
    read = read_events(iter([chunk, b"data: [DONE]\n\n"]), ends=time.monotonic() + 5)
    assert [e.is_error for e in read.content] == [True] and read.done


# -- masking rules and excerpts -------------------------------------------------------------

JWT = unsigned({"exp": NOW + 600})


@pytest.mark.parametrize(
    ("value", "declared", "names", "source", "masked"),
    [
        (True, None, ("ok",), "json", False),
        (True, True, ("token",), "json", False),  # a boolean is never a credential
        (42, None, ("session_count",), "json", False),
        ("true", None, ("session",), "cookie", False),
        ("12345678", None, ("password",), "json", False),  # a number, even in a string
        ("admin", None, ("password",), "json", False),  # a short word
        ("f3a9c2d1e8b7a6f5", None, ("id",), "json", False),  # a plain name: an id, not a credential
        ("f3a9c2d1e8b7a6f5", None, ("csrf", "X-CSRF-Token"), "header", True),
        ("f3a9c2d1e8b7a6f5", None, ("refresh", "refresh_token"), "json", True),
        ("f3a9c2d1e8b7a6f5", None, ("sid", "sid"), "cookie", True),
        ("f3a9c2d1e8b7a6f5", False, ("token",), "cookie", False),  # declared not secret
        ("admin", True, ("x",), "json", True),  # declared secret
        (JWT, None, ("id",), "json", True),
        ("smoke@example.com", None, ("email", "user.email"), "json", False),
    ],
)
def test_only_credentials_are_masked(value: object, declared: bool | None, names: tuple[str, ...], source: str,
                                     masked: bool) -> None:  # fmt: skip
    assert should_mask(value, declared=declared, names=names, source=source) is masked


def test_an_excerpt_is_redacted_then_escaped_then_cut() -> None:
    gha.forget_secrets()
    gha.mask("hunter2-is-the-password")
    body = json.dumps({"detail": "bad: hunter2-is-the-password", "access_token": "abcdefghijkl", "jwt": JWT})
    assert excerpt(body) == '{"detail": "bad: ***", "access_token": "***", "jwt": "***"}'
    assert excerpt("line\x1b[31m ##[stop-commands]x") == "line\\x1b[31m #\\u0023[stop-commands]x"
    assert excerpt("::error::x") == "\\x3a:error::x"
    long = excerpt("a" * 500)
    assert len(long) == EXCERPT and long.endswith("…")
    assert excerpt("x" * 500 + "END", tail=True).endswith("END")
    gha.forget_secrets()


def test_json_nested_deeper_than_python_parses_is_not_json_never_a_crash() -> None:
    deep = "[" * 100_000
    read = read_events(iter([f"data: {deep}\n\n".encode()]), ends=time.monotonic() + 5)
    assert read.events == 1 and not read.items[0].is_json
    assert excerpt(deep).startswith("[[[") and len(excerpt(deep)) == EXCERPT
    token = f"{base64.urlsafe_b64encode(deep.encode()).decode()}.{b64({'exp': 1})}.c2ln"
    assert check_jwt(token, JwtCheck(), {}, NOW) == "not a JWT (header or payload is not base64url JSON)"
    assert should_mask(deep, declared=None, names=("x",)) is False


def test_a_body_nested_deeper_than_python_parses_fails_its_step_with_a_reason() -> None:
    from release_kit.probes.smoke import Answer, judge_step
    from release_kit.probes.smoke_spec import Step

    step = Step.model_validate({"name": "s", "url": "http://x/", "expect": {"json": {"a": 1}}})
    outcome = judge_step(step, Answer(200, httpx.Headers(), body=b"[" * 100_000), {}, NOW, None)
    assert (outcome.ok, outcome.reason) == (False, "body is not JSON")
    assert outcome.excerpt is not None and outcome.excerpt.startswith("200 [[[")
