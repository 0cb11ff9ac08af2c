"""Click parameter types shared by the commands: a duration (the config file's syntax) and a
repository given as OWNER/NAME or as the URL a user copies from the browser or ``git remote``;
and, on a laptop, what the git checkout says when ``--repo``/``--ref`` are not given.

Imports only click and small pure modules, so ``release-kit --help`` stays fast.
"""

from __future__ import annotations

import os
import re
import subprocess
from urllib.parse import urlsplit, urlunsplit

import click

from release_kit.durations import EXPECTED, parse_seconds

_SCP_RE = re.compile(r"^[\w.-]+@(?P<host>[\w.-]+):(?P<path>[^/].*)\Z")  # git@github.com:OWNER/NAME.git
REPO_FORMS = "expected OWNER/NAME or https://HOST/OWNER/NAME"


class DurationType(click.ParamType[float, object]):
    """``90s``, ``15m``, ``2h``, ``7d`` or a plain number of seconds, within ``[0, maximum]``."""

    name = "duration"

    def __init__(self, maximum: float) -> None:
        self.maximum = maximum

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        try:
            seconds = parse_seconds(value if isinstance(value, str | int) else str(value))
        except ValueError:
            self.fail(f"{value!r}: {EXPECTED}", param, ctx)
        if seconds > self.maximum:
            self.fail(f"{value!r}: at most {self.maximum / 3600:g}h", param, ctx)
        return seconds


def server_host() -> str:
    """The host repository URLs must be on: GITHUB_SERVER_URL's, else the one GITHUB_API_URL serves."""
    server = os.environ.get("GITHUB_SERVER_URL", "").strip()
    if server:
        return (urlsplit(server).hostname or server).lower()
    api = os.environ.get("GITHUB_API_URL", "").strip()
    host = (urlsplit(api).hostname or "api.github.com").lower() if api else "api.github.com"
    return host.removeprefix("api.") if host == "api.github.com" or host.endswith(".ghe.com") else host


def normalize_repo(value: str) -> str:
    """``OWNER/NAME`` from OWNER/NAME, OWNER/NAME.git, https://HOST/OWNER/NAME[.git][/] or
    git@HOST:OWNER/NAME.git; ValueError naming what is expected otherwise. A URL must be on the
    GitHub this run talks to (github.com, or GITHUB_SERVER_URL / GITHUB_API_URL for Enterprise Server)."""
    text = value.strip()
    host: str | None = None
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme not in ("https", "http", "ssh", "git") or not parts.hostname:
            raise ValueError(f"{value!r}: {REPO_FORMS}")
        host, path = parts.hostname.lower(), parts.path
        if parts.query or parts.fragment:
            raise ValueError(f"{value!r}: {REPO_FORMS}")
    elif match := _SCP_RE.match(text):
        host, path = match["host"].lower(), match["path"]
    else:  # OWNER/NAME itself is checked where it is used (parse_repo)
        return text.removesuffix(".git")
    path = path.strip("/").removesuffix(".git")
    if path.count("/") != 1:
        raise ValueError(f"{value!r}: {REPO_FORMS} (the repository itself, not a page inside it)")
    expected = server_host()
    public = host in ("github.com", "www.github.com")
    if public and expected != "github.com":
        raise ValueError(
            f"{value!r} is on github.com, but this run talks to {expected} (GITHUB_SERVER_URL / "
            "GITHUB_API_URL): unset them to use github.com"
        )
    if host != expected and not public:
        raise ValueError(
            f"{value!r} is on {host}, but this run talks to {expected}: for GitHub Enterprise Server set "
            f"GITHUB_API_URL=https://{host}/api/v3 and GITHUB_SERVER_URL=https://{host}"
        )
    return path


class RepoType(click.ParamType[str, object]):
    name = "OWNER/NAME"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return normalize_repo(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


REPO = RepoType()


GIT_TIMEOUT = 5.0  # seconds: a local git query; a hung credential helper or a slow disk must not stall us


def git(*args: str) -> str | None:
    """``git ARGS`` in the current folder: its first line of output, or None (no git, not a checkout, an error)."""
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.strip().splitlines()
    return lines[0].strip() if done.returncode == 0 and lines else None


def _without_userinfo(url: str) -> str:
    """``url`` with any ``user:token@`` removed from an https URL: a credential never reaches a message."""
    if "://" not in url:
        return url  # OWNER/NAME or git@HOST:PATH (the scp form's user is the ssh login, not a secret)
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def origin_repo() -> tuple[str | None, str]:
    """Outside Actions, the ``origin`` remote's OWNER/NAME: (name, how it was found), or (None, why not).

    The remote must be a GitHub URL (https or ssh) on the GitHub this run talks to (github.com, or
    GITHUB_SERVER_URL's host for Enterprise Server)."""
    url = git("remote", "get-url", "origin")
    if url is None:
        return None, "no origin remote here (not a git checkout, or git is not installed)"
    url = _without_userinfo(url)
    try:
        return normalize_repo(url), "from the origin remote"
    except ValueError as exc:
        return None, f"the origin remote is not usable: {exc}"


def head_commit() -> str | None:
    """The commit the checkout's HEAD points at (40 hex), or None."""
    sha = git("rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    return sha if sha is not None and re.fullmatch(r"[0-9a-f]{40}", sha) else None
