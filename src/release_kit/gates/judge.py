"""Pure judgement: a policy and the evidence in, one verdict per gate out."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from release_kit.gates.models import (
    CheckRun,
    Evidence,
    GateResult,
    PullRequest,
    Verdict,
    Workflow,
    WorkflowRun,
)
from release_kit.gates.policy import Gate, GatesPolicy, Severity

CONCLUSION_REASONS = {
    "failure": "failed",
    "skipped": "was skipped (a skipped run proves nothing)",
    "neutral": "ended neutral (not a success)",
    "cancelled": "was cancelled",
    "timed_out": "timed out",
    "action_required": "is waiting for approval (action_required)",
    "stale": "was marked stale by GitHub",
    "startup_failure": "failed to start (startup_failure: check the workflow file)",
}
MAX_LISTED = 12  # workflow names listed for a missing gate, the closest first
RULE_SEVERITY = {"error": Severity.HIGH, "warning": Severity.MEDIUM, "note": Severity.LOW}


@dataclass(frozen=True)
class Finding:
    verdict: Verdict
    reason: str
    url: str | None = None
    fix: str | None = None


def short(sha: str) -> str:
    return sha[:7]


def _describe_run(run: WorkflowRun) -> str:
    attempt = f", attempt {run.run_attempt}" if run.run_attempt > 1 else ""
    return f"run #{run.run_number} ({run.event}{attempt})"


def find_workflow(workflows: Sequence[Workflow], ref: str) -> Workflow | Finding:
    by_path = ref.startswith(".github/") or ref.endswith((".yml", ".yaml"))
    matches = [w for w in workflows if (w.path == ref if by_path else w.name == ref)]
    if not matches:
        kind = "file" if by_path else "named"
        known = [w.path if by_path else w.name for w in workflows]
        return Finding(Verdict.MISSING, f"no workflow {kind} {ref!r}; {_listing(ref, known)}")
    if len(matches) > 1:
        paths = ", ".join(w.path for w in matches)
        return Finding(
            Verdict.ERROR,
            f"{len(matches)} workflows are named {ref!r} ({paths})",
            fix="name the gate's workflow by its file path instead",
        )
    return matches[0]


def closest_first(wanted: str, names: Sequence[str]) -> list[str]:
    """``names`` without repeats, the most similar to ``wanted`` first (ignoring case): names that
    contain it or are part of it, then by difflib's similarity."""
    key = wanted.lower()

    def distance(name: str) -> tuple[bool, float]:
        low = name.lower()
        return (not (low in key or key in low), -difflib.SequenceMatcher(None, key, low).ratio())

    return sorted(sorted(set(names)), key=distance)


def _listing(wanted: str, names: Sequence[str]) -> str:
    if not names:
        return "this repository has no workflows"
    ordered = closest_first(wanted, names)
    shown = ", ".join(repr(n) for n in ordered[:MAX_LISTED])
    more = f" and {len(ordered) - MAX_LISTED} more" if len(ordered) > MAX_LISTED else ""
    return f"this repository has: {shown}{more}"


def judge_run(runs: Sequence[WorkflowRun], accept: Sequence[str], where: str) -> Finding:
    """The newest run decides; a newer run still going makes it pending, never an older green one."""
    newest = max(runs, key=lambda r: r.sort_key)
    what = _describe_run(newest)
    if newest.status != "completed":
        state = newest.status or "not started"
        older = sum(1 for r in runs if r is not newest and r.conclusion in accept)
        note = f"; {older} older successful run(s) do not count" if older else ""
        return Finding(Verdict.PENDING, f"{what} is {state} on {where}{note}", newest.html_url)
    if newest.conclusion in accept:
        return Finding(Verdict.PASS, f"{what} succeeded on {where}", newest.html_url)
    conclusion = newest.conclusion or "unknown"
    text = CONCLUSION_REASONS.get(conclusion, f"ended {conclusion}")
    return Finding(Verdict.FAIL, f"{what} {text} on {where}", newest.html_url)


def _runs_for_commit(gate: Gate, wf: Workflow, evidence: Evidence) -> Finding:
    candidates = [r for r in evidence.runs if r.workflow_id == wf.id]
    own = [r for r in candidates if (r.head_repository or evidence.repository).lower() == evidence.repository.lower()]
    usable = [r for r in own if r.event in gate.events]
    if not usable:
        ignored = len(candidates) - len(usable)
        note = f" ({ignored} run(s) from other events or forks ignored)" if ignored else ""
        events = ", ".join(gate.events)
        return Finding(
            Verdict.MISSING,
            f"no {wf.name!r} run for commit {short(evidence.sha)} from {events}{note}",
            wf.html_url,
        )
    return judge_run(usable, gate.accept, f"commit {short(evidence.sha)}")


def _associated_pulls(evidence: Evidence) -> list[PullRequest]:
    pulls = evidence.pulls or []
    return [p for p in pulls if evidence.sha in (p.merge_commit_sha, p.head_sha)]


def _runs_for_pulls(gate: Gate, wf: Workflow, evidence: Evidence) -> list[Finding]:
    pulls = _associated_pulls(evidence)
    if not pulls:
        if gate.allow_direct_push:
            return [
                Finding(
                    Verdict.PASS,
                    f"commit {short(evidence.sha)} has no pull request; allowed by allow_direct_push",
                )
            ]
        return [
            Finding(
                Verdict.FAIL,
                f"commit {short(evidence.sha)} was pushed without a pull request, so no {wf.name!r} "
                "run reviewed it (set allow_direct_push: true to accept this)",
            )
        ]
    findings = []
    for pull in pulls:
        runs = [
            r
            for r in evidence.pull_runs
            if r.workflow_id == wf.id and r.head_sha == pull.head_sha and r.event in gate.events
        ]
        where = f"PR #{pull.number} head {short(pull.head_sha)}"
        if not runs:
            findings.append(Finding(Verdict.MISSING, f"no {wf.name!r} run for {where}", pull.html_url))
        else:
            findings.append(judge_run(runs, gate.accept, where))
    return findings


def _schedule(gate: Gate, wf: Workflow, evidence: Evidence, now: datetime) -> Finding:
    max_age = gate.schedule_max_age or timedelta(0)
    run = evidence.scheduled.get(wf.id)
    branch = evidence.default_branch
    if run is None:
        return Finding(Verdict.STALE, f"no completed scheduled run of {wf.name!r} on {branch}", wf.html_url)
    age = now - run.started
    days = age.total_seconds() / 86400
    if run.conclusion not in gate.accept:
        text = CONCLUSION_REASONS.get(run.conclusion or "", f"ended {run.conclusion}")
        return Finding(
            Verdict.STALE,
            f"the newest scheduled run on {branch} {text} ({days:.1f} days ago)",
            run.html_url,
        )
    if age > max_age:
        limit = max_age.total_seconds() / 86400
        return Finding(
            Verdict.STALE,
            f"the newest successful scheduled run on {branch} is {days:.1f} days old (limit {limit:g} days)",
            run.html_url,
        )
    return Finding(Verdict.PASS, f"scheduled run on {branch} {days:.1f} days ago succeeded", run.html_url)


def alert_severity(security: str | None, rule: str | None) -> Severity | None:
    if security:
        try:
            return Severity(security)
        except ValueError:
            return None
    return RULE_SEVERITY.get(rule or "")


def _code_alerts(gate: Gate, evidence: Evidence) -> Finding:
    tool = gate.code_scanning_tool or ""
    found = evidence.code_alerts.get(tool)
    if found is None:
        return Finding(Verdict.ERROR, f"{tool} alerts were not fetched")
    if not isinstance(found, list):
        verdict = Verdict.MISSING if found.missing else Verdict.ERROR
        return Finding(verdict, found.reason, fix=found.fix)
    threshold = gate.severity_threshold
    over = []
    for alert in found:
        level = alert_severity(alert.rule.security_severity_level, alert.rule.severity)
        if alert.state == "open" and level is not None and level.rank >= threshold.rank:
            over.append((level, alert))
    if not over:
        below = len(found)
        tail = f" ({below} below the threshold)" if below else ""
        return Finding(Verdict.PASS, f"no open {tool} alert at or above {threshold.value}{tail}")
    over.sort(key=lambda item: -item[0].rank)
    counts: dict[str, int] = {}
    for level, _ in over:
        counts[level.value] = counts.get(level.value, 0) + 1
    detail = ", ".join(f"{n} {lvl}" for lvl, n in counts.items())
    return Finding(
        Verdict.FAIL,
        f"{len(over)} open {tool} alert(s) at or above {threshold.value} on {evidence.default_branch} ({detail})",
        over[0][1].html_url,
    )


def _secret_alerts(evidence: Evidence) -> Finding:
    found = evidence.secret_alerts
    if found is None:
        return Finding(Verdict.ERROR, "secret-scanning alerts were not fetched")
    if not isinstance(found, list):
        return Finding(Verdict.ERROR, found.reason, fix=found.fix)
    open_alerts = [a for a in found if a.state == "open"]
    if open_alerts:
        kinds = sorted({a.secret_type_display_name or "secret" for a in open_alerts})
        return Finding(
            Verdict.FAIL,
            f"{len(open_alerts)} open secret-scanning alert(s) ({', '.join(kinds)})",
            open_alerts[0].html_url,
        )
    return Finding(Verdict.PASS, "no open secret-scanning alert")


def _check_runs(gate: Gate, evidence: Evidence) -> list[Finding]:
    found = evidence.check_runs
    if not isinstance(found, list):
        reason = found.reason if found is not None else "check runs were not fetched"
        return [Finding(Verdict.ERROR, reason, fix=found.fix if found else None)]
    findings = []
    for need in gate.check_runs:
        runs: list[CheckRun] = [
            c for c in found if c.name == need.name and (need.app_id is None or (c.app and c.app.id == need.app_id))
        ]
        app = f" from app {need.app_id}" if need.app_id is not None else ""
        if not runs:
            findings.append(
                Finding(
                    Verdict.MISSING,
                    f"no check run {need.name!r}{app} on commit {short(evidence.sha)}",
                )
            )
            continue
        newest = max(runs, key=lambda c: c.sort_key)
        if newest.status != "completed":
            findings.append(Finding(Verdict.PENDING, f"check run {need.name!r} is {newest.status}", newest.html_url))
        elif newest.conclusion in gate.accept:
            findings.append(Finding(Verdict.PASS, f"check run {need.name!r} succeeded", newest.html_url))
        else:
            text = CONCLUSION_REASONS.get(newest.conclusion or "", f"ended {newest.conclusion}")
            findings.append(Finding(Verdict.FAIL, f"check run {need.name!r} {text}", newest.html_url))
    return findings


def combine(name: str, findings: Sequence[Finding]) -> GateResult:
    """The most decisive finding sets the verdict; every non-pass reason is kept."""
    decisive = max(findings, key=lambda f: f.verdict.weight)
    if decisive.verdict is Verdict.PASS:
        reason = "; ".join(f.reason for f in findings)
        url = findings[0].url
    else:
        bad = sorted((f for f in findings if f.verdict is not Verdict.PASS), key=lambda f: -f.verdict.weight)
        reason = "; ".join(f.reason for f in bad)
        url = decisive.url
    return GateResult(name=name, verdict=decisive.verdict, reason=reason, url=url, fix=decisive.fix)


def judge_gate(gate: Gate, evidence: Evidence, now: datetime) -> GateResult:
    wf = find_workflow(evidence.workflows, gate.workflow_ref)
    if isinstance(wf, Finding):
        return combine(gate.name, [wf])
    if wf.state != "active":
        return combine(
            gate.name,
            [
                Finding(
                    Verdict.FAIL,
                    f"workflow {wf.name!r} is {wf.state}, not active: re-enable it",
                    wf.html_url,
                )
            ],
        )
    findings = _runs_for_pulls(gate, wf, evidence) if gate.pull_request else [_runs_for_commit(gate, wf, evidence)]
    if gate.schedule_max_age is not None:
        findings.append(_schedule(gate, wf, evidence, now))
    if gate.code_scanning_tool:
        findings.append(_code_alerts(gate, evidence))
    if gate.no_open_secret_alerts:
        findings.append(_secret_alerts(evidence))
    if gate.check_runs:
        findings.extend(_check_runs(gate, evidence))
    return combine(gate.name, findings)


def judge(policy: GatesPolicy, evidence: Evidence, now: datetime) -> list[GateResult]:
    return [judge_gate(gate, evidence, now) for gate in policy.gates]
