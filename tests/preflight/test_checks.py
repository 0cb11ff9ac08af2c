"""The pure checks and the report: facts built in memory, no cloud."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from release_kit.preflight.checks import Check, Verdict, judge, looks_like_credential
from release_kit.preflight.facts import Container, DatabaseBackup, Facts, RedisBackup, SecretMeta, SecretRef, Service
from release_kit.preflight.report import build_report, publish, text
from release_kit.preflight.run import mask_literals
from release_kit.target.settings import DeploySettings

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SM = SecretMeta(store="Secrets Manager", exists=True, last_changed=NOW - timedelta(days=3))


def service(role: str, env: dict[str, str], *, ceiling: int = 1, low: int = 1, **kw: object) -> Service:
    secrets = {n: SecretRef(reference=f"arn:{n}", meta=SM) for n in ("DATABASE_URL", "REDIS_URL")}
    container = Container(name=role, env=env, secrets=secrets, **kw)  # type: ignore[arg-type]
    return Service(
        role=role,
        name=f"agent-{role}",
        revision=f"agent-{role}:3",
        container=container,
        min_replicas=low,
        max_replicas=ceiling,
        deployment_started=NOW - timedelta(days=1),
    )


def facts(*services: Service, **kw: object) -> Facts:
    return Facts(
        platform="ecs",
        services={s.role: s for s in services},
        database=DatabaseBackup(id="pg", kind="rds_instance", retention_days=7, latest_restorable=NOW),
        redis=RedisBackup(id="r", kind="elasticache_cluster", retention_days=1),
        **kw,  # type: ignore[arg-type]
    )


SETTINGS = DeploySettings.model_validate(
    {"backups": {"database": {"rds_instance": "pg"}, "redis": {"elasticache_cluster": "r"}}}
)


def verdicts(rows: list) -> dict[tuple[str, str], Verdict]:  # type: ignore[type-arg]
    return {(r.check, r.subject): r.verdict for r in rows}


@pytest.mark.parametrize(
    ("value", "verdict"),
    [("false", "pass"), ("FALSE", "pass"), ("0", "pass"), ("No", "pass"), ("true", "fail"), ("", "fail")],
)
def test_required_booleans_compare_case_insensitively(value: str, verdict: str) -> None:
    rows = judge(SETTINGS, facts(service("api", {"AUTO_RUN_MIGRATIONS": value}), service("web", {})), NOW)
    assert verdicts(rows)[("env", "api/AUTO_RUN_MIGRATIONS")] == verdict


def test_a_one_replica_api_with_inline_billing_and_no_worker_passes() -> None:
    api = service("api", {"AUTO_RUN_MIGRATIONS": "false", "ENABLE_BILLING_RETRY_WORKER": "true"})
    rows = judge(SETTINGS, facts(api, service("web", {})), NOW)
    got = verdicts(rows)
    assert got[("billing_topology", "api")] == "pass"
    assert ("billing_topology", "worker") not in got


def test_billing_flags_that_may_come_from_an_environment_file_are_unknown_never_pass() -> None:
    api = service("api", {"AUTO_RUN_MIGRATIONS": "false"}, ceiling=3, environment_files=["arn:aws:s3:::b/api.env"])
    worker = service(
        "worker",
        {
            "ENABLE_BILLING_RETRY_WORKER": "true",
            "ENABLE_BILLING_STREAM_REPLAY": "true",
            "BILLING_RETRY_DEPLOYMENT_MODE": "dedicated",
        },
    )
    rows = judge(SETTINGS, facts(api, service("web", {}), worker), NOW)
    assert verdicts(rows)[("billing_topology", "api")] == "unknown"
    assert verdicts(rows)[("billing_topology", "worker")] == "pass"


def test_an_unknown_replica_ceiling_is_unknown() -> None:
    api = service("api", {}).model_copy(update={"max_replicas": None})
    rows = judge(SETTINGS, facts(api, service("web", {}), notes={"replicas": "offline"}), NOW)
    row = next(r for r in rows if r.check == "billing_topology")
    assert row.verdict == "unknown" and "offline" in row.reason


def test_backups_retention_lag_and_missing_restorable_time() -> None:
    base = facts(service("api", {}), service("web", {}))
    stale = base.model_copy(
        update={
            "database": DatabaseBackup(
                id="pg", kind="rds_instance", retention_days=7, latest_restorable=NOW - timedelta(hours=25)
            )
        }
    )
    assert verdicts(judge(SETTINGS, stale, NOW))[("database_backup", "pg")] == "fail"
    fresh = base.model_copy(
        update={
            "database": DatabaseBackup(
                id="pg", kind="rds_instance", retention_days=7, latest_restorable=NOW - timedelta(hours=23)
            )
        }
    )
    assert verdicts(judge(SETTINGS, fresh, NOW))[("database_backup", "pg")] == "pass"
    none = base.model_copy(update={"database": DatabaseBackup(id="pg", kind="rds_instance", retention_days=7)})
    assert verdicts(judge(SETTINGS, none, NOW))[("database_backup", "pg")] == "unknown"
    off = base.model_copy(update={"database": DatabaseBackup(id="pg", kind="rds_instance", retention_days=0)})
    row = next(r for r in judge(SETTINGS, off, NOW) if r.check == "database_backup")
    assert row.verdict == "fail" and "automated backups are off" in row.reason


def test_nothing_named_for_backups_warns_rather_than_passing_silently() -> None:
    rows = judge(DeploySettings(), facts(service("api", {}), service("web", {})), NOW)
    assert verdicts(rows)[("database_backup", "database")] == "warn"
    assert verdicts(rows)[("redis_backup", "redis")] == "warn"


def test_a_rotation_secret_no_service_references_warns() -> None:
    settings = SETTINGS.model_copy(update={"rotation": ["JWT_SIGNING_KEY"]})
    rows = judge(settings, facts(service("api", {}), service("web", {})), NOW)
    assert verdicts(rows)[("rotation", "*/JWT_SIGNING_KEY")] == "warn"


@pytest.mark.parametrize(
    ("name", "value", "credential"),
    [
        ("STRIPE_API_KEY", "x", True),
        ("WEBHOOK_SECRET", "x", True),
        ("GITHUB_TOKEN", "x", True),
        ("DB_PASSWORD_FILE", "x", True),
        ("SENTRY_DSN", "https://abc@o1.ingest.sentry.io/1", False),  # a user, no password
        ("CACHE", "redis://:pw@host:6379/0", True),
        ("KEYCLOAK_URL", "https://id.example.test", False),
        ("LOG_LEVEL", "info", False),
    ],
)
def test_what_looks_like_a_credential(name: str, value: str, credential: bool) -> None:
    assert looks_like_credential(name, value) is credential


def test_failures_come_first_and_unknown_blocks_unless_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    api = service(
        "api",
        {"AUTO_RUN_MIGRATIONS": "true", "API_TOKEN": "tok-very-private-1"},
        environment_files=["arn:aws:s3:::b/x.env"],
    )
    rows = judge(SETTINGS, facts(api, service("web", {})), NOW)
    report = build_report("ecs", rows, 7, allow_unknown=True)
    assert report.passed is False
    order = [r.verdict for r in report.checks]
    assert order == sorted(order, key=["fail", "unknown", "warn", "pass"].index)
    assert text(report).splitlines()[3].split()[2] == "FAIL"

    # in Actions: summary table, ::error per fail, ::warning per warn, outputs
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("RUNNER_TEMP", str(tmp_path))
    mask_literals(SETTINGS, facts(api))
    assert publish(report, None, "text", allow_unknown=True) == 1
    out = capsys.readouterr().out
    assert "::add-mask::tok-very-private-1" in out  # before anything else prints
    out = "\n".join(line for line in out.splitlines() if not line.startswith("::add-mask::"))
    assert "::error title=preflight env api/AUTO_RUN_MIGRATIONS (fail)::" in out
    assert "::warning title=preflight plain_secret api/API_TOKEN (warn)::" in out
    assert "| env | `api/AUTO_RUN_MIGRATIONS` | ❌ fail |" in summary.read_text()
    assert "passed<<ghadelimiter_" in output.read_text() and "\nfalse\n" in output.read_text()
    saved = json.loads((tmp_path / "release-kit" / "preflight.json").read_text())
    assert saved["calls"] == 7 and saved["passed"] is False
    assert "tok-very-private-1" not in out + summary.read_text()


# -- variables read as the app reads them (deploy.app_defaults) ---------------------------------


def rows_by(rows: list[Check]) -> dict[tuple[str, str], Check]:
    return {(r.check, r.subject): r for r in rows}


DEDICATED = {
    "ENABLE_BILLING_RETRY_WORKER": "true",
    "ENABLE_BILLING_STREAM_REPLAY": "true",
    "BILLING_RETRY_DEPLOYMENT_MODE": "dedicated",
}


def test_unset_billing_flags_on_a_one_replica_api_beside_a_worker_are_double_processing() -> None:
    # the app defaults both flags to true: the API retries inline while the worker does too
    api = service("api", {"AUTO_RUN_MIGRATIONS": "false"})
    rows = rows_by(judge(SETTINGS, facts(api, service("web", {}), service("worker", DEDICATED)), NOW))
    row = rows[("billing_topology", "api")]
    assert row.verdict == "warn"
    assert "ENABLE_BILLING_RETRY_WORKER unset: the app's default true applies" in row.reason
    assert "double processing" in row.reason


def test_a_team_that_corrects_the_apps_defaults_is_judged_by_its_own() -> None:
    settings = SETTINGS.model_copy(
        update={"app_defaults": {"ENABLE_BILLING_RETRY_WORKER": "false", "ENABLE_BILLING_STREAM_REPLAY": "false"}}
    )
    api = service("api", {"AUTO_RUN_MIGRATIONS": "false"})
    rows = rows_by(judge(settings, facts(api, service("web", {}), service("worker", DEDICATED)), NOW))
    assert rows[("billing_topology", "api")].verdict == "pass"


def test_an_unset_variable_whose_default_is_safe_passes_and_says_so() -> None:
    rows = rows_by(judge(SETTINGS, facts(service("api", {}), service("web", {})), NOW))
    row = rows[("env", "api/AUTO_RUN_MIGRATIONS")]
    assert row.verdict == "pass"
    assert row.reason == "unset: the app's default 'false' applies"


def test_an_unset_variable_whose_default_is_wrong_fails_naming_the_default() -> None:
    settings = SETTINGS.model_copy(update={"app_defaults": {"AUTO_RUN_MIGRATIONS": "true"}})
    rows = rows_by(judge(settings, facts(service("api", {}), service("web", {})), NOW))
    row = rows[("env", "api/AUTO_RUN_MIGRATIONS")]
    assert row.verdict == "fail"
    assert "the app's default 'true' applies, expected 'false'" in row.reason


def test_a_variable_without_a_known_default_that_is_unset_still_fails() -> None:
    settings = SETTINGS.model_copy(update={"app_defaults": {}})
    rows = rows_by(judge(settings, facts(service("api", {}), service("web", {})), NOW))
    assert rows[("env", "api/AUTO_RUN_MIGRATIONS")].verdict == "fail"


@pytest.mark.parametrize("value", ["on", "ON", "Yes", "1", "TRUE"])
def test_booleans_read_as_the_apps_settings_library_reads_them(value: str) -> None:
    api = service("api", {"AUTO_RUN_MIGRATIONS": "false", "ENABLE_BILLING_RETRY_WORKER": value}, ceiling=3)
    worker = service("worker", DEDICATED)
    rows = rows_by(judge(SETTINGS, facts(api, service("web", {}), worker), NOW))
    row = rows[("billing_topology", "api")]
    assert row.verdict == "fail"
    assert "ENABLE_BILLING_RETRY_WORKER is 'true'" in row.reason


def test_a_dedicated_worker_passing_on_the_apps_defaults_says_so() -> None:
    api = service(
        "api",
        {"AUTO_RUN_MIGRATIONS": "off", "ENABLE_BILLING_RETRY_WORKER": "Off", "ENABLE_BILLING_STREAM_REPLAY": "0"},
        ceiling=3,
    )
    worker = service("worker", {"BILLING_RETRY_DEPLOYMENT_MODE": "dedicated"})
    rows = rows_by(judge(SETTINGS, facts(api, service("web", {}), worker), NOW))
    assert rows[("billing_topology", "api")].verdict == "pass"
    row = rows[("billing_topology", "worker")]
    assert row.verdict == "pass"
    assert "ENABLE_BILLING_STREAM_REPLAY unset: the app's default true applies" in row.reason
