"""Which release-kit the workflows init writes call: the owner of the repository and the exact commit.

An install from git (``pip install git+https://github.com/OWNER/release-kit@v1.4.0``) records the
repository and the commit it resolved in the distribution's ``direct_url.json`` (PEP 610): init pins
that commit (``@<40 hex> # v1.4.0``) and takes the owner from that URL. An install from a folder, an
editable one or a wheel from an index records no commit: init then writes the tag ``v<version>`` and
says so. ``--owner`` and ``--ref`` replace either.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import metadata
from urllib.parse import urlsplit

from release_kit.errors import InputError

DISTRIBUTION = "release-kit"
REPOSITORY = "release-kit"  # the repository's name under its owner (a fork keeps it)
DEFAULT_OWNER = "org"  # a placeholder: the owner of the release-kit repository the workflows call
_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_TAG = re.compile(r"v\d+(?:\.\d+){0,2}")


@dataclass(frozen=True)
class Pin:
    """Where ``uses:`` points: ``OWNER/release-kit/<path>@<ref>``, a commit with its version beside it."""

    owner: str
    ref: str  # a full commit SHA, or a tag such as v1.4.0
    version: str  # the tag the commit is, as written in the comment (v1.4.0)

    @property
    def by_commit(self) -> bool:
        return _COMMIT.fullmatch(self.ref) is not None

    def uses(self, path: str) -> str:
        """The ``uses:`` value of one of our actions or reusable workflows, its comment included."""
        written = f"{self.owner}/{REPOSITORY}/{path}@{self.ref}"
        return f"{written} # {self.version}" if self.by_commit else written


@dataclass(frozen=True)
class Installed:
    """What the installed distribution says of where it came from."""

    version: str  # v<version>, or the tag the install asked for
    commit: str | None  # the commit an install from git resolved
    owner: str | None  # the owner of the github.com repository it was installed from


def installed() -> Installed:
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return Installed(version="v0.0.0", commit=None, owner=None)
    return from_direct_url(dist.version, dist.read_text("direct_url.json"))


def from_direct_url(version: str, text: str | None) -> Installed:
    """Read PEP 610's ``direct_url.json``: a git install's commit, its requested tag and its owner."""
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
    if isinstance(requested, str) and _TAG.fullmatch(requested):
        tag = requested
    return Installed(
        version=tag,
        commit=commit if isinstance(commit, str) and _COMMIT.fullmatch(commit) else None,
        owner=_github_owner(data.get("url")),
    )


def _github_owner(url: object) -> str | None:
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.removeprefix("git+"))
    path = parts.path.strip("/").removesuffix(".git").split("/")
    if parts.hostname != "github.com" or len(path) != 2 or path[1] != REPOSITORY or not _OWNER.fullmatch(path[0]):
        return None
    return path[0]


def resolve(owner: str | None, ref: str | None, found: Installed) -> tuple[Pin, list[str]]:
    """The pin for ``--owner``/``--ref`` (None: from the install) and the warnings to print."""
    warnings = []
    if owner is not None and not _OWNER.fullmatch(owner):
        raise InputError(f"--owner {owner!r}: expected a GitHub user or organisation name (letters, digits, -)")
    if ref is not None and not (_COMMIT.fullmatch(ref) or _TAG.fullmatch(ref)):
        raise InputError(f"--ref {ref!r}: expected a full 40-hex commit SHA or a tag such as v1.4.0")
    if owner is None:
        owner = found.owner or DEFAULT_OWNER
        if found.owner is None:
            warnings.append(
                f"the workflows call {owner}/{REPOSITORY}: pass --owner with the owner of the release-kit "
                "repository you use (yours, if you run a fork)"
            )
    if ref is None:
        ref = found.commit or found.version
        if found.commit is None:
            warnings.append(
                f"release-kit was not installed from git, so its commit is unknown: the workflows call the tag "
                f"{ref}, which can be moved. Pin the commit with --ref <the 40-hex commit of {ref}>"
            )
    return Pin(owner=owner, ref=ref, version=found.version), warnings
