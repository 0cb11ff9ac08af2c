"""The summary as text, Markdown and a Mermaid gantt chart (pure: steps in, strings out).

The Markdown puts the table first, so the summary reads as plain text too; the chart follows in
a ```` ```mermaid ```` block (GitHub renders it in a job summary). Names in the chart come from
reports (a role, a host), so :func:`gantt_text` keeps only what the gantt grammar reads as plain
text: no ``:`` (it ends a task's name), ``;`` or ``#`` (they end a statement or start a
comment), ``%`` (``%%`` starts a comment or a directive), no line break, no ``<``/``>``, and no
statement keyword at the start of a task's name.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from release_kit import gha
from release_kit.reporting import md_escape, md_link, table
from release_kit.summary.models import Half, Step, SummaryReport, Verdict

ICONS = {Verdict.PASS: "✅", Verdict.FAIL: "❌", Verdict.DONE: "☑️", Verdict.SKIPPED: "⏭️"}
TITLES = {Half.DEPLOY: "Deploy", Half.RELEASE: "Release"}
DATE_FORMAT = "YYYY-MM-DD HH:mm:ss.SSS"  # dayjs tokens (Mermaid's dateFormat); times are UTC
AXIS_FORMAT = "%H:%M:%S"  # d3 time format
NAME_LIMIT = 60
# words the gantt lexer reads as a statement when a line starts with them
KEYWORDS = (
    "gantt",
    "title",
    "section",
    "dateformat",
    "axisformat",
    "tickinterval",
    "excludes",
    "includes",
    "todaymarker",
    "inclusiveenddates",
    "topaxis",
    "weekday",
    "weekend",
    "click",
    "acctitle",
    "accdescr",
    "displaymode",
)
_FORBIDDEN = re.compile(r"[:;#%<>{}\[\]\"`\\]")


def gantt_text(text: str, *, limit: int = NAME_LIMIT) -> str:
    """Remote text as a gantt name: one line of plain words the grammar cannot read as syntax."""
    text = gha.CONTROL.sub(" ", gha.redact(text))
    text = _FORBIDDEN.sub(" ", text)
    text = " ".join(text.replace(",", " ").split())[:limit].strip()
    if not text:
        return "step"
    first = text.split(" ", 1)[0].lower()
    if any(first.startswith(k) for k in KEYWORDS):
        text = f"step {text}"[:limit].strip()
    return text


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


def _chart_time(at: datetime) -> str:
    at = _utc(at)
    return at.strftime("%Y-%m-%d %H:%M:%S.") + f"{at.microsecond // 1000:03d}"


def _clock(at: datetime | None) -> str:
    return _utc(at).strftime("%H:%M:%S") if at else "—"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def ordered(steps: list[Step]) -> list[Step]:
    """Runbook order; two runs of the same kind of step in the order they started."""
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(steps, key=lambda s: (s.order, s.started_at or far, s.key))


def gantt(report: SummaryReport) -> str:
    """The chart: one section per runbook stage, one task per step that has times, failures ``crit``."""
    lines = [
        "gantt",
        f"    title {gantt_text(TITLES[report.half] + ' steps (UTC)')}",
        f"    dateFormat {DATE_FORMAT}",
        f"    axisFormat {AXIS_FORMAT}",
        "    todayMarker off",
    ]
    section = None
    for index, step in enumerate(ordered(report.steps), start=1):
        if step.started_at is None or step.finished_at is None:
            continue  # no times (no report): in the table only
        if step.section != section:
            section = step.section
            lines.append(f"    section {gantt_text(section)}")
        tags = "crit, done" if step.verdict is Verdict.FAIL else "done"
        finished = max(step.finished_at, step.started_at)
        lines.append(
            f"    {gantt_text(step.label)} :{tags}, s{index}, {_chart_time(step.started_at)}, {_chart_time(finished)}"
        )
    return "\n".join(lines)


def _has_chart(report: SummaryReport) -> bool:
    return any(s.started_at is not None for s in report.steps)


def headline(report: SummaryReport) -> str:
    failed = [s.label for s in report.steps if s.verdict is Verdict.FAIL]
    title = TITLES[report.half]
    if not report.steps:
        return f"{title}: no step left a report"
    if failed:
        return f"{title} failed: {', '.join(failed)}"
    return f"{title} passed: {len(report.steps)} steps"


def _cell(text: str) -> str:
    """Redacted before it is escaped: escaping a secret's ``|`` or ``<`` would hide it from the redaction."""
    return md_escape(gha.redact(text))


def markdown(report: SummaryReport) -> str:
    rows = []
    for step in ordered(report.steps):
        link = (
            md_link("evidence" if step.url else "run", step.url or report.run_url)
            if (step.url or report.run_url)
            else "—"
        )
        rows.append(
            f"| {_cell(step.label)} | {ICONS[step.verdict]} {step.verdict.value} | {_clock(step.started_at)} "
            f"| {_clock(step.finished_at)} | {duration(step.seconds)} | {link} | {_cell(step.detail) or ' '} |"
        )
    icon = "❌" if not report.passed else "✅"
    parts = [f"### {icon} {_cell(headline(report))}", ""]
    if rows:
        parts += [
            "| Step | Verdict | Started (UTC) | Finished (UTC) | Took | Link | Detail |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
        ]
    if _has_chart(report):
        parts += ["```mermaid", gantt(report), "```", ""]
    if report.skipped:
        parts.append("Files not read as reports:")
        parts += [f"- {_cell(s.file)}: {_cell(s.reason)}" for s in report.skipped]
        parts.append("")
    return "\n".join(parts)


def text(report: SummaryReport) -> str:
    rows = [
        [s.label, s.verdict.value, _clock(s.started_at), _clock(s.finished_at), duration(s.seconds), s.detail]
        for s in ordered(report.steps)
    ]
    lines = [headline(report)]
    if rows:
        lines += ["", table(["STEP", "VERDICT", "STARTED", "FINISHED", "TOOK", "DETAIL"], rows)]
    lines += [f"skipped {s.file}: {s.reason}" for s in report.skipped]
    return "\n".join(lines)
