"""Issue 19's "done when" for init: on a monorepo as teams lay it out, `init` and then the release
half's local part (`release build` with what init wrote) work without a path edited by hand."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest
import yaml

from release_kit import config
from release_kit.cli import run_cli
from tests.init.layouts import saas_monorepo

TAG = "v1.4.0"


def test_init_then_release_build_works_on_the_monorepo_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = saas_monorepo(tmp_path / "repo", tag=TAG)
    assert run_cli(["init", "--dir", str(repo / "packages" / "core"), "--ref", "0" * 40]) == 0  # from a subfolder
    out = capsys.readouterr().out
    assert "FILL-IN (no" not in out  # every path was found
    given = yaml.safe_load((repo / ".github/workflows/release.yml").read_text())["jobs"]["release"]["with"]
    for role in ("api", "web"):
        assert (repo / given[f"{role}_dockerfile"]).is_file() and (repo / given[f"{role}_context"]).is_dir()
    settings = config.parse((repo / ".github/release-kit.yml").read_text(), "release-kit.yml")
    assert settings.deploy is not None and settings.deploy.migrations.command == "alembic upgrade head"
    assert settings.deploy.images == {"api": "ghcr.io/acme/agent-saas/api", "web": "ghcr.io/acme/agent-saas/web"}
    assert settings.release is not None and settings.release.expect is not None

    # the release job's `release build`, with release.yml's inputs as the release action passes them
    assets = tmp_path / "assets"
    base = ["release", "build", "--repo", str(repo), "--tag", TAG, "--assets-dir", str(assets)]
    packages = [f"--package={repo / p}" for p in given["packages"].split()]
    frontend = repo / given["frontend"]
    assert run_cli([*base, *packages, f"--frontend={frontend}"]) == 0  # pnpm-lock.yaml at the workspace root
    built = sorted(p.name for p in assets.iterdir())
    assert "frontend-sbom.json" in settings.release.expect
    for pattern in settings.release.expect:  # what verify-release will expect is what was built
        assert [name for name in built if fnmatch.fnmatch(name, pattern)], (pattern, built)
    wheels = [name for name in built if name.endswith(".whl")]
    assert len(wheels) == 3 and all("-1.4.0-" in w for w in wheels)
    assert "SHA256SUMS" in built
