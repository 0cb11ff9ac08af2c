"""Which release-kit the workflows init writes call: the owner of the repository and the exact commit.

An install from git (``pip install git+https://github.com/OWNER/release-kit@v1.4.0``) records the
repository and the commit it resolved in the distribution's ``direct_url.json`` (PEP 610): init pins
that commit (``@<40 hex> # v1.4.0``) and takes the owner from that URL. An install from a folder, an
editable one or a wheel from an index records no commit: init then writes the tag ``v<version>`` and
says so. ``--owner`` and ``--ref`` replace either.
"""

from __future__ import annotations

from dataclasses import dataclass

from release_kit.errors import InputError
from release_kit.install import COMMIT_RE, OWNER_RE, REPOSITORY, TAG_RE, Installed, from_direct_url, installed

__all__ = ["DEFAULT_OWNER", "Installed", "Pin", "from_direct_url", "installed", "resolve"]

DEFAULT_OWNER = "org"  # a placeholder: the owner of the release-kit repository the workflows call


@dataclass(frozen=True)
class Pin:
    """Where ``uses:`` points: ``OWNER/release-kit/<path>@<ref>``, a commit with its version beside it."""

    owner: str
    ref: str  # a full commit SHA, or a tag such as v1.4.0
    version: str  # the tag the commit is, as written in the comment (v1.4.0)

    @property
    def by_commit(self) -> bool:
        return COMMIT_RE.fullmatch(self.ref) is not None

    def uses(self, path: str) -> str:
        """The ``uses:`` value of one of our actions or reusable workflows, its comment included."""
        written = f"{self.owner}/{REPOSITORY}/{path}@{self.ref}"
        return f"{written} # {self.version}" if self.by_commit else written


def resolve(owner: str | None, ref: str | None, found: Installed) -> tuple[Pin, list[str]]:
    """The pin for ``--owner``/``--ref`` (None: from the install) and the warnings to print."""
    warnings = []
    if owner is not None and not OWNER_RE.fullmatch(owner):
        raise InputError(f"--owner {owner!r}: expected a GitHub user or organisation name (letters, digits, -)")
    if ref is not None and not (COMMIT_RE.fullmatch(ref) or TAG_RE.fullmatch(ref)):
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
