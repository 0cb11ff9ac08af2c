"""release-kit health against a real fault server on 127.0.0.1: verdicts, reasons and the strict deadline."""

from __future__ import annotations

import json
import re
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from release_kit import gha
from release_kit.cli import run_cli
from release_kit.probes.health import HealthOptions, poll
from release_kit.probes.models import HealthReport, Verdict
from release_kit.probes.verdicts import Expectations, compile_expr, parse_expect_json
from tests.fakes import runner, runner_log
from tests.probes.fault_server import HOSTILE_PATHS, FaultServer, free_port, serve, tls_files
from tests.test_gha import parse_outputs

DEADLINE_SLACK = 0.5  # the promise: the verdict comes by deadline + 0.5 s


@pytest.fixture(scope="module")
def fault() -> Iterator[tuple[FaultServer, str]]:
    server = FaultServer(ready_after=0.6)
    with serve(server) as url:
        yield server, url


def by_path(report: HealthReport) -> dict[str, tuple[str, str, int | None]]:
    return {e.url.rsplit("/", 1)[1]: (e.verdict.value, e.reason, e.last_status) for e in report.endpoints}


def test_the_fault_matrix_gives_no_false_green_and_the_verdict_keeps_the_deadline(
    fault: tuple[FaultServer, str],
) -> None:
    server, url = fault
    paths = ["warmup-404", "warmup-503", "degraded", "mixed", "flapping", "redirect", "big", "stall", "slow-body"]
    options = HealthOptions(
        urls=tuple(f"{url}/{p}" for p in paths),
        deadline=2.5,
        attempt_timeout=1.0,
        interval=0.15,
        consecutive=3,
        expect=Expectations(
            json=(parse_expect_json("status=ready"),), version="1.4.0", version_expr=compile_expr("version", "")
        ),
    )
    server.reset()
    start = time.monotonic()
    report = poll(options)
    elapsed = time.monotonic() - start
    assert elapsed <= options.deadline + DEADLINE_SLACK
    got = by_path(report)
    assert got["warmup-404"][0] == got["warmup-503"][0] == "pass"  # warm-up is retried, not fatal
    assert got["degraded"] == ("fail", 'json status = "degraded", expected "ready"', 200)
    assert got["mixed"][0] == "fail" and got["mixed"][1].startswith("version 1.3.9, expected 1.4.0 (")
    assert "of the last 5 answers); never 3 passing answers in a row" in got["mixed"][1]
    assert got["flapping"][0] == "fail" and got["flapping"][1].startswith("status 503, expected 200 (")
    assert got["redirect"] == ("fail", "redirect 302 to /login (not followed)", 302)
    assert got["big"][0] == "fail" and got["big"][1].startswith("body over 1024 KiB, not judged")
    assert got["stall"][0] == "fail" and "no answer within the attempt's time" in got["stall"][1]
    assert got["slow-body"][0] == "fail"  # a body that never ends is cut off at the attempt's time
    assert not report.passed
    warm = next(e for e in report.endpoints if e.url.endswith("warmup-503"))
    assert warm.healthy_after_s is not None and 0.6 <= warm.healthy_after_s <= 0.6 + 3 * 0.15 * 1.2 + 1.0
    assert warm.attempts >= 3 and warm.last_status == 200


def test_the_last_attempt_is_clamped_to_the_time_left(fault: tuple[FaultServer, str]) -> None:
    _, url = fault
    start = time.monotonic()
    report = poll(HealthOptions(urls=(f"{url}/stall",), deadline=1.2, attempt_timeout=5.0, interval=0.1))
    assert time.monotonic() - start <= 1.2 + DEADLINE_SLACK
    assert report.endpoints[0].verdict is Verdict.FAIL and report.endpoints[0].attempts == 1


def test_connection_refused_during_warm_up_is_retried_until_the_service_listens() -> None:
    port = free_port()
    with serve(FaultServer(), port=port, after=0.7) as url:
        start = time.monotonic()
        report = poll(HealthOptions(urls=(f"{url}/ready",), deadline=5, interval=0.2, consecutive=2))
    endpoint = report.endpoints[0]
    assert endpoint.verdict is Verdict.PASS, endpoint.reason
    assert endpoint.healthy_after_s is not None and endpoint.healthy_after_s >= 0.7
    assert time.monotonic() - start < 0.7 + 0.2 * 1.2 * 3 + 0.6  # within about one interval of ready


def test_refused_until_the_deadline_fails_naming_the_cause() -> None:
    report = poll(HealthOptions(urls=(f"http://127.0.0.1:{free_port()}/health/ready",), deadline=0.6, interval=0.1))
    assert report.endpoints[0].reason == "no answer (ConnectError)"
    assert report.endpoints[0].last_status is None


def test_tls_is_verified_and_a_private_ca_is_trusted_with_ca_bundle(tmp_path: Path) -> None:
    ca, context = tls_files(tmp_path)
    with serve(FaultServer(), tls=context) as url:
        assert url.startswith("https://")
        start = time.monotonic()
        untrusted = run_cli(
            ["health", "--url", f"{url}/ready", "--deadline", "5", "--report", str(tmp_path / "a.json")]
        )
        assert untrusted == 1 and time.monotonic() - start < 2  # not transient: no waiting for the deadline
        reason = json.loads((tmp_path / "a.json").read_text())["endpoints"][0]["reason"]
        assert "TLS certificate not trusted" in reason
        trusted = run_cli(
            ["health", "--url", f"{url}/ready", "--ca-bundle", str(ca), "--interval", "0.1", "--deadline", "5"]
        )
        assert trusted == 0


def test_the_cli_polls_the_runbook_endpoints_and_writes_report_outputs_and_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    app = FaultServer()
    # the runbook's paths: BASE/health/ready and BASE/api/health/ready
    app_answer = app.answer
    monkeypatch.setattr(app, "answer", lambda path: app_answer("/ready" if path.endswith("/health/ready") else path))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    output, summary = tmp_path / "out", tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    with serve(app) as url:
        code = run_cli(
            ["health", "--api-url", url, "--web-url", url + "/", "--interval", "0.05", "--deadline", "5",
             "--expect-json", "status=ready", "--expect-version", "1.4.0", "--format", "json",
             "--report", str(tmp_path / "health.json")]
        )  # fmt: skip
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    report = json.loads((tmp_path / "health.json").read_text())
    assert [e["url"] for e in report["endpoints"]] == [f"{url}/health/ready", f"{url}/api/health/ready"]
    assert report["passed"] is True and all(e["verdict"] == "pass" for e in report["endpoints"])
    assert set(report["endpoints"][0]) == {
        "url", "verdict", "attempts", "healthy_after_s", "last_status", "reason", "started_at", "finished_at",
    }  # fmt: skip
    assert parse_outputs(output.read_text())["passed"] == "true"
    assert printed["passed"] is True
    assert "release-kit health" in summary.read_text()


def test_a_failing_endpoint_is_an_error_annotation_and_exit_1(
    fault: tuple[FaultServer, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, url = fault
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code = run_cli(["health", "--url", f"{url}/degraded", "--deadline", "0.5", "--expect-json", "status=ready"])
    assert code == 1
    out = capsys.readouterr().out
    assert "::error title=health http%3A//127.0.0.1%3A" in out and "/degraded%3A not ready::json status = " in out


def test_header_values_that_carry_credentials_never_appear_in_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    seen: list[str] = []
    server = FaultServer()
    answer = server.answer
    monkeypatch.setattr(server, "answer", lambda path: (seen.append(path), answer("/degraded"))[1])
    token = "health-probe-token-0123456789"
    with serve(server) as url:
        code = run_cli(
            ["health", "--url", f"{url}/x", "--header", f"Authorization: Bearer {token}", "--deadline", "0.4",
             "--expect-json", f"status={token}", "--report", str(tmp_path / "r.json")]
        )  # fmt: skip
    out = capsys.readouterr()
    assert code == 1 and seen
    assert token not in out.out + out.err + (tmp_path / "r.json").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no endpoint to check"),
        (["--url", "ftp://x/health"], "--url 'ftp://x/health': expected an http:// or https:// URL"),
        (["--api-url", "localhost:8000"], "--api-url 'localhost:8000'"),
        (["--url", "http://127.0.0.1:9/x", "--expect-json", "status"], "--expect-json 'status': expected EXPR=VALUE"),
        (["--url", "http://127.0.0.1:9/x", "--header", "no colon"], "--header"),
        (["--url", "http://127.0.0.1:9/x", "--ca-bundle", "/nonexistent/ca.pem"], "--ca-bundle /nonexistent/ca.pem"),
        (["--url", "http://127.0.0.1:9/x", "--version-field", "a[["], "--version-field 'a[['"),
        (["--url", "http://127.0.0.1:9/x", "--consecutive", "0"], "--consecutive"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["health", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_action_inputs_reach_the_command_through_env_one_value_per_line(
    fault: tuple[FaultServer, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, url = fault
    monkeypatch.setenv("RK_URLS", f"{url}/ready\n{url}/degraded")
    monkeypatch.setenv("RK_EXPECT_JSON", "status=ready\nversion=1.4.0")
    monkeypatch.setenv("RK_HEADERS", "Authorization: Bearer env-token-0123456789\nX-Probe: yes please")
    monkeypatch.setenv("RK_EXPECT_STATUS", "200 204")
    monkeypatch.setenv("RK_DEADLINE", "1")
    monkeypatch.setenv("RK_INTERVAL", "0.1")
    monkeypatch.setenv("RK_CA_BUNDLE", "")  # an unset action input arrives as ''
    monkeypatch.setenv("RK_REPORT", str(tmp_path / "r.json"))
    assert run_cli(["health"]) == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert [e["verdict"] for e in report["endpoints"]] == ["pass", "fail"]


def test_the_command_gives_its_verdict_by_the_deadline_plus_half_a_second_on_a_stalled_server(
    fault: tuple[FaultServer, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, url = fault
    start = time.monotonic()
    code = run_cli(["health", "--url", f"{url}/stall", "--url", f"{url}/slow-body", "--deadline", "1.5",
                    "--attempt-timeout", "5", "--format", "json"])  # fmt: skip
    assert time.monotonic() - start <= 1.5 + DEADLINE_SLACK
    assert code == 1
    report = json.loads(capsys.readouterr().out)
    assert [e["verdict"] for e in report["endpoints"]] == ["fail", "fail"]


# the commands release-kit itself writes; any other line starting with :: came from a remote
OUR_COMMANDS = re.compile(
    r"::(error|warning|notice) [^:]*::|::(add-mask|group|endgroup)::|::stop-commands::[0-9a-f]{32}$|::[0-9a-f]{32}::$"
)
CAPTURED = "captured-session-token-0123456789"


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_a_remote_value_in_a_progress_line_cannot_command_the_runner(
    fault: tuple[FaultServer, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    """``##[stop-commands]x`` in a JSON field or a Location, printed raw, would stop the runner's
    command processing: the later ``::add-mask::`` of a captured token would then print the token."""
    _, url = fault
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setattr(sys, "stderr", sys.stdout)  # one stream, in the order the runner reads it
    code = run_cli(["health", "--url", f"{url}/{path}", "--deadline", "0.6", "--interval", "0.1",
                    "--expect-json", "status=ready"])  # fmt: skip
    assert code == 1
    gha.mask(CAPTURED)  # a credential that exists later in the job (a smoke capture, a login)
    print(f"a later step prints {CAPTURED}")
    out = capsys.readouterr().out
    assert ("(not followed)" if path.startswith("location") else "json status = ") in out
    assert "##[" not in out
    assert all(OUR_COMMANDS.match(line.lstrip()) for line in out.splitlines() if line.lstrip().startswith("::"))
    names = [name for name, _ in runner.commands(out)]
    assert names == ["error", "add-mask"]  # the one failing endpoint, then the mask: nothing forged
    shown = "\n".join(runner_log.log(out))
    assert CAPTURED not in shown and "a later step prints ***" in shown


def test_a_reflected_credential_longer_than_the_cut_shows_no_part_of_it(
    fault: tuple[FaultServer, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The expect-json reason quotes the value found: redacted first, then escaped, then cut."""
    _, url = fault
    token = 'rk"' + secrets.token_urlsafe(96) + "\\end"  # longer than the cut, with characters JSON escapes
    code = run_cli(["health", "--url", f"{url}/reflect", "--header", f"Authorization: Bearer {token}",
                    "--deadline", "0.5", "--interval", "0.1", "--expect-json", "status=ready",
                    "--report", str(tmp_path / "r.json")])  # fmt: skip
    assert code == 1
    captured = capsys.readouterr()
    report = (tmp_path / "r.json").read_text()
    assert json.loads(report)["endpoints"][0]["reason"].startswith('json status = "***", expected "ready"')
    escaped = json.dumps(token)[1:-1]
    for text in (captured.out, captured.err, report):
        for form in (token, escaped):
            assert not any(form[i : i + 8] in text for i in range(len(form) - 8)), text
