"""release-kit deploy and migrate end to end: config, flags, report, Actions outputs and summary, exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from release_kit import gha
from release_kit.cli import run_cli
from tests.fakes.ecs_rollout import CLUSTER, NEW, EcsSimulator, ScriptedClock, fresh_ecs

CONFIG = f"""
deploy:
  platform: ecs
  region: us-east-1
  cluster: {CLUSTER}
  services: {{api: agent-api, web: agent-web}}
  backups:
    database: {{rds_instance: agent-pg}}
  migrations:
    command: starter-console release db
"""


@pytest.fixture
def sim(moto: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EcsSimulator]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "release-kit.yml").write_text(CONFIG)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("RUNNER_TEMP", str(tmp_path / "runner"))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret-marker")
    gha.forget_secrets()
    with fresh_ecs() as simulator:
        yield simulator


def outputs(path: Path) -> dict[str, str]:
    text = path.read_text()
    found: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        name, _, delimiter = line.partition("<<")
        value = []
        for inner in lines:
            if inner == delimiter:
                break
            value.append(inner)
        found[name] = "\n".join(value)
    return found


def test_deploy_from_the_publish_report_passes_and_writes_outputs(
    sim: EcsSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    publish = tmp_path / "publish.json"
    publish.write_text(
        json.dumps(
            {"images": [{"name": role, "repository": ref.split("@")[0].split(":1.4.0")[0], "digest": ref.split("@")[1]}
                        for role, ref in NEW.items()]}
        )
    )  # fmt: skip
    clock = ScriptedClock(lambda: sim.complete(CLUSTER, "agent-api"), lambda: sim.complete(CLUSTER, "agent-web"))
    monkeypatch.setattr("release_kit.rollout.deploy.SystemClock", lambda: clock)
    monkeypatch.setenv("RK_IMAGES_FROM", str(publish))  # as the action passes its input

    assert run_cli(["deploy"]) == 0
    out = outputs(tmp_path / "out")
    assert out["passed"] == "true"
    assert set(json.loads(out["images"])) == {"api", "web"}
    report = json.loads(Path(out["report"]).read_text())
    assert [r["role"] for r in report["roles"]] == ["api", "web"]
    assert "### release-kit deploy" in (tmp_path / "summary.md").read_text()
    assert "every role passed (api, web)" in capsys.readouterr().out


def test_a_failed_deploy_exits_1_with_an_annotation_and_leaks_no_secret(
    sim: EcsSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = ScriptedClock(lambda: sim.fail(CLUSTER, "agent-api", "tasks failed to start"))
    monkeypatch.setattr("release_kit.rollout.deploy.SystemClock", lambda: clock)
    code = run_cli(["deploy", "--image", f"api={NEW['api']}", "--image", f"web={NEW['web']}", "--format", "json"])

    assert code == 1
    captured = capsys.readouterr()
    printed = "\n".join(line for line in captured.out.splitlines() if not line.startswith("::add-mask::"))
    report = json.loads(printed[printed.index("{") : printed.rindex("}") + 1])
    assert [r["verdict"] for r in report["roles"]] == ["fail", "skipped"]
    assert "::error title=deploy api (agent-api) failed::rolled back by the deployment circuit breaker" in captured.out
    out = outputs(tmp_path / "out")
    assert out["passed"] == "false" and out["images"] == "{}"
    everything = printed + captured.err + (tmp_path / "out").read_text() + (tmp_path / "summary.md").read_text()
    assert "testing-secret-marker" not in everything


def test_migrate_from_the_config_command_outputs_the_snapshot(
    sim: EcsSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    boto3.client("rds").create_db_instance(
        DBInstanceIdentifier="agent-pg", DBInstanceClass="db.t4g.micro", Engine="postgres",
        MasterUsername="app", MasterUserPassword="not-a-real-password-1", AllocatedStorage=20,
    )  # fmt: skip
    clock = ScriptedClock(lambda: sim.stop_task(CLUSTER, 0))
    monkeypatch.setattr("release_kit.rollout.migrate.SystemClock", lambda: clock)
    monkeypatch.setenv("GITHUB_REF_TYPE", "tag")
    monkeypatch.setenv("GITHUB_REF_NAME", "v1.4.0")

    assert run_cli(["migrate", "--snapshot"]) == 0
    out = outputs(tmp_path / "out")
    assert out["passed"] == "true" and out["snapshot"].startswith("release-kit-v1-4-0-")
    assert sim.tasks(CLUSTER)[-1].overrides["containerOverrides"][0]["command"] == ["starter-console", "release", "db"]
    assert "migrate on ecs: passed: container api exited 0" in capsys.readouterr().out


def test_a_failed_migration_exits_1(sim: EcsSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = ScriptedClock(lambda: sim.stop_task(CLUSTER, 2))
    monkeypatch.setattr("release_kit.rollout.migrate.SystemClock", lambda: clock)
    assert run_cli(["migrate", "--command", "starter-console release db"]) == 1
    assert len(sim.tasks(CLUSTER)) == 1


def test_missing_settings_are_exit_2_naming_the_flag(
    sim: EcsSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".github" / "release-kit.yml").write_text("deploy:\n  platform: ecs\n  region: us-east-1\n")
    assert run_cli(["deploy", "--image", f"api={NEW['api']}"]) == 2
    assert "no api service: set deploy.services.api" in capsys.readouterr().out


def test_service_flags_set_their_role_and_keep_the_others(tmp_path: Path) -> None:
    from release_kit.target.resolve import settings_from_flags

    path = tmp_path / "c.yml"
    path.write_text(CONFIG)
    settings = settings_from_flags(
        path, platform=None, region=None, cluster="staging", subscription=None, resource_group=None,
        services=("web=agent-web-canary",), containers=(),
    )  # fmt: skip
    assert settings.services == {"api": "agent-api", "web": "agent-web-canary"}
    assert settings.cluster == "staging" and settings.migrations.command == "starter-console release db"


ROOT = Path(__file__).resolve().parents[2]


def action_env(action: str, given: dict[str, str], runner_temp: Path) -> tuple[dict[str, str], str]:
    """The env and command of the action's release-kit step, as a runner fills them (unset inputs: defaults)."""
    import yaml

    spec = yaml.safe_load((ROOT / action / "action.yml").read_text())
    step = next(s for s in spec["runs"]["steps"] if s["run"].startswith("release-kit"))
    values = {name: given.get(name, str(i.get("default", ""))) for name, i in spec["inputs"].items()}
    env = {}
    for key, template in step["env"].items():
        text = str(template).replace("${{ runner.temp }}", str(runner_temp))
        for name, value in values.items():
            text = text.replace(f"${{{{ inputs.{name} }}}}", value)
        env[key] = text
    return env, step["run"]


def test_the_deploy_action_step_runs_with_the_runners_values(
    sim: EcsSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, run = action_env(
        "deploy", {"platform": "ecs", "images": f"api={NEW['api']} web={NEW['web']}"}, tmp_path / "runner"
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    clock = ScriptedClock(lambda: sim.complete(CLUSTER, "agent-api"), lambda: sim.complete(CLUSTER, "agent-web"))
    monkeypatch.setattr("release_kit.rollout.deploy.SystemClock", lambda: clock)

    assert run_cli(run.split()[1:]) == 0
    out = outputs(tmp_path / "out")
    assert json.loads(out["images"]) == NEW
    assert out["report"] == str(tmp_path / "runner" / "release-kit" / "deploy.json")


def test_the_migrate_action_step_runs_with_the_runners_values(
    sim: EcsSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    boto3.client("rds").create_db_instance(
        DBInstanceIdentifier="agent-pg", DBInstanceClass="db.t4g.micro", Engine="postgres",
        MasterUsername="app", MasterUserPassword="not-a-real-password-1", AllocatedStorage=20,
    )  # fmt: skip
    env, run = action_env("migrate", {"platform": "ecs", "snapshot": "true", "tag": "v2.0.0"}, tmp_path / "runner")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    clock = ScriptedClock(lambda: sim.stop_task(CLUSTER, 0))
    monkeypatch.setattr("release_kit.rollout.migrate.SystemClock", lambda: clock)

    assert run_cli(run.split()[1:]) == 0
    assert outputs(tmp_path / "out")["snapshot"].startswith("release-kit-v2-0-0-")
