"""scripts/bootstrap: the private venv an action runs from."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = ROOT / "scripts" / "bootstrap"


def bootstrap(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_TOOL_CACHE": str(tmp_path / "cache"), "GITHUB_PATH": str(tmp_path / "path")}
    return subprocess.run(["bash", str(BOOTSTRAP), *args], capture_output=True, text=True, env=env, timeout=600)


def test_creates_a_core_venv_once_and_reuses_it(tmp_path: Path) -> None:
    first = bootstrap(tmp_path)
    assert first.returncode == 0, first.stderr
    bindir = Path(first.stdout.strip().splitlines()[-1])
    assert (tmp_path / "path").read_text().strip() == str(bindir)
    version = subprocess.run([str(bindir / "release-kit"), "--version"], capture_output=True, text=True, check=True)
    assert "release-kit, version" in version.stdout
    site = next((bindir.parent / "lib").glob("python3*/site-packages"))
    installed = {p.name.split("-")[0].lower() for p in site.iterdir()}
    assert "release_kit" in installed and "httpx" in installed
    assert not installed & {"boto3", "botocore", "azure", "pytest", "mypy"}  # only what verify-gates needs
    marker = bindir.parent / ".complete"
    stamp = marker.stat().st_mtime_ns
    second = bootstrap(tmp_path)
    assert second.returncode == 0 and Path(second.stdout.strip()) == bindir
    assert marker.stat().st_mtime_ns == stamp  # reused, not rebuilt
    assert bindir.parent.name.startswith("venv-") and bindir.parent.name.endswith("-core")


def test_unknown_extra_is_refused(tmp_path: Path) -> None:
    done = bootstrap(tmp_path, "gcp")
    assert done.returncode == 2 and "unknown extra 'gcp'" in done.stderr


def test_the_aws_extra_adds_boto3_in_its_own_venv(tmp_path: Path) -> None:
    done = bootstrap(tmp_path, "aws")
    assert done.returncode == 0, done.stderr
    bindir = Path(done.stdout.strip().splitlines()[-1])
    assert bindir.parent.name.endswith("-aws")
    check = subprocess.run(
        [str(bindir / "python"), "-c", "import boto3, release_kit"], capture_output=True, check=False
    )
    assert check.returncode == 0, check.stderr


def test_a_source_change_gets_a_new_venv(tmp_path: Path) -> None:
    """Same lock, new code (a new action version): the cached build must not be reused."""
    import shutil

    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "*.pyc", "__pycache__", ".*_cache"))
    env = {**os.environ, "RUNNER_TOOL_CACHE": str(tmp_path / "cache")}
    first = subprocess.run(
        ["bash", str(copy / "scripts/bootstrap")], capture_output=True, text=True, env=env, timeout=600
    )
    assert first.returncode == 0, first.stderr
    init = copy / "src" / "release_kit" / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "0.1.0"', '__version__ = "0.1.1"'))
    second = subprocess.run(
        ["bash", str(copy / "scripts/bootstrap")], capture_output=True, text=True, env=env, timeout=600
    )
    assert second.returncode == 0, second.stderr
    bindir = Path(second.stdout.strip().splitlines()[-1])
    assert bindir != Path(first.stdout.strip().splitlines()[-1])
    version = subprocess.run([str(bindir / "release-kit"), "--version"], capture_output=True, text=True, check=True)
    assert "0.1.1" in version.stdout
