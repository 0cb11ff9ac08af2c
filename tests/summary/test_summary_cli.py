"""release-kit summary on the reports a job really writes: one summary, every step, bad files named and skipped."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from release_kit import timing
from release_kit.cli import run_cli
from tests.fakes import runner
from tests.probes.fault_server import FaultServer, serve
from tests.summary.gantt_grammar import mermaid_blocks, parse
from tests.test_gha import parse_outputs

T0 = datetime(2026, 12, 8, 2, 34, 7, tzinfo=UTC)


@pytest.fixture
def actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A runner's environment: the job's temp folder, step summary, outputs and run."""
    for name, value in {
        "GITHUB_ACTIONS": "true",
        "RUNNER_TEMP": str(tmp_path / "temp"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_RUN_ID": "4242",
    }.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "temp" / "release-kit").mkdir(parents=True)
    yield tmp_path


def stamped(what: str, start: float, took: float, **fields: object) -> dict[str, object]:
    return {
        "command_path": f"release-kit {what}",
        "started_at": timing.iso(T0 + timedelta(seconds=start)),
        "finished_at": timing.iso(T0 + timedelta(seconds=start + took)),
        **fields,
    }


def write(folder: Path, name: str, report: object) -> None:
    (folder / name).write_text(json.dumps(report) if not isinstance(report, str) else report)


def test_health_run_twice_in_a_job_keeps_both_reports_and_the_summary_shows_each(
    actions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The health action writes one report path; the api's and the web app's reports both reach the summary.

    Each step is its own process, as on a runner: its start is the process's."""
    app = FaultServer(ready_after=0)
    answer = app.answer
    monkeypatch.setattr(app, "answer", lambda path: answer("/ready" if path.endswith("/health/ready") else path))
    folder = actions / "temp" / "release-kit"
    before = datetime.now(UTC)
    with serve(app) as url:
        for flag in ("--api-url", "--web-url"):
            args = ["health", flag, url, "--interval", "0.05", "--consecutive", "1", "--deadline", "5"]
            done = subprocess.run(
                [sys.executable, "-m", "release_kit", *args, "--report", str(folder / "health.json")],
                capture_output=True,
                text=True,
                check=False,
                env=os.environ.copy(),
                timeout=60,
            )
            assert done.returncode == 0, done.stdout + done.stderr
    after = datetime.now(UTC)
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) == 2 and "health.json" in files  # the web app's at the action's path, the api's beside it
    reports = [json.loads((folder / f).read_text()) for f in files]
    for report in reports:
        assert report["command_path"] == "release-kit health"
        started, finished = timing.parse_iso(report["started_at"]), timing.parse_iso(report["finished_at"])
        assert report["started_at"].endswith("Z") and before - timedelta(seconds=1) <= started <= finished <= after
    assert run_cli(["summary"]) == 0
    summary = (actions / "summary.md").read_text()
    assert "| api health | ✅ pass |" in summary and "| web health | ✅ pass |" in summary
    assert "[run](https://github.com/acme/shop/actions/runs/4242)" in summary
    chart = parse(mermaid_blocks(summary)[0])
    assert [t.name for t in chart.tasks] == ["api health", "web health"]
    assert parse_outputs((actions / "output").read_text())["passed"] == "true"


def deploy_reports(folder: Path, *, smoke_passed: bool) -> None:
    write(folder, "preflight.json", stamped("preflight", 0, 4, platform="ecs", passed=True, checks=[]))
    write(folder, "migrate.json", stamped("migrate", 5, 60, passed=True, verdict="pass", reason="exit 0",
                                          command=["alembic", "upgrade", "head"],
                                          log_url="https://console.aws.amazon.com/cloudwatch/home#logs"))  # fmt: skip
    api = {"role": "api", "service": "api", "image": "r/api@sha256:" + "a" * 64, "verdict": "pass", "reason": "ok"}
    write(
        folder, "deploy.20261208T023512000Z.json", stamped("deploy", 66, 120, platform="ecs", passed=True, roles=[api])
    )
    write(
        folder, "deploy.json", stamped("deploy", 200, 90, platform="ecs", passed=True, roles=[{**api, "role": "web"}])
    )
    ok = {"verdict": "pass", "attempts": 3, "healthy_after_s": 1.0, "last_status": 200, "reason": "ready"}
    api_ready = [{**ok, "url": "https://api.acme.test/health/ready"}]
    web_ready = [{**ok, "url": "https://acme.test/api/health/ready"}]
    write(folder, "health.20261208T023807000Z.json", stamped("health", 187, 12, passed=True, endpoints=api_ready))
    write(folder, "health.json", stamped("health", 291, 8, passed=True, endpoints=web_ready))
    step = {"name": "login", "verdict": "fail", "status": 500, "elapsed_s": 0.2, "reason": "status 500, expected 200"}
    flows = [{"name": "chat", "verdict": "pass" if smoke_passed else "fail",
              "steps": [] if smoke_passed else [step], "failed_at": None if smoke_passed else "login"}]  # fmt: skip
    write(folder, "smoke.json", stamped("smoke", 300, 20, passed=smoke_passed, flows=flows))
    write(folder, "record.json", stamped("record", 321, 1, deployment_id=7, state="failure"))


def test_a_failed_deploy_gets_one_summary_with_every_step_in_runbook_order(actions: Path) -> None:
    folder = actions / "temp" / "release-kit"
    deploy_reports(folder, smoke_passed=False)
    write(folder, "verify-gates.json", stamped("verify-gates", 0, 2, passed=True, gates=[]))  # the other half
    assert run_cli(["summary", "--half", "deploy", "--report", str(actions / "s.json")]) == 0
    summary = (actions / "summary.md").read_text()
    rows = [line.split("|")[1].strip() for line in summary.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[1:] == [
        "preflight", "migrate", "api deploy", "api health", "web deploy", "web health", "smoke", "record",
    ]  # fmt: skip
    assert "| smoke | ❌ fail | 02:39:07 | 02:39:27 | 20.0s |" in summary
    assert "| chat/login: status 500, expected 200 |" in summary  # the innermost failed row, with its path
    assert "[evidence](https://console.aws.amazon.com/cloudwatch/home#logs)" in summary
    assert summary.startswith("### ❌ Deploy failed: smoke")
    chart = parse(mermaid_blocks(summary)[0])
    assert [t.name for t in chart.tasks if "crit" in t.tags] == ["smoke"]
    assert chart.sections == ["Prepare", "Roll out", "Verify", "Record"]
    assert runner.commands(summary) == []
    report = json.loads((actions / "s.json").read_text())
    assert report["command_path"] == "release-kit summary" and report["passed"] is False
    assert [s["key"] for s in report["steps"]][2:6] == ["deploy-api", "health-api", "deploy-web", "health-web"]
    assert parse_outputs((actions / "output").read_text())["passed"] == "false"


def test_a_malformed_report_is_named_and_skipped_never_a_crash(
    actions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = actions / "temp" / "release-kit"
    deploy_reports(folder, smoke_passed=True)
    write(folder, "broken.json", '{"command_path": "release-kit deploy", "started_at": ')
    write(folder, "list.json", [1, 2])
    write(folder, "old.json", {"passed": True, "checks": []})
    write(folder, "badtime.json", stamped("smoke", 0, 1, passed=True) | {"started_at": "yesterday"})
    write(folder, "backwards.json", stamped("smoke", 10, -5, passed=True))
    (folder / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    write(folder, "deep.json", "[" * 100_000 + "]" * 100_000)
    (folder / "huge.json").write_bytes(b" " * (9 * 1024 * 1024))
    (folder / "notes.txt").write_text("not a report")
    assert run_cli(["summary"]) == 0
    summary = (actions / "summary.md").read_text()
    skipped = {line.split(":", 1)[0][2:] for line in summary.splitlines() if line.startswith("- ")}
    assert skipped == {"broken.json", "list.json", "old.json", "badtime.json", "backwards.json", "binary.json",
                       "deep.json", "huge.json"}  # fmt: skip
    assert "| record |" in summary and summary.startswith("### ✅ Deploy passed: 8 steps")
    warnings = [c for c in runner.commands(capsys.readouterr().out) if c[0] == "warning"]
    assert len(warnings) == 8


def test_a_step_that_failed_before_writing_its_report_still_has_its_row(actions: Path) -> None:
    folder = actions / "temp" / "release-kit"
    write(folder, "preflight.json", stamped("preflight", 0, 4, platform="ecs", passed=True, checks=[]))
    outcomes = "preflight=success migrate=failure deploy-api=skipped health-api=skipped smoke=skipped"
    assert run_cli(["summary", "--outcomes", outcomes]) == 0
    summary = (actions / "summary.md").read_text()
    assert "| preflight | ✅ pass |" in summary
    assert "| migrate | ❌ fail | — | — | — |" in summary and "stopped before writing its report" in summary
    assert "| api deploy | ⏭️ skipped |" in summary
    assert summary.startswith("### ❌ Deploy failed: migrate")
    assert [t.name for t in parse(mermaid_blocks(summary)[0]).tasks] == ["preflight"]


def test_the_release_half(actions: Path) -> None:
    folder = actions / "temp" / "release-kit"
    write(folder, "verify-gates.json", stamped("verify-gates", 0, 3, passed=True, gates=[]))
    write(folder, "publish-images.json", stamped("publish-images", 4, 50, registry="ghcr.io", images=[]))
    write(folder, "release-build.json", stamped("release build", 55, 30, passed=True))
    write(
        folder,
        "release-upload.json",
        stamped("release upload", 86, 10, release_url="https://github.com/acme/shop/releases/tag/v1.4.0"),
    )
    write(folder, "release-publish.json", stamped("release publish", 97, 5))
    asset = {"name": "shop-1.4.0.tar.gz", "status": "unverified", "verified": False, "reasons": ["no attestation"]}
    write(folder, "verify-release.json", stamped("verify-release", 103, 8, passed=False, assets=[asset]))
    write(folder, "smoke.json", stamped("smoke", 0, 1, passed=True, flows=[]))  # the deploy half: ignored
    assert run_cli(["summary", "--half", "release", "--format", "json"]) == 0
    summary = (actions / "summary.md").read_text()
    rows = [line.split("|")[1].strip() for line in summary.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[1:] == ["gates", "images", "release build", "release upload", "release publish", "verification"]
    assert "| images | ☑️ done |" in summary
    assert "[evidence](https://github.com/acme/shop/releases/tag/v1.4.0)" in summary
    assert "shop-1.4.0.tar.gz: no attestation" in summary
    chart = parse(mermaid_blocks(summary)[0])
    assert [t.name for t in chart.tasks if "crit" in t.tags] == ["verification"]


def test_no_reports_folder_is_an_empty_summary_and_a_file_is_a_usage_error(actions: Path, tmp_path: Path) -> None:
    assert run_cli(["summary", "--reports", str(tmp_path / "none")]) == 0
    assert "Deploy: no step left a report" in (actions / "summary.md").read_text()
    (tmp_path / "file").write_text("x")
    assert run_cli(["summary", "--reports", str(tmp_path / "file")]) == 2


def test_the_release_jobs_reports_brought_together_as_artifacts_in_their_own_folders(actions: Path) -> None:
    """download-artifact without merge-multiple: one folder per job's artifact."""
    folder = actions / "downloaded"
    for job, name, what, start in [
        ("reports-gates", "verify-gates.json", "verify-gates", 0),
        ("reports-images", "publish-images.json", "publish-images", 10),
        ("reports-release", "release-publish.json", "release publish", 100),
        ("reports-verify", "verify-release.json", "verify-release", 200),
    ]:
        (folder / job).mkdir(parents=True)
        write(folder / job, name, stamped(what, start, 5, passed=True))
    (folder / "reports-verify" / "deeper").mkdir()
    write(folder / "reports-verify" / "deeper", "x.json", stamped("verify-gates", 0, 1, passed=False))  # not read
    assert run_cli(["summary", "--half", "release", "--reports", str(folder)]) == 0
    summary = (actions / "summary.md").read_text()
    rows = [line.split("|")[1].strip() for line in summary.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[1:] == ["gates", "images", "release publish", "verification"]
    assert summary.startswith("### ✅ Release passed: 4 steps")


def test_hostile_text_in_a_report_stays_inert_in_the_table_the_chart_and_the_log(
    actions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = actions / "temp" / "release-kit"
    hostile = "x | y\n::error::forged\n##[warning]forged <script>alert(1)</script> [a](javascript:alert(1))"
    gates = [{"name": hostile, "verdict": "fail", "reason": hostile, "url": "javascript:alert(1)"}]
    write(folder, "verify-gates.json", stamped("verify-gates", 0, 2, passed=False, gates=gates))
    assert run_cli(["summary", "--half", "release"]) == 0
    summary = (actions / "summary.md").read_text()
    out = capsys.readouterr().out
    assert runner.commands(summary) == [] and runner.commands(out) == []
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(summary)  # raw HTML would pass
    assert "<script" not in html
    hrefs = re.findall(r'<a href="([^"]*)"', html)
    assert hrefs == ["https://github.com/acme/shop/actions/runs/4242"]  # the run's: the report's URL is no http(s)
    gates_row = next(line for line in summary.splitlines() if line.startswith("| gates |"))
    assert gates_row.count(" | ") == 6  # seven cells: the pipe in the reason is escaped
    parse(mermaid_blocks(summary)[0])


def test_outcomes_add_no_row_for_a_step_whose_report_is_there_under_a_plainer_name(actions: Path) -> None:
    """Health of custom readiness paths is plain ``health``: its outcomes must not add phantom rows."""
    folder = actions / "temp" / "release-kit"
    ok = {"verdict": "pass", "attempts": 1, "healthy_after_s": 0.1, "last_status": 200, "reason": "ready"}
    bad = {**ok, "verdict": "fail", "reason": "status 503", "url": "https://acme.test/ready"}
    write(
        folder, "health.1.json", stamped("health", 10, 2, passed=True, endpoints=[{**ok, "url": "https://a.test/up"}])
    )
    write(folder, "health.json", stamped("health", 20, 2, passed=False, endpoints=[bad]))
    outcomes = "migrate=cancelled health-api=success health-web=failure smoke=skipped"
    assert run_cli(["summary", "--outcomes", outcomes]) == 0
    summary = (actions / "summary.md").read_text()
    rows = [line.split("|")[1].strip() for line in summary.splitlines() if line.startswith("| ") and "---" not in line]
    # migrate, cancelled before its report: a row; health: its two reports and no more; smoke did not run
    assert rows[1:] == ["migrate", "health", "health 2", "smoke"]
    assert "| migrate | ❌ fail | — |" in summary and "| smoke | ⏭️ skipped |" in summary
