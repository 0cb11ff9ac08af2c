"""release-kit smoke against a local auth app: the example spec, JWT checks, rotation, SSE, no re-sent POST, no leak.

The newer spec language (cookies, captures from headers and cookies, structured SSE checks, teardown,
masking rules) is tested in test_smoke_flows.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import yaml

from release_kit.cli import run_cli
from release_kit.probes import smoke_spec
from tests.probes.auth_app import SMOKE_EMAIL, AuthApp, serve
from tests.probes.fault_server import free_port
from tests.test_gha import parse_outputs

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "smoke.yml"
PASSWORD = "correct-horse-battery-staple-42"
REGISTER = "/api/v1/auth/register"


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOKE_PASSWORD", PASSWORD)


def smoke_app(mode: str = "", **kwargs: object) -> AuthApp:
    """The app with the pre-provisioned smoke user the example logs in as."""
    return AuthApp(mode, users={SMOKE_EMAIL: PASSWORD}, **kwargs)  # type: ignore[arg-type]


def run_app(app: AuthApp, spec: Path, tmp_path: Path, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    report = tmp_path / "smoke.json"
    with serve(app) as url:
        code = run_cli(["smoke", "--spec", str(spec), "--api-url", url, "--report", str(report), *extra])
    return code, json.loads(report.read_text()) if report.exists() else {}


def steps(report: dict) -> dict[str, tuple[str, str]]:  # type: ignore[type-arg]
    return {f"{f['name']}/{s['name']}": (s["verdict"], s["reason"]) for f in report["flows"] for s in f["steps"]}


def write(tmp_path: Path, spec: dict) -> Path:  # type: ignore[type-arg]
    path = tmp_path / "spec.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_the_example_validates_against_the_model_and_the_printed_schema(capsys: pytest.CaptureFixture[str]) -> None:
    spec = smoke_spec.load(EXAMPLE)
    assert [f.name for f in spec.flows] == ["auth", "chat", "token-refresh"]
    assert run_cli(["schema", "smoke"]) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.validate(yaml.safe_load(EXAMPLE.read_text()), schema)
    assert run_cli(["schema"]) == 0 and "gates" in json.loads(capsys.readouterr().out)["properties"]


def test_the_example_logs_in_as_the_smoke_user_creates_nothing_and_sends_each_post_once(tmp_path: Path) -> None:
    app = smoke_app()
    code, report = run_app(app, EXAMPLE, tmp_path)
    assert code == 0, report
    assert report["passed"] is True
    assert all(v == "pass" for v, _ in steps(report).values())
    assert app.posts(REGISTER) == 0 and app.users == {SMOKE_EMAIL: PASSWORD}  # no user signed up
    assert app.posts("/api/v1/auth/token") == 1 and app.posts("/api/v1/auth/refresh") == 1
    assert app.posts("/api/v1/chat/stream") == 1
    step = report["flows"][0]["steps"][0]
    assert set(step) == {
        "name", "verdict", "status", "elapsed_s", "reason", "excerpt", "evidence", "always",
        "started_at", "finished_at",
    }  # fmt: skip
    assert step["status"] == 200
    # a passing step's evidence: the JWT verified (alg, kid), the stream's events and last kind
    assert step["evidence"] == ["jwt access_token verified (alg EdDSA, kid key-1)"]
    chat = report["flows"][1]["steps"][0]
    assert chat["evidence"] == ["sse: 4 event(s), last kind final"]


def test_without_the_smoke_user_login_fails_showing_the_answer(tmp_path: Path) -> None:
    code, report = run_app(AuthApp(), EXAMPLE, tmp_path)
    assert code == 1
    login = report["flows"][0]["steps"][0]
    assert (login["verdict"], login["reason"]) == ("fail", "status 401, expected 200")
    assert login["excerpt"] == '401 {"detail": "bad credentials"}'


@pytest.mark.parametrize(
    ("mode", "step", "reason"),
    [
        ("expired", "auth/login", "jwt access_token: expired"),
        ("opaque", "auth/login", "jwt access_token: not a JWT (expected three base64url parts)"),
        ("same_refresh", "token-refresh/refresh", "jwt access_token: the same token as access (expected a new one)"),
        # a token whose header says ES256 checked against an RSA key the JWKS gives without alg
        ("es256_vs_rsa", "auth/login", "jwt access_token: alg ES256 needs a EC key, JWKS key key-1 is RSA"),
    ],
)
def test_a_bad_token_fails_its_step_and_skips_what_needs_it(mode: str, step: str, reason: str, tmp_path: Path) -> None:
    code, report = run_app(smoke_app(mode), EXAMPLE, tmp_path)
    assert code == 1 and report["passed"] is False
    verdict, why = steps(report)[step]
    assert verdict == "fail" and why.startswith(reason)
    if step == "auth/login":
        assert steps(report)["auth/me"] == ("skipped", "skipped: step login failed")
        assert steps(report)["chat/stream"] == ("skipped", "needs {access} from auth/login, which did not pass")


ROTATION = {
    "secrets": {"password": "SMOKE_PASSWORD"},
    "vars": {"email": "rotate+{run_id}@example.com"},
    "jwks_url": "{api_url}/.well-known/jwks.json",
    "flows": [
        {
            "name": "before",
            "steps": [
                {"name": "signup", "method": "POST", "url": "{api_url}" + REGISTER,
                 "json": {"email": "{email}", "password": "{password}"}, "expect": {"status": 201}},
                {"name": "login", "method": "POST", "url": "{api_url}/api/v1/auth/token",
                 "form": {"username": "{email}", "password": "{password}"},
                 "expect": {"status": 200, "jwt": {"access_token": {"claims": ["sub"], "header": {"kid": "key-1"}}}},
                 "capture": {"access": "access_token", "refresh": "refresh_token"}},
            ],
        },
        {"name": "rotate", "steps": [{"name": "rotate", "method": "POST", "url": "{api_url}/test/rotate"}]},
        {
            "name": "after",
            "steps": [
                {"name": "refresh", "method": "POST", "url": "{api_url}/api/v1/auth/refresh",
                 "json": {"refresh_token": "{refresh}"},
                 "expect": {"status": 200, "jwt": {"access_token": {"differs_from": "access"}}},
                 "capture": {"fresh": "access_token"}},
                {"name": "me", "url": "{api_url}/api/v1/auth/me", "headers": {"Authorization": "Bearer {fresh}"},
                 "retry": {"attempts": 2, "interval": 0.1}},
            ],
        },
    ],
}  # fmt: skip


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
def test_after_a_rotation_refresh_still_works_and_tokens_verify_against_the_new_key(alg: str, tmp_path: Path) -> None:
    app = AuthApp(alg=alg)
    code, report = run_app(app, write(tmp_path, ROTATION), tmp_path)
    assert code == 0, report
    assert app.published[0].kid != "key-1"  # the refreshed token was verified with a refetched JWKS


def test_a_token_still_signed_by_the_retired_key_is_rejected(tmp_path: Path) -> None:
    code, report = run_app(AuthApp("stale_signer"), write(tmp_path, ROTATION), tmp_path)
    assert code == 1
    assert steps(report)["after/refresh"] == ("fail", "jwt access_token: kid key-1 is not in the JWKS")


def chat_spec(tmp_path: Path, **expect: object) -> Path:
    spec = {
        "flows": [
            {
                "name": "chat",
                "steps": [
                    {"name": "signup", "method": "POST", "url": "{api_url}" + REGISTER,
                     "json": {"email": "c@example.com", "password": "pw-123456"}, "expect": {"status": 201}},
                    {"name": "login", "method": "POST", "url": "{api_url}/api/v1/auth/token",
                     "form": {"username": "c@example.com", "password": "pw-123456"},
                     "capture": {"access": "access_token"}},
                    {"name": "send", "method": "POST", "url": "{api_url}/api/v1/chat",
                     "headers": {"Authorization": "Bearer {access}"}, "json": {"message": "ping"}, "stream": "sse",
                     "expect": {"status": 200, **expect}},
                ],
            }
        ]
    }  # fmt: skip
    return write(tmp_path, spec)


def test_an_sse_answer_is_read_to_its_done_event(tmp_path: Path) -> None:
    code, report = run_app(AuthApp(), chat_spec(tmp_path, sse_min_events=4, sse_done=True), tmp_path)
    assert code == 0, report


def test_an_sse_answer_without_done_passes_unless_the_done_event_is_required(tmp_path: Path) -> None:
    assert run_app(AuthApp("no_done"), chat_spec(tmp_path, sse_min_events=3), tmp_path)[0] == 0
    code, report = run_app(AuthApp("no_done"), chat_spec(tmp_path, sse_done=True), tmp_path)
    assert code == 1
    assert steps(report)["chat/send"] == ("fail", "no [DONE]/done event (the stream stopped at: end)")
    code, report = run_app(AuthApp(), chat_spec(tmp_path, sse_min_events=9), tmp_path)
    assert steps(report)["chat/send"] == ("fail", "4 event(s), expected at least 9")


def test_a_failed_post_is_never_sent_again(tmp_path: Path) -> None:
    spec = {
        "flows": [
            {"name": "a", "steps": [{"name": "signup", "method": "POST", "url": "{api_url}" + REGISTER,
                                     "json": {"email": "x@example.com"}, "expect": {"status": 201}}]},
            {"name": "b", "steps": [{"name": "jwks", "url": "{api_url}/.well-known/jwks.json",
                                     "expect": {"json": {"length(keys)": 1}}}]},
        ]
    }  # fmt: skip
    app = AuthApp()
    code, report = run_app(app, write(tmp_path, spec), tmp_path)
    assert code == 1 and app.posts(REGISTER) == 1
    assert steps(report)["a/signup"] == ("fail", "status 422, expected 201")
    assert steps(report)["b/jwks"][0] == "pass"  # the next flow does not need a's captures: it runs


def test_a_service_that_never_answers_is_a_failed_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path, {"flows": [{"name": "a", "steps": [{"name": "up", "url": "{api_url}/health"}]}]})
    url = f"http://127.0.0.1:{free_port()}"
    assert run_cli(["smoke", "--spec", str(spec), "--api-url", url]) == 1  # the app under test: exit 1, not 3
    assert "smoke: a/up: fail (no answer (ConnectError)" in capsys.readouterr().err


@pytest.fixture
def actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    yield tmp_path


@pytest.mark.parametrize("mode", ["", "same_refresh"])
def test_no_secret_or_captured_token_appears_in_any_output(
    mode: str, actions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = smoke_app(mode)
    code, report = run_app(app, EXAMPLE, actions, "--format", "json")
    out = capsys.readouterr()
    assert code == (0 if not mode else 1)
    tokens = list(app.last_access.values()) + list(app.refresh_tokens)
    assert tokens and all(len(t) > 8 for t in tokens)
    masked = [line.removeprefix("::add-mask::") for line in out.out.splitlines() if line.startswith("::add-mask::")]
    assert PASSWORD in masked and all(t in masked for t in tokens)  # masked the moment they existed
    printed = "\n".join(line for line in out.out.splitlines() if not line.startswith("::add-mask::")) + out.err
    everything = [
        printed,
        json.dumps(report),
        (actions / "summary.md").read_text(),
        (actions / "output").read_text(),
    ]
    for text in everything:
        for secret in [PASSWORD, *tokens]:
            assert secret not in text
    assert parse_outputs((actions / "output").read_text())["passed"] == ("true" if not mode else "false")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("flows:\n  - name: a\n    steps:\n      - name: s\n        method: POST\n        url: http://x/\n"
         "        retry: {attempts: 3}\n",
         "spec.yml:4: flows.0.steps.0: step 's': retry on a POST would send it again"),
        ("flows:\n  - name: a\n    steps:\n      - name: s\n        url: http://x/{nope}\n",
         "spec.yml:5: flows.0.steps.0.url: {nope} is not a built-in, a var, a secret or captured by an earlier step"),
        ("flows:\n  - name: a\n    steps:\n      - name: s\n        url: http://x/\n        expect: {stauts: 200}\n",
         "spec.yml:6: unknown key 'flows.0.steps.0.expect.stauts'"),
        ("flows:\n  - name: a\n    steps:\n      - name: s\n        url: http://x/\n"
         "        expect: {jwt: {t: {differs_from: old}}}\n",
         "spec.yml:6: flows.0.steps.0.expect.jwt.t.differs_from: 'old' is not captured by an earlier step"),
        ("flows: [\n", "spec.yml:2: not valid YAML"),
        ("flows: []\n", "spec.yml:1: flows: List should have at least 1 item"),
    ],
)  # fmt: skip
def test_a_bad_spec_names_the_key_and_line_and_exits_2(
    spec: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "spec.yml"
    path.write_text(spec)
    assert run_cli(["smoke", "--spec", str(path), "--api-url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_post_with_idempotent_true_may_retry() -> None:
    text = "flows:\n  - name: a\n    steps:\n      - {name: s, method: PUT, url: 'http://x/', retry: {attempts: 2}}\n"
    assert smoke_spec.parse(text, "s.yml").flows[0].steps[0].attempts == 2
    text = text.replace("PUT", "POST").replace("retry:", "idempotent: true, retry:")
    assert smoke_spec.parse(text, "s.yml").flows[0].steps[0].attempts == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--spec", "missing.yml"], "--spec missing.yml: no such file"),
        (["--spec", str(EXAMPLE)], "--api-url is required: the spec uses {api_url}"),
        (["--spec", str(EXAMPLE), "--api-url", "http://x", "--flow", "nope"], "--flow 'nope': not in the spec"),
        (["--spec", str(EXAMPLE), "--api-url", "http://x", "--var", "=x"], "--var '': expected NAME=VALUE"),
    ],
)
def test_bad_smoke_input_is_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["smoke", *args]) == 2
    assert message in capsys.readouterr().err


def test_a_missing_secret_is_exit_2_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SMOKE_PASSWORD")
    assert run_cli(["smoke", "--spec", str(EXAMPLE), "--api-url", "http://127.0.0.1:9"]) == 2
    assert "secret 'password': environment variable SMOKE_PASSWORD is not set" in capsys.readouterr().err


def test_flow_selects_flows_and_a_missing_capture_skips_instead_of_sending(tmp_path: Path) -> None:
    app = smoke_app()
    code, report = run_app(app, EXAMPLE, tmp_path, "--flow", "chat")
    assert code == 1 and [f["name"] for f in report["flows"]] == ["chat"]
    assert steps(report)["chat/stream"][0] == "skipped" and app.posts("/api/v1/chat/stream") == 0
