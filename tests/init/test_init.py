"""release-kit init: a working runbook for every registry x platform, never over the user's files."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from release_kit import config
from release_kit.cli import run_cli
from release_kit.init import render

ROOT = Path(__file__).resolve().parents[2]
COMBOS = list(itertools.product(render.REGISTRIES, render.PLATFORMS))
WRITTEN = [
    ".github/release-kit.yml",
    ".github/release-kit-smoke.yml",
    ".github/workflows/release.yml",
    ".github/workflows/deploy.yml",
    ".github/workflows/rollback.yml",
]


def init(repo: Path, *args: str) -> int:
    return run_cli(["init", "--dir", str(repo), *args])


def code_lines(paths: list[Path]) -> int:
    return sum(
        1 for p in paths for line in p.read_text().splitlines() if line.strip() and not line.strip().startswith("#")
    )


@pytest.mark.parametrize(("registry", "platform"), COMBOS)
def test_every_combination_writes_a_valid_runbook(
    registry: str, platform: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert init(tmp_path, "--registry", registry, "--platform", platform) == 0
    out = capsys.readouterr().out
    for rel in WRITTEN:
        assert f"wrote {rel}" in out
        assert yaml.safe_load((tmp_path / rel).read_text())
    settings = config.parse((tmp_path / ".github/release-kit.yml").read_text(), "release-kit.yml")
    assert settings.deploy is not None and settings.deploy.platform == platform
    assert settings.gates is not None and len(settings.gates.gates) == 8  # build-images is built in release.yml
    workflows = sorted((tmp_path / ".github/workflows").glob("*.yml"))
    assert code_lines(workflows) <= 40
    release = yaml.safe_load((tmp_path / ".github/workflows/release.yml").read_text())
    assert release["permissions"] == {}
    assert release["jobs"]["release"]["uses"].startswith("org/release-kit/.github/workflows/runbook-release.yml@")
    if platform == "ecs":
        assert '"Action"' in out and "ecs:UpdateService" in out and "iam:PassRole" in out
    else:
        assert "az role assignment create" in out and "Container Apps Contributor" in out
    assert render.FILL in out


def test_generated_workflows_pass_zizmor_pedantic(tmp_path: Path) -> None:
    zizmor = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))
    if zizmor is None:
        pytest.skip("zizmor is not installed (the dev extra installs it)")
    files: list[str] = []
    for registry, platform in COMBOS:
        repo = tmp_path / f"{registry}-{platform}"
        repo.mkdir()
        assert init(repo, "--registry", registry, "--platform", platform) == 0
        files += [str(p) for p in sorted((repo / ".github/workflows").glob("*.yml"))]
    done = subprocess.run(
        [zizmor, "--offline", "--persona", "pedantic", "--config", str(ROOT / ".github/zizmor.yml"), *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_existing_files_are_never_overwritten_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / ".github/workflows/deploy.yml"
    mine.parent.mkdir(parents=True)
    mine.write_text("name: my deploy\n")
    assert init(tmp_path) == 2
    err = capsys.readouterr().err
    assert ".github/workflows/deploy.yml" in err and "--force" in err
    assert mine.read_text() == "name: my deploy\n"
    assert not (tmp_path / ".github/release-kit.yml").exists()  # nothing half-written
    assert init(tmp_path, "--force") == 0
    assert "(overwritten)" in capsys.readouterr().out
    assert "runbook-deploy" in mine.read_text()


def test_a_symlinked_file_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yml"
    outside.write_text("keep me\n")
    repo = tmp_path / "repo"
    (repo / ".github").mkdir(parents=True)
    (repo / ".github/release-kit.yml").symlink_to(outside)
    assert init(repo, "--force") == 0
    assert outside.read_text() == "keep me\n"
    assert not (repo / ".github/release-kit.yml").is_symlink()


def test_a_symlinked_github_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".github").symlink_to(elsewhere)
    assert init(repo) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == []


def test_the_policy_is_written_against_the_workflows_present(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wf = tmp_path / ".github/workflows"
    wf.mkdir(parents=True)
    (wf / "backend.yml").write_text("name: Backend CI\non: push\njobs: {}\n")
    (wf / "frontend-ci.yml").write_text("on: push\njobs: {}\n")  # no name: GitHub shows the path
    (wf / "codeql.yml").write_text("name: CodeQL\non: push\njobs: {}\n")
    (wf / "images.yml").write_text("name: Build Images\non: push\njobs: {}\n")
    (wf / "broken.yml").write_text("name: [unclosed\n")
    assert init(tmp_path) == 0
    out = capsys.readouterr().out
    gates = {g.name: g for g in config.parse((tmp_path / ".github/release-kit.yml").read_text(), "x").gates.gates}  # type: ignore[union-attr]
    assert gates["Backend CI"].workflow is None  # matched by name
    assert gates["Frontend CI"].workflow == ".github/workflows/frontend-ci.yml"
    assert gates["build-images"].workflow == ".github/workflows/images.yml"
    assert "Backend CI: .github/workflows/backend.yml" in out
    missing = out.split("Runbook gates with no workflow here", 1)[1].splitlines()[0]
    assert "Starter Console CI" in missing and "Backend CI" not in missing and "build-images" not in missing


def test_a_missing_folder_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert init(tmp_path / "nope") == 2
    assert "--dir" in capsys.readouterr().err


def test_the_smoke_spec_written_is_the_example_and_valid(tmp_path: Path) -> None:
    from release_kit.probes.smoke_spec import load

    assert (ROOT / "src/release_kit/init/smoke.yml").read_text() == (ROOT / "examples/smoke.yml").read_text()
    assert init(tmp_path) == 0
    spec = load(tmp_path / ".github/release-kit-smoke.yml")
    assert [flow.name for flow in spec.flows]


def test_examples_runbook_is_what_init_writes_and_fits_in_40_lines(tmp_path: Path) -> None:
    """examples/runbook/ is the adoption the README counts: init's output for ghcr and ecs, verbatim."""
    assert init(tmp_path, "--registry", "ghcr", "--platform", "ecs") == 0
    example = ROOT / "examples" / "runbook"
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(example) for p in example.rglob("*") if p.is_file())
    for rel in written:
        assert (example / rel).read_text() == (tmp_path / rel).read_text(), f"examples/runbook/{rel} is stale"
    assert code_lines(sorted((example / ".github/workflows").glob("*.yml"))) <= 40


def test_a_github_folder_that_is_a_file_is_exit_2_with_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github/workflows").write_text("not a folder")
    assert init(tmp_path) == 2
    assert ".github/workflows is not a folder" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / ".github").iterdir()) == ["workflows"]


def test_a_workflow_path_with_yaml_syntax_in_it_is_written_quoted(tmp_path: Path) -> None:
    wf = tmp_path / ".github/workflows"
    wf.mkdir(parents=True)
    (wf / "ci #2.yml").write_text("name: backend ci build\non: push\njobs: {}\n")
    (wf / "backend-ci.yml").write_text("name: [not, a, name]\non: push\njobs: {}\n")
    assert init(tmp_path) == 0
    policy = config.parse((tmp_path / ".github/release-kit.yml").read_text(), "x").gates
    assert policy is not None
    assert {g.name: g.workflow for g in policy.gates}["Backend CI"] == ".github/workflows/backend-ci.yml"
