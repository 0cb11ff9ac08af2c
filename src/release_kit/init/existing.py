"""What the repository's own workflows already do: an image build on v* tags (and its Trivy
settings), and what a release.yml that init would replace does beyond the runbook. Pure reads."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from release_kit.init.detect import MAX_WORKFLOW_BYTES, Image, join_path, role_of

SAMPLE_TAG = "v1.2.3"


@dataclass(frozen=True)
class Trivy:
    severity: str | None = None  # "HIGH,CRITICAL"
    ignore_unfixed: bool | None = None
    vuln_type: str | None = None  # "os,library"

    def any(self) -> bool:
        return any(v is not None for v in (self.severity, self.ignore_unfixed, self.vuln_type))


@dataclass(frozen=True)
class ImageWorkflow:
    path: str  # .github/workflows/<file>
    name: str
    hints: list[Image] = field(default_factory=list)  # the Dockerfiles and contexts it builds
    trivy: Trivy = field(default_factory=Trivy)


@dataclass(frozen=True)
class Dropped:
    kind: str  # audit, SBOM, cache, signing, publish, notification, other
    what: str  # the step, as its name or action says it


def load(repo: Path, rel: str) -> dict[str, Any] | None:
    path = repo / rel
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_WORKFLOW_BYTES:
            return None
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _on(data: dict[str, Any]) -> Any:
    loose: dict[Any, Any] = data
    return loose.get("on", loose.get(True))  # YAML 1.1 reads a bare `on:` key as true


def runs_on_tags(data: dict[str, Any]) -> bool:
    """Whether a push of a v* tag starts the workflow."""
    on = _on(data)
    if on == "push" or (isinstance(on, list) and "push" in on):
        return True  # a push with no filter runs for tags too
    push = on.get("push") if isinstance(on, dict) else None
    if not isinstance(on, dict) or "push" not in on:
        return False
    if push is None:
        return True
    if not isinstance(push, dict):
        return False
    tags = push.get("tags")
    if isinstance(tags, str):
        tags = [tags]
    if isinstance(tags, list):
        ignored = push.get("tags-ignore") or []
        matched = any(isinstance(t, str) and not t.startswith("!") and fnmatch.fnmatch(SAMPLE_TAG, t) for t in tags)
        return matched and not any(isinstance(t, str) and fnmatch.fnmatch(SAMPLE_TAG, t) for t in ignored)
    ignored = push.get("tags-ignore")
    if isinstance(ignored, list):
        return not any(isinstance(t, str) and fnmatch.fnmatch(SAMPLE_TAG, t) for t in ignored)
    return "branches" not in push and "branches-ignore" not in push


def steps(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    jobs = data.get("jobs")
    for job in jobs.values() if isinstance(jobs, dict) else []:
        for step in (job.get("steps") or []) if isinstance(job, dict) else []:
            if isinstance(step, dict):
                yield step


def _uses(step: dict[str, Any]) -> str:
    uses = step.get("uses")
    return uses.split("@", 1)[0].lower() if isinstance(uses, str) else ""


def _with(step: dict[str, Any]) -> dict[str, Any]:
    given = step.get("with")
    return given if isinstance(given, dict) else {}


def _run(step: dict[str, Any]) -> str:
    run = step.get("run")
    return run if isinstance(run, str) else ""


def _pushes(step: dict[str, Any]) -> bool:
    if _uses(step) == "docker/build-push-action":
        push = _with(step).get("push")
        return push is True or (isinstance(push, str) and push.strip().lower() not in ("", "false"))
    run = _run(step)
    return bool(re.search(r"\bdocker\s+push\b|\bbuildx\s+build\b[^\n]*--push\b|\bbuildx\s+bake\b[^\n]*--push", run))


def _literal(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() and "${{" not in value else None


def _build_hint(step: dict[str, Any], where: str) -> Image | None:
    if _uses(step) != "docker/build-push-action":
        return None
    given = _with(step)
    context = join_path(".", _literal(given.get("context")) or ".")
    file = _literal(given.get("file"))
    dockerfile = join_path(".", file) if file else join_path(context, "Dockerfile")
    names = [str(step.get("name") or ""), str(given.get("tags") or ""), dockerfile, context]
    role = next((r for r in (role_of(_last_word(n)) for n in names if n) if r), None)
    if role is None or not context or not dockerfile:
        return None
    return Image(role, dockerfile, context, f"{where}: its build step")


def _last_word(text: str) -> str:
    """`ghcr.io/acme/app-api:latest` -> `app-api`; `Build the web image` stays as it is."""
    if "/" in text or ":" in text:
        text = text.strip().split()[0] if text.strip() else text
        text = text.rsplit("/", 1)[-1].split(":", 1)[0]
    return text


def _trivy(data: dict[str, Any]) -> Trivy:
    severity = ignore = vuln = None
    for step in steps(data):
        if _uses(step) == "aquasecurity/trivy-action":
            given = _with(step)
            severity = severity or _literal(given.get("severity"))
            raw = given.get("ignore-unfixed")
            if ignore is None and raw is not None:
                ignore = str(raw).strip().lower() == "true"
            vuln = vuln or _literal(given.get("vuln-type"))
        for match in re.finditer(r"\btrivy\s+image\b[^\n]*", _run(step)):
            line = match.group(0)
            found = re.search(r"--severity[= ](\S+)", line)
            severity = severity or (found.group(1) if found else None)
            if "--ignore-unfixed" in line:
                ignore = True
            found = re.search(r"--(?:vuln-type|pkg-types)[= ](\S+)", line)
            vuln = vuln or (found.group(1) if found else None)
    return Trivy(severity=severity, ignore_unfixed=ignore, vuln_type=vuln)


def image_workflows(repo: Path, paths: list[str], skip: frozenset[str] = frozenset()) -> list[ImageWorkflow]:
    """The workflows that build and push images when a v* tag is pushed."""
    found: list[ImageWorkflow] = []
    for rel in paths:
        if rel in skip:
            continue
        data = load(repo, rel)
        if data is None or not runs_on_tags(data) or not any(_pushes(s) for s in steps(data)):
            continue
        name = data.get("name") if isinstance(data.get("name"), str) else rel
        hints = [h for h in (_build_hint(s, rel) for s in steps(data)) if h is not None]
        found.append(ImageWorkflow(rel, str(name), hints, _trivy(data)))
    return found


# what the runbook's release does itself: a step of these is not dropped when release.yml is replaced
_RUNBOOK_DOES = (
    "actions/checkout",
    "actions/setup-python",
    "docker/setup-buildx-action",
    "docker/setup-qemu-action",
    "docker/login-action",
    "docker/build-push-action",
    "docker/metadata-action",
    "aquasecurity/trivy-action",
    "github/codeql-action/upload-sarif",
    "actions/attest-build-provenance",
    "actions/attest-sbom",
    "actions/attest",
    "softprops/action-gh-release",
    "ncipollo/release-action",
    "actions/upload-artifact",
    "actions/download-artifact",
    "aws-actions/configure-aws-credentials",
    "aws-actions/amazon-ecr-login",
    "azure/login",
    "azure/docker-login",
)
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "audit",
        re.compile(r"pip-audit|\b(?:npm|pnpm|yarn|bun)\s+audit\b|\bsafety\b|osv-scanner|cargo[- ]audit|trivy\s+fs"),
    ),
    ("SBOM", re.compile(r"anchore/sbom-action|\bsyft\b|cdxgen|cyclonedx|spdx")),
    ("cache", re.compile(r"actions/cache\b|cache-from|cache-to|\bcache:")),
    ("signing", re.compile(r"cosign|sigstore|\bgpg\b|notation")),
    ("publish", re.compile(r"pypi-publish|twine\s+upload|\b(?:npm|pnpm|yarn)\s+publish\b|uv\s+publish|helm\s+push")),
    ("notification", re.compile(r"slack|discord|teams|mattermost|sendgrid|mail")),
)


def _describe(step: dict[str, Any]) -> str:
    name = step.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    if _uses(step):
        return str(step.get("uses"))
    first = next((ln.strip() for ln in _run(step).splitlines() if ln.strip()), "")
    return first[:80] or "(a step)"


def dropped_steps(repo: Path, rel: str) -> list[Dropped]:
    """What the workflow at ``rel`` does that the runbook's release does not: the steps replacing it drops."""
    data = load(repo, rel)
    if data is None:
        return []
    dropped: list[Dropped] = []
    for step in steps(data):
        text = " ".join([_uses(step), _run(step), yaml.safe_dump(_with(step), default_flow_style=True)]).lower()
        kind = next((k for k, pattern in _KINDS if pattern.search(text)), None)
        if kind is None and (_uses(step) in _RUNBOOK_DOES or _is_runbook_command(_run(step))):
            continue
        dropped.append(Dropped(kind or "other", _describe(step)))
    return dropped


def _is_runbook_command(run: str) -> bool:
    lines = [ln.strip() for ln in run.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    ours = re.compile(
        r"^(docker (buildx )?(build|push|tag|login)|python -m build|uv build|pip install( -U)? build|gh release|"
        r"echo |mkdir |cd |ls |sha256sum|export )"
    )
    return bool(lines) and all(ours.match(ln) for ln in lines)


def is_runbook(repo: Path, rel: str) -> bool:
    """Whether the workflow at ``rel`` is one init wrote (it calls a runbook-*.yml reusable workflow)."""
    data = load(repo, rel)
    jobs = data.get("jobs") if data else None
    return isinstance(jobs, dict) and any(
        isinstance(job, dict) and "/.github/workflows/runbook-" in str(job.get("uses", "")) for job in jobs.values()
    )
