"""record and last-good as users run them: the action's way (RK_* env vars), exit codes, one-line errors, no leaks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from release_kit.cli import run_cli
from tests.fakes.github import FakeGitHub, serve, sha_of
from tests.records.conftest import TOKEN, deploy, digest, images
from tests.test_gha import parse_outputs

ROOT = Path(__file__).resolve().parents[2]
RUN_ENV = ("GITHUB_SERVER_URL", "GITHUB_RUN_ID", "GITHUB_REF_NAME", "GITHUB_REF_TYPE", "GITHUB_REF", "GITHUB_SHA")


ALLOWED = "deploy:\n  images: {api: ghcr.io/octo-org/app/api, web: ghcr.io/octo-org/app/web}\n"


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeGitHub]:
    for name in RUN_ENV:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "release-kit.yml"
    config.write_text(ALLOWED)  # the repositories of tests.records.conftest.images
    monkeypatch.setenv("RK_CONFIG", str(config))
    fake = FakeGitHub()
    fake.add_ref("tags/v1.4.0", sha_of("v1.4.0"))
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        yield fake


def publish_report(path: Path, version: str = "v1.4.0") -> Path:
    """The report publish-images writes (README: images[].name, repository, digest, references)."""
    entries = []
    for name in ("api", "web"):
        repository = f"ghcr.io/octo-org/app/{name}"
        d = digest(name + version)
        entries.append(
            {
                "name": name,
                "repository": repository,
                "digest": d,
                "tags": [version.lstrip("v")],
                "references": [f"{repository}:{version.lstrip('v')}", f"{repository}@{d}"],
                "blobs": {"uploaded": 3, "mounted": 0, "skipped": 0},
                "platforms": 1,
                "tags_locked": False,
                "tag_mutability": None,
            }
        )
    path.write_text(json.dumps({"registry": "ghcr.io", "kind": "ghcr", "images": entries}))
    return path


def test_record_runs_the_actions_way(
    github: FakeGitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Inputs as record/action.yml maps them (unset inputs arrive as ''), in a tag-triggered run."""
    action = yaml.safe_load((ROOT / "record/action.yml").read_text())
    env = next(s for s in action["runs"]["steps"] if s.get("id") == "record")["env"]
    given = {
        "environment": "production",
        "state": "success",
        "images-from": str(publish_report(tmp_path / "publish-images.json")),
        "checks": "health=pass smoke=pass",
        "snapshot": "release-kit-v1-4-0-202612011230",
        "repo": "octo-org/app",
        "token": TOKEN,
    }
    for key, value in env.items():
        if key != "RK_REPORT":
            name = value.removeprefix("${{ inputs.").removesuffix(" }}")
            monkeypatch.setenv(key, given.get(name, ""))
    monkeypatch.delenv("GITHUB_TOKEN")
    for name, value in {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "out"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "octo-org/app",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_REF_TYPE": "tag",
        "GITHUB_REF_NAME": "v1.4.0",
        "GITHUB_SHA": sha_of("v1.4.0"),
    }.items():
        monkeypatch.setenv(name, value)

    assert run_cli(["record"]) == 0
    out = capsys.readouterr().out
    outputs = parse_outputs((tmp_path / "out").read_text())
    assert set(outputs) == set(action["outputs"])
    deployment = github.deployments[-1]
    pinned = {role: f"ghcr.io/octo-org/app/{role}@{digest(role + 'v1.4.0')}" for role in ("api", "web")}
    assert outputs["deployment-id"] == str(deployment["id"])
    assert deployment["ref"] == "v1.4.0" and deployment["payload"]["images"] == pinned  # repository@digest
    assert deployment["payload"]["snapshot"] == "release-kit-v1-4-0-202612011230"
    assert deployment["payload"]["checks"] == {"health": "pass", "smoke": "pass"}
    status = github.deployment_statuses[deployment["id"]][-1]
    assert status["state"] == "success" and status["log_url"] == "https://github.com/octo-org/app/actions/runs/4242"
    report = json.loads(Path(outputs["report"]).read_text())
    assert report["deployment_id"] == deployment["id"] and report["images"] == pinned
    summary = (tmp_path / "summary.md").read_text()
    assert "| api | `ghcr.io/octo-org/app/api@sha256:" in summary
    assert out.startswith(f"::add-mask::{TOKEN}\n")
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in github.requests)
    assert TOKEN not in out.replace(f"::add-mask::{TOKEN}", "") + summary + json.dumps(report)


def test_a_failure_is_recorded_with_exit_0_and_json_out(github: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["record", "--repo", "octo-org/app", "--environment", "production", "--state", "failure", "--ref", "v1.4.0"]
    args += [f"--image={role}={ref}" for role, ref in images("v1.4.0").items()] + ["--check", "smoke=fail"]
    assert run_cli([*args, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["state"] == "failure" and report["checks"] == {"smoke": "fail"}
    assert github.deployment_statuses[report["deployment_id"]][-1]["state"] == "failure"


def test_a_cancelled_deploy_says_where_it_stopped_in_the_records_description(
    github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["record", "--repo", "octo-org/app", "--environment", "production", "--state", "failure", "--ref", "v1.4.0"]
    args += [f"--image={role}={ref}" for role, ref in images("v1.4.0").items()]
    assert run_cli([*args, "--description", "cancelled during deploy-web", "--format", "json"]) == 0
    deployment_id = json.loads(capsys.readouterr().out)["deployment_id"]
    [deployment] = [d for d in github.deployments if d["id"] == deployment_id]
    assert deployment["description"] == "cancelled during deploy-web"
    [status_post] = [r for r in github.requests if r.method == "POST" and r.url.path.endswith("/statuses")]
    assert json.loads(status_post.content)["description"] == "cancelled during deploy-web"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--image", "api=ghcr.io/octo-org/app/api:1.4.0"],
            "--image api=ghcr.io/octo-org/app/api:1.4.0: a tag without a digest can move",
        ),
        (["--image", "api"], "--image 'api': expected ROLE=REF"),
        (["--check", "smoke=ok", "--image", "api=a@" + digest("a")], "--check smoke=ok: expected pass or fail"),
        ([], "--image ROLE=REF or --images-from PUBLISH_REPORT is required"),
        (["--images-from", "nope.json"], "--images-from nope.json: no such file"),
        (["--image", "api=a@" + digest("a"), "--images-from", "x.json"], "give one of them, not both"),
        (["--image", "api=a@" + digest("a"), "--state", "done"], "--state 'done': expected success or failure"),
        (["--image", "api=a@" + digest("a"), "--environment", ""], "--environment is required"),
        (["--image", "api=a@" + digest("a"), "--snapshot", "x\ny"], "--snapshot: snapshot 'x\\ny': expected an id"),
        (["--image", "api=a@" + digest("a"), "--rollback-of", "0"], "Invalid value for '--rollback-of'"),
    ],
)
def test_bad_record_input_is_one_line_exit_2_before_any_request(
    github: FakeGitHub, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    base = ["record", "--repo", "octo-org/app", "--environment", "production", "--state", "success", "--ref", "v1.4.0"]
    assert run_cli([*base, *args]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert github.requests == []


def test_a_report_that_is_not_publish_images_is_exit_2(
    github: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "r.json"
    bad.write_text(json.dumps({"images": [{"name": "api", "repository": "ghcr.io/o/api", "digest": "latest"}]}))
    base = ["record", "--repo", "octo-org/app", "--environment", "production", "--state", "success", "--ref", "v1.4.0"]
    assert run_cli([*base, "--images-from", str(bad)]) == 2
    assert f"--images-from {bad}: images[0] 'ghcr.io/o/api@latest'" in capsys.readouterr().err


def test_without_deployments_write_record_is_exit_2_naming_the_permission(
    github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    github.fail("POST", r"/deployments$", 403, body={"message": "Resource not accessible by integration"})
    args = ["record", "--repo", "octo-org/app", "--environment", "production", "--state", "success", "--ref", "v1.4.0"]
    assert run_cli([*args, "--image", f"api={images('v1.4.0')['api']}"]) == 2
    captured = capsys.readouterr()
    assert "deployments: write" in captured.err and len(captured.err.strip().splitlines()) == 1
    assert TOKEN not in captured.out + captured.err


def test_last_good_prints_ref_images_snapshot_id_and_when(
    github: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = deploy(github, "v1.4.0", "success", snapshot="release-kit-v1-4-0-202611301200")
    deploy(github, "v1.5.0", "failure")
    args = ["last-good", "--repo", "octo-org/app", "--environment", "production", "--report", str(tmp_path / "r.json")]
    assert run_cli(args) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"last good in production: v1.4.0 (deployment {good}, 20")
    assert images("v1.4.0")["web"] in out and "snapshot: release-kit-v1-4-0-202611301200" in out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["found"]["deployment_id"] == good and report["deployments_read"] == 2
    assert run_cli([*args[:-2], "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["found"]["images"] == images("v1.4.0")


def test_last_good_to_a_ref(github: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    wanted = deploy(github, "v1.3.0", "success")
    deploy(github, "v1.4.0", "success")
    args = ["last-good", "--repo", "octo-org/app", "--environment", "production", "--to", "v1.3.0"]
    assert run_cli([*args, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["found"]["deployment_id"] == wanted


def test_no_good_record_is_exit_1_naming_what_was_searched(
    github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(github, "v1.4.0", "failure")
    args = ["last-good", "--repo", "octo-org/app", "--environment", "production"]
    assert run_cli(args) == 1
    said = capsys.readouterr()
    assert "no last good record in environment 'production' of octo-org/app: read 1" in said.out
    assert (said.out + said.err).count("no last good record") == 1  # said once, not again as an error line
    assert run_cli([*args, "--format", "json"]) == 1
    said = capsys.readouterr()
    assert json.loads(said.out)["found"] is None
    assert said.err.count("release-kit: error: no last good record in environment 'production'") == 1


def test_last_good_without_deployments_read_is_exit_2(github: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    github.fail("GET", r"/deployments$", 404, body={"message": "Not Found"})
    assert run_cli(["last-good", "--repo", "octo-org/app", "--environment", "production"]) == 2
    assert "deployments: read" in capsys.readouterr().err


def test_a_branch_run_records_the_commit(
    github: FakeGitHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_REF_TYPE", "branch")
    monkeypatch.setenv("GITHUB_REF_NAME", "main")
    monkeypatch.setenv("GITHUB_SHA", sha_of("v1.4.0"))
    args = ["record", "--repo", "octo-org/app", "--environment", "staging", "--state", "success"]
    assert run_cli([*args, "--image", f"api={images('v1.4.0')['api']}"]) == 0
    assert github.deployments[-1]["ref"] == sha_of("v1.4.0")
    assert github.deployments[-1]["environment"] == "staging"


def test_remote_text_cannot_steer_the_runner(
    github: FakeGitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Deployments anyone with write access can create carry text the runner would obey."""
    good = deploy(github, "v1.3.0", "success")
    github.deployment_statuses[good][0]["log_url"] = "https://x.test/a)\n::error::pwned"
    evil = github.add_deployment("v1.3.1\n::error::pwned", task="deploy:release-kit", payload=payload_evil())
    github.add_deployment_status(evil, "success")
    deploy(github, "v1.4.0", "failure")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    assert run_cli(["last-good", "--repo", "octo-org/app", "--environment", "production"]) == 0
    captured = capsys.readouterr()
    text = captured.out + captured.err + (tmp_path / "summary.md").read_text()
    assert "pwned" not in text and f"deployment {good}" in text


def payload_evil() -> dict[str, object]:
    return {
        "release_kit": 1,
        "images": {"api": "ghcr.io/o/api@" + digest("x")},
        "checks": {"smoke\n::error::pwned": "pass"},
        "snapshot": None,
        "rollback_of": None,
    }
