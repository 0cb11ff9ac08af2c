"""Typed errors: each carries a one-line message, an optional fix hint and an exit code.

Only the CLI turns these into exit codes; everything below it raises.
"""

from __future__ import annotations

from enum import IntEnum

from release_kit.install import INSTALL_FROM as INSTALL_FROM  # the documented source, for the docs' tests
from release_kit.install import install_from


class ExitCode(IntEnum):
    OK = 0
    NOT_OK = 1  # what was verified is not OK (a gate red, a release incomplete)
    USAGE = 2  # usage, configuration, input or permission error
    REMOTE = 3  # a remote gave up after retries


class ReleaseKitError(Exception):
    """Base error. ``message`` is one line: what input, what was expected."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = self.message if not self.hint else f"{self.message} ({self.hint})"
        return " ".join(text.split())


class InputError(ReleaseKitError):
    """A command-line flag or action input is malformed."""


class ConfigError(ReleaseKitError):
    """The configuration file is invalid."""


class AccessError(ReleaseKitError):
    """A remote refused the credentials or the token lacks a permission."""


class NotFoundError(ReleaseKitError):
    """A remote object (repository, ref, release) does not exist."""


class RemoteError(ReleaseKitError):
    """A remote answered with an error that retrying cannot fix."""


class RemoteGaveUp(ReleaseKitError):
    """A remote kept failing until the retry budget ran out."""

    exit_code = ExitCode.REMOTE


class MissingExtra(InputError):
    """An optional part of release-kit is not installed: say how to install it from the repository this
    release-kit came from (its owner and exact commit when the install recorded them)."""

    def __init__(self, extra: str, needed_for: str) -> None:
        super().__init__(
            f"{needed_for} needs release-kit's {extra!r} extra, which is not installed",
            hint=f"install release-kit with it from its repository: uv tool install "
            f"'release-kit[{extra}] @ {install_from()}' (the actions install what they need themselves)",
        )
