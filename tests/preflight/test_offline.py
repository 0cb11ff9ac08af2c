"""preflight from files alone: --task-definition FILE and --app-file, with no cloud at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from release_kit.cli import run_cli


def task_definition(env: dict[str, str], secrets: dict[str, str], name: str = "api") -> dict[str, Any]:
    return {
        "family": f"agent-{name}",
        "revision": 7,
        "containerDefinitions": [
            {
                "name": name,
                "image": "x",
                "environment": [{"name": k, "value": v} for k, v in env.items()],
                "secrets": [{"name": k, "valueFrom": v} for k, v in secrets.items()],
            },
            {"name": "log-router", "image": "fluent-bit"},
        ],
    }


def write(tmp_path: Path, name: str, doc: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture(autouse=True)
def _no_cloud(monkeypatch: pytest.MonkeyPatch) -> None:
    # any AWS or Azure call would go here and fail: these runs must make none
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AZURE_ARM_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_REGION", "us-east-1")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = run_cli(["preflight", "--format", "json", *args])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if out.out.strip() else {}), out.err


def test_ecs_task_definition_files_are_judged_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"
    api = write(
        tmp_path,
        "api.json",
        {"taskDefinition": task_definition({"AUTO_RUN_MIGRATIONS": "no"}, {"DATABASE_URL": arn, "REDIS_URL": "/r"})},
    )
    web = write(tmp_path, "web.json", task_definition({"SESSION_SECRET": "s" * 20}, {}, "web"))
    args = ["--platform", "ecs", "--task-definition", f"api={api}", "--task-definition", f"web={web}"]
    code, report, _ = run(capsys, *args)
    by = {(c["check"], c["subject"]): c for c in report["checks"]}
    assert report["calls"] == 0
    assert by[("env", "api/AUTO_RUN_MIGRATIONS")]["verdict"] == "pass"
    assert by[("plain_secret", "web/SESSION_SECRET")]["verdict"] == "warn"
    # what needs the cloud is unknown, never pass: the references' existence, the replica ceiling
    assert by[("secret_refs", "api/DATABASE_URL")]["verdict"] == "unknown"
    assert by[("billing_topology", "api")]["verdict"] == "unknown"
    assert "no ECS cluster configured" in by[("billing_topology", "api")]["reason"]
    assert code == 1
    code, report, _ = run(capsys, *args, "--allow-unknown")
    assert code == 0 and report["passed"] is True  # only warn and unknown remain


def test_a_task_definition_file_with_a_literal_secret_fails_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = write(tmp_path, "api.json", task_definition({"AUTO_RUN_MIGRATIONS": "true", "REDIS_URL": "redis://c"}, {}))
    web = write(tmp_path, "web.json", task_definition({}, {}, "web"))
    code, report, _ = run(
        capsys,
        "--platform",
        "ecs",
        "--task-definition",
        f"api={api}",
        "--task-definition",
        f"web={web}",
        "--allow-unknown",
    )
    by = {(c["check"], c["subject"]): c for c in report["checks"]}
    assert code == 1
    assert by[("env", "api/AUTO_RUN_MIGRATIONS")]["verdict"] == "fail"
    assert by[("env", "api/AUTO_RUN_MIGRATIONS")]["fix"].startswith("set AUTO_RUN_MIGRATIONS=false")
    assert by[("secret_refs", "api/REDIS_URL")]["verdict"] == "fail"
    assert by[("secret_refs", "api/DATABASE_URL")]["reason"] == "is not set on container 'api'"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--platform", "ecs", "--service", "api=a", "--service", "web=w"], "no ECS cluster"),
        (
            ["--platform", "ecs", "--task-definition", "api=nope.json", "--cluster", "c", "--service", "web=w"],
            "--task-definition api=nope.json: cannot read it",
        ),
        (["--platform", "ecs", "--task-definition", "cron=x.json"], "unknown role 'cron'"),
        (["--platform", "ecs", "--app-file", "api=x.json"], "--app-file is for container-apps"),
        (["--platform", "container-apps", "--task-definition", "api=x.json"], "--task-definition is for ecs"),
        (["--service", "api=a"], "no deploy platform"),
        (["--platform", "ecs", "--cluster", "c", "--service", "api=a"], "no web service"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = run_cli(["preflight", *args])
    err = capsys.readouterr().err
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("release-kit: error:")]
    assert len(errors) == 1 and message in errors[0] and "Traceback" not in err


def test_a_task_definition_file_without_containers_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, "bad.json", {"family": "x"})
    code = run_cli(
        ["preflight", "--platform", "ecs", "--task-definition", f"api={bad}", "--task-definition", f"web={bad}"]
    )
    assert code == 2
    assert "expected a task definition with containerDefinitions" in capsys.readouterr().err


def test_two_containers_and_none_named_after_the_role_asks_for_deploy_containers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    td = task_definition({}, {}, "app")
    path = write(tmp_path, "td.json", td)
    code = run_cli(
        ["preflight", "--platform", "ecs", "--task-definition", f"api={path}", "--task-definition", f"web={path}"]
    )
    assert code == 2
    assert "set deploy.containers.api or pass --container api=NAME" in capsys.readouterr().err


def test_hand_edited_files_with_odd_shapes_never_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    odd = {"containerDefinitions": [1, {"name": "api", "environment": "oops", "secrets": [None, 3]}]}
    api = write(tmp_path, "api.json", odd)
    web = write(tmp_path, "web.json", task_definition({}, {}, "web"))
    code, report, _ = run(
        capsys, "--platform", "ecs", "--task-definition", f"api={api}", "--task-definition", f"web={web}"
    )
    assert code == 1 and report["checks"]  # judged: nothing set on the api fails
    app = {
        "name": "agent-api",
        "properties": {"template": {"containers": [{"name": "api", "env": "x"}], "scale": {"maxReplicas": "many"}}},
    }
    path = write(tmp_path, "app.json", app)
    code = run_cli(
        ["preflight", "--platform", "container-apps", "--app-file", f"api={path}", "--app-file", f"web={path}"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "scale.maxReplicas: expected a whole number, got 'many'" in err
    code = run_cli(
        [
            "preflight",
            "--platform",
            "container-apps",
            "--app-file",
            f"api={tmp_path / 'api.json'}",
            "--app-file",
            f"web={path}",
        ]
    )
    assert code == 2 and "no properties.template.containers" in capsys.readouterr().err


def aca_app(scale: dict[str, Any], secrets: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    container = {"name": "api", "env": [{"name": "DATABASE_URL", "secretRef": "db"}]}
    return {
        "name": "agent-api",
        "properties": {
            "configuration": {"secrets": secrets or [{"name": "db", "keyVaultUrl": "not-a-url"}]},
            "template": {"containers": [container], "scale": scale},
        },
    }


@pytest.mark.parametrize(
    ("scale", "says"),
    [
        ({"maxReplicas": "²"}, "scale.maxReplicas: expected a whole number"),
        ({"maxReplicas": "9" * 5000}, "scale.maxReplicas: expected a whole number"),
        ({"minReplicas": 5, "maxReplicas": 1}, "scale.minReplicas 5 is above scale.maxReplicas 1"),
    ],
)
def test_replica_counts_that_azure_would_refuse_are_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], scale: dict[str, Any], says: str
) -> None:
    path = write(tmp_path, "app.json", aca_app(scale))
    args = ["preflight", "--platform", "container-apps", "--app-file", f"api={path}", "--app-file", f"web={path}"]
    assert run_cli(args) == 2
    assert says in capsys.readouterr().err


def test_references_that_point_at_nothing_fail_not_unknown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A Key Vault reference that is no URL, and an ECS secret with no valueFrom, hold no secret."""
    path = write(tmp_path, "app.json", aca_app({"maxReplicas": 1}))
    code, report, _ = run(
        capsys, "--platform", "container-apps", "--app-file", f"api={path}", "--app-file", f"web={path}"
    )
    rows = {(c["check"], c["subject"]): c for c in report["checks"]}
    assert code == 1 and rows[("secret_refs", "api/DATABASE_URL")]["verdict"] == "fail"
    td = task_definition({}, {"REDIS_URL": "/prod/redis"})
    td["containerDefinitions"][0]["secrets"].append({"name": "DATABASE_URL"})
    api = write(tmp_path, "api.json", td)
    web = write(tmp_path, "web.json", task_definition({}, {}, "web"))
    code, report, _ = run(
        capsys, "--platform", "ecs", "--task-definition", f"api={api}", "--task-definition", f"web={web}"
    )
    row = {(c["check"], c["subject"]): c for c in report["checks"]}[("secret_refs", "api/DATABASE_URL")]
    assert code == 1 and row["verdict"] == "fail" and "no valueFrom" in row["reason"]
