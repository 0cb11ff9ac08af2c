"""Where the installed release-kit came from, read from its distribution's ``direct_url.json`` (PEP 610).

An install from git (``uv tool install 'release-kit @ git+https://github.com/OWNER/release-kit@v1.4.0'``)
records the repository and the commit it resolved: an instruction to install more of release-kit (an
extra) names that same repository and commit, and ``release-kit init`` pins that commit. An install from
a folder, an editable one or a wheel records no commit: the documented repository and tag are named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# release-kit is installed from its repository, never by name from a package index (the name
# `release-kit` there belongs to another project): the documented one
INSTALL_FROM = "git+https://github.com/org/release-kit@v1"

DISTRIBUTION = "release-kit"
REPOSITORY = "release-kit"  # the repository's name under its owner (a fork keeps it)
OWNER_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?")
COMMIT_RE = re.compile(r"[0-9a-f]{40}")
TAG_RE = re.compile(r"v\d+(?:\.\d+){0,2}")


@dataclass(frozen=True)
class Installed:
    """What the installed distribution says of where it came from."""

    version: str  # v<version>, or the tag the install asked for
    commit: str | None  # the commit an install from git resolved
    owner: str | None  # the owner of the github.com repository it was installed from


def installed() -> Installed:
    from importlib import metadata  # only when asked: the CLI imports this module at start-up

    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return Installed(version="v0.0.0", commit=None, owner=None)
    return from_direct_url(dist.version, dist.read_text("direct_url.json"))


def from_direct_url(version: str, text: str | None) -> Installed:
    """Read PEP 610's ``direct_url.json``: a git install's commit, its requested tag and its owner."""
    import json

    tag = f"v{version}"
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        data = {}
    vcs = data.get("vcs_info") if isinstance(data, dict) else None
    if not isinstance(vcs, dict) or vcs.get("vcs") != "git":
        return Installed(version=tag, commit=None, owner=None)
    commit = vcs.get("commit_id")
    requested = vcs.get("requested_revision")
    if isinstance(requested, str) and TAG_RE.fullmatch(requested):
        tag = requested
    return Installed(
        version=tag,
        commit=commit if isinstance(commit, str) and COMMIT_RE.fullmatch(commit) else None,
        owner=github_owner(data.get("url")),
    )


def github_owner(url: object) -> str | None:
    """The owner of ``https://github.com/OWNER/release-kit[.git]``, else None."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.removeprefix("git+"))
    path = parts.path.strip("/").removesuffix(".git").split("/")
    if parts.hostname != "github.com" or len(path) != 2 or path[1] != REPOSITORY or not OWNER_RE.fullmatch(path[0]):
        return None
    return path[0]


def install_from(found: Installed | None = None) -> str:
    """The ``git+https://...@REF`` this release-kit was installed from: its owner's repository at the exact
    commit when the install recorded them, else the documented :data:`INSTALL_FROM`."""
    found = found or installed()
    if found.owner is None or found.commit is None:
        return INSTALL_FROM
    return f"git+https://github.com/{found.owner}/{REPOSITORY}@{found.commit}"
