"""The click command ``summary``; this module imports only click (``--help`` stays fast)."""

from __future__ import annotations

from pathlib import Path

import click

from release_kit.options import env, verdict_options


@click.command("summary")
@click.option(
    "--reports",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=env("reports"),
    metavar="DIR",
    help="The folder the steps wrote their JSON reports to. Default: $RUNNER_TEMP/release-kit.",
)
@click.option(
    "--half",
    type=click.Choice(["deploy", "release"]),
    default="deploy",
    show_default=True,
    envvar=env("half"),
    help="Which half of the runbook the job ran: its steps are summarised, the others' reports ignored.",
)
@click.option(
    "--outcomes",
    envvar=env("outcomes"),
    metavar="STEP=OUTCOME ...",
    help="The workflow's step outcomes (e.g. 'preflight=success migrate=failure'): a step that "
    "failed before writing its report still gets its row.",
)
@verdict_options
def summary(folder: Path | None, half: str, outcomes: str | None, report_path: Path | None, fmt: str) -> int:
    """One job summary for a whole deploy or release: a table of every step and a Mermaid gantt chart.

    Reads the JSON reports the job's steps wrote (each names its command, verdict, start and end),
    and writes the table (step, verdict, times, link) and the chart to the job summary. A file that
    is not a readable report is named and skipped. Exit 0 once written: a failed step has already
    failed the job.

    Example: release-kit summary --half deploy --reports "$RUNNER_TEMP/release-kit"
    """
    from release_kit import timing
    from release_kit.summary.models import Half
    from release_kit.summary.run import default_folder
    from release_kit.summary.run import summary as run

    timing.mark_started()
    return run(folder=folder or default_folder(), half=Half(half), outcomes=outcomes, report_path=report_path, fmt=fmt)
