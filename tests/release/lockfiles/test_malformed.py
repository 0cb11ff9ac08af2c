"""A malformed, unsupported or oversized lockfile is an exit-2 error naming the file and what is
wrong, never a traceback; a frontend the lockfile does not know is named with the fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from release_kit.errors import ExitCode, InputError
from release_kit.release.frontend_sbom import frontend_sbom
from release_kit.release.lockfiles import files
from tests.release.lockfiles.test_reference import FIXTURES


def broken(tmp_path: Path, kind: str, lock: str, text: str) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / kind, root)
    (root / lock).write_text(text)
    return root


def error_of(root: Path, frontend: str = "apps/web-app") -> str:
    with pytest.raises(InputError) as info:
        frontend_sbom(root / frontend, root)
    assert info.value.exit_code is ExitCode.USAGE
    return info.value.one_line()


@pytest.mark.parametrize(
    ("kind", "lock", "text", "expected"),
    [
        ("pnpm9", "pnpm-lock.yaml", "lockfileVersion: '9.0'\nimporters: [\n", "not valid YAML"),
        ("pnpm9", "pnpm-lock.yaml", "lockfileVersion: '5.4'\n", "lockfileVersion 5.4 is not read"),
        ("pnpm9", "pnpm-lock.yaml", "- a\n- b\n", "expected a YAML mapping"),
        ("pnpm9", "pnpm-lock.yaml", "lockfileVersion: '9.0'\nwhen: 2001-13-45\n", "not valid YAML (month must be"),
        ("yarn4", "yarn.lock", "__metadata:\n  version: 8\nx: {a: *nowhere}\n", "not valid YAML"),
        (
            "pnpm9",
            "pnpm-lock.yaml",
            "lockfileVersion: '9.0'\nimporters:\n  apps/web-app:\n    dependencies:\n"
            "      left-pad: {specifier: 1.3.0, version: 1.3.0}\n",
            "left-pad 1.3.0 has no entry ('left-pad@1.3.0') in snapshots",
        ),
        (
            "pnpm9",
            "pnpm-lock.yaml",
            "lockfileVersion: '9.0'\nimporters:\n  apps/web-app:\n    dependencies:\n"
            "      a: {specifier: 1.0.0, version: 1.0.0}\npackages:\n  a@1.0.0:\n"
            "    resolution: {integrity: sha512-AAAA}\nsnapshots:\n  a@1.0.0: {}\n",
            "integrity 'sha512-AAAA' is not a sha512",
        ),
        ("yarn1", "yarn.lock", '# yarn lockfile v1\n\n"a@1.0.0":\n  version "1.0.0"\n      deep "x"\n', "line 5"),
        ("yarn1", "yarn.lock", '# yarn lockfile v1\n\na@1.0.0\n  version "1.0.0"\n', "line 3: expected package"),
        ("yarn1", "yarn.lock", "# yarn lockfile v1\n\n<<<<<<< HEAD\n", "merge conflict marker"),
        ("yarn1", "yarn.lock", '# yarn lockfile v1\n\nx@1:\n  version "1"\n', "no entry for"),
        ("yarn4", "yarn.lock", "__metadata:\n  version: 8\n", "no workspace 'apps/web-app'"),
        ("npm3", "package-lock.json", "{", "not valid JSON"),
        ("npm3", "package-lock.json", '{"lockfileVersion": 7}', "lockfileVersion 7 is not read"),
        (
            "npm3",
            "package-lock.json",
            '{"lockfileVersion": 1, "packages": {}}',
            "lockfileVersion 1 keeps its packages in 'dependencies'",
        ),
        ("npm3", "package-lock.json", '{"lockfileVersion": 3, "packages": {}}', "no package 'apps/web-app'"),
        ("bun", "bun.lock", '{"lockfileVersion": 9}', "lockfileVersion 9 is not read"),
        (
            "bun",
            "bun.lock",
            '{"lockfileVersion": 1, "workspaces": {"apps/web-app": {"dependencies": {"a": "1"}}},}',
            "a (dependencies) has no entry in packages",
        ),
    ],
)
def test_a_malformed_lockfile_is_exit_2_naming_the_file(
    tmp_path: Path, kind: str, lock: str, text: str, expected: str
) -> None:
    root = broken(tmp_path, kind, lock, text)
    message = error_of(root)
    assert message.startswith(str((root / lock).resolve())) and expected in message


def test_an_oversized_lockfile_is_refused_before_it_is_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "pnpm9", root)
    monkeypatch.setattr(files, "MAX_LOCKFILE_BYTES", 1000)
    assert "larger than 1,000 bytes" in error_of(root)


def test_a_frontend_that_is_not_a_workspace_package_is_named(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "pnpm9", root)
    (root / "tools" / "site").mkdir(parents=True)
    message = error_of(root, "tools/site")
    assert "no importer 'tools/site'" in message and "pnpm-workspace.yaml" in message


def test_not_utf8_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "yarn1", root)
    (root / "yarn.lock").write_bytes(b"\xff\xfe garbage")
    assert "not UTF-8" in error_of(root)


def test_bun_lock_comments_and_trailing_commas_are_read_and_an_open_comment_refused(tmp_path: Path) -> None:
    from release_kit.release.lockfiles.files import load_jsonc

    text = '{"a": "x // y /* z ,}", /* c */ "b": [1, 2,], // t\n}'
    assert load_jsonc(text, tmp_path / "bun.lock") == {"a": "x // y /* z ,}", "b": [1, 2]}
    with pytest.raises(InputError, match="a /\\* comment is never closed"):
        load_jsonc("/*" * 200_000, tmp_path / "bun.lock")  # linear: one pass, however many there are
