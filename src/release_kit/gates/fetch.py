"""Read the evidence for one commit from GitHub, concurrently and within a small request budget.

For the nine-gate runbook policy this makes about a dozen requests: the repository, the ref,
the workflow list, every run for the commit (one listing for all workflows), the newest
scheduled run of each scan, open alerts per tool, and the commit's pull requests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import quote

from release_kit.errors import AccessError, NotFoundError
from release_kit.gates.judge import find_workflow
from release_kit.gates.models import (
    CheckRun,
    CodeScanningAlert,
    Evidence,
    Problem,
    PullRequest,
    SecretScanningAlert,
    Workflow,
    WorkflowRun,
)
from release_kit.gates.policy import GatesPolicy
from release_kit.github.client import (
    GitHubClient,
    GitHubError,
    GitHubForbidden,
    GitHubNotFound,
    RepoName,
)

T = TypeVar("T")
_SHA_RE = re.compile(r"^[0-9a-f]{40}\Z")
_HEX_RE = re.compile(r"^[0-9a-f]{7,40}\Z")
ACTIONS_READ_FIX = "grant the workflow `permissions: actions: read` (and `contents: read`)"


def _actions_access(err: GitHubError, what: str) -> AccessError:
    return AccessError(
        f"cannot read {what}: GitHub answered {err.status} ({err.api_message})",
        hint=ACTIONS_READ_FIX if err.status == 403 else "check the token and that the repository exists",
    )


class EvidenceFetcher:
    def __init__(self, client: GitHubClient, repo: RepoName, *, workers: int = 8) -> None:
        self.gh = client
        self.repo = repo
        self.base = f"/repos/{repo.owner}/{repo.name}"
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="release-kit-gh")

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self.pool.submit(fn, *args)

    # -- single reads --------------------------------------------------------------

    def default_branch(self) -> str:
        try:
            data = self.gh.get_json(self.base)
        except GitHubNotFound:
            raise NotFoundError(
                f"--repo {self.repo}: repository not found",
                hint="check the name; a private repository needs GITHUB_TOKEN with contents: read",
            ) from None
        return str(data["default_branch"])

    def resolve_ref(self, ref: str) -> str:
        """The commit SHA that ``ref`` (tag, branch or SHA) names; annotated tags are peeled."""
        name = ref.removeprefix("refs/")
        candidates: list[str]
        if name.startswith(("tags/", "heads/")):
            candidates = [name]
        elif _SHA_RE.match(ref):
            return self._commit_sha(ref) or self._unknown_ref(ref)
        else:
            candidates = [f"tags/{name}", f"heads/{name}"]
        for candidate in candidates:
            try:
                obj = self.gh.get_json(f"{self.base}/git/ref/{quote(candidate)}")["object"]
            except GitHubNotFound:
                continue
            return self._peel(obj)
        if _HEX_RE.match(ref):
            return self._commit_sha(ref) or self._unknown_ref(ref)
        return self._unknown_ref(ref)

    def _unknown_ref(self, ref: str) -> str:
        raise NotFoundError(f"--ref {ref!r}: no such tag, branch or commit in {self.repo}")

    def _peel(self, obj: dict[str, Any]) -> str:
        for _ in range(8):  # a tag may point at a tag
            if obj.get("type") != "tag":
                return str(obj["sha"])
            obj = self.gh.get_json(f"{self.base}/git/tags/{obj['sha']}")["object"]
        raise NotFoundError(f"tag chain too deep while peeling {obj.get('sha')}")

    def _commit_sha(self, ref: str) -> str | None:
        try:
            return str(self.gh.get_json(f"{self.base}/commits/{ref}")["sha"])
        except GitHubNotFound:
            return None
        except GitHubError as err:
            if err.status == 422:  # "No commit found for SHA"
                return None
            raise

    def workflows(self) -> list[Workflow]:
        try:
            return [
                Workflow.model_validate(w) for w in self.gh.paginate(f"{self.base}/actions/workflows", key="workflows")
            ]
        except (GitHubForbidden, GitHubNotFound) as err:
            raise _actions_access(err, "the repository's workflows") from None

    def runs_for(self, sha: str, workflow_id: int | None = None) -> list[WorkflowRun]:
        path = f"{self.base}/actions/workflows/{workflow_id}/runs" if workflow_id else f"{self.base}/actions/runs"
        try:
            items = self.gh.paginate(path, {"head_sha": sha}, key="workflow_runs")
            return [WorkflowRun.model_validate(r) for r in items]
        except (GitHubForbidden, GitHubNotFound) as err:
            raise _actions_access(err, "workflow runs") from None

    def newest_scheduled(self, workflow_id: int, branch: str) -> WorkflowRun | None:
        params: dict[str, str | int] = {
            "event": "schedule",
            "branch": branch,
            "status": "completed",
            "per_page": 1,
        }
        try:
            items = list(
                self.gh.paginate(
                    f"{self.base}/actions/workflows/{workflow_id}/runs",
                    params,
                    key="workflow_runs",
                    limit=1,
                )
            )
        except (GitHubForbidden, GitHubNotFound) as err:
            raise _actions_access(err, "scheduled workflow runs") from None
        return WorkflowRun.model_validate(items[0]) if items else None

    def code_alerts(self, tool: str, branch: str) -> list[CodeScanningAlert] | Problem:
        params: dict[str, str | int] = {
            "tool_name": tool,
            "state": "open",
            "ref": f"refs/heads/{branch}",
        }
        try:
            return [
                CodeScanningAlert.model_validate(a)
                for a in self.gh.paginate(f"{self.base}/code-scanning/alerts", params)
            ]
        except GitHubNotFound as err:
            return Problem(
                reason=f"no code-scanning analysis in the repository ({err.api_message}): "
                f"{tool} results were never uploaded",
                missing=True,
            )
        except GitHubForbidden as err:
            if "advanced security" in err.api_message.lower():
                fix = (
                    "enable GitHub Advanced Security (code scanning) for the repository, "
                    "or drop code_scanning_tool from the gate"
                )
            else:
                fix = "grant the workflow `permissions: security-events: read`"
            return Problem(
                reason=f"cannot read {tool} code-scanning alerts: {err.status} {err.api_message}",
                fix=fix,
            )

    def secret_alerts(self) -> list[SecretScanningAlert] | Problem:
        try:
            items = self.gh.paginate(f"{self.base}/secret-scanning/alerts", {"state": "open"})
            return [SecretScanningAlert.model_validate(a) for a in items]
        except (GitHubForbidden, GitHubNotFound) as err:
            if err.status == 404 and "disabled" in err.api_message.lower():
                fix = "enable secret scanning for the repository, or set no_open_secret_alerts: false"
            else:
                fix = (
                    "use a token that can read secret-scanning alerts (GITHUB_TOKEN cannot: a fine-grained "
                    "token or app with 'Secret scanning alerts: read'), or set no_open_secret_alerts: false"
                )
            return Problem(
                reason=f"cannot read secret-scanning alerts: {err.status} {err.api_message}",
                fix=fix,
            )

    def check_runs(self, sha: str) -> list[CheckRun] | Problem:
        try:
            return [
                CheckRun.model_validate(c)
                for c in self.gh.paginate(f"{self.base}/commits/{sha}/check-runs", key="check_runs")
            ]
        except (GitHubForbidden, GitHubNotFound) as err:
            return Problem(
                reason=f"cannot read check runs: {err.status} {err.api_message}",
                fix="grant the workflow `permissions: checks: read`",
            )

    def pulls(self, sha: str) -> list[PullRequest]:
        try:
            return [PullRequest.from_api(p) for p in self.gh.paginate(f"{self.base}/commits/{sha}/pulls")]
        except (GitHubForbidden, GitHubNotFound) as err:
            raise AccessError(
                f"cannot read the pull requests of commit {sha[:7]}: {err.status} {err.api_message}",
                hint="grant the workflow `permissions: pull-requests: read`",
            ) from None

    # -- the whole picture -----------------------------------------------------------

    def fetch(self, policy: GatesPolicy, ref: str) -> Evidence:
        branch_f = self._submit(self.default_branch)
        sha_f = self._submit(self.resolve_ref, ref)
        workflows_f = self._submit(self.workflows)
        branch = branch_f.result()
        workflows = workflows_f.result()
        found = {g.workflow_ref: find_workflow(workflows, g.workflow_ref) for g in policy.gates}
        by_ref = {ref: wf for ref, wf in found.items() if isinstance(wf, Workflow)}

        scheduled_f: dict[int, Future[WorkflowRun | None]] = {}
        alerts_f: dict[str, Future[list[CodeScanningAlert] | Problem]] = {}
        secrets_f: Future[list[SecretScanningAlert] | Problem] | None = None
        for gate in policy.gates:
            wf = by_ref.get(gate.workflow_ref)
            if gate.schedule_max_age is not None and wf is not None and wf.id not in scheduled_f:
                scheduled_f[wf.id] = self._submit(self.newest_scheduled, wf.id, branch)
            tool = gate.code_scanning_tool
            if tool and tool not in alerts_f:
                alerts_f[tool] = self._submit(self.code_alerts, tool, branch)
            if gate.no_open_secret_alerts and secrets_f is None:
                secrets_f = self._submit(self.secret_alerts)

        sha = sha_f.result()
        runs_f = self._submit(self.runs_for, sha)
        checks_f = self._submit(self.check_runs, sha) if any(g.check_runs for g in policy.gates) else None
        pr_gates = [g for g in policy.gates if g.pull_request]
        pulls = self.pulls(sha) if pr_gates else None
        pull_runs: list[WorkflowRun] = []
        if pulls:
            wanted = {by_ref[g.workflow_ref].id for g in pr_gates if g.workflow_ref in by_ref}
            futures = [
                self._submit(self.runs_for, p.head_sha, wf_id)
                for p in pulls
                if sha in (p.merge_commit_sha, p.head_sha)
                for wf_id in wanted
            ]
            for fut in futures:
                pull_runs.extend(fut.result())

        return Evidence(
            repository=self.repo.full_name,
            ref=ref,
            sha=sha,
            default_branch=branch,
            workflows=workflows,
            runs=runs_f.result(),
            scheduled={k: f.result() for k, f in scheduled_f.items()},
            check_runs=checks_f.result() if checks_f else None,
            code_alerts={k: f.result() for k, f in alerts_f.items()},
            secret_alerts=secrets_f.result() if secrets_f else None,
            pulls=pulls,
            pull_runs=pull_runs,
        )
