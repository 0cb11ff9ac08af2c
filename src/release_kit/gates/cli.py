"""``release-kit verify-gates`` options (click only: importing this costs nothing at start-up)."""

from __future__ import annotations

from pathlib import Path

import click

from release_kit.options import config_option, env, repo_option, verdict_options
from release_kit.params import DurationType


@click.command("verify-gates")
@repo_option
@click.option(
    "--ref",
    envvar=env("ref"),
    help="Tag, branch or commit SHA. Required unless $GITHUB_SHA is set or (outside Actions) the checkout's HEAD "
    "is used: its commit, said on stderr.",
)
@config_option("Policy file. Default: .github/release-kit.yml if present, else the built-in runbook policy.")
@click.option(
    "--wait",
    type=DurationType(maximum=6 * 3600),
    default="0",
    envvar=env("wait"),
    show_default=True,
    help="Poll this long while a gate is pending: 90s, 15m, 1h or seconds.",
)
@verdict_options
def verify_gates(
    repo: str | None,
    ref: str | None,
    config_path: Path | None,
    wait: float,
    report_path: Path | None,
    fmt: str,
) -> int:
    """Prove that every release gate is green for the exact commit of REF."""
    from release_kit.gates.run import run

    return run(repo=repo, ref=ref, config_path=config_path, wait=wait, report_path=report_path, fmt=fmt)
