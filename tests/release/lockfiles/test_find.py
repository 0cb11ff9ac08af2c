"""The lockfile is found where the frontend's package manager keeps it, never outside the
repository; none, or two that disagree, is a clear exit-2 error naming --frontend."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from release_kit.errors import ExitCode, InputError
from release_kit.release.lockfiles import Kind, find_lockfile
from tests.release.lockfiles.test_reference import FIXTURES


def repo_with(tmp_path: Path, kind: str) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / kind, root)
    return root


def test_the_workspace_roots_lockfile_is_found_from_the_app_folder(tmp_path: Path) -> None:
    root = repo_with(tmp_path, "pnpm9")
    found = find_lockfile(root / "apps" / "web-app", root)
    assert found.path == (root / "pnpm-lock.yaml").resolve() and found.kind is Kind.PNPM


def test_a_lockfile_in_the_frontend_folder_wins_over_the_workspace_root(tmp_path: Path) -> None:
    root = repo_with(tmp_path, "pnpm9")
    shutil.copy(FIXTURES / "npm3" / "package-lock.json", root / "apps" / "web-app" / "package-lock.json")
    assert find_lockfile(root / "apps" / "web-app", root).kind is Kind.NPM


def test_the_search_stops_at_the_repository_root(tmp_path: Path) -> None:
    outer = repo_with(tmp_path, "pnpm9")  # a lockfile above the repository root is not ours
    inner = outer / "apps"
    with pytest.raises(InputError) as info:
        find_lockfile(inner / "web-app", inner)
    message = info.value.one_line()
    assert message.startswith(f"--frontend {inner / 'web-app'}: no lockfile found")
    assert "pnpm-lock.yaml, yarn.lock, npm-shrinkwrap.json, package-lock.json, bun.lock" in message
    assert str(inner.resolve()) in message and info.value.exit_code is ExitCode.USAGE


def test_a_lockfile_symlinked_from_outside_the_repository_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copy(FIXTURES / "pnpm9" / "pnpm-lock.yaml", outside / "pnpm-lock.yaml")
    root = tmp_path / "repo"
    (root / "web").mkdir(parents=True)
    (root / "pnpm-lock.yaml").symlink_to(outside / "pnpm-lock.yaml")
    with pytest.raises(InputError, match="outside the repository"):
        find_lockfile(root / "web", root)


def test_a_frontend_outside_the_repository_or_missing_is_refused(tmp_path: Path) -> None:
    root = repo_with(tmp_path, "pnpm9")
    with pytest.raises(InputError, match="outside the repository"):
        find_lockfile(tmp_path, root)
    with pytest.raises(InputError, match="not a folder"):
        find_lockfile(root / "apps" / "nope", root)


def test_two_lockfiles_in_one_folder_need_package_manager_to_choose(tmp_path: Path) -> None:
    root = repo_with(tmp_path, "pnpm9")
    shutil.copy(FIXTURES / "yarn1" / "yarn.lock", root / "yarn.lock")
    with pytest.raises(InputError, match=r"has pnpm-lock.yaml and yarn.lock; say which one .* packageManager"):
        find_lockfile(root / "apps" / "web-app", root)
    manifest = json.loads((root / "package.json").read_text())
    (root / "package.json").write_text(json.dumps({**manifest, "packageManager": "yarn@1.22.22"}))
    assert find_lockfile(root / "apps" / "web-app", root).kind is Kind.YARN


def test_bun_binary_lockfile_says_how_to_write_the_text_one(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "web").mkdir(parents=True)
    (root / "bun.lockb").write_bytes(b"\x00binary")
    with pytest.raises(InputError, match="save-text-lockfile"):
        find_lockfile(root / "web", root)


def test_yarn_workspaces_globs_skip_node_modules_and_hidden_folders(tmp_path: Path) -> None:
    from release_kit.release.lockfiles.files import workspace_folders

    root = tmp_path / "repo"
    for folder, name in [("packages/a", "a"), ("packages/b/c", "c"), ("packages/node_modules/x", "x"),
                         ("packages/.cache/y", "y"), ("apps/web", "web")]:  # fmt: skip
        (root / folder).mkdir(parents=True)
        (root / folder / "package.json").write_text(json.dumps({"name": name}))
    assert workspace_folders(root, root, ["packages/**"], "package.json") == {"a": "packages/a", "c": "packages/b/c"}
    assert workspace_folders(root, root, {"packages": ["packages/*", "apps/*"]}, "package.json") == {
        "a": "packages/a",
        "web": "apps/web",
    }
    with pytest.raises(InputError, match="workspaces must be a list"):
        workspace_folders(root, root, "packages/*", "package.json")
