"""release upload / publish as users run them: the CLI over real HTTP to the fake, via GITHUB_API_URL."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from release_kit.cli import run_cli
from tests.fakes.github import FakeGitHub, serve
from tests.release.projects import python_package
from tests.test_gha import parse_outputs


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GITHUB_TOKEN", "ghs_releaseToken123456")
        monkeypatch.setenv("GITHUB_REPOSITORY", fake.full_name)
        yield fake


@pytest.fixture
def assets(tmp_path: Path) -> tuple[Path, Path]:
    """A package at 1.2.3 and an assets folder as `release build` leaves it (contents stand-ins)."""
    package = python_package(tmp_path / "starter-contracts", "starter-contracts", "1.2.3")
    folder = tmp_path / "release-assets"
    folder.mkdir()
    (folder / "starter_contracts-1.2.3-py3-none-any.whl").write_bytes(b"PK wheel stand-in")
    (folder / "starter_contracts-sbom.json").write_text('{"bomFormat": "CycloneDX"}')
    sums = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in sorted(folder.iterdir()))
    (folder / "SHA256SUMS").write_text(sums)
    return package, folder


def test_upload_then_publish_with_outputs(
    github: FakeGitHub, assets: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package, folder = assets
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    args = ["--tag", "v1.2.3", f"--package={package}", "--assets-dir", str(folder)]
    assert run_cli(["release", "upload", *args]) == 0
    outputs = parse_outputs((tmp_path / "out").read_text())
    release = github.release_by_tag("v1.2.3")
    assert outputs["release-id"] == str(release["id"]) and release["draft"] is True
    assert sorted(a["name"] for a in json.loads(outputs["assets"])) == sorted(p.name for p in folder.iterdir())
    assert run_cli(["release", "publish", *args, "--no-require-attestations"]) == 0
    assert github.release_by_tag("v1.2.3")["draft"] is False
    assert all(r.url.host in ("127.0.0.1", "uploads.github.com") for r in github.requests)


def test_tag_version_mismatch_exits_2_before_any_request(
    github: FakeGitHub, assets: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    package, folder = assets
    for command in ("upload", "publish"):
        assert (
            run_cli(["release", command, "--tag", "v1.2.4", f"--package={package}", "--assets-dir", str(folder)]) == 2
        )
    assert "--tag v1.2.4 means version 1.2.4, but starter-contracts is 1.2.3" in capsys.readouterr().err
    assert github.requests == []


def test_publish_without_attestations_exits_1(
    github: FakeGitHub, assets: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    package, folder = assets
    args = ["--tag", "v1.2.3", f"--package={package}", "--assets-dir", str(folder)]
    assert run_cli(["release", "upload", *args]) == 0
    assert run_cli(["release", "publish", *args]) == 1
    assert "not every asset carries a valid provenance attestation" in capsys.readouterr().err
    assert run_cli(["release", "publish", *args, "--no-require-attestations"]) == 0


def test_attest_needs_id_token_permission_checked_before_any_change(
    github: FakeGitHub, assets: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    package, folder = assets
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_URL", raising=False)
    args = ["release", "upload", "--attest", "--tag", "v1.2.3", f"--package={package}", "--assets-dir", str(folder)]
    assert run_cli(args) == 2
    out = capsys.readouterr().out
    assert "cannot sign attestations" in out and "id-token: write" in out and "attestations: write" in out
    assert github.releases == []


def test_build_outputs_the_wheel_sbom_pairs_the_action_attests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from release_kit.release.models import Asset, ReleasePlan, Role
    from release_kit.release.report import publish

    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    wheel = Asset(name="a-1.0.0-py3-none-any.whl", path=tmp_path / "a.whl", size=1, sha256="0" * 64, role=Role.WHEEL)
    sbom = Asset(name="a-sbom.json", path=tmp_path / "a-sbom.json", size=1, sha256="1" * 64, role=Role.SBOM,
                 subject=wheel.name)  # fmt: skip
    plan = ReleasePlan(repository=None, tag="v1.0.0", version="1.0.0", prerelease=False, assets=[wheel, sbom])
    publish(plan, None, "text")
    outputs = parse_outputs((tmp_path / "out").read_text())
    assert json.loads(outputs["wheel-sboms"]) == [{"wheel": str(wheel.path), "sbom": str(sbom.path)}]
    assert outputs["wheel-count"] == "1"


def test_upload_and_publish_take_everything_from_the_build_record(
    github: FakeGitHub, assets: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """As the action runs them: after `release build`, only the assets folder is given."""
    from release_kit.release import record

    package, folder = assets
    record.write(folder, tag="v1.2.3", repository=None, packages=[package], frontend=None, sdist=False)
    assert json.loads((folder / record.RECORD).read_text())["repository"] == github.full_name
    assert run_cli(["release", "upload", "--assets-dir", str(folder)]) == 0
    assert sorted(github.assets_of("v1.2.3")) == sorted(
        p.name
        for p in folder.iterdir()
        if p.name != record.RECORD  # the record is never uploaded
    )
    sent = len(github.requests)
    args = ["release", "publish", "--assets-dir", str(folder), "--no-require-attestations"]
    assert run_cli([*args, "--tag", "v1.2.4"]) == 2
    assert "--tag v1.2.4: the assets were built with --tag v1.2.3" in capsys.readouterr().err
    assert len(github.requests) == sent  # refused before any request
    assert run_cli(args) == 0
    assert github.release_by_tag("v1.2.3")["draft"] is False


def test_a_plan_of_nothing_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No package, no frontend and no build record: upload and publish must not release only SHA256SUMS."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "release-assets").mkdir()
    (tmp_path / "release-assets" / "SHA256SUMS").write_text("")
    assert run_cli(["release", "plan", "--tag", "v1.0.0", "--repo", "o/r"]) == 2


def test_publish_checks_attestations_against_a_custom_trusted_root_and_refuses_a_bad_one(
    github: FakeGitHub, assets: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package, folder = assets
    args = ["--tag", "v1.2.3", f"--package={package}", "--assets-dir", str(folder)]
    assert run_cli(["release", "upload", *args]) == 0
    not_a_root = tmp_path / "trusted_root.json"
    not_a_root.write_text('{"mediaType": "something else"}')
    assert run_cli(["release", "publish", *args, "--custom-trusted-root", str(not_a_root)]) == 2
    assert "trusted root" in capsys.readouterr().err
    assert github.release_by_tag("v1.2.3")["draft"] is True  # nothing published
