"""Users are told to install release-kit from its repository, never by name from a package index.

On the public index the name `release-kit` belongs to an unrelated project, so an instruction such as
`pip install 'release-kit[verify]'` installs someone else's code.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from release_kit.errors import INSTALL_FROM, MissingExtra

ROOT = Path(__file__).resolve().parent.parent
# an installer given the bare name (with or without extras), not a `name @ git+https://...` reference
BY_NAME = re.compile(
    r"""(?:\bpip3?|\bpipx|\buv\s+pip|\buv\s+tool|\bpython3?\s+-m\s+pip)\s+install\s+(?:-\S+\s+)*"""
    r"""['"]?release[-_]kit(?:\[[^\]]*\])?(?![\[\w-])['"]?(?!\s*@)"""
    r"""|\buvx\s+release[-_]kit\b"""
)
TEXTS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").rglob("*.md")),
    *sorted((ROOT / "src").rglob("*.py")),
    *sorted(ROOT.glob("*/action.yml")),
    *sorted(p for p in (ROOT / "examples").rglob("*") if p.is_file()),
]


@pytest.mark.parametrize(
    "line",
    [
        "pip install 'release-kit[verify]'",
        'pip install "release-kit[aws]"',
        "pip install release-kit",
        "python3 -m pip install --user release_kit",
        "pipx install release-kit",
        "uv tool install release-kit",
        "uvx release-kit verify-gates",
    ],
)
def test_an_install_by_name_is_caught(line: str) -> None:
    assert BY_NAME.search(line)


@pytest.mark.parametrize(
    "line",
    [
        f'pipx install "{INSTALL_FROM}"',
        f"uv tool install 'release-kit[verify] @ {INSTALL_FROM}'",
        f"uvx --from {INSTALL_FROM} release-kit verify-gates",
        "python3 -m pip install uv && python3 -m uv run --frozen release-kit verify-gates",
    ],
)
def test_an_install_from_the_repository_is_fine(line: str) -> None:
    assert not BY_NAME.search(line)


def test_nothing_tells_users_to_install_release_kit_by_name() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in TEXTS
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if BY_NAME.search(line)
    ]
    assert found == []


def test_the_readme_installs_the_cli_from_the_repository() -> None:
    readme = (ROOT / "README.md").read_text()
    assert f'pipx install "{INSTALL_FROM}"' in readme
    assert f'uv tool install "{INSTALL_FROM}"' in readme
    assert f'"release-kit[verify] @ {INSTALL_FROM}"' in readme


def test_a_missing_extra_says_how_to_install_it_from_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    from release_kit.images import ecr
    from release_kit.images.reference import parse_registry

    monkeypatch.setitem(sys.modules, "boto3", None)  # as if the aws extra were not installed
    with pytest.raises(MissingExtra) as info:
        ecr._client(parse_registry("123456789012.dkr.ecr.eu-west-1.amazonaws.com"))
    line = info.value.one_line()
    assert "pushing to ECR needs release-kit's 'aws' extra" in line
    assert f"uv tool install 'release-kit[aws] @ {INSTALL_FROM}'" in line
    assert not BY_NAME.search(line)
    assert info.value.exit_code == 2
