"""Issue 21's "done when": the README's five-minute path, walked on a scratch repository with the local
fakes, as a new user would: init, the setup it writes, init --check until no FILL-IN is left, the gates
asked from the laptop, then the release job's local part (`release build`) with what init wrote."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from release_kit import config
from release_kit.cli import run_cli
from release_kit.init.check import CONFIG, check
from release_kit.init.setup import SETUP_FILE
from tests.fakes.github import FakeGitHub, green_runbook, serve
from tests.init.layouts import saas_monorepo

TAG = "v1.4.0"
# what a team types for each FILL-IN of the config init wrote for the monorepo (ghcr, ecs)
OURS = {
    "deploy.cluster": "agent-prod",
    "deploy.services.api": "agent-api",
    "deploy.services.web": "agent-web",
    "deploy.services.worker": "agent-billing-worker",
    "deploy.backups.database.rds_instance": "agent-db",
    "deploy.backups.redis.elasticache_replication_group": "agent-redis",
}


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(owner="acme", repo="agent-saas")
    green_runbook(fake, tag=TAG)
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_ThisIsAFakeTokenForTests0123456789")
        yield fake


def _fill_in(repo: Path, key: str, line: int, value: str) -> None:
    """Set one marked value, as a user edits the file: on its line, the marked word becomes theirs."""
    path = repo / CONFIG
    lines = path.read_text().splitlines(keepends=True)
    code, sep, comment = lines[line - 1].partition("#")
    leaf = key.rsplit(".", 1)[-1]
    marked = f"{leaf}: FILL-IN" if f"{leaf}: FILL-IN" in code else None
    assert marked is not None, (key, lines[line - 1])
    start = code.index(marked) + len(leaf) + 2
    end = start
    while end < len(code) and code[end] not in ",} \n":
        end += 1
    lines[line - 1] = code[:start] + value + code[end:] + sep + comment
    path.write_text("".join(lines))


def test_the_five_minute_path_on_a_scratch_repository(
    github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # 1-2. the CLI is installed (this process); init at the repository's root, as the README says
    repo = saas_monorepo(tmp_path / "agent-saas", tag=TAG)
    monkeypatch.chdir(repo)
    assert run_cli(["init", "--registry", "ghcr", "--platform", "ecs"]) == 0
    out = capsys.readouterr().out

    # 3. the setup it prints is the file it wrote, with the repository's names
    setup = (repo / SETUP_FILE).read_text()
    assert setup in out
    assert "repo:Acme/agent-saas:environment:production" in setup  # the trust policy's subject, from origin
    assert "release-kit preflight --check-access" in setup

    # ... and init --check lists what is left to fill in
    assert run_cli(["init", "--check"]) == 1
    listed = capsys.readouterr().out
    markers, _ = check(repo)
    assert {m.key for m in markers} == set(OURS)  # the paths, packages and migration were all found
    for marker in markers:
        assert f"{marker.file}:{marker.line}: {marker.key}" in listed
    for marker in sorted(markers, key=lambda m: -m.line):  # the user writes their values
        _fill_in(repo, marker.key, marker.line, OURS[marker.key])
    assert run_cli(["init", "--check"]) == 0
    capsys.readouterr()
    settings = config.load(repo / CONFIG)
    assert settings is not None and settings.validate_all().deploy is not None  # no marker left: it loads whole
    assert settings.deploy is not None and settings.deploy.cluster == "agent-prod"

    # the gates, asked from the laptop before tagging (the local GitHub fake answers)
    assert run_cli(["verify-gates", "--repo", github.full_name, "--ref", TAG, "--format", "json"]) == 0
    gates = json.loads(capsys.readouterr().out)
    assert gates["passed"] is True and len(gates["gates"]) == 8  # the policy init wrote (build-images is release.yml's)

    # 4. the release job's local part, with release.yml's inputs as the release action passes them
    given = yaml.safe_load((repo / ".github/workflows/release.yml").read_text())["jobs"]["release"]["with"]
    assets = tmp_path / "assets"
    base = ["release", "build", "--repo", github.full_name, "--tag", TAG, "--assets-dir", str(assets)]
    packages = [f"--package={repo / p}" for p in given["packages"].split()]
    # the frontend's SBOM from the workspace root's pnpm-lock.yaml
    assert run_cli([*base, *packages, f"--frontend={repo / given['frontend']}"]) == 0
    built = sorted(p.name for p in assets.iterdir())
    assert settings.release is not None and settings.release.expect
    assert "frontend-sbom.json" in settings.release.expect
    for pattern in settings.release.expect:  # what verify-release will expect is what was built
        assert [name for name in built if fnmatch.fnmatch(name, pattern)], (pattern, built)
    assert "SHA256SUMS" in built
