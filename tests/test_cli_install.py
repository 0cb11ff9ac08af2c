"""A missing extra names the exact install command: the repository and commit this release-kit came from."""

from __future__ import annotations

import json

import pytest

from release_kit import install
from release_kit.errors import INSTALL_FROM, MissingExtra

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def direct_url(url: str, commit: str = COMMIT, requested: str | None = "v1.4.0") -> str:
    vcs = {"vcs": "git", "commit_id": commit} | ({"requested_revision": requested} if requested else {})
    return json.dumps({"url": url, "vcs_info": vcs})


def test_a_git_install_names_its_owner_and_exact_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    found = install.from_direct_url("1.4.0", direct_url("https://github.com/acme/release-kit.git"))
    assert found == install.Installed(version="v1.4.0", commit=COMMIT, owner="acme")
    monkeypatch.setattr(install, "installed", lambda: found)
    line = MissingExtra("aws", "pushing to ECR").one_line()
    assert f"uv tool install 'release-kit[aws] @ git+https://github.com/acme/release-kit@{COMMIT}'" in line


@pytest.mark.parametrize(
    "text",
    [
        None,  # a wheel from an index or a folder: no direct_url.json
        json.dumps({"url": "file:///src/release-kit", "dir_info": {"editable": True}}),
        direct_url("https://gitlab.com/acme/release-kit"),  # not a GitHub repository we can name
        direct_url("https://github.com/acme/release-kit", commit="main"),  # no exact commit
    ],
)
def test_an_install_that_recorded_no_commit_names_the_documented_source(text: str | None) -> None:
    assert install.install_from(install.from_direct_url("1.4.0", text)) == INSTALL_FROM
