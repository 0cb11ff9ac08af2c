"""Options every command shares, for cli.py and each capability's ``commands`` module (click only, so
``release-kit --help`` stays fast). An option's environment variable is its action input's: ``RK_<INPUT>``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from release_kit.gha import input_env as env

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["config_option", "env", "verdict_options"]


def verdict_options(func: F) -> F:
    """``--report`` and ``--format``, shared by every command that produces a verdict."""
    func = click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        envvar=env("format"),
        help="What stdout gets: a table or the JSON report.",
    )(func)
    func = click.option(
        "--report",
        "report_path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=env("report"),
        help="Also write the JSON report to this file.",
    )(func)
    return func


def config_option(help_text: str) -> Callable[[F], F]:
    """``--config PATH`` (``RK_CONFIG``): the configuration file, else .github/release-kit.yml if present."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=env("config"),
        help=help_text,
    )
