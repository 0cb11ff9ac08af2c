"""The wiring of a workflow that no linter here checks: what each expression names exists, and each job
holds exactly the permissions its steps need.

:func:`check_workflow` reads one workflow (YAML text) and returns one line per problem, [] when it
is wired right. The rules:

1. calls of ours resolve (:func:`tests.wiring.check_uses`, ``uses: ./<name>`` included): the action or
   reusable workflow exists, every ``with:`` key is an input, every required input is given, and for
   a reusable workflow every ``secrets:`` key is one it declares and every required secret is given;
2. ``steps.X.outputs.Y`` (and ``steps.X.outcome``/``conclusion``) names a step ``id: X`` earlier in the
   same job (anywhere in it for the job's ``outputs``); Y is an output of X: one of the ``outputs`` of
   our action.yml, or, for a ``run:`` step, a name the script writes to ``$GITHUB_OUTPUT`` (its text
   has ``Y=`` or ``Y<<``: a grep, not a shell parser). Outputs of third-party actions are accepted
   unchecked: we do not hold their action.yml;
3. ``needs.J.outputs.Y`` / ``needs.J.result``: J is in the job's ``needs`` and declares output Y (for a
   job calling one of our reusable workflows, Y is in its ``on.workflow_call.outputs``); each
   ``on.workflow_call.outputs.*.value`` names an existing job and one of its outputs; ``inputs.X`` is
   declared (``workflow_call`` or ``workflow_dispatch`` inputs); in a reusable workflow ``secrets.X``
   (but ``GITHUB_TOKEN``) is declared in ``on.workflow_call.secrets``;
4. ``permissions: {}`` at the top, explicit ``permissions`` on every job, and exactly what its steps
   need (:data:`OUR_ACTIONS`, :data:`THIRD_PARTY`; a job calling a reusable workflow of ours needs
   the union of that workflow's jobs' permissions): a missing scope, one granted beyond the need, or
   ``write`` where ``read`` does are each a problem. A need of ``read`` is met by ``write`` when
   another step of the job needs ``write``;
5. every third-party ``uses:`` is pinned by a full 40-hex commit SHA with a version comment
   (``@<sha> # vX.Y.Z``), a ``docker://`` image by digest; ours by a tag such as ``v1`` or a SHA.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from release_kit import config
from tests.wiring import LOCAL_PREFIXES, OWNER_REPO, ROOT, check_uses, load_action, load_reusable, triggers_of

Perms = dict[str, str]  # scope -> "read" | "write"
Step = Mapping[str, Any]

# -- what each action needs ------------------------------------------------------------------


def _needs(**scopes: str) -> Callable[[Step, Path], Perms]:
    fixed = {scope.replace("_", "-"): level for scope, level in scopes.items()}
    return lambda step, root: dict(fixed)


def _verify_gates(step: Step, root: Path) -> Perms:
    """Runs and the commit always; pull requests and code-scanning alerts when a gate reads them.

    The built-in policy (no ``config:``, or a ``.github/release-kit.yml`` of the user's) has gates
    that read both. Secret-scanning alerts need a token GITHUB_TOKEN cannot be (README), so no scope.
    """
    need = {"actions": "read", "contents": "read"}
    path = (step.get("with") or {}).get("config")
    if isinstance(path, str) and "${{" not in path and (root / path).is_file():
        settings = config.parse((root / path).read_text(), path)
        gates = settings.gates.gates if settings.gates is not None else []
    else:
        gates = None  # the built-in runbook policy, or the user's own file: every gate kind
    if gates is None or any(g.pull_request for g in gates):
        need["pull-requests"] = "read"
    if gates is None or any(g.code_scanning_tool for g in gates):
        need["security-events"] = "read"
    return need


def _publish_images(step: Step, root: Path) -> Perms:
    """GHCR takes GITHUB_TOKEN with ``packages: write`` (README); a registry the caller chooses may be GHCR.
    With ``attest``, each digest's provenance is signed (OIDC) and stored on GitHub."""
    given = step.get("with") or {}
    registry = str(given.get("registry", ""))
    maybe_ghcr = "ghcr.io" in registry or re.search(r"\binputs\.", registry) is not None
    need: Perms = {"packages": "write"} if maybe_ghcr else {}
    if str(given.get("attest", "false")).lower() not in ("false", ""):
        need |= {"id-token": "write", "attestations": "write"}
    return need


def _configure_aws(step: Step, root: Path) -> Perms:
    """With ``role-to-assume`` the role is assumed through OIDC; with access keys alone nothing is needed."""
    return {"id-token": "write"} if (step.get("with") or {}).get("role-to-assume") else {}


OUR_ACTIONS: dict[str, Callable[[Step, Path], Perms]] = {
    "verify-gates": _verify_gates,  # actions, contents, pull-requests, security-events: read
    "publish-images": _publish_images,  # packages: write for GHCR; ECR/ACR credentials are not GitHub's
    "release": _needs(contents="write", id_token="write", attestations="write"),  # draft + sign + store
    "verify-release": _needs(contents="read", attestations="read"),
    "record": _needs(deployments="write"),
    "rollback": _needs(deployments="write", attestations="read"),  # records; digests' provenance
    # the cloud's permissions come from the sign-in step before them (OIDC: id-token), not from GitHub
    "preflight": _needs(),
    "migrate": _needs(),
    "deploy": _needs(attestations="read"),  # deploy.require_attestations: each digest's provenance
    "health": _needs(),
    "smoke": _needs(),
    "summary": _needs(),  # reads the reports on the runner, calls nothing
}
THIRD_PARTY: dict[str, Callable[[Step, Path], Perms]] = {
    "actions/checkout": _needs(contents="read"),
    "actions/setup-python": _needs(),
    "docker/setup-buildx-action": _needs(),
    "aquasecurity/trivy-action": _needs(),
    "github/codeql-action/upload-sarif": _needs(security_events="write"),
    "actions/attest-build-provenance": _needs(id_token="write", attestations="write"),
    "actions/attest-sbom": _needs(id_token="write", attestations="write"),
    "actions/attest": _needs(id_token="write", attestations="write"),
    "actions/upload-artifact": _needs(),
    "actions/download-artifact": _needs(),
    "aws-actions/configure-aws-credentials": _configure_aws,
    "azure/login": _needs(id_token="write"),
}
LEVELS = {"none": 0, "read": 1, "write": 2}


# -- reading a workflow ----------------------------------------------------------------------


def ours(uses: str) -> tuple[str, str] | None:
    """("action", name) or ("workflow", path) for a call of this repository's; None for anything else."""
    uses = uses.strip()
    if uses.startswith(f"{OWNER_REPO}/"):
        path = uses.removeprefix(f"{OWNER_REPO}/").split("@", 1)[0]
    elif uses.startswith(LOCAL_PREFIXES):
        path = uses[2:].rstrip("/")
    else:
        return None
    return ("workflow", path) if path.startswith(".github/") else ("action", path)


def _strings(node: Any) -> Iterator[tuple[str, str]]:
    """(key, text) of every string under node, the key it sits under ("" in a list)."""
    stack: list[tuple[str, Any]] = [("", node)]
    while stack:
        key, value = stack.pop()
        if isinstance(value, str):
            yield key, value
        elif isinstance(value, Mapping):
            stack.extend(reversed([(str(k), v) for k, v in value.items()]))
        elif isinstance(value, list):
            stack.extend(reversed([("", v) for v in value]))


_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def expressions(node: Any) -> list[str]:
    """Every expression under node: the ``${{ }}`` parts of strings, and each ``if:`` whole."""
    found = []
    for key, text in _strings(node):
        found += _EXPR.findall(text)
        if key == "if" and "${{" not in text:
            found.append(text)
    return found


_OUTPUT = (  # .outputs.Y, .outputs['Y'], or .outcome / .conclusion / .result
    r"(?:\.outputs(?:\.(?P<out>[\w-]+)|\[\s*['\"](?P<outq>[\w-]+)['\"]\s*\])"
    r"|\.(?P<other>outcome|conclusion|result))"
)
_STEP_REF = re.compile(r"(?<![\w.-])steps\.(?P<id>[\w-]+)" + _OUTPUT)
_NEEDS_REF = re.compile(r"(?<![\w.-])needs\.(?P<id>[\w-]+)" + _OUTPUT)
_JOBS_REF = re.compile(r"(?<![\w.-])jobs\.(?P<id>[\w-]+)" + _OUTPUT)
_INPUT_REF = re.compile(r"(?<![\w.-])inputs\.(?P<name>[\w-]+)")
_SECRET_REF = re.compile(r"(?<![\w.-])secrets\.(?P<name>[\w-]+)")


def _refs(pattern: re.Pattern[str], node: Any) -> Iterator[tuple[str, str | None]]:
    """(id, output name) of each reference; the name is None for outcome, conclusion or result."""
    for expression in expressions(node):
        for m in pattern.finditer(expression):
            yield m.group("id"), m.group("out") or m.group("outq")


def _jobs(workflow: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    jobs = workflow.get("jobs") or {}
    return {str(k): v for k, v in jobs.items() if isinstance(v, dict)} if isinstance(jobs, Mapping) else {}


# -- the checks ------------------------------------------------------------------------------


def check_workflow(text: str, source: str, root: Path = ROOT) -> list[str]:
    """Every wiring problem of one workflow (rules 1-5 of this module); [] when there is none."""
    workflow = yaml.safe_load(text)
    if not isinstance(workflow, dict) or not isinstance(workflow.get("jobs"), Mapping):
        return [f"{source}: not a workflow (no jobs:)"]
    return [
        *check_uses(text, source, root, local=True),
        *check_step_outputs(workflow, source, root),
        *check_needs(workflow, source, root),
        *check_declared(workflow, source),
        *check_permissions(workflow, source, root),
        *check_pins(text, workflow, source),
    ]


def step_outputs(step: Step, root: Path = ROOT) -> set[str] | None:
    """The outputs a step sets; None when we cannot know (a third-party action)."""
    uses = step.get("uses")
    if isinstance(uses, str):
        target = ours(uses)
        if target is None or target[0] != "action":
            return None
        action = load_action(target[1], root)
        return set((action or {}).get("outputs") or {})
    script = str(step.get("run", ""))
    if "GITHUB_OUTPUT" not in script:
        return set()
    return set(re.findall(r"(?<![\w-])([A-Za-z_][\w-]*)(?:=|<<)", script))


def check_step_outputs(workflow: Mapping[str, Any], source: str, root: Path = ROOT) -> list[str]:
    problems = []
    for job_id, job in _jobs(workflow).items():
        steps = [s for s in job.get("steps") or [] if isinstance(s, Mapping)]
        ids = [str(s["id"]) for s in steps if "id" in s]
        by_id = {str(s["id"]): s for s in steps if "id" in s}
        places: list[tuple[str, Any, list[str]]] = [
            (f"step {s.get('id') or s.get('name') or i + 1}", s, [str(e["id"]) for e in steps[:i] if "id" in e])
            for i, s in enumerate(steps)
        ]
        places.append(("outputs", job.get("outputs") or {}, ids))
        for where, node, earlier in places:
            for step_id, output in _refs(_STEP_REF, node):
                at = f"{source}: job {job_id}: {where}: steps.{step_id}"
                if step_id not in earlier:
                    if where == "outputs":
                        problems.append(f"{at}: no step with id: {step_id} in this job")
                    else:
                        later = " (it comes later)" if step_id in ids else ""
                        problems.append(f"{at}: no step with id: {step_id} before it in this job{later}")
                    continue
                outputs = step_outputs(by_id[step_id], root)
                if output is not None and outputs is not None and output not in outputs:
                    problems.append(
                        f"{at}.outputs.{output}: step {step_id} sets no output {output} "
                        f"(it sets: {', '.join(sorted(outputs)) or 'none'})"
                    )
    return problems


def job_outputs(job: Mapping[str, Any], root: Path = ROOT) -> set[str] | None:
    """The outputs a job declares; None when unknowable (it calls a third-party reusable workflow)."""
    uses = job.get("uses")
    if isinstance(uses, str):
        target = ours(uses)
        declared = load_reusable(target[1], root) if target and target[0] == "workflow" else None
        return None if declared is None else set(declared.get("outputs") or {})
    return set(job.get("outputs") or {})


def check_needs(workflow: Mapping[str, Any], source: str, root: Path = ROOT) -> list[str]:
    jobs = _jobs(workflow)
    problems = []
    for job_id, job in jobs.items():
        needs = job.get("needs") or []
        needs = [needs] if isinstance(needs, str) else [str(n) for n in needs]
        problems += [f"{source}: job {job_id}: needs {n}: there is no job {n}" for n in needs if n not in jobs]
        for other, output in _refs(_NEEDS_REF, job):
            at = f"{source}: job {job_id}: needs.{other}"
            if other not in needs:
                problems.append(f"{at}: {other} is not in this job's needs ({', '.join(needs) or 'none'})")
            elif output is not None and other in jobs:
                outputs = job_outputs(jobs[other], root)
                if outputs is not None and output not in outputs:
                    problems.append(
                        f"{at}.outputs.{output}: job {other} has no output {output} "
                        f"(it has: {', '.join(sorted(outputs)) or 'none'})"
                    )
    call = triggers_of(workflow).get("workflow_call") or {}
    for name, spec in (call.get("outputs") or {}).items():
        for other, output in _refs(_JOBS_REF, (spec or {}).get("value", "")):
            at = f"{source}: on.workflow_call.outputs.{name}: jobs.{other}"
            if other not in jobs:
                problems.append(f"{at}: there is no job {other}")
                continue
            outputs = job_outputs(jobs[other], root)
            if output is not None and outputs is not None and output not in outputs:
                problems.append(
                    f"{at}.outputs.{output}: job {other} has no output {output} "
                    f"(it has: {', '.join(sorted(outputs)) or 'none'})"
                )
    return problems


_SPEC_KEYS = {"description", "type", "required", "default", "options", "value"}


def check_declared(workflow: Mapping[str, Any], source: str) -> list[str]:
    """``inputs.X`` is a declared input; in a reusable workflow ``secrets.X`` is a declared secret."""
    triggers = triggers_of(workflow)
    inputs: set[str] = set()
    for trigger in ("workflow_call", "workflow_dispatch"):
        inputs |= set(((triggers.get(trigger) or {}).get("inputs")) or {})
    reusable = "workflow_call" in triggers
    secrets = set((triggers.get("workflow_call") or {}).get("secrets") or {}) | {"GITHUB_TOKEN"}
    used = {k: v for k, v in workflow.items() if k not in ("on", True)}
    problems = []
    for trigger in ("workflow_call", "workflow_dispatch"):  # runners refuse a workflow with any other key
        for kind in ("inputs", "secrets", "outputs"):
            for name, spec in ((triggers.get(trigger) or {}).get(kind) or {}).items():
                for key in sorted(set(spec or {}) - _SPEC_KEYS, key=str):
                    problems.append(f"{source}: on.{trigger}.{kind}.{name} has an unknown key {key!r}")
    for name in sorted({m.group("name") for e in expressions(used) for m in _INPUT_REF.finditer(e)} - inputs):
        declared = ", ".join(sorted(inputs)) or "none"
        problems.append(f"{source}: inputs.{name} is not an input of this workflow ({declared})")
    if reusable:
        named = {m.group("name") for e in expressions(used) for m in _SECRET_REF.finditer(e)}
        for name in sorted(named - secrets):
            problems.append(f"{source}: secrets.{name} is not declared in on.workflow_call.secrets")
    return problems


def step_needs(step: Step, root: Path = ROOT) -> Perms | str:
    """The permissions a step needs, or why they are unknown."""
    uses = step.get("uses")
    if not isinstance(uses, str):
        return {}  # a run: script uses no token it is not given
    target = ours(uses)
    if target is not None:
        rule = OUR_ACTIONS.get(target[1])
        return rule(step, root) if rule else f"our action {target[1]} is not in OUR_ACTIONS"
    name = uses.split("@", 1)[0]
    rule = THIRD_PARTY.get(name)
    return rule(step, root) if rule else f"{name} is not in THIRD_PARTY (add what it needs)"


def _union(into: Perms, more: Mapping[str, str]) -> None:
    for scope, level in more.items():
        if LEVELS.get(level, 0) > LEVELS.get(into.get(scope, "none"), 0):
            into[scope] = level


def job_needs(job: Mapping[str, Any], root: Path = ROOT) -> Perms | str:
    """What a job's steps need together, or why that is unknown."""
    uses = job.get("uses")
    if isinstance(uses, str):  # a reusable workflow: the union of what its jobs are granted
        target = ours(uses)
        if target is None or target[0] != "workflow" or load_reusable(target[1], root) is None:
            return f"{uses} is not a reusable workflow of ours: its permissions are unknown"
        called = yaml.safe_load((root / target[1]).read_text())
        need: Perms = {}
        for other in _jobs(called).values():
            granted = other.get("permissions")
            if isinstance(granted, Mapping):
                _union(need, {str(k): str(v) for k, v in granted.items()})
        return need
    need = {}
    for step in job.get("steps") or []:
        more = step_needs(step, root)
        if isinstance(more, str):
            return more
        _union(need, more)
    return need


def check_permissions(workflow: Mapping[str, Any], source: str, root: Path = ROOT) -> list[str]:
    problems = []
    if workflow.get("permissions", None) != {}:
        problems.append(f"{source}: the top-level permissions must be {{}} (each job grants its own)")
    for job_id, job in _jobs(workflow).items():
        at = f"{source}: job {job_id}"
        granted = job.get("permissions")
        if not isinstance(granted, Mapping):
            problems.append(f"{at}: no permissions: mapping (grant exactly what its steps need)")
            continue
        need = job_needs(job, root)
        if isinstance(need, str):
            problems.append(f"{at}: {need}")
            continue
        have = {str(k): str(v) for k, v in granted.items() if str(v) != "none"}
        for scope in sorted(set(need) | set(have)):
            wanted, given = need.get(scope), have.get(scope)
            if wanted is None:
                problems.append(f"{at}: permission {scope}: {given} is granted but no step needs it")
            elif given is None or LEVELS.get(given, 0) < LEVELS[wanted]:
                problems.append(f"{at}: permission {scope}: {wanted} is needed but {given or 'not'} granted")
            elif given != wanted:
                problems.append(f"{at}: permission {scope}: {given} is granted where {wanted} is enough")
    return problems


_SHA = re.compile(r"[0-9a-f]{40}")
_OUR_REF = re.compile(r"v\d+(\.\d+){0,2}|[0-9a-f]{40}")
_VERSION_COMMENT = re.compile(r"#\s*v\d+(\.\d+)*\b")


def _all_uses(workflow: Mapping[str, Any]) -> list[str]:
    found = []
    for job in _jobs(workflow).values():
        if isinstance(job.get("uses"), str):
            found.append(job["uses"].strip())
        found += [str(s["uses"]).strip() for s in job.get("steps") or [] if isinstance(s, Mapping) and "uses" in s]
    return found


def check_pins(text: str, workflow: Mapping[str, Any], source: str) -> list[str]:
    problems = []
    lines = text.splitlines()
    for uses in dict.fromkeys(_all_uses(workflow)):
        at = f"{source}: uses: {uses}"
        if uses.startswith(LOCAL_PREFIXES):
            continue
        ref = uses.partition("@")[2]
        if uses.startswith(f"{OWNER_REPO}/"):
            if not _OUR_REF.fullmatch(ref):
                problems.append(f"{at}: ours are called by a tag such as v1 or a full commit SHA")
            continue
        if uses.startswith("docker://"):
            if not re.search(r"@sha256:[0-9a-f]{64}$", uses):
                problems.append(f"{at}: an image is pinned by its digest (@sha256:...)")
            continue
        if not _SHA.fullmatch(ref):
            problems.append(f"{at}: not pinned by a full 40-hex commit SHA")
            continue
        written = [ln for ln in lines if re.search(rf"uses:\s*['\"]?{re.escape(uses)}['\"]?(\s|$|,|\}})", ln)]
        if not written or not all(_VERSION_COMMENT.search(ln.partition(uses)[2]) for ln in written):
            problems.append(f"{at}: no version comment after the SHA (# vX.Y.Z)")
    return problems
