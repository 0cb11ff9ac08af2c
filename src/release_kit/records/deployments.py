"""The deployment record on GitHub Deployments, and the search for the last known good one.

``write_record`` creates a deployment (task ``deploy:release-kit``, the payload of
:mod:`release_kit.records.payload`) and then its status. ``search_last_good`` reads
every page of the environment's release-kit deployments, newest first, and fetches statuses
only for candidates (release-kit's payload, every check passed, images other than the newest
record's), a few concurrently, stopping at the first good one. Both take an injected
:class:`~release_kit.github.client.GitHubClient`, so ``rollback`` calls them as they are.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import ValidationError

from release_kit.errors import AccessError, ExitCode, InputError, ReleaseKitError, RemoteError, RemoteGaveUp
from release_kit.github.client import GitHubClient, GitHubError, GitHubForbidden, GitHubNotFound, RepoName
from release_kit.records.models import (
    GoodRecord,
    LastGoodSearch,
    NoGoodRecord,
    Progress,
    Record,
    RecordResult,
    Skipped,
    State,
    _Deployment,
    _Status,
)
from release_kit.records.payload import REF_RE, TASK, Payload, clean, latest_state, parse_payload, succeeded

__all__ = [
    "GoodRecord",
    "LastGoodSearch",
    "NoGoodRecord",
    "Record",
    "RecordResult",
    "State",
    "find_last_good",
    "require_last_good",
    "run_url",
    "search_last_good",
    "write_record",
]

WRITE_FIX = "grant the job `permissions: deployments: write`"
READ_FIX = "grant the job `permissions: deployments: read`"
_URL_RE = re.compile(r"^https?://[A-Za-z0-9._~:/?#@!$&'*+,;=%-]+\Z")  # printed as a markdown link: no () <> or spaces
_LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?\Z")  # a GitHub login (apps end in [bot])
BATCH = 4  # statuses fetched concurrently per round: small, so little is read past the answer
DESCRIPTION_LIMIT = 140  # GitHub truncates deployment and status descriptions at 140 characters

# -- writing ---------------------------------------------------------------------------------


def run_url(env: dict[str, str] | None = None) -> str | None:
    """This workflow run's URL, from GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_RUN_ID."""
    env = dict(os.environ) if env is None else env
    server, repo, run_id = (env.get(k, "").strip() for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    if not (server and repo and run_id.isdigit()):
        return None
    return f"{server.rstrip('/')}/{repo}/actions/runs/{run_id}"


def _describe(record: Record) -> str:
    text = record.description or (
        f"release-kit {'rollback of ' + str(record.rollback_of) + ': ' if record.rollback_of else ''}"
        f"{record.ref} ({', '.join(sorted(record.images))})"
    )
    return text[:DESCRIPTION_LIMIT]


def _write_error(repo: RepoName, what: str, err: GitHubError) -> ReleaseKitError:
    if isinstance(err, GitHubForbidden | GitHubNotFound):
        return AccessError(
            f"GitHub refused to {what} in {repo} ({err.status} {err.api_message}): the token needs "
            "deployments: write (a 404 also means the repository does not exist)",
            hint=WRITE_FIX,
        )
    return err


def _ambiguous(err: Exception) -> bool:
    """The request may have been performed and its answer lost: a 5xx, or the connection failing
    (reset, timeout) after it was sent. GitHub may hold what we asked for."""
    import httpx

    if isinstance(err, GitHubError):
        return err.status >= 500
    return isinstance(err, httpx.TransportError)


def _lost(err: Exception) -> str:
    if isinstance(err, GitHubError):
        return f"{err.status} {clean(err.api_message)}"
    return f"{type(err).__name__}"


def _find_record(client: GitHubClient, repo: RepoName, record: Record) -> dict[str, Any] | None:
    """Our deployment, if GitHub holds it: the environment's release-kit deployments of the ref (newest
    first, the first 100) whose payload carries this record's id."""
    params: dict[str, str | int] = {"environment": record.environment, "task": TASK, "ref": record.ref}
    for index, raw in enumerate(_pages(client, repo, params)):
        if index >= 100:
            break
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
            continue
        payload = parse_payload(raw.get("payload"))
        if payload is not None and payload.record_id == record.record_id:
            return raw
    return None


def _find_status(
    client: GitHubClient, repo: RepoName, deployment_id: int, body: dict[str, Any]
) -> dict[str, Any] | None:
    """The status we sent, if GitHub holds it: one of the newest ten with our state and run URL."""
    for status in _statuses(client, repo, deployment_id)[:10]:
        if status.state == body["state"] and (status.log_url or None) == body.get("log_url"):
            return {"id": status.id}
    return None


def _create_deployment(
    client: GitHubClient, repo: RepoName, record: Record, body: dict[str, Any], say: Progress
) -> tuple[int, dict[str, Any]]:
    """POST the deployment; when the answer is lost, look it up by the record's id before sending it
    again (once): never two deployments for one record."""
    base = f"/repos/{repo.owner}/{repo.name}/deployments"
    for attempt in (1, 2):
        try:
            response = client.request("POST", base, json=body)
        except (GitHubError, _transport_error()) as err:
            if isinstance(err, GitHubError) and not _ambiguous(err):
                raise _create_refused(repo, record, err) from None
            say(f"GitHub's answer to POST {base} was lost ({_lost(err)}): looking for the record before re-sending it")
            found = _find_record(client, repo, record)
            if found is not None:
                say(f"GitHub holds the record: deployment {found['id']}; it is not sent again")
                return 201, found
            if attempt == 2:
                raised = RemoteGaveUp(
                    f"GitHub did not answer POST {base} twice ({_lost(err)}) and holds no deployment with this "
                    f"record's id ({record.record_id}): nothing was recorded",
                    hint="run record again",
                )
                raise raised from None
            continue
        data = response.json()
        return response.status_code, data if isinstance(data, dict) else {}
    raise AssertionError("unreachable")  # pragma: no cover


def _transport_error() -> type[Exception]:
    import httpx

    return httpx.TransportError


def _create_refused(repo: RepoName, record: Record, err: GitHubError) -> ReleaseKitError:
    if err.status == 422:
        detail = "; ".join(clean(str(e.get("message") or e.get("code") or "")) for e in err.errors)
        why = f"422 {clean(err.api_message)}{': ' + detail if detail else ''}"
        if "ref" in f"{err.api_message} {detail}".lower():
            return InputError(
                f"--ref {record.ref!r}: GitHub cannot create a deployment for it ({why})",
                hint="the ref must be a tag, branch or commit SHA that exists in the repository",
            )
        return InputError(
            f"GitHub refused the deployment of {record.ref!r} to {record.environment!r} ({why})",
            hint="check --environment and the images given",
        )
    if err.status == 409:
        return RemoteError(
            f"GitHub refused the deployment of {record.ref!r} (409 {clean(err.api_message)})",
            hint="required_contexts is empty and auto_merge off, so this is a merge conflict on the ref",
        )
    return _write_error(repo, "create a deployment", err)


def _create_status(
    client: GitHubClient, repo: RepoName, deployment_id: int, body: dict[str, Any], say: Progress
) -> dict[str, Any]:
    """POST the status, once; when its answer is lost, look for it: found, it is ours; not found, the
    record counts as not good (a status is never sent twice)."""
    path = f"/repos/{repo.owner}/{repo.name}/deployments/{deployment_id}/statuses"
    try:
        answer = client.request("POST", path, json=body).json()
        return answer if isinstance(answer, dict) else {}
    except (GitHubError, _transport_error()) as err:
        if isinstance(err, GitHubError):
            raised = _write_error(repo, f"write the status of deployment {deployment_id}", err)
            if raised is not err:
                raise raised from None
        if _ambiguous(err):
            say(f"GitHub's answer to POST {path} was lost ({_lost(err)}): looking for the status")
            found = _find_status(client, repo, deployment_id, body)
            if found is not None:
                say(f"GitHub holds the status of deployment {deployment_id}")
                return found
        failed = RemoteError(
            f"deployment {deployment_id} was created but its status was not written "
            f"({_lost(err)}); it counts as not good",
            hint="run record again",
        )
        failed.exit_code = err.exit_code if isinstance(err, GitHubError) else ExitCode.REMOTE
        raise failed from None


def write_record(
    client: GitHubClient, repo: RepoName, record: Record, *, progress: Progress | None = None
) -> RecordResult:
    """Create the deployment, then its status. Neither POST is re-sent blindly: when an answer is
    lost (a 5xx, or the connection failing after the request was sent), what GitHub holds is looked
    up first (the deployment by the payload's ``record_id``), and sent again only when it is not there.

    Raises :class:`AccessError` (exit 2) when the token cannot write deployments,
    :class:`InputError` (exit 2) when GitHub rejects the ref, and :class:`RemoteError`
    when GitHub does not create the deployment (409, or the 202 merged-branch answer).
    """
    from release_kit.http import stderr_line

    say = progress or (lambda line: stderr_line(f"release-kit: {line}"))
    base = f"/repos/{repo.owner}/{repo.name}/deployments"
    body = {
        "ref": record.ref,
        "task": TASK,
        "environment": record.environment,
        "auto_merge": False,
        "required_contexts": [],
        "payload": record.payload().to_json(),
        "description": _describe(record),
    }
    code, data = _create_deployment(client, repo, record, body, say)
    if code != 201 or not isinstance(data.get("id"), int):
        message = clean(str(data.get("message"))) if data else "no deployment in the answer"
        raise RemoteError(
            f"GitHub answered {code} to POST {base} without creating a deployment ({message})",
            hint="record a tag or commit SHA, not a branch GitHub would merge into",
        )
    deployment_id = int(data["id"])
    status_body: dict[str, Any] = {"state": record.state, "description": _describe(record)}
    if record.log_url:
        status_body["log_url"] = record.log_url
    if record.environment_url:
        status_body["environment_url"] = record.environment_url
    status = _create_status(client, repo, deployment_id, status_body, say)
    return RecordResult(
        repository=repo.full_name,
        deployment_id=deployment_id,
        status_id=int(status.get("id", 0)) if isinstance(status.get("id"), int) else 0,
        environment=record.environment,
        state=record.state,
        ref=record.ref,
        sha=data.get("sha") if isinstance(data.get("sha"), str) else None,
        images=dict(record.images),
        checks=dict(record.checks),
        snapshot=record.snapshot,
        rollback_of=record.rollback_of,
        log_url=record.log_url,
        environment_url=record.environment_url,
        deployment_url=data.get("url") if isinstance(data.get("url"), str) else None,
    )


# -- the last-good search ----------------------------------------------------------------------


def _read_error(repo: RepoName, err: GitHubError) -> ReleaseKitError:
    if isinstance(err, GitHubForbidden | GitHubNotFound):
        return AccessError(
            f"cannot read the deployments of {repo} ({err.status} {err.api_message}): the token needs "
            "deployments: read (a 404 also means the repository does not exist)",
            hint=READ_FIX,
        )
    return err


def _ours(raw: Any) -> tuple[_Deployment, Payload] | None:
    """A listed deployment that release-kit wrote, with its checked payload; anything else is None."""
    if not isinstance(raw, dict):
        return None
    try:
        deployment = _Deployment.model_validate(raw)
    except ValidationError:
        return None
    if deployment.task != TASK or not REF_RE.match(deployment.ref):
        return None
    payload = parse_payload(deployment.payload)
    return (deployment, payload) if payload else None


def _good(deployment: _Deployment, payload: Payload, environment: str, status: _Status | None) -> GoodRecord:
    sha = deployment.sha if deployment.sha and re.fullmatch(r"[0-9a-f]{40}", deployment.sha) else None
    log_url = status.log_url if status and status.log_url and _URL_RE.match(status.log_url) else None
    login = deployment.creator.login if deployment.creator else None
    return GoodRecord(
        creator=login if login and _LOGIN_RE.match(login) else None,
        deployment_id=deployment.id,
        environment=environment,
        ref=deployment.ref,
        sha=sha,
        images=payload.images,
        checks=payload.checks,
        snapshot=payload.snapshot,
        rollback_of=payload.rollback_of,
        created_at=deployment.created_at,
        succeeded_at=status.created_at if status else None,
        log_url=log_url,
    )


def _skipped(deployment: _Deployment, reason: str, log_url: str | None = None) -> Skipped:
    login = deployment.creator.login if deployment.creator else None
    return Skipped(
        deployment_id=deployment.id,
        ref=deployment.ref,
        reason=clean(reason, 300),
        creator=login if login and _LOGIN_RE.match(login) else None,
        log_url=log_url,
    )


def _same_ref(recorded: str, sha: str | None, wanted: str) -> bool:
    def bare(ref: str) -> str:
        return ref.removeprefix("refs/tags/").removeprefix("refs/heads/")

    if bare(recorded) == bare(wanted):
        return True
    return bool(sha and re.fullmatch(r"[0-9a-f]{7,40}", wanted) and sha.startswith(wanted))


def _statuses(client: GitHubClient, repo: RepoName, deployment_id: int) -> list[_Status]:
    """Every status of one deployment, newest first (pages of 100, Link followed to the end)."""
    path = f"/repos/{repo.owner}/{repo.name}/deployments/{deployment_id}/statuses"
    found = []
    try:
        for raw in client.paginate(path):
            try:
                found.append(_Status.model_validate(raw))
            except ValidationError:
                continue
    except GitHubNotFound:  # deleted since it was listed (the listing proved read access): not good
        return []
    found.sort(key=lambda s: (s.created_at, s.id), reverse=True)
    return found


def _pages(client: GitHubClient, repo: RepoName, params: dict[str, str | int]) -> Iterator[Any]:
    try:
        yield from client.paginate(f"/repos/{repo.owner}/{repo.name}/deployments", params)
    except GitHubError as err:
        raise _read_error(repo, err) from None


def search_last_good(
    client: GitHubClient,
    repo: RepoName,
    environment: str,
    to_ref: str | None = None,
    *,
    progress: Progress | None = None,
    batch: int = BATCH,
    foreign: Callable[[dict[str, str]], str | None] | None = None,
    vet: Callable[[GoodRecord], str | None] | None = None,
) -> LastGoodSearch:
    """The newest good release-kit record in ``environment``, and what was read to find it.

    Without ``to_ref``: the newest record whose statuses say success (an ``inactive`` after it
    still counts), whose checks all passed, and whose images differ from the newest record's
    (those are running now, or just failed), and that no newer record rolled back (its
    ``rollback_of``). With ``to_ref``: the newest good record of that
    ref (tag, or commit SHA), whatever its images.

    A record is a hint, never proof: ``foreign`` names why a record's images are not from the
    allowed repositories (judged before its statuses are read), ``vet`` why a record that
    succeeded cannot be deployed (a digest missing from its repository). Either skips the record,
    listing it with the reason, and the search goes on to older ones.
    """
    search = LastGoodSearch(repository=repo.full_name, environment=environment, to_ref=to_ref)
    say = progress or (lambda _line: None)
    params: dict[str, str | int] = {"environment": environment, "task": TASK}
    if to_ref and re.fullmatch(r"[0-9a-f]{40}", to_ref):
        params["sha"] = to_ref
    elif to_ref and not re.fullmatch(r"[0-9a-f]{7,39}", to_ref):
        params["ref"] = to_ref.removeprefix("refs/tags/").removeprefix("refs/heads/")
    say(f"searching {repo}'s {TASK} deployments in {environment}" + (f" for {to_ref}" if to_ref else ""))
    pending: list[tuple[_Deployment, Payload]] = []
    newest_images: dict[str, str] | None = None
    rolled_back: dict[int, int] = {}  # deployment id -> the newer record that rolled it back

    def settle(pool: ThreadPoolExecutor) -> GoodRecord | None:
        """Fetch the pending candidates' statuses (a few at once) and judge them, newest first."""
        say(f"reading the statuses of {len(pending)} candidate deployment(s) in {environment}")
        try:
            answers = list(pool.map(lambda c: _statuses(client, repo, c[0].id), pending))
        except GitHubError as err:
            raise _read_error(repo, err) from None
        search.statuses_read += len(pending)
        try:
            for (deployment, payload), statuses in zip(pending, answers, strict=True):
                states = [s.state for s in statuses]
                if succeeded(states):
                    status = next(s for s in statuses if s.state == "success")
                    good = _good(deployment, payload, environment, status)
                    why = vet(good) if vet else None
                    if why is None:
                        return good
                    say(f"skipping deployment {deployment.id} ({deployment.ref}): {why}")
                    search.skipped.append(_skipped(deployment, why, good.log_url))
                    continue
                search.skipped.append(_skipped(deployment, f"state {latest_state(states)}" if states else "no status"))
            return None
        finally:
            pending.clear()

    with ThreadPoolExecutor(max_workers=max(1, batch), thread_name_prefix="release-kit-deployments") as pool:
        page_seen = 0
        for raw in _pages(client, repo, params):
            search.deployments_read += 1
            if search.deployments_read // 100 != page_seen:
                page_seen = search.deployments_read // 100
                say(f"read {search.deployments_read} deployments of {environment}")
            ours = _ours(raw)
            if ours is None or (ours[0].environment not in (None, environment)):
                continue
            deployment, payload = ours
            search.records_read += 1
            if payload.rollback_of:
                rolled_back.setdefault(payload.rollback_of, deployment.id)
            if to_ref is None and newest_images is None:
                newest_images = payload.images
                search.newest = _good(deployment, payload, environment, None)
                search.skipped.append(_skipped(deployment, "the newest record (its images were deployed last)"))
                continue
            reason = None
            if to_ref is not None and not _same_ref(deployment.ref, deployment.sha, to_ref):
                reason = f"ref is not {to_ref}"
            elif to_ref is None and deployment.id in rolled_back:
                reason = f"rolled back by deployment {rolled_back[deployment.id]}"
            elif not payload.checks_passed:
                reason = "check(s) failed: " + ", ".join(payload.failed_checks)
            elif to_ref is None and payload.images == newest_images:
                reason = "same images as the newest record"
            elif foreign is not None and (why := foreign(payload.images)):
                reason = f"not our images: {why}"
            if reason:
                search.skipped.append(_skipped(deployment, reason))
                continue
            pending.append(ours)
            if len(pending) >= batch and (found := settle(pool)):
                search.found = found
                return search
        if pending and (found := settle(pool)):
            search.found = found
    return search


def find_last_good(
    client: GitHubClient, repo: RepoName, environment: str, to_ref: str | None = None
) -> GoodRecord | None:
    """The record a rollback redeploys (see :func:`search_last_good`), or None when there is none."""
    return search_last_good(client, repo, environment, to_ref).found


def require_last_good(search: LastGoodSearch) -> GoodRecord:
    """The found record, or :class:`NoGoodRecord` (exit 1) naming what was searched."""
    if search.found is None:
        raise NoGoodRecord(f"no {search.summary()}")
    return search.found
