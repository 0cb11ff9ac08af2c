"""last-good trusts no record: one whose images are not from the allowed repositories is skipped and
listed with the reason; the answer names who wrote the record and the run that wrote it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from release_kit import gha
from release_kit.cli import run_cli
from release_kit.records.provenance import Allowed, configured
from release_kit.target.settings import DeploySettings
from tests.fakes.github import FakeGitHub, serve
from tests.records.conftest import TOKEN, deploy, digest, images
from tests.test_gha import parse_outputs

RUN = "https://github.com/octo-org/app/actions/runs/77"
EVIL = {"api": f"evil.example.net/pwn/api@{digest('evil')}", "web": f"evil.example.net/pwn/web@{digest('evil')}"}
CONFIG = "deploy:\n  images: {api: GHCR.io/octo-org/app/api, web: ghcr.io/octo-org/app/web}\n"


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeGitHub]:
    for name in ("GITHUB_SERVER_URL", "GITHUB_RUN_ID", "GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .github/release-kit.yml here
    fake = FakeGitHub()
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        yield fake


def history(fake: FakeGitHub) -> dict[str, int]:
    return {
        "v1.3.0": deploy(fake, "v1.3.0", "success", creator="alice", log_url=RUN),
        "forged": deploy(fake, "v1.3.9", "success", image_set=EVIL, creator="mallory"),
        "v1.4.0": deploy(fake, "v1.4.0", "success", creator="alice"),
    }


def test_a_forged_record_is_skipped_and_the_answer_names_its_writer_and_run(
    github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = history(github)
    (tmp_path / "rk.yml").write_text(CONFIG)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    gha.forget_secrets()

    code = run_cli(
        ["last-good", "--repo", "octo-org/app", "--environment", "production", "--config", "rk.yml",
         "--report", str(tmp_path / "r.json")]
    )  # fmt: skip

    assert code == 0
    out = capsys.readouterr().out
    assert f"last good in production: v1.3.0 (deployment {ids['v1.3.0']}" in out
    assert f"written by: alice, run: {RUN}" in out
    assert f"{ids['forged']} v1.3.9 (by mallory): not our images: api image {EVIL['api']} is not from " in out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["found"]["creator"] == "alice" and report["found"]["log_url"] == RUN
    forged = next(s for s in report["skipped"] if s["deployment_id"] == ids["forged"])
    assert forged["creator"] == "mallory" and "ghcr.io/octo-org/app/api (the allowed repository" in forged["reason"]
    summary = (tmp_path / "summary.md").read_text()
    assert f"Written by `alice`, run: [{RUN}]({RUN})" in summary and "mallory" in summary
    assert parse_outputs((tmp_path / "out").read_text())["ref"] == "v1.3.0"


def test_only_forged_records_is_exit_1_listing_them(
    github: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(github, "v1.3.9", "success", image_set=EVIL, creator="mallory")
    deploy(github, "v1.4.0", "success")
    (tmp_path / "rk.yml").write_text(CONFIG)

    code = run_cli(["last-good", "--repo", "octo-org/app", "--environment", "production", "--config", "rk.yml"])

    assert code == 1
    out = capsys.readouterr().out
    assert out.startswith("no last good record") and "(by mallory): not our images" in out


def test_without_allowed_repositories_last_good_is_exit_2_naming_deploy_images(
    github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    history(github)
    assert run_cli(["last-good", "--repo", "octo-org/app", "--environment", "production"]) == 2
    assert "set deploy.images" in capsys.readouterr().err


def test_repositories_compare_host_case_blind_path_exact_and_a_bad_setting_is_a_config_error() -> None:
    settings = DeploySettings.model_validate({"images": {"api": "GHCR.IO/octo-org/app/api"}})
    allowed = Allowed(configured(settings), {"api": "deploy.images.api"})
    assert allowed.problem({"api": images("v1")["api"].replace("ghcr.io", "Ghcr.Io")}) is None
    assert allowed.problem({"api": f"ghcr.io/octo-org/app/api-evil@{digest('x')}"}) is not None
    assert allowed.problem({"api": f"ghcr.io/octo-org/app/api/more@{digest('x')}"}) is not None
    assert allowed.problem({"worker": f"anywhere.example/x@{digest('x')}"}) is None  # a role never deployed here
    from release_kit.errors import ConfigError

    with pytest.raises(ConfigError, match=r"deploy\.images\.web"):
        configured(DeploySettings.model_validate({"images": {"web": "ghcr.io/acme/web:latest"}}))
