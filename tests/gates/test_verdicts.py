"""verify-gates against a fake GitHub built from recorded payloads: one behaviour per test."""

from __future__ import annotations

from datetime import timedelta

import pytest

from release_kit.errors import AccessError
from tests.fakes.clock import FakeClock
from tests.fakes.github import NOW, RUNBOOK_WORKFLOWS, FakeGitHub, sha_of
from tests.gates.conftest import Check


def run_of(fake: FakeGitHub, name: str, sha: str) -> dict:  # type: ignore[type-arg]
    return next(r for r in fake.runs if r["name"] == name and r["head_sha"] == sha)


def test_all_green_passes_every_gate_with_evidence_links(fake: FakeGitHub, sha: str, check: Check) -> None:
    out = check()
    assert out.code == 0
    assert out.report["passed"] is True and out.report["sha"] == sha
    assert [g["name"] for g in out.report["gates"]] == RUNBOOK_WORKFLOWS
    assert set(out.verdicts.values()) == {"pass"}
    assert out.gate("Backend CI")["url"] == run_of(fake, "Backend CI", sha)["html_url"]


def test_request_budget_for_the_runbook_policy(fake: FakeGitHub, sha: str, check: Check) -> None:
    out = check()
    assert out.report["requests"] == len(fake.requests) <= 40


def test_a_failed_run_fails_its_gate(fake: FakeGitHub, sha: str, check: Check) -> None:
    run_of(fake, "Contracts CI", sha)["conclusion"] = "failure"
    out = check()
    assert out.code == 1 and out.report["passed"] is False
    assert out.gate("Contracts CI")["verdict"] == "fail"
    assert "failed" in out.gate("Contracts CI")["reason"]
    assert out.gate("Contracts CI")["url"] == run_of(fake, "Contracts CI", sha)["html_url"]
    assert out.gate("Backend CI")["verdict"] == "pass"


def test_a_missing_workflow_is_missing_never_a_pass(fake: FakeGitHub, sha: str, check: Check) -> None:
    fake.workflows = [w for w in fake.workflows if w["name"] != "Providers CI"]
    out = check()
    assert out.code == 1
    gate = out.gate("Providers CI")
    assert gate["verdict"] == "missing" and gate["url"] is None and gate["fix"] is None
    assert gate["reason"].startswith("no workflow named 'Providers CI'; this repository has: ")


def test_no_run_for_the_commit_is_missing(fake: FakeGitHub, sha: str, check: Check) -> None:
    fake.runs.remove(run_of(fake, "Frontend CI", sha))
    fake.add_run("Frontend CI", sha_of("older commit"))
    out = check()
    assert out.gate("Frontend CI")["verdict"] == "missing"
    assert sha[:7] in out.gate("Frontend CI")["reason"]


def test_runs_from_forks_and_other_events_do_not_count(fake: FakeGitHub, sha: str, check: Check) -> None:
    fake.runs.remove(run_of(fake, "Frontend CI", sha))
    fake.add_run("Frontend CI", sha, event="pull_request")
    fake.add_run("Frontend CI", sha, event="push", head_repository="mallory/app")
    out = check()
    assert out.gate("Frontend CI")["verdict"] == "missing"
    assert "2 run(s) from other events or forks ignored" in out.gate("Frontend CI")["reason"]


def test_newer_run_in_progress_is_pending_not_the_older_green(fake: FakeGitHub, sha: str, check: Check) -> None:
    fake.add_run(
        "Backend CI",
        sha,
        status="in_progress",
        conclusion=None,
        created_at=NOW - timedelta(minutes=5),
    )
    out = check()
    assert out.code == 1
    gate = out.gate("Backend CI")
    assert gate["verdict"] == "pending"
    assert "in_progress" in gate["reason"] and "1 older successful run(s) do not count" in gate["reason"]


def test_a_rerun_decides_by_its_new_start_time(fake: FakeGitHub, sha: str, check: Check) -> None:
    fake.runs.remove(run_of(fake, "Backend CI", sha))
    # run A started first, then run B succeeded, then A was re-run (same id, attempt 2) and failed
    fake.add_run(
        "Backend CI",
        sha,
        conclusion="failure",
        created_at=NOW - timedelta(hours=3),
        run_started_at=NOW - timedelta(minutes=10),
        run_attempt=2,
    )
    fake.add_run("Backend CI", sha, created_at=NOW - timedelta(hours=2))
    gate = check().gate("Backend CI")
    assert gate["verdict"] == "fail" and "attempt 2" in gate["reason"]


def test_a_successful_rerun_attempt_passes(fake: FakeGitHub, sha: str, check: Check) -> None:
    run = run_of(fake, "Backend CI", sha)
    run.update(run_attempt=3)
    gate = check().gate("Backend CI")
    assert gate["verdict"] == "pass" and "attempt 3" in gate["reason"]


@pytest.mark.parametrize(
    "conclusion",
    ["skipped", "neutral", "cancelled", "timed_out", "action_required", "stale", "startup_failure"],
)
def test_only_success_passes(fake: FakeGitHub, sha: str, check: Check, conclusion: str) -> None:
    run_of(fake, "Providers CI", sha)["conclusion"] = conclusion
    gate = check().gate("Providers CI")
    assert gate["verdict"] == "fail"
    assert conclusion.split("_")[0] in gate["reason"] or "approval" in gate["reason"]


def test_stale_scheduled_scan(fake: FakeGitHub, sha: str, check: Check) -> None:
    nightly = next(r for r in fake.runs if r["name"] == "CodeQL" and r["event"] == "schedule")
    old = (NOW - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    nightly.update(created_at=old, run_started_at=old)
    out = check()
    gate = out.gate("CodeQL")
    assert gate["verdict"] == "stale" and "10.0 days old (limit 7 days)" in gate["reason"]
    assert gate["url"] == nightly["html_url"]


def test_failed_scheduled_scan_is_not_fresh(fake: FakeGitHub, sha: str, check: Check) -> None:
    nightly = next(r for r in fake.runs if r["name"] == "Secrets Scan" and r["event"] == "schedule")
    nightly["conclusion"] = "failure"
    assert check().gate("Secrets Scan")["verdict"] == "stale"


def test_no_scheduled_run_at_all_is_stale(fake: FakeGitHub, sha: str, check: Check) -> None:
    fake.runs = [r for r in fake.runs if not (r["name"] == "CodeQL" and r["event"] == "schedule")]
    assert check().gate("CodeQL")["verdict"] == "stale"


def test_disabled_workflow_fails_with_its_state(fake: FakeGitHub, sha: str, check: Check) -> None:
    fake.workflow("Secrets Scan")["state"] = "disabled_inactivity"
    gate = check().gate("Secrets Scan")
    assert gate["verdict"] == "fail" and "disabled_inactivity" in gate["reason"]


def test_open_alert_at_threshold_fails_and_below_passes(fake: FakeGitHub, sha: str, check: Check) -> None:
    fake.add_code_alert("Trivy", "medium", severity="warning")
    assert check().gate("build-images")["verdict"] == "pass"
    alert = fake.add_code_alert("Trivy", "critical")
    fake.add_code_alert("Trivy", None, severity="error")  # no security level: rule severity error counts as high
    gate = check().gate("build-images")
    assert gate["verdict"] == "fail"
    assert "2 open Trivy alert(s) at or above high" in gate["reason"] and "1 critical, 1 high" in gate["reason"]
    assert gate["url"] == alert["html_url"]


def test_threshold_is_configurable(fake: FakeGitHub, sha: str, check: Check) -> None:
    fake.add_code_alert("CodeQL", "medium", severity="warning")
    config = (
        "gates:\n  gates:\n    - name: CodeQL\n      code_scanning_tool: CodeQL\n      severity_threshold: medium\n"
    )
    assert check(config=config).gate("CodeQL")["verdict"] == "fail"


def test_advanced_security_disabled_is_a_configuration_error(fake: FakeGitHub, sha: str, check: Check) -> None:
    fake.code_scanning_error = (
        403,
        "Advanced Security must be enabled for this repository to use code scanning.",
    )
    with pytest.raises(AccessError) as info:
        check()
    assert "Advanced Security" in info.value.one_line() and "enable GitHub Advanced Security" in info.value.one_line()


def test_open_secret_alert_fails_and_unreadable_alerts_are_an_error(
    fake: FakeGitHub, sha: str, check: Check, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    fake.add_secret_alert()
    gate = check().gate("Secrets Scan")
    assert gate["verdict"] == "fail" and "1 open secret-scanning alert(s) (Adafruit IO Key)" in gate["reason"]
    assert "aio_" not in str(gate)  # the leaked secret itself never reaches the report
    fake.secret_alerts.clear()
    fake.secret_scanning_error = (403, "Resource not accessible by integration")
    with pytest.raises(AccessError, match="secret-scanning"):
        check()
    import json

    report = json.loads((tmp_path / "report.json").read_text())
    assert next(g for g in report["gates"] if g["name"] == "Secrets Scan")["verdict"] == "error"


def test_dependency_review_needs_a_pull_request(fake: FakeGitHub, sha: str, check: Check) -> None:
    fake.pulls.clear()
    gate = check().gate("Dependency Review")
    assert gate["verdict"] == "fail" and "without a pull request" in gate["reason"]
    config = (
        "gates:\n  gates:\n    - name: Dependency Review\n      events: [pull_request]\n"
        "      pull_request: true\n      allow_direct_push: true\n"
    )
    assert check(config=config).gate("Dependency Review")["verdict"] == "pass"


def test_dependency_review_failed_on_the_pr_head(fake: FakeGitHub, sha: str, check: Check) -> None:
    head = fake.pulls[sha][0]["head"]["sha"]
    fake.add_run(
        "Dependency Review",
        head,
        event="pull_request",
        conclusion="failure",
        created_at=NOW - timedelta(minutes=1),
    )
    gate = check().gate("Dependency Review")
    assert gate["verdict"] == "fail" and "PR #42" in gate["reason"]


def test_pagination_is_followed_past_100_items(fake: FakeGitHub, sha: str, check: Check) -> None:
    for i in range(160):
        fake.add_check_run(sha, f"matrix-{i}")
    fake.add_check_run(sha, "third-party/license", app_id=77)
    for i in range(120):
        fake.add_workflow(f"extra-{i}")
    wf = fake.add_workflow("Late CI")
    fake.add_run(wf, sha)
    config = (
        "gates:\n  gates:\n    - name: Late CI\n      check_runs:\n"
        "        - name: third-party/license\n          app_id: 77\n"
        "    - name: Wrong app\n      workflow: Late CI\n      check_runs:\n"
        "        - name: third-party/license\n          app_id: 5\n"
    )
    out = check(config=config)
    assert out.verdicts == {"Late CI": "pass", "Wrong app": "missing"}
    assert fake.count(r"/check-runs$") >= 2 and fake.count(r"/actions/workflows$") == 2


def test_annotated_tag_is_peeled_to_its_commit(fake: FakeGitHub, sha: str, check: Check) -> None:
    fake.add_annotated_tag("v2.0.0", sha)
    out = check("v2.0.0")
    assert out.report["sha"] == sha and out.code == 0


def test_branch_and_sha_refs(fake: FakeGitHub, sha: str, check: Check) -> None:
    assert check("main").report["sha"] == sha
    assert check(sha).report["sha"] == sha
    assert check(sha[:10]).report["sha"] == sha


def test_rate_limits_are_waited_out_on_the_clock(fake: FakeGitHub, sha: str, check: Check) -> None:
    clock = FakeClock()
    reset = int(clock.now()) + 30
    fake.fail(
        "GET",
        r"/actions/runs$",
        403,
        body={"message": "API rate limit exceeded"},
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
    )
    fake.fail("GET", r"/actions/workflows$", 429, body={"message": "slow"}, headers={"retry-after": "5"})
    out = check(clock=clock)
    assert out.code == 0
    assert clock.sleeps[0] == 5.0  # Retry-After
    assert clock.now() == reset + 1  # then waited exactly until the rate limit reset


def test_waits_for_pending_gates_until_they_finish(fake: FakeGitHub, sha: str, check: Check) -> None:
    run = fake.add_run(
        "Backend CI",
        sha,
        status="in_progress",
        conclusion=None,
        created_at=NOW - timedelta(minutes=5),
    )
    clock = FakeClock()
    original = clock.sleep

    def finish_later(seconds: float) -> None:
        original(seconds)
        if len(clock.sleeps) == 2:
            run.update(status="completed", conclusion="success")

    clock.sleep = finish_later  # type: ignore[method-assign]
    out = check(clock=clock, wait=300)
    assert out.code == 0 and len(clock.sleeps) == 2
    revalidated = [r for r in fake.requests if "if-none-match" in r.headers]
    assert revalidated and any(r.url.path.endswith("/actions/workflows") for r in revalidated)


def test_wait_has_a_hard_deadline(fake: FakeGitHub, sha: str, check: Check) -> None:
    fake.add_run("Backend CI", sha, status="queued", conclusion=None, created_at=NOW - timedelta(minutes=5))
    clock = FakeClock()
    out = check(clock=clock, wait=60)
    assert out.gate("Backend CI")["verdict"] == "pending" and out.code == 1
    assert sum(clock.sleeps) <= 60
