"""The smoke language real auth flows need, against the local app with production shapes: the opt-in
flows of the example, cookie sessions, captures from headers and cookies, structured SSE checks,
teardown, negative checks, JWT claim values, what is masked and what is not, the JWKS's redirects."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml

from release_kit.cli import run_cli
from tests.probes.auth_app import SMOKE_EMAIL, AuthApp, serve
from tests.probes.fault_server import tls_files
from tests.test_gha import parse_outputs

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "smoke.yml"
PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOKE_PASSWORD", PASSWORD)


@pytest.fixture
def actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    yield tmp_path


def uncommented(text: str) -> str:
    """The example with its opt-in flows switched on: each `  # ` line after `flows:` made YAML again."""
    head, _, flows = text.partition("\nflows:\n")
    lines = [re.sub(r"^  # (?=[ -])", "  ", line) if line.startswith("  # ") else line for line in flows.splitlines()]
    return head + "\nflows:\n" + "\n".join(lines) + "\n"


def run(
    app: AuthApp, spec: Path, tmp_path: Path, *extra: str, web: AuthApp | None = None
) -> tuple[int, dict[str, Any]]:
    """Smoke against ``app`` (the API, over http) and ``web`` (the web side, over TLS with a private CA)."""
    report = tmp_path / "smoke.json"
    with ExitStack() as stack:
        api_url = stack.enter_context(serve(app))
        args = ["smoke", "--spec", str(spec), "--api-url", api_url, "--report", str(report), *extra]
        if web is not None:
            ca, context = tls_files(tmp_path)
            web_url = stack.enter_context(serve(web, tls=context))
            args += ["--web-url", web_url, "--ca-bundle", str(ca)]
        code = run_cli(args)
    return code, json.loads(report.read_text()) if report.exists() else {}


def steps(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {f"{f['name']}/{s['name']}": (s["verdict"], s["reason"]) for f in report["flows"] for s in f["steps"]}


def write(tmp_path: Path, spec: dict[str, Any]) -> Path:
    path = tmp_path / "spec.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def smoke_app(mode: str = "") -> AuthApp:
    return AuthApp(mode, users={SMOKE_EMAIL: PASSWORD})


# -- the example's opt-in flows -------------------------------------------------------------


def test_the_example_with_its_opt_in_flows_passes_as_written(tmp_path: Path) -> None:
    spec = tmp_path / "smoke.yml"
    spec.write_text(uncommented(EXAMPLE.read_text()))
    names = [f["name"] for f in yaml.safe_load(spec.read_text())["flows"]]
    assert names == ["auth", "chat", "token-refresh", "signup", "web"]
    app = smoke_app()
    code, report = run(app, spec, tmp_path, web=app)
    assert code == 0, report
    assert app.posts("/api/v1/auth/register") == 1
    assert len(app.deleted) == 1 and app.deleted[0].startswith("smoke+")  # the signup's teardown ran
    assert app.users == {SMOKE_EMAIL: PASSWORD} and app.sessions == {}  # the web session was logged out
    login = report["flows"][4]["steps"][0]
    assert login["evidence"] == ["cookie session (HttpOnly, Secure, SameSite=Lax)"]


# -- cookies --------------------------------------------------------------------------------

WEB = {
    "secrets": {"password": "SMOKE_PASSWORD"},
    "flows": [
        {
            "name": "web",
            "steps": [
                {"name": "login", "method": "POST", "url": "{web_url}/api/auth/login",
                 "json": {"email": SMOKE_EMAIL, "password": "{password}"},
                 "expect": {"cookies": {"session": {"httponly": True, "secure": True, "samesite": "lax"}}},
                 "capture": {"csrf": {"header": "X-CSRF-Token"}, "session": {"cookie": "session"},
                             "ok": "ok", "who": "user.email"}},
                {"name": "session", "url": "{web_url}/api/auth/session",
                 "expect": {"json": {"user.email": SMOKE_EMAIL}}},
                {"name": "logout", "method": "POST", "url": "{web_url}/api/auth/logout",
                 "headers": {"X-CSRF-Token": "{csrf}"}, "always": True},
            ],
        },
        {
            "name": "other-flow",
            "steps": [
                {"name": "no-cookie-here", "url": "{web_url}/api/auth/session", "expect": {"status": 401}},
            ],
        },
    ],
}  # fmt: skip


def test_the_web_cookie_flow_passes_and_its_cookies_stay_in_their_flow(tmp_path: Path) -> None:
    app = smoke_app()
    code, report = run(app, write(tmp_path, WEB), tmp_path, web=app)
    assert code == 0, report
    sent = [h.get("cookie", "") for m, p, h, _ in app.requests if p.startswith("/api/auth/")]
    assert sent[0] == "" and sent[1].startswith("session=") and sent[2].startswith("session=")
    assert sent[3] == ""  # the next flow starts with an empty jar
    assert app.sessions == {}  # logout passed: the CSRF header captured from login was sent


def test_a_session_cookie_without_httponly_fails_and_skips_what_needs_it(tmp_path: Path) -> None:
    app = smoke_app("no_httponly")
    code, report = run(app, write(tmp_path, WEB), tmp_path, web=app)
    assert code == 1
    assert steps(report)["web/login"] == ("fail", "cookie session: HttpOnly missing")
    assert steps(report)["web/session"] == ("skipped", "skipped: step login failed")
    # the teardown would run, but it needs the CSRF token the failed login did not capture
    assert steps(report)["web/logout"] == ("skipped", "needs {csrf} from web/login, which did not pass")


def test_a_secure_cookie_is_not_sent_over_plain_http(tmp_path: Path) -> None:
    app = smoke_app()
    spec = json.loads(json.dumps(WEB).replace("{web_url}", "{api_url}"))  # the web side served over http
    code, report = run(app, write(tmp_path, spec), tmp_path)
    assert code == 1
    assert steps(report)["web/session"][0] == "fail"  # the jar keeps a Secure cookie off http


# -- masking --------------------------------------------------------------------------------


def test_credentials_are_masked_and_plain_values_are_not(actions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = json.loads(json.dumps(WEB))
    spec["flows"][0]["steps"][0]["capture"].update(
        {"n": {"json": "user.email", "secret": True}, "length": {"header": "content-length"}, "uid": "user.id"}
    )
    app = smoke_app()
    code, report = run(app, write(actions, spec), actions, web=app)
    out = capsys.readouterr()
    assert code == 0, report
    masked = {line.removeprefix("::add-mask::") for line in out.out.splitlines() if line.startswith("::add-mask::")}
    session_cookie = next(m for m in masked if len(m) == 32)  # token_urlsafe(24)
    csrf = next(m for m in masked if len(m) == 22)  # token_urlsafe(16)
    assert {session_cookie, csrf, SMOKE_EMAIL, PASSWORD} <= masked  # SMOKE_EMAIL: declared secret: true
    assert "true" not in masked and "True" not in masked  # the captured `ok: true`
    assert not any(m.isdigit() for m in masked)  # the captured user id (1000) and content-length
    outputs = parse_outputs((actions / "output").read_text())
    assert outputs["passed"] == "true"  # not blanked to ***
    printed = "\n".join(line for line in out.out.splitlines() if not line.startswith("::add-mask::")) + out.err
    for text in (printed, json.dumps(report), (actions / "summary.md").read_text(), (actions / "output").read_text()):
        for secret in (session_cookie, csrf, PASSWORD):
            assert secret not in text


def test_no_secret_appears_in_stdout_the_report_or_the_summary_of_the_full_example(
    actions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = actions / "smoke.yml"
    spec.write_text(uncommented(EXAMPLE.read_text()))
    app = smoke_app()
    code, report = run(app, spec, actions, "--format", "json", web=app)
    out = capsys.readouterr()
    assert code == 0, report
    tokens = [*app.last_access.values(), *app.refresh_tokens]
    masked = {line.removeprefix("::add-mask::") for line in out.out.splitlines() if line.startswith("::add-mask::")}
    assert set(app.last_access.values()) <= masked  # every access token: captured or checked, masked
    assert len([t for t in app.refresh_tokens if t in masked]) == 1  # the refresh token captured (the other unread)
    printed = "\n".join(line for line in out.out.splitlines() if not line.startswith("::add-mask::")) + out.err
    cookie_values = [m for m in masked if len(m) in (22, 32)]
    assert len(cookie_values) >= 2  # the session cookie and the CSRF token
    for text in (printed, json.dumps(report), (actions / "summary.md").read_text(), (actions / "output").read_text()):
        for secret in (PASSWORD, *tokens, *cookie_values):
            assert secret not in text


def test_a_failing_step_shows_a_redacted_bounded_excerpt(tmp_path: Path) -> None:
    app = smoke_app("me_500")
    code, report = run(app, EXAMPLE, tmp_path)
    assert code == 1
    me = report["flows"][0]["steps"][1]
    assert (me["reason"], me["excerpt"]) == ("status 500, expected 200", '500 {"detail": "database unavailable"}')


# -- SSE ------------------------------------------------------------------------------------


def test_an_error_only_stream_fails_the_example(tmp_path: Path) -> None:
    code, report = run(smoke_app("chat_error"), EXAMPLE, tmp_path)
    assert code == 1
    verdict, reason = steps(report)["chat/stream"]
    assert verdict == "fail" and reason == "every event (1) is an error, last: error"
    assert report["flows"][1]["steps"][0]["excerpt"].endswith('"message": "model unavailable"}')


def stream_spec(tmp_path: Path, expect: dict[str, Any]) -> Path:
    return write(
        tmp_path,
        {
            "secrets": {"password": "SMOKE_PASSWORD"},
            "flows": [
                {
                    "name": "chat",
                    "steps": [
                        {"name": "login", "method": "POST", "url": "{api_url}/api/v1/auth/token",
                         "json": {"email": SMOKE_EMAIL, "password": "{password}"},
                         "capture": {"access": "access_token"}},
                        {"name": "stream", "method": "POST", "url": "{api_url}/api/v1/chat/stream",
                         "headers": {"Authorization": "Bearer {access}"}, "json": {"message": "ping"},
                         "stream": "sse", "expect": expect},
                    ],
                }
            ],
        },
    )  # fmt: skip


def test_an_error_only_stream_fails_even_with_the_older_keys(tmp_path: Path) -> None:
    older = {"sse_min_events": 1, "body_contains": "data:"}  # true of an error-only stream
    assert run(smoke_app(), stream_spec(tmp_path, older), tmp_path)[0] == 0
    code, report = run(smoke_app("chat_error"), stream_spec(tmp_path, older), tmp_path)
    assert code == 1 and steps(report)["chat/stream"][0] == "fail"


@pytest.mark.parametrize(
    ("sse", "reason"),
    [
        ({"min_events": 5}, "4 event(s), expected at least 5"),  # `: heartbeat` comments are not events
        ({"last": {"json": {"kind": "delta"}}}, "the last event has kind final, expected kind = delta"),
        ({"none": {"json": {"kind": "delta"}}}, "an event matches none: kind = delta (event 1)"),
        ({"any": {"json": {"usage.tokens": 4}}}, "no event has usage.tokens = 4"),
        ({"done": True}, "no [DONE]/done event (the stream stopped at: end)"),
    ],
)
def test_structured_stream_checks_name_what_failed(sse: dict[str, Any], reason: str, tmp_path: Path) -> None:
    code, report = run(smoke_app(), stream_spec(tmp_path, {"sse": sse}), tmp_path)
    assert code == 1
    assert steps(report)["chat/stream"] == ("fail", reason)


def test_structured_stream_checks_pass_on_a_good_stream(tmp_path: Path) -> None:
    sse = {"min_events": 4, "any": {"json": {"usage.tokens": 3}}, "last": {"json": {"kind": "final"}}}
    assert run(smoke_app(), stream_spec(tmp_path, {"sse": sse}), tmp_path)[0] == 0


# -- negative checks, claim values ---------------------------------------------------------


def login_spec(tmp_path: Path, expect: dict[str, Any]) -> Path:
    return write(
        tmp_path,
        {
            "secrets": {"password": "SMOKE_PASSWORD"},
            "jwks_url": "{api_url}/.well-known/jwks.json",
            "flows": [
                {
                    "name": "auth",
                    "steps": [
                        {"name": "login", "method": "POST", "url": "{api_url}/api/v1/auth/token",
                         "json": {"email": SMOKE_EMAIL, "password": "{password}"}, "expect": expect}
                    ],
                }
            ],
        },
    )  # fmt: skip


@pytest.mark.parametrize(
    ("expect", "reason"),
    [
        ({"not": {"json": {"token_type": "bearer"}}}, 'json token_type = bearer, expected anything else'),
        ({"not": {"body_contains": "refresh_token"}}, 'body contains refresh_token'),
        ({"jwt": {"access_token": {"claims": {"aud": "billing"}}}}, 'jwt access_token: claim aud = ["agent-api"], '
         'expected billing'),
        ({"jwt": {"access_token": {"claims": {"iss": "https://elsewhere"}}}}, "jwt access_token: claim iss = "),
    ],
)  # fmt: skip
def test_negative_checks_and_claim_values_fail_with_the_reason(
    expect: dict[str, Any], reason: str, tmp_path: Path
) -> None:
    code, report = run(smoke_app(), login_spec(tmp_path, expect), tmp_path)
    assert code == 1
    verdict, why = steps(report)["auth/login"]
    assert verdict == "fail" and why.startswith(reason)


def test_claim_values_pass_with_placeholders_and_list_audiences(tmp_path: Path) -> None:
    expect = {
        "not": {"json": {"token_type": "mac"}, "body_contains": "error"},
        "jwt": {"access_token": {"claims": {"iss": "{api_url}", "aud": "agent-api", "sub": SMOKE_EMAIL}}},
    }
    assert run(smoke_app(), login_spec(tmp_path, expect), tmp_path)[0] == 0


def test_a_token_from_a_retired_key_fails_the_claim_checked_login(tmp_path: Path) -> None:
    spec = login_spec(tmp_path, {"jwt": {"access_token": {"claims": {"aud": "agent-api"}}}})
    app = smoke_app("stale_signer")
    app.rotate()  # the JWKS now holds only the new key; the app still signs with key-1
    code, report = run(app, spec, tmp_path)
    assert code == 1
    assert steps(report)["auth/login"] == ("fail", "jwt access_token: kid key-1 is not in the JWKS")


# -- teardown -------------------------------------------------------------------------------

TEARDOWN = {
    "secrets": {"password": "SMOKE_PASSWORD"},
    "flows": [
        {
            "name": "user",
            "steps": [
                {"name": "register", "method": "POST", "url": "{api_url}/api/v1/auth/register",
                 "json": {"email": "t+{run_id}@example.com", "password": "{password}"}, "expect": {"status": 201}},
                {"name": "login", "method": "POST", "url": "{api_url}/api/v1/auth/token",
                 "json": {"email": "t+{run_id}@example.com", "password": "{password}"},
                 "capture": {"token": "access_token"}},
                {"name": "me", "url": "{api_url}/api/v1/auth/me", "headers": {"Authorization": "Bearer {token}"}},
                {"name": "after", "url": "{api_url}/api/v1/auth/me"},
                {"name": "delete", "method": "DELETE", "url": "{api_url}/api/v1/auth/me",
                 "headers": {"Authorization": "Bearer {token}"}, "expect": {"status": 204}, "always": True},
                {"name": "check-gone", "url": "{api_url}/nothing", "expect": {"status": 200}, "always": True},
            ],
        }
    ],
}  # fmt: skip


def test_a_teardown_runs_after_a_failed_step_and_its_failure_does_not_hide_the_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = smoke_app("me_500")
    code, report = run(app, write(tmp_path, TEARDOWN), tmp_path)
    assert code == 1
    assert len(app.deleted) == 1 and app.deleted[0].startswith("t+")
    assert steps(report) == {
        "user/register": ("pass", "status 201"),
        "user/login": ("pass", "status 200"),
        "user/me": ("fail", "status 500, expected 200"),
        "user/after": ("skipped", "skipped: step me failed"),
        "user/delete": ("pass", "status 204"),
        "user/check-gone": ("fail", "status 404, expected 200"),
    }
    assert report["flows"][0]["failed_at"] == "me"
    assert "first failure: user/me" in capsys.readouterr().out


# -- JWKS redirects -------------------------------------------------------------------------


def test_a_jwks_redirect_to_another_origin_is_not_followed(tmp_path: Path) -> None:
    attacker = AuthApp(alg="EdDSA")
    app = smoke_app()
    with serve(attacker) as elsewhere:
        app.jwks_redirect = f"{elsewhere}/.well-known/jwks.json"
        code, report = run(app, login_spec(tmp_path, {"jwt": {"access_token": {}}}), tmp_path)
    assert code == 1
    verdict, reason = steps(report)["auth/login"]
    assert verdict == "fail" and "redirect 302 to" in reason and reason.endswith("(not followed)")
    assert attacker.requests == []


def test_the_printed_schema_holds_the_new_keys_and_validates_the_opt_in_flows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import jsonschema

    assert run_cli(["schema", "smoke"]) == 0
    schema = json.loads(capsys.readouterr().out)
    defs = schema["$defs"]
    assert {"cookies", "sse", "not"} <= set(defs["Expect"]["properties"])
    assert {"always", "capture"} <= set(defs["Step"]["properties"])
    assert {"json", "header", "cookie", "secret"} == set(defs["Capture"]["properties"])
    assert {"min_events", "last", "any", "none", "done"} == set(defs["SseExpect"]["properties"])
    jsonschema.validate(yaml.safe_load(uncommented(EXAMPLE.read_text())), schema)
    jsonschema.validate(WEB, schema)


@pytest.mark.parametrize(
    "expect",
    [
        {"not": {"json": {"a": "{nope}"}}},
        {"not": {"body_contains": "{nope}"}},
        {"body_contains": "{nope}"},
        {"jwt": {"t": {"claims": {"iss": "{nope}"}}}},
        {"sse": {"last": {"data_contains": "{nope}"}}},
        {"sse": {"none": {"json": {"kind": "{nope}"}}}},
    ],
)
def test_an_unknown_name_in_any_expectation_is_a_spec_error(
    expect: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    step = {"name": "s", "url": "http://127.0.0.1:9/", "stream": "sse", "expect": expect}
    assert run_cli(["smoke", "--spec", str(write(tmp_path, {"flows": [{"name": "a", "steps": [step]}]}))]) == 2
    assert "{nope} is not a built-in, a var, a secret or captured by an earlier step" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("capture", "message"),
    [
        ({"x": {"header": "A", "cookie": "b"}}, "give exactly one of json, header or cookie"),
        ({"x": {"secret": True}}, "give exactly one of json, header or cookie"),
        ({"x": {"json": "a[", "secret": True}}, "is not a JMESPath expression"),
    ],
)
def test_a_capture_names_one_source(capture: dict[str, Any], message: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    step = {"name": "s", "url": "http://127.0.0.1:9/", "capture": capture}
    assert run_cli(["smoke", "--spec", str(write(tmp_path, {"flows": [{"name": "a", "steps": [step]}]}))]) == 2
    assert message in capsys.readouterr().err
