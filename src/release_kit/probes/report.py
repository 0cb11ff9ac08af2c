"""The health and smoke reports as text tables and markdown step summaries."""

from __future__ import annotations

from release_kit.probes.models import HealthReport, SmokeReport, StepResult, Verdict
from release_kit.reporting import md_escape, table

ICONS = {Verdict.PASS: "✅", Verdict.FAIL: "❌", Verdict.SKIPPED: "⏭️"}


def _after(seconds: float | None) -> str:
    return f"{seconds:.1f}s" if seconds is not None else "—"


def health_headline(report: HealthReport) -> str:
    bad = [e for e in report.endpoints if e.verdict is not Verdict.PASS]
    n = len(report.endpoints)
    return "health: every endpoint is ready" if not bad else f"health: {len(bad)} of {n} endpoint(s) not ready"


def health_text(report: HealthReport) -> str:
    rows = [
        [e.url, e.verdict.value.upper(), str(e.attempts), _after(e.healthy_after_s), e.reason] for e in report.endpoints
    ]
    return health_headline(report) + "\n\n" + table(["URL", "VERDICT", "ATTEMPTS", "READY AFTER", "REASON"], rows)


def health_markdown(report: HealthReport) -> str:
    lines = [
        "### release-kit health",
        "",
        f"**{md_escape(health_headline(report))}**",
        "",
        "| Endpoint | Verdict | Attempts | Ready after | Last status | Reason |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for e in report.endpoints:
        lines.append(
            f"| `{md_escape(e.url)}` | {ICONS[e.verdict]} {e.verdict.value} | {e.attempts} | "
            f"{_after(e.healthy_after_s)} | {e.last_status if e.last_status is not None else '—'} | "
            f"{md_escape(e.reason)} |"
        )
    return "\n".join(lines) + "\n"


def step_said(step: StepResult) -> str:
    """A step's reason with what backs it: the evidence of a pass, the body excerpt of a failure."""
    said = "; ".join([step.reason, *step.evidence])
    if step.excerpt:
        said += f" — {step.excerpt}"
    if step.always:
        said += " (always)"
    return said


def smoke_headline(report: SmokeReport) -> str:
    bad = [f for f in report.flows if f.verdict is not Verdict.PASS]
    n = len(report.flows)
    if not bad:
        return "smoke: every flow passes"
    where = ", ".join(f"{f.name}/{f.failed_at}" if f.failed_at else f.name for f in bad)
    return f"smoke: {len(bad)} of {n} flow(s) fail (first failure: {where})"


def smoke_text(report: SmokeReport) -> str:
    rows = [
        [f"{flow.name}/{s.name}", s.verdict.value.upper(), str(s.status or "—"), f"{s.elapsed_s:.2f}s", step_said(s)]
        for flow in report.flows
        for s in flow.steps
    ]
    return smoke_headline(report) + "\n\n" + table(["STEP", "VERDICT", "STATUS", "TIME", "REASON"], rows)


def smoke_markdown(report: SmokeReport) -> str:
    lines = [
        "### release-kit smoke",
        "",
        f"**{md_escape(smoke_headline(report))}**",
        "",
        "| Flow | Step | Verdict | Status | Time | Reason |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for flow in report.flows:
        for s in flow.steps:
            lines.append(
                f"| {md_escape(flow.name)} | {md_escape(s.name)} | {ICONS[s.verdict]} {s.verdict.value} | "
                f"{s.status or '—'} | {s.elapsed_s:.2f}s | {md_escape(step_said(s))} |"
            )
    return "\n".join(lines) + "\n"
