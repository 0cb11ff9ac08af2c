"""verify-gates end to end: policy, evidence, verdicts, then report, summary and outputs."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from release_kit import config, gha
from release_kit.errors import AccessError, ExitCode, InputError
from release_kit.gates import report as render
from release_kit.gates.fetch import EvidenceFetcher
from release_kit.gates.judge import judge
from release_kit.gates.models import GateResult, GatesReport, Verdict
from release_kit.gates.policy import GatesPolicy, runbook_policy
from release_kit.github.client import GitHubClient, parse_repo
from release_kit.http import Clock, SystemClock
from release_kit.reporting import emit, write_report

POLL_INTERVAL = 15.0


BUILT_IN = "built-in runbook policy"


def load_policy(path: Path | None) -> tuple[GatesPolicy, str]:
    """The policy to judge, and where it came from (shown in the output, report and summary)."""
    loaded = config.load(path, section="gates")  # only the gates: section is read (and imported)
    if loaded is not None and loaded.gates is not None:
        return loaded.gates, str(path or config.DEFAULT_PATH)
    if path is not None:
        raise InputError(f"--config {path}: has no gates: section")
    return runbook_policy(), BUILT_IN


def _head_outside_actions() -> str:
    """On a laptop, the checkout's HEAD commit (said on stderr); in Actions nothing is guessed."""
    if gha.in_actions():
        return ""
    from release_kit.params import head_commit

    sha = head_commit()
    if sha is not None:
        gha.echo(f"release-kit: --ref {sha} (HEAD of the checkout; it must be pushed for GitHub to know it)", err=True)
    return sha or ""


def run(
    *,
    repo: str | None,
    ref: str | None,
    config_path: Path | None,
    wait: float,
    report_path: Path | None,
    fmt: str,
    client: GitHubClient | None = None,
    clock: Clock | None = None,
) -> ExitCode:
    name = parse_repo(repo)
    ref = ref or os.environ.get("GITHUB_SHA") or _head_outside_actions()
    if not ref:
        raise InputError("--ref is required: expected a tag, branch or commit SHA (or set GITHUB_SHA)")
    policy, source = load_policy(config_path)
    clock = clock or SystemClock()
    gh = client or GitHubClient()
    fetcher = EvidenceFetcher(gh, name)
    try:
        deadline = clock.now() + wait
        while True:
            evidence = fetcher.fetch(policy, ref)
            results = judge(policy, evidence, datetime.fromtimestamp(clock.now(), UTC))
            pending = any(r.verdict is Verdict.PENDING for r in results)
            if not pending or clock.now() + POLL_INTERVAL > deadline:
                break
            with gha.group(f"waiting for {sum(r.verdict is Verdict.PENDING for r in results)} pending gate(s)"):
                clock.sleep(POLL_INTERVAL)
    finally:
        fetcher.close()
        if client is None:
            gh.close()

    result = GatesReport(
        repository=name.full_name,
        ref=ref,
        sha=evidence.sha,
        policy=source,
        passed=all(r.verdict is Verdict.PASS for r in results),
        gates=results,
        requests=gh.requests,
    )
    return publish(result, report_path, fmt)


def publish(result: GatesReport, report_path: Path | None, fmt: str) -> ExitCode:
    if report_path is None and gha.in_actions() and os.environ.get("RUNNER_TEMP"):
        report_path = Path(os.environ["RUNNER_TEMP"]) / "release-kit" / "verify-gates.json"
    if report_path is not None:
        write_report(result, report_path)
    emit(result, render.text(result), fmt)
    gha.add_summary(render.markdown(result))
    for gate in result.gates if gha.in_actions() else []:  # the table already says it locally
        if gate.verdict is not Verdict.PASS:
            gha.error(_annotation(gate), title=f"gate {gate.name}: {gate.verdict.value}")
    gha.set_outputs(
        {
            "passed": "true" if result.passed else "false",
            "sha": result.sha,
            "report": str(report_path or ""),
        }
    )
    errors = [g for g in result.gates if g.verdict is Verdict.ERROR]
    if errors:
        first = errors[0]
        raise AccessError(f"gate {first.name!r} could not be judged: {first.reason}", hint=first.fix)
    return ExitCode.OK if result.passed else ExitCode.NOT_OK


def _annotation(gate: GateResult) -> str:
    text = gate.reason
    if gate.url:
        text += f" ({gate.url})"
    return text
