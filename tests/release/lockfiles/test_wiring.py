"""What release build needs to call frontend_sbom: the repository root of the frontend, and the
lockfile an SBOM was made from (for the asset's subject)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from release_kit.release.frontend_sbom import frontend_sbom, lockfile_of, repository_root
from tests.release.lockfiles.test_reference import FIXTURES


def test_the_repository_root_is_gits_top_level(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "yarn1", repo)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert repository_root(repo / "apps" / "web-app") == repo.resolve()
    text = frontend_sbom(repo / "apps" / "web-app", repository_root(repo / "apps" / "web-app"))
    assert lockfile_of(text) == "yarn.lock"


def test_outside_a_git_work_tree_the_root_is_the_current_directory_or_the_frontend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    (folder / "web").mkdir()
    monkeypatch.chdir(folder)
    assert repository_root(folder / "web") == folder.resolve()
    (tmp_path / "other").mkdir()
    monkeypatch.chdir(tmp_path / "other")  # a frontend outside the current directory is its own root
    assert repository_root(folder / "web") == (folder / "web").resolve()


def test_an_sbom_that_does_not_say_is_from_package_lock_json() -> None:
    assert lockfile_of('{"metadata": {}}') == "package-lock.json"
    assert lockfile_of("not json") == "package-lock.json"
