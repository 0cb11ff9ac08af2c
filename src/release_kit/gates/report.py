"""The verify-gates report as a text table and a markdown step summary."""

from __future__ import annotations

from release_kit.gates.models import GatesReport, Verdict
from release_kit.reporting import md_escape, md_link, table

ICONS = {
    Verdict.PASS: "✅",
    Verdict.FAIL: "❌",
    Verdict.MISSING: "❔",
    Verdict.PENDING: "⏳",
    Verdict.STALE: "⌛",
    Verdict.ERROR: "⚠️",
}


def headline(report: GatesReport) -> str:
    bad = [g for g in report.gates if g.verdict is not Verdict.PASS]
    state = "all gates pass" if not bad else f"{len(bad)} of {len(report.gates)} gates do not pass"
    return f"{report.repository} @ {report.ref} ({report.sha[:12]}): {state}"


def text(report: GatesReport) -> str:
    rows = [[g.name, g.verdict.value.upper(), g.reason + (f" [fix: {g.fix}]" if g.fix else "")] for g in report.gates]
    return f"{headline(report)}\npolicy: {report.policy}\n\n" + table(["GATE", "VERDICT", "REASON"], rows)


def markdown(report: GatesReport) -> str:
    lines = [
        "### release-kit verify-gates",
        "",
        f"**{md_escape(headline(report))}**",
        "",
        f"Policy: {md_escape(report.policy)}",
        "",
        "| Gate | Verdict | Reason | Evidence |",
        "| --- | --- | --- | --- |",
    ]
    for g in report.gates:
        link = md_link("link", g.url)
        reason = g.reason + (f" — fix: {g.fix}" if g.fix else "")
        lines.append(f"| {md_escape(g.name)} | {ICONS[g.verdict]} {g.verdict.value} | {md_escape(reason)} | {link} |")
    return "\n".join(lines) + "\n"
