"""Which step of the runbook a report is, and how it went (pure: a parsed report in, a step out).

A report names its command (``command_path``, stamped by :mod:`release_kit.reporting`); deploy
and health run once per service, so the service is read from the report itself (the roles a
deploy rolled out, the readiness path a health check polled: ``/health/ready`` is the API's,
``/api/health/ready`` the web app's, as the health action documents).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from release_kit import timing
from release_kit.summary.models import Half, Step, Verdict


class Kind(NamedTuple):
    half: Half
    key: str
    label: str
    section: str
    order: int


KINDS: dict[str, Kind] = {
    "preflight": Kind(Half.DEPLOY, "preflight", "preflight", "Prepare", 10),
    "migrate": Kind(Half.DEPLOY, "migrate", "migrate", "Prepare", 20),
    "deploy": Kind(Half.DEPLOY, "deploy", "deploy", "Roll out", 30),
    "health": Kind(Half.DEPLOY, "health", "health", "Roll out", 31),
    "smoke": Kind(Half.DEPLOY, "smoke", "smoke", "Verify", 50),
    "last-good": Kind(Half.DEPLOY, "last-good", "last good", "Record", 60),
    "record": Kind(Half.DEPLOY, "record", "record", "Record", 70),
    "rollback": Kind(Half.DEPLOY, "rollback", "rollback", "Roll back", 80),
    "verify-gates": Kind(Half.RELEASE, "gates", "gates", "Gates", 10),
    "publish-images": Kind(Half.RELEASE, "images", "images", "Build and push", 20),
    "release build": Kind(Half.RELEASE, "release-build", "release build", "Build and push", 30),
    "release plan": Kind(Half.RELEASE, "release-plan", "release plan", "Release", 35),
    "release upload": Kind(Half.RELEASE, "release-upload", "release upload", "Release", 40),
    "release publish": Kind(Half.RELEASE, "release-publish", "release publish", "Release", 50),
    "verify-release": Kind(Half.RELEASE, "verification", "verification", "Verify", 60),
}

# the services of the runbook, in the order it rolls them out; another role sorts after them
_ROLE_ORDER = {"api": 0, "web": 10}
_OTHER_ROLE = 15

# what the deploy workflow's Verdict step calls the steps (``OUTCOMES``), for steps with no report
OUTCOME_KEYS: dict[str, Kind] = {
    **{k.key: k for k in KINDS.values()},
    "deploy-api": Kind(Half.DEPLOY, "deploy-api", "api deploy", "Roll out", 30),
    "health-api": Kind(Half.DEPLOY, "health-api", "api health", "Roll out", 31),
    "deploy-web": Kind(Half.DEPLOY, "deploy-web", "web deploy", "Roll out", 40),
    "health-web": Kind(Half.DEPLOY, "health-web", "web health", "Roll out", 41),
}

_NOT_OK = {"fail", "error", "missing", "stale", "pending", "unknown", "unverified", "unverifiable", "unexpected"}
_ROLE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_URL = re.compile(r"https?://[^\s<>()\[\]`\\|\"']{1,2000}")
DETAIL_LIMIT = 200


def command_of(report: Mapping[str, Any]) -> str | None:
    path = report.get("command_path")
    if not isinstance(path, str) or not path.startswith("release-kit "):
        return None
    return " ".join(path.split()[1:]) or None


def _role_kind(base: Kind, role: str, what: str) -> Kind:
    offset = _ROLE_ORDER.get(role, _OTHER_ROLE)
    return Kind(
        base.half, f"{what}-{role}", f"{role} {what}", base.section, 30 + offset + (1 if what == "health" else 0)
    )


def _deploy_kind(base: Kind, report: Mapping[str, Any]) -> Kind:
    roles = [r.get("role") for r in report.get("roles") or [] if isinstance(r, Mapping)]
    names = [r for r in roles if isinstance(r, str) and _ROLE.fullmatch(r)]
    if len(names) == 1:
        return _role_kind(base, names[0], "deploy")
    if names:  # one deploy of several roles at once
        joined = "+".join(names[:4])
        return Kind(base.half, f"deploy-{joined}", f"{' + '.join(names[:4])} deploy", base.section, 30)
    return base


def _health_kind(base: Kind, report: Mapping[str, Any]) -> Kind:
    roles: list[str] = []
    for endpoint in report.get("endpoints") or []:
        url = endpoint.get("url") if isinstance(endpoint, Mapping) else None
        if not isinstance(url, str):
            continue
        path = url.split("?", 1)[0].rstrip("/")
        role = "web" if path.endswith("/api/health/ready") else "api" if path.endswith("/health/ready") else None
        if role and role not in roles:
            roles.append(role)
    if len(roles) == 1:
        return _role_kind(base, roles[0], "health")
    return base


def kind_of(command: str, report: Mapping[str, Any]) -> Kind | None:
    base = KINDS.get(command)
    if base is None:
        return None
    if command == "deploy":
        return _deploy_kind(base, report)
    if command == "health":
        return _health_kind(base, report)
    return base


def _verdict(report: Mapping[str, Any]) -> Verdict:
    passed = report.get("passed")
    if isinstance(passed, bool):
        return Verdict.PASS if passed else Verdict.FAIL
    return Verdict.DONE


def _name(row: Mapping[str, Any]) -> str:
    return next((row[k] for k in ("name", "role", "url", "check") if isinstance(row.get(k), str)), "")


def _rows(report: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """Every row of every list in the report, nested rows (a smoke flow's steps) included, each with
    its path of names (``chat/login``), breadth first."""
    found: list[tuple[str, Mapping[str, Any]]] = []
    queue: list[tuple[str, Any]] = [("", v) for v in report.values() if isinstance(v, list)]
    while queue and len(found) < 10_000:
        parent, items = queue.pop(0)
        for item in items:
            if isinstance(item, Mapping):
                path = "/".join(p for p in (parent, _name(item)) if p)
                found.append((path, item))
                queue.extend((path, v) for v in item.values() if isinstance(v, list))
    return found


def _reason(row: Mapping[str, Any]) -> str:
    reason = row.get("reason") or row.get("reasons") or ""
    if isinstance(reason, list):
        reason = "; ".join(str(r) for r in reason[:3])
    return str(reason)


def _detail(report: Mapping[str, Any], verdict: Verdict) -> str:
    """One line: for a failure, the first failed row that says why (the innermost: a flow's step),
    else the first failed row's name; otherwise the report's own reason, if any."""
    if verdict is Verdict.FAIL:
        failed = [
            (path, row)
            for path, row in _rows(report)
            if str(row.get("verdict", "")).lower() in _NOT_OK or str(row.get("status", "")).lower() in _NOT_OK
        ]
        with_reason = [(path, _reason(row)) for path, row in failed if _reason(row)]
        if with_reason:
            path, reason = with_reason[0]
            return _one_line(f"{path}: {reason}" if path else reason)
        if failed:
            return _one_line(failed[0][0])
    own = report.get("reason")
    return _one_line(own) if isinstance(own, str) else ""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:DETAIL_LIMIT]


def _url(report: Mapping[str, Any]) -> str | None:
    for key in ("log_url", "release_url", "html_url", "url"):
        value = report.get(key)
        if isinstance(value, str) and _URL.fullmatch(value):
            return value
    return None


def step_of(report: Mapping[str, Any], source: str) -> Step | str:
    """The step a report is, or why it is not one the summary can place (a sentence)."""
    command = command_of(report)
    if command is None:
        return "no command_path: not a report of release-kit (or one written before reports were stamped)"
    kind = kind_of(command, report)
    if kind is None:
        return f"release-kit {command} is no step of a release or deploy"
    times = []
    for field in ("started_at", "finished_at"):
        value = report.get(field)
        if not isinstance(value, str):
            return f"no {field}"
        try:
            times.append(timing.parse_iso(value[:64]))
        except ValueError:
            return f"{field} is not an ISO 8601 instant with a time zone"
    started, finished = times
    if finished < started:
        return "finished_at is before started_at"
    verdict = _verdict(report)
    return Step(
        half=kind.half,
        key=kind.key,
        label=kind.label,
        section=kind.section,
        order=kind.order,
        verdict=verdict,
        detail=_detail(report, verdict),
        started_at=started,
        finished_at=finished,
        url=_url(report),
        source=source,
    )


_OUTCOMES = {
    "success": Verdict.PASS,
    "failure": Verdict.FAIL,
    "cancelled": Verdict.FAIL,
    "skipped": Verdict.SKIPPED,
    "": Verdict.SKIPPED,
}


def outcome_step(name: str, outcome: str) -> Step | None:
    """A step the workflow ran (its outcome) that left no report: a failure before the report was written."""
    kind = OUTCOME_KEYS.get(name)
    verdict = _OUTCOMES.get(outcome)
    if kind is None or verdict is None:
        return None
    detail = {
        Verdict.FAIL: f"{outcome}: it stopped before writing its report (see the step's log)",
        Verdict.SKIPPED: "skipped",
    }.get(verdict, "no report")
    return Step(
        half=kind.half,
        key=kind.key,
        label=kind.label,
        section=kind.section,
        order=kind.order,
        verdict=verdict,
        detail=detail,
    )
