"""release-kit init: a working runbook for every registry x platform, never over the user's files."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from release_kit import config
from release_kit.cli import run_cli
from release_kit.init import detect, pin, render
from release_kit.init.setup import SETUP_FILE
from tests.init.layouts import saas_monorepo
from tests.wiring import EXAMPLE_COMMIT

ROOT = Path(__file__).resolve().parents[2]
COMBOS = list(itertools.product(render.REGISTRIES, render.PLATFORMS))
# the runbook's workflows fit in 40 lines, plus one `concurrency:` line in each of the three, plus
# release.yml's inputs written one a line (each path init found, said where it came from) and the
# deploy's version input
BUDGET = 40 + 3 + 16 + 1
WRITTEN = [
    ".github/release-kit.yml",
    ".github/release-kit-smoke.yml",
    ".github/workflows/release.yml",
    ".github/workflows/deploy.yml",
    ".github/workflows/rollback.yml",
]


def init(repo: Path, *args: str) -> int:
    """init in ``repo``, made a git repository first (init writes into the git root's .github/)."""
    if repo.is_dir() and not repo.is_symlink() and detect.git_root(repo) is None:
        (repo / ".git").mkdir()
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
    assert code_lines(workflows) <= BUDGET
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
        assert init(repo, "--registry", registry, "--platform", platform, "--ref", EXAMPLE_COMMIT) == 0
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


def test_examples_runbook_is_what_init_writes_for_the_monorepo(tmp_path: Path) -> None:
    """examples/runbook/ is the adoption the README counts: init's output for ghcr and ecs on the
    representative monorepo of tests/init/layouts.py, verbatim (regenerate: `python -m tests.init.layouts`)."""
    repo = saas_monorepo(tmp_path / "repo", tag=None)
    assert init(repo, "--registry", "ghcr", "--platform", "ecs", "--ref", EXAMPLE_COMMIT) == 0
    example = ROOT / "examples" / "runbook"
    written = sorted(
        p.relative_to(repo)
        for p in (repo / ".github").rglob("*")
        if p.is_file() and str(p.relative_to(repo)) != SETUP_FILE  # the set-up notes are the team's, not the runbook
    )
    assert written == sorted(p.relative_to(example) for p in example.rglob("*") if p.is_file())
    for rel in written:
        assert (example / rel).read_text() == (repo / rel).read_text(), f"examples/runbook/{rel} is stale"
    assert code_lines(sorted((example / ".github/workflows").glob("*.yml"))) <= BUDGET


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


# -- the release the workflows call (issue 18, part 4) -----------------------------------------

COMMIT = "4f1c2b7e9d0a8c6b5e3f2a1d0c9b8a7f6e5d4c3b"
GIT_INSTALL = json.dumps(
    {
        "url": "https://github.com/acme/release-kit.git",
        "vcs_info": {"vcs": "git", "requested_revision": "v1.4.0", "commit_id": COMMIT},
    }
)


def our_uses(repo: Path) -> list[str]:
    """Every `uses:` line of the three workflows init wrote, as written (comment included)."""
    lines = []
    for path in sorted((repo / ".github/workflows").glob("*.yml")):
        lines += [ln.split("uses:", 1)[1].strip() for ln in path.read_text().splitlines() if "uses:" in ln]
    return lines


def test_a_git_install_pins_its_commit_with_the_version_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(pin, "installed", lambda: pin.from_direct_url("1.4.0", GIT_INSTALL))
    assert init(tmp_path) == 0
    assert our_uses(tmp_path) == [
        f"acme/release-kit/.github/workflows/runbook-{name}.yml@{COMMIT} # v1.4.0"
        for name in ("deploy", "release", "rollback")
    ]
    captured = capsys.readouterr()
    assert "warning" not in captured.err and "warning" not in captured.out


def test_without_a_known_commit_init_writes_the_tag_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    editable = '{"url": "file:///src/release-kit", "dir_info": {"editable": true}}'
    monkeypatch.setattr(pin, "installed", lambda: pin.from_direct_url("1.4.0", editable))
    assert init(tmp_path, "--owner", "acme") == 0
    assert {u.split("@", 1)[1] for u in our_uses(tmp_path)} == {"v1.4.0"}
    err = capsys.readouterr().err
    assert "warning" in err and "commit is unknown" in err and "--ref" in err
    assert "--owner" not in err  # the owner was given


def test_owner_replaces_the_placeholder_everywhere_init_writes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pin, "installed", lambda: pin.from_direct_url("1.4.0", None))
    assert init(tmp_path, "--owner", "my-fork", "--ref", COMMIT) == 0
    assert all(u.startswith("my-fork/release-kit/") and u.endswith(f"@{COMMIT} # v1.4.0") for u in our_uses(tmp_path))
    assert not [p for p in (tmp_path / ".github").rglob("*.yml") if "org/" in p.read_text()]
    monkeypatch.setenv("RELEASE_KIT_OWNER", "env-fork")
    assert init(tmp_path, "--force") == 0
    assert all(u.startswith("env-fork/release-kit/") for u in our_uses(tmp_path))


@pytest.mark.parametrize(
    ("args", "named"),
    [(["--owner", "acme/evil"], "--owner"), (["--owner", "-x"], "--owner"), (["--ref", "main"], "--ref"),
     (["--ref", COMMIT[:12]], "--ref")],
)  # fmt: skip
def test_a_bad_owner_or_ref_is_exit_2_with_nothing_written(
    args: list[str], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert init(tmp_path, *args) == 2
    assert named in capsys.readouterr().err
    assert not (tmp_path / ".github").exists()


@pytest.mark.parametrize(
    ("text", "commit", "owner", "version"),
    [
        (GIT_INSTALL, COMMIT, "acme", "v1.4.0"),
        (GIT_INSTALL.replace('"v1.4.0"', '"main"'), COMMIT, "acme", "v0.9.0"),  # a branch: the version
        (GIT_INSTALL.replace("github.com/acme/release-kit", "gitlab.com/acme/release-kit"), COMMIT, None, "v1.4.0"),
        (GIT_INSTALL.replace(COMMIT, "abc"), None, "acme", "v1.4.0"),  # not a full commit: unknown
        ('{"url": "file:///x", "dir_info": {}}', None, None, "v0.9.0"),
        ("not json", None, None, "v0.9.0"),
        (None, None, None, "v0.9.0"),  # a wheel from an index records no direct_url.json
    ],
)
def test_direct_url_is_read_as_pep_610_writes_it(
    text: str | None, commit: str | None, owner: str | None, version: str
) -> None:
    assert pin.from_direct_url("0.9.0", text) == pin.Installed(version=version, commit=commit, owner=owner)


def test_a_real_git_install_records_the_commit_init_pins(tmp_path: Path) -> None:
    """An installer writes direct_url.json when it installs a git checkout: init reads that commit."""
    src = tmp_path / "release-kit"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".venv", ".git", "tests", "__pycache__", ".*_cache"))
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # fmt: skip
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "r"], ["tag", "v1.4.0"]):
        subprocess.run(["git", *args], cwd=src, env=env, check=True, capture_output=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=src, env=env, check=True, capture_output=True, text=True)
    target = tmp_path / "site"
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    done = subprocess.run(
        [uv, "pip", "install", "--quiet", "--offline", "--no-deps", "--python", sys.executable,
         "--target", str(target), f"git+file://{src}@v1.4.0"],
        env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")},  # uv's own cache, offline
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"uv cannot build release-kit offline here: {done.stderr[-300:]}")
    [record] = target.glob("release_kit-*.dist-info/direct_url.json")
    found = pin.from_direct_url("0.1.0", record.read_text())
    assert found == pin.Installed(version="v1.4.0", commit=head.stdout.strip(), owner=None)


def test_generated_workflows_pass_zizmor_with_its_default_configuration(tmp_path: Path) -> None:
    """No .github/zizmor.yml: what a user's repository gets, for every registry x platform, pinned by commit."""
    zizmor = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))
    if zizmor is None:
        pytest.skip("zizmor is not installed (the dev extra installs it)")
    files: list[str] = []
    for registry, platform in COMBOS:
        repo = tmp_path / f"{registry}-{platform}"
        repo.mkdir()
        assert init(repo, "--registry", registry, "--platform", platform, "--owner", "acme", "--ref", COMMIT) == 0
        files += [str(p) for p in sorted((repo / ".github/workflows").glob("*.yml"))]
    assert len(files) == 3 * 6
    done = subprocess.run(
        [zizmor, "--offline", "--no-config", *files], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings" in done.stdout + done.stderr


def test_a_tag_pin_is_what_zizmor_flags(tmp_path: Path) -> None:
    """The test above would notice a floating reference: zizmor, unconfigured, refuses a tag."""
    zizmor = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))
    if zizmor is None:
        pytest.skip("zizmor is not installed (the dev extra installs it)")
    assert init(tmp_path, "--owner", "acme", "--ref", "v1.4.0") == 0
    files = [str(p) for p in sorted((tmp_path / ".github/workflows").glob("*.yml"))]
    done = subprocess.run([zizmor, "--offline", "--no-config", *files], capture_output=True, text=True, check=False)
    assert done.returncode != 0 and "unpinned-uses" in done.stdout + done.stderr


# -- the temporary file (issue 18, part 6) ------------------------------------------------------


def test_a_link_planted_at_the_temporary_name_is_never_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yml"
    outside.write_text("keep me\n")
    repo = tmp_path / "repo"
    (repo / ".github/workflows").mkdir(parents=True)
    planted = [repo / ".github" / f".{name}.release-kit-tmp" for name in ("release-kit.yml", "release-kit-smoke.yml")]
    planted += [repo / ".github/workflows" / f".{n}.yml.release-kit-tmp" for n in ("release", "deploy", "rollback")]
    for link in planted:
        link.symlink_to(outside)
    assert init(repo) == 0
    assert outside.read_text() == "keep me\n"
    for rel in WRITTEN:
        assert not (repo / rel).is_symlink() and yaml.safe_load((repo / rel).read_text())
    assert all(link.is_symlink() for link in planted)  # left alone, and nothing else is left behind
    leftovers = [p.name for p in (repo / ".github").rglob("*release-kit-tmp") if p not in planted]
    assert leftovers == []


def test_a_written_file_gets_the_mode_of_a_new_file(tmp_path: Path) -> None:
    assert init(tmp_path) == 0
    mask = os.umask(0o022)
    os.umask(mask)
    assert ((tmp_path / ".github/release-kit.yml").stat().st_mode & 0o777) == 0o666 & ~mask
