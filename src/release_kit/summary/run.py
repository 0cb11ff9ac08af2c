"""``release-kit summary``: read the job's reports, place each step, write one summary for the job."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from release_kit import gha
from release_kit.reporting import emit, write_report
from release_kit.summary import render
from release_kit.summary.models import Half, Skipped, Step, SummaryReport, Verdict
from release_kit.summary.read import read_reports
from release_kit.summary.steps import command_of, outcome_step, step_of

_OUTCOME = re.compile(r"([a-z][a-z0-9-]{0,40})=([a-z]*)")


def default_folder(env: Mapping[str, str] | None = None) -> Path | None:
    """``$RUNNER_TEMP/release-kit``: where every action writes its report."""
    temp = (env if env is not None else os.environ).get("RUNNER_TEMP")
    return Path(temp) / "release-kit" if temp else None


def run_url(env: Mapping[str, str] | None = None) -> str | None:
    env = env if env is not None else os.environ
    server, repo, run_id = (env.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    if not (server and repo and run_id.isdigit()):
        return None
    return f"{server.rstrip('/')}/{repo}/actions/runs/{run_id}"


def parse_outcomes(text: str | None) -> list[tuple[str, str]]:
    """``preflight=success migrate=failure ...`` (the deploy workflow's OUTCOMES) as pairs; other words are ignored."""
    return [(m.group(1), m.group(2)) for m in _OUTCOME.finditer(text or "")]


def build(folder: Path | None, half: Half, *, outcomes: str | None = None, url: str | None = None) -> SummaryReport:
    steps: list[Step] = []
    skipped: list[Skipped] = []
    if folder is not None:
        reports, unread = read_reports(folder)
        skipped += [Skipped(file=name, reason=why) for name, why in unread]
        for name, report in reports:
            if command_of(report) == "summary":
                continue  # an earlier summary of this job, not a step
            step = step_of(report, name)
            if isinstance(step, str):
                skipped.append(Skipped(file=name, reason=step))
            elif step.half is half:
                steps.append(step)
    steps = _unique(steps)
    steps += _without_report(steps, parse_outcomes(outcomes), half)
    return SummaryReport(
        half=half,
        passed=not any(s.verdict is Verdict.FAIL for s in steps),
        run_url=url,
        steps=render.ordered(steps),
        skipped=skipped,
    )


def _command(key: str) -> str:
    return key.split("-", 1)[0]


def _without_report(steps: list[Step], outcomes: list[tuple[str, str]], half: Half) -> list[Step]:
    """Rows for the steps the workflow ran (or skipped) that left no report.

    A step that ran and wrote its report is already a row, perhaps under a plainer name (a health
    check of a custom path is ``health``, not ``api health``): while a command has as many reports
    as steps that ran it, no row is added for it but the skipped ones."""
    have = Counter(_command(s.key) for s in steps)
    ran = Counter(_command(name) for name, outcome in outcomes if outcome in ("success", "failure", "cancelled"))
    seen = {s.key for s in steps}
    extra: list[Step] = []
    for name, outcome in outcomes:
        step = outcome_step(name, outcome)
        if step is None or step.half is not half or step.key in seen:
            continue
        if step.verdict is not Verdict.SKIPPED and have[_command(name)] >= ran[_command(name)]:
            continue  # every step of this command that ran left its report
        extra.append(step)
        seen.add(step.key)
    return extra


def _unique(steps: list[Step]) -> list[Step]:
    """Two steps of one kind (a role deployed twice) keep distinct keys: ``deploy-api``, ``deploy-api-2``."""
    counts: dict[str, int] = {}
    out = []
    for step in render.ordered(steps):
        counts[step.key] = counts.get(step.key, 0) + 1
        n = counts[step.key]
        out.append(step if n == 1 else step.model_copy(update={"key": f"{step.key}-{n}", "label": f"{step.label} {n}"}))
    return out


def summary(*, folder: Path | None, half: Half, outcomes: str | None, report_path: Path | None, fmt: str) -> int:
    """Always 0 once the summary is written: a failed step has already failed the job."""
    result = build(folder, half, outcomes=outcomes, url=run_url())
    for item in result.skipped:
        gha.annotate("warning", f"{item.file}: {item.reason}", title="release-kit summary: report not read")
    if report_path is not None:
        write_report(result, report_path)
    emit(result, render.text(result), fmt)
    gha.add_summary(render.markdown(result))
    gha.set_outputs({"passed": str(result.passed).lower(), "report": str(report_path or "")})
    return 0
