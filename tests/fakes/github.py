"""A stateful fake of the GitHub REST endpoints release-kit reads, at the HTTP layer.

Every object it serves starts from a real payload in tests/fixtures/github-api and is
mutated (ids, shas, names, conclusions, dates). It answers httpx requests directly
(:meth:`FakeGitHub.transport`) or over real HTTP on 127.0.0.1 (:func:`serve`), paginates
with ``Link`` headers, and injects faults (status, headers, body) on matching requests.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from tests.fakes.fixtures import body, payload

NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
NOW = datetime.now(UTC).replace(microsecond=0)  # runs are dated relative to the real clock


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sha_of(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()  # noqa: S324 - a fake commit id


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int


@dataclass
class FakeGitHub:
    owner: str = "octo-org"
    repo: str = "app"
    default_branch: str = "main"
    base_url: str = "https://api.github.com"
    upload_base: str = "https://uploads.github.com"  # GitHub Enterprise Server and the served fake differ
    workflows: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    refs: dict[str, dict[str, Any]] = field(default_factory=dict)
    tag_objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    commits: set[str] = field(default_factory=set)
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    code_alerts: list[dict[str, Any]] = field(default_factory=list)
    secret_alerts: list[dict[str, Any]] = field(default_factory=list)
    pulls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    code_scanning_error: tuple[int, str] | None = None
    secret_scanning_error: tuple[int, str] | None = None
    requests: list[httpx.Request] = field(default_factory=list)
    latency: float = 0.0
    releases: list[dict[str, Any]] = field(default_factory=list)
    release_assets: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    asset_bytes: dict[int, bytes] = field(default_factory=dict)
    attestations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    land_then_fail: set[str] = field(default_factory=set)  # asset names: stored, then 502
    reset_midway: set[str] = field(default_factory=set)  # asset names: a "starter" asset, then a reset
    exists_then_422: set[str] = field(default_factory=set)  # asset names: stored, then the 422 already_exists
    uploads: list[str] = field(default_factory=list)
    bundle_blobs: dict[str, bytes] = field(default_factory=dict)
    deployments: list[dict[str, Any]] = field(default_factory=list)  # newest last; listed newest first
    deployment_statuses: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # oldest first
    _ticks: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _faults: list[Fault] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    # -- building state --------------------------------------------------------------

    def add_workflow(self, name: str, path: str | None = None, state: str = "active") -> dict[str, Any]:
        wf = body("GET_repos_actions_workflows.200.json")["workflows"][0]
        wid = next(self._ids)
        path = path or f".github/workflows/{name.lower().replace(' ', '-')}.yml"
        wf.update(
            id=wid,
            name=name,
            path=path,
            state=state,
            url=f"{self.base_url}/repos/{self.full_name}/actions/workflows/{wid}",
            html_url=f"https://github.com/{self.full_name}/blob/{self.default_branch}/{path}",
        )
        self.workflows.append(wf)
        return wf

    def workflow(self, name: str) -> dict[str, Any]:
        return next(w for w in self.workflows if w["name"] == name)

    def add_run(
        self,
        workflow: dict[str, Any] | str,
        head_sha: str,
        *,
        conclusion: str | None = "success",
        status: str = "completed",
        event: str = "push",
        created_at: datetime | None = None,
        run_started_at: datetime | None = None,
        run_attempt: int = 1,
        head_branch: str | None = None,
        head_repository: str | None = None,
    ) -> dict[str, Any]:
        wf = self.workflow(workflow) if isinstance(workflow, str) else workflow
        run = body("GET_repos_actions_runs.200.json")["workflow_runs"][0]
        rid = next(self._ids)
        created = created_at or NOW - timedelta(hours=1)
        repo_obj = dict(run["repository"])
        repo_obj["full_name"] = self.full_name
        head_repo = dict(run["head_repository"])
        head_repo["full_name"] = head_repository or self.full_name
        run.update(
            id=rid,
            name=wf["name"],
            workflow_id=wf["id"],
            path=f"{wf['path']}@{head_branch or self.default_branch}",
            head_sha=head_sha,
            head_branch=head_branch or self.default_branch,
            event=event,
            status=status,
            conclusion=conclusion if status == "completed" else None,
            run_number=rid - 900,
            run_attempt=run_attempt,
            created_at=iso(created),
            updated_at=iso(created),
            run_started_at=iso(run_started_at or created),
            html_url=f"https://github.com/{self.full_name}/actions/runs/{rid}",
            repository=repo_obj,
            head_repository=head_repo,
        )
        self.runs.append(run)
        return run

    def add_commit(self, sha: str) -> str:
        self.commits.add(sha)
        return sha

    def add_ref(self, ref: str, sha: str) -> None:
        obj = body("GET_repos_git_ref_ref.200.json")
        obj.update(ref=f"refs/{ref}", url=f"{self.base_url}/repos/{self.full_name}/git/refs/{ref}")
        obj["object"] = {
            "type": "commit",
            "sha": sha,
            "url": f"{self.base_url}/repos/{self.full_name}/git/commits/{sha}",
        }
        self.commits.add(sha)
        self.refs[ref] = obj

    def add_annotated_tag(self, name: str, sha: str) -> str:
        tag_sha = sha_of(f"tag:{name}")
        self.add_ref(f"tags/{name}", sha)
        self.refs[f"tags/{name}"]["object"] = {"type": "tag", "sha": tag_sha, "url": ""}
        self.tag_objects[tag_sha] = {
            "sha": tag_sha,
            "tag": name,
            "object": {"type": "commit", "sha": sha},
        }
        return tag_sha

    def add_code_alert(
        self, tool: str, level: str | None, *, severity: str = "error", state: str = "open"
    ) -> dict[str, Any]:
        alert = body("GET_repos_code_scanning_alerts.200.json")[0]
        number = next(self._ids)
        alert.update(
            number=number,
            state=state,
            html_url=f"https://github.com/{self.full_name}/security/code-scanning/{number}",
        )
        alert["tool"] = {**alert["tool"], "name": tool}
        alert["rule"] = {**alert["rule"], "severity": severity, "security_severity_level": level}
        alert["most_recent_instance"]["ref"] = f"refs/heads/{self.default_branch}"
        self.code_alerts.append(alert)
        return alert

    def add_secret_alert(self, state: str = "open") -> dict[str, Any]:
        alert = body("GET_repos_secret_scanning_alerts.200.json")[0]
        number = next(self._ids)
        alert.update(
            number=number,
            state=state,
            html_url=f"https://github.com/{self.full_name}/security/secret-scanning/{number}",
        )
        self.secret_alerts.append(alert)
        return alert

    def add_check_run(
        self,
        sha: str,
        name: str,
        *,
        conclusion: str | None = "success",
        status: str = "completed",
        app_id: int = 1,
    ) -> dict[str, Any]:
        run = body("GET_repos_commits_ref_check_runs.200.json")["check_runs"][0]
        cid = next(self._ids)
        run.update(
            id=cid,
            head_sha=sha,
            name=name,
            status=status,
            conclusion=conclusion if status == "completed" else None,
            started_at=iso(NOW - timedelta(minutes=30)),
            html_url=f"https://github.com/{self.full_name}/runs/{cid}",
        )
        run["app"] = {**run["app"], "id": app_id}
        self.check_runs.append(run)
        return run

    def add_pull(self, sha: str, number: int, head_sha: str) -> dict[str, Any]:
        pull = {
            "number": number,
            "html_url": f"https://github.com/{self.full_name}/pull/{number}",
            "state": "closed",
            "merged_at": iso(NOW - timedelta(hours=2)),
            "merge_commit_sha": sha,
            "head": {"sha": head_sha, "ref": f"feature-{number}"},
            "base": {"ref": self.default_branch},
        }
        self.pulls.setdefault(sha, []).append(pull)
        return pull

    def add_release(
        self, tag: str, *, draft: bool = True, prerelease: bool = False, immutable: bool = False
    ) -> dict[str, Any]:
        release = body("POST_repos_releases.201.json")
        rid = next(self._ids)
        api = f"{self.base_url}/repos/{self.full_name}/releases/{rid}"
        release.update(
            id=rid,
            tag_name=tag,
            name=tag,
            draft=draft,
            prerelease=prerelease,
            immutable=immutable,
            url=api,
            assets_url=f"{api}/assets",
            upload_url=f"{self.upload_base}/repos/{self.full_name}/releases/{rid}/assets{{?name,label}}",
            html_url=f"https://github.com/{self.full_name}/releases/tag/{tag}",
            published_at=None if draft else iso(NOW),
        )
        release["assets"] = []
        self.releases.append(release)
        self.release_assets[rid] = []
        return release

    def add_asset(self, release: dict[str, Any], name: str, data: bytes, *, state: str = "uploaded") -> dict[str, Any]:
        asset = body("POST_repos_releases_release_id_assets.201.json")
        aid = next(self._ids)
        asset.update(
            id=aid,
            name=name,
            label=None,
            state=state,
            size=len(data),
            content_type="application/octet-stream",
            digest="sha256:" + hashlib.sha256(data).hexdigest() if state == "uploaded" else None,
            url=f"{self.base_url}/repos/{self.full_name}/releases/assets/{aid}",
            browser_download_url=f"https://github.com/{self.full_name}/releases/download/{release['tag_name']}/{name}",
        )
        self.release_assets[release["id"]].append(asset)
        self.asset_bytes[aid] = data
        return asset

    def attest_bundle(self, sha256: str, bundle: dict[str, Any], *, by_url: bool) -> None:
        """A real bundle for the digest: inline, or behind a snappy-compressed bundle_url."""
        if by_url:
            url = f"https://attestations.blob.example.test/{sha256[:12]}-{len(self.bundle_blobs)}.json.sn"
            import cramjam

            self.bundle_blobs[url] = bytes(cramjam.snappy.compress_raw(json.dumps(bundle).encode()))
            entry: dict[str, Any] = {"repository_id": 1, "bundle": None, "bundle_url": url, "initiator": "user"}
        else:
            entry = {"repository_id": 1, "bundle": bundle, "initiator": "user"}
        self.attestations.setdefault(sha256, []).append(entry)

    def attest(self, data: bytes) -> None:
        entry = body("GET_repos_attestations_subject_digest.200.json")["attestations"][0]
        self.attestations.setdefault(hashlib.sha256(data).hexdigest(), []).append(entry)

    def release_by_tag(self, tag: str) -> dict[str, Any]:
        return next(r for r in self.releases if r["tag_name"] == tag)

    def assets_of(self, tag: str) -> dict[str, dict[str, Any]]:
        return {a["name"]: a for a in self.release_assets[self.release_by_tag(tag)["id"]]}

    # -- deployments ------------------------------------------------------------------------

    def _tick(self) -> datetime:
        """Deployments and statuses are dated a minute apart, in the order they were made."""
        return NOW - timedelta(days=30) + timedelta(minutes=next(self._ticks))

    def add_deployment(
        self,
        ref: str,
        *,
        environment: str = "production",
        task: str = "deploy",
        payload: Any = None,
        sha: str | None = None,
        description: str | None = None,
        creator: str | None = None,
    ) -> dict[str, Any]:
        """A deployment as GitHub stores it; ``payload`` is kept as sent (an object or a JSON string);
        ``creator`` is the login that created it (default: the fixture's)."""
        deployment = body("POST_repos_deployments.201.json")
        did = next(self._ids)
        api = f"{self.base_url}/repos/{self.full_name}/deployments/{did}"
        when = iso(self._tick())
        deployment.update(
            id=did,
            url=api,
            statuses_url=f"{api}/statuses",
            repository_url=f"{self.base_url}/repos/{self.full_name}",
            ref=ref,
            sha=sha or sha_of(f"ref:{ref}"),
            task=task,
            payload={} if payload is None else payload,
            environment=environment,
            original_environment=environment,
            description=description,
            created_at=when,
            updated_at=when,
        )
        if creator is not None:
            deployment["creator"] = {**(deployment.get("creator") or {}), "login": creator}
        self.deployments.append(deployment)
        self.deployment_statuses[did] = []
        return deployment

    def add_deployment_status(
        self, deployment: dict[str, Any] | int, state: str, *, log_url: str = "", environment_url: str = ""
    ) -> dict[str, Any]:
        did = deployment if isinstance(deployment, int) else deployment["id"]
        dep = next(d for d in self.deployments if d["id"] == did)
        status = body("POST_repos_deployments_deployment_id_statuses.201.json")
        sid = next(self._ids)
        when = iso(self._tick())
        status.update(
            id=sid,
            url=f"{dep['url']}/statuses/{sid}",
            state=state,
            environment=dep["environment"],
            deployment_url=dep["url"],
            repository_url=dep["repository_url"],
            log_url=log_url,
            target_url=log_url,
            environment_url=environment_url,
            created_at=when,
            updated_at=when,
        )
        self.deployment_statuses[did].append(status)
        return status

    def mark_inactive(self, deployment: dict[str, Any]) -> None:
        """``auto_inactive``: earlier deployments of the environment whose last status is success turn inactive."""
        for other in self.deployments:
            statuses = self.deployment_statuses[other["id"]]
            same = other["environment"] == deployment["environment"]
            if same and other["id"] < deployment["id"] and statuses and statuses[-1]["state"] == "success":
                self.add_deployment_status(other, "inactive")

    def _known_ref(self, ref: str) -> str | None:
        for key in (f"tags/{ref}", f"heads/{ref}", ref.removeprefix("refs/")):
            if key in self.refs:
                return str(self.refs[key]["object"]["sha"])
        if re.fullmatch(r"[0-9a-f]{7,40}", ref):
            return next((c for c in self.commits if c.startswith(ref)), None)
        return None

    def _deployments_route(self, request: httpx.Request, rest: str) -> httpx.Response:
        method, params = request.method, request.url.params
        if rest == "/deployments" and method == "GET":
            found = [
                d
                for d in reversed(self.deployments)
                if all(params.get(k) in (None, d[k]) for k in ("environment", "task", "ref", "sha"))
            ]
            return self._page(request, found)
        if rest == "/deployments" and method == "POST":
            data = json.loads(request.content)
            sha = self._known_ref(data.get("ref", ""))
            if sha is None:
                return self._json(
                    422,
                    {
                        "message": f"No ref found for: {data.get('ref')}",
                        "documentation_url": "https://docs.github.com/rest/deployments/deployments#create-a-deployment",
                        "status": "422",
                    },
                )
            deployment = self.add_deployment(
                data["ref"],
                environment=data.get("environment", "production"),
                task=data.get("task", "deploy"),
                payload=data.get("payload", {}),
                sha=sha,
                description=data.get("description"),
            )
            return self._json(201, deployment)
        m = re.fullmatch(r"/deployments/(\d+)(/statuses)?", rest)
        deployment = next((d for d in self.deployments if m and d["id"] == int(m.group(1))), None)
        if m is None or deployment is None:
            return self._json(404, NOT_FOUND)
        if not m.group(2) and method == "GET":
            return self._json(200, deployment)
        if m.group(2) and method == "GET":
            return self._page(request, list(reversed(self.deployment_statuses[deployment["id"]])))
        if m.group(2) and method == "POST":
            data = json.loads(request.content)
            if data.get("state") not in ("error", "failure", "inactive", "in_progress", "queued", "pending", "success"):
                return self._json(422, {"message": "Validation Failed", "errors": [{"field": "state"}]})
            status = self.add_deployment_status(
                deployment,
                data["state"],
                log_url=data.get("log_url", ""),
                environment_url=data.get("environment_url", ""),
            )
            if data["state"] == "success" and data.get("auto_inactive", True):
                self.mark_inactive(deployment)
            return self._json(201, status)
        return self._json(404, NOT_FOUND)

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` matching requests get this answer instead."""
        self._faults.append(Fault(method, re.compile(path_regex), status, body, headers or {}, times))

    def fail_with_fixture(
        self,
        method: str,
        path_regex: str,
        name: str,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        rec = payload(name)
        merged = {k: str(v) for k, v in (rec.get("headers") or {}).items() if k.lower() not in ("status", "date")}
        merged.update(headers or {})
        self.fail(method, path_regex, rec["status"], body=rec["body"], headers=merged, times=times)

    # -- serving ------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def count(self, path_regex: str) -> int:
        pattern = re.compile(path_regex)
        return sum(1 for r in self.requests if pattern.search(r.url.path))

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
            fault = next(
                (
                    f
                    for f in self._faults
                    if f.times > 0 and f.method in (request.method, "*") and f.pattern.search(request.url.path)
                ),
                None,
            )
            if fault:
                fault.times -= 1
        if self.latency:
            time.sleep(self.latency)
        if fault:
            return self._json(fault.status, fault.body, fault.headers)
        response = self._route(request)
        if response.status_code == 200:  # GitHub's conditional requests: a 304 costs no rate limit
            etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
            if request.headers.get("if-none-match") == etag:
                return httpx.Response(304, headers={"etag": etag})
            response.headers["etag"] = etag
        return response

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        content = b"" if data is None else json.dumps(data).encode()
        hdrs = {"content-type": "application/json; charset=utf-8", **(headers or {})}
        return httpx.Response(status, content=content, headers=hdrs)

    def _page(self, request: httpx.Request, items: list[Any], key: str | None = None) -> httpx.Response:
        per_page = min(int(request.url.params.get("per_page", 30)), 100)
        page = int(request.url.params.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            url = request.url.copy_merge_params({"page": page + 1, "per_page": per_page})
            headers["link"] = f'<{url}>; rel="next"'
        data: Any = {"total_count": len(items), key: chunk} if key else chunk
        return self._json(200, data, headers)

    def _route(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) in self.bundle_blobs:  # pre-signed storage: a token must never be sent there
            if "authorization" in request.headers:
                return self._json(400, {"message": "a token was sent to the bundle storage"})
            return httpx.Response(200, content=self.bundle_blobs[str(request.url)])
        path = request.url.path
        params = request.url.params
        prefix = f"/repos/{self.full_name}"
        if not path.startswith(prefix):
            return self._json(404, NOT_FOUND)
        rest = path[len(prefix) :]
        if rest.startswith(("/releases", "/attestations")):
            return self._releases_route(request, rest)
        if rest.startswith("/deployments"):
            return self._deployments_route(request, rest)
        if request.method != "GET":
            return self._json(404, NOT_FOUND)
        if rest == "":
            return self._json(
                200,
                {
                    "full_name": self.full_name,
                    "default_branch": self.default_branch,
                    "private": False,
                },
            )
        if m := re.fullmatch(r"/git/ref/(.+)", rest):
            ref = self.refs.get(m.group(1))
            return self._json(200, ref) if ref else self._json(404, NOT_FOUND)
        if m := re.fullmatch(r"/git/tags/([0-9a-f]{40})", rest):
            tag = self.tag_objects.get(m.group(1))
            return self._json(200, tag) if tag else self._json(404, NOT_FOUND)
        if m := re.fullmatch(r"/commits/([^/]+)", rest):
            sha = next((c for c in self.commits if c.startswith(m.group(1))), None)
            if not sha:
                return self._json(422, {"message": f"No commit found for SHA: {m.group(1)}"})
            commit = body("GET_repos_commits_ref.200.json")
            commit["sha"] = sha
            return self._json(200, commit)
        if rest == "/actions/workflows":
            return self._page(request, self.workflows, "workflows")
        if rest == "/actions/runs" or (m := re.fullmatch(r"/actions/workflows/(\d+)/runs", rest)):
            runs = self.runs
            if rest != "/actions/runs":
                runs = [r for r in runs if r["workflow_id"] == int(m.group(1))]  # type: ignore[union-attr]
            runs = self._filter_runs(runs, params)
            runs.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)
            return self._page(request, runs, "workflow_runs")
        if rest == "/code-scanning/alerts":
            if self.code_scanning_error:
                return self._json(self.code_scanning_error[0], {"message": self.code_scanning_error[1]})
            alerts = [a for a in self.code_alerts if a["tool"]["name"] == params.get("tool_name", a["tool"]["name"])]
            alerts = [a for a in alerts if params.get("state") in (None, a["state"])]
            return self._page(request, alerts)
        if rest == "/secret-scanning/alerts":
            if self.secret_scanning_error:
                return self._json(self.secret_scanning_error[0], {"message": self.secret_scanning_error[1]})
            alerts = [a for a in self.secret_alerts if params.get("state") in (None, a["state"])]
            return self._page(request, alerts)
        if m := re.fullmatch(r"/commits/([0-9a-f]{40})/check-runs", rest):
            return self._page(request, [c for c in self.check_runs if c["head_sha"] == m.group(1)], "check_runs")
        if m := re.fullmatch(r"/commits/([0-9a-f]{40})/pulls", rest):
            return self._page(request, self.pulls.get(m.group(1), []))
        return self._json(404, NOT_FOUND)

    def _release(self, rid: int) -> dict[str, Any] | None:
        return next((r for r in self.releases if r["id"] == rid), None)

    def _releases_route(self, request: httpx.Request, rest: str) -> httpx.Response:
        method = request.method
        if m := re.fullmatch(r"/attestations/sha256:([0-9a-f]{64})", rest):
            found = self.attestations.get(m.group(1), [])
            return self._page(request, found, "attestations") if found else self._json(404, NOT_FOUND)
        if (m := re.fullmatch(r"/releases/tags/(.+)", rest)) and method == "GET":
            found = next((r for r in self.releases if r["tag_name"] == m.group(1) and not r["draft"]), None)
            return (
                self._json(200, {**found, "assets": self.release_assets[found["id"]]})
                if found
                else self._json(404, NOT_FOUND)
            )
        if rest == "/releases" and method == "GET":
            items = [
                {**r, "assets": self.release_assets[r["id"]]} for r in sorted(self.releases, key=lambda r: -r["id"])
            ]
            return self._page(request, items)
        if rest == "/releases" and method == "POST":
            data = json.loads(request.content)
            release = self.add_release(
                data["tag_name"], draft=data.get("draft", False), prerelease=data.get("prerelease", False)
            )
            release["body"] = data.get("body", "")
            return self._json(201, {**release, "assets": []})
        if rest == "/releases/generate-notes" and method == "POST":
            tag = json.loads(request.content)["tag_name"]
            return self._json(200, {"name": tag, "body": f"## What's Changed\n* Release {tag}"})
        if m := re.fullmatch(r"/releases/assets/(\d+)", rest):
            aid = int(m.group(1))
            for rid, assets in self.release_assets.items():
                asset = next((a for a in assets if a["id"] == aid), None)
                if asset and method == "GET" and request.headers.get("accept") == "application/octet-stream":
                    return httpx.Response(200, content=self.asset_bytes[aid])
                if asset and method == "GET":
                    return self._json(200, asset)
                if asset and method == "DELETE":
                    release = self._release(rid)
                    if release and release.get("immutable") and not release["draft"]:
                        return self._json(422, {"message": "Cannot delete asset from an immutable release."})
                    assets.remove(asset)
                    return httpx.Response(204)
            return self._json(404, NOT_FOUND)
        if m := re.fullmatch(r"/releases/(\d+)(/assets)?", rest):
            release = self._release(int(m.group(1)))
            if release is None:
                return self._json(404, NOT_FOUND)
            if m.group(2) and method == "GET":
                return self._page(request, self.release_assets[release["id"]])
            if m.group(2) and method == "POST":
                return self._upload(request, release)
            if method == "GET":
                return self._json(200, {**release, "assets": self.release_assets[release["id"]]})
            if method == "PATCH":
                if release.get("immutable") and not release["draft"]:
                    return self._json(422, {"message": "Cannot modify an immutable release."})
                release.update({k: v for k, v in json.loads(request.content).items() if k in ("draft", "prerelease")})
                if not release["draft"]:
                    release["published_at"] = iso(NOW)
                return self._json(200, {**release, "assets": self.release_assets[release["id"]]})
        return self._json(404, NOT_FOUND)

    def _upload(self, request: httpx.Request, release: dict[str, Any]) -> httpx.Response:
        if request.url.host != httpx.URL(self.upload_base).host:  # uploads go to the upload_url's host only
            return self._json(404, NOT_FOUND)
        name = request.url.params["name"]
        if release.get("immutable") and not release["draft"]:
            return self._json(422, {"message": "Cannot upload assets to an immutable release."})
        if any(a["name"] == name for a in self.release_assets[release["id"]]):
            rec = payload("POST_repos_releases_release_id_assets.422.already_exists.json")
            return self._json(422, rec["body"])
        data = request.read()
        self.uploads.append(name)
        if name in self.reset_midway:
            self.reset_midway.discard(name)
            self.add_asset(release, name, data[: len(data) // 2], state="starter")
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")
        asset = self.add_asset(release, name, data)
        if name in self.exists_then_422:
            self.exists_then_422.discard(name)
            return self._json(422, payload("POST_repos_releases_release_id_assets.422.already_exists.json")["body"])
        if name in self.land_then_fail:
            self.land_then_fail.discard(name)
            return self._json(502, {"message": "Server Error"})
        return self._json(201, asset)

    @staticmethod
    def _filter_runs(runs: list[dict[str, Any]], params: httpx.QueryParams) -> list[dict[str, Any]]:
        out = list(runs)
        if "head_sha" in params:
            out = [r for r in out if r["head_sha"] == params["head_sha"]]
        if "event" in params:
            out = [r for r in out if r["event"] == params["event"]]
        if "branch" in params:
            out = [r for r in out if r["head_branch"] == params["branch"]]
        if "status" in params:
            want = params["status"]
            out = [r for r in out if r["status"] == want or r["conclusion"] == want]
        return out


@contextmanager
def serve(fake: FakeGitHub) -> Iterator[str]:
    """Serve ``fake`` over real HTTP on 127.0.0.1; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # answers go out at once, not after a 40 ms delayed ACK

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def do_PATCH(self) -> None:
            self._answer("PATCH")

        def do_DELETE(self) -> None:
            self._answer("DELETE")

        def _answer(self, method: str) -> None:
            url = f"http://{self.headers['Host']}{self.path}"
            length = int(self.headers.get("Content-Length") or 0)
            content = self.rfile.read(length) if length else b""
            request = httpx.Request(method, url, headers=dict(self.headers.items()), content=content)
            try:
                response = fake.handle(request)
            except httpx.TransportError:
                self.close_connection = True  # a reset: drop the connection without an answer
                return
            data = response.content
            self.send_response(response.status_code)
            for key, value in response.headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(key, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.upload_base = f"http://127.0.0.1:{server.server_address[1]}"
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


RUNBOOK_CI = ["Backend CI", "Frontend CI", "Starter Console CI", "Contracts CI", "Providers CI"]
RUNBOOK_WORKFLOWS = [*RUNBOOK_CI, "Dependency Review", "CodeQL", "Secrets Scan", "build-images"]


def green_runbook(fake: FakeGitHub, *, tag: str = "v1.4.0") -> str:
    """A repository laid out like the runbook, with every gate green for the tagged commit."""
    sha = sha_of(f"release:{tag}")
    fake.add_ref(f"tags/{tag}", sha)
    fake.add_ref(f"heads/{fake.default_branch}", sha)
    for name in RUNBOOK_WORKFLOWS:
        fake.add_workflow(name)
    for name in [*RUNBOOK_CI, "CodeQL", "Secrets Scan"]:
        fake.add_run(name, sha, event="push")
    fake.add_run("build-images", sha, event="workflow_dispatch")
    for name in ("CodeQL", "Secrets Scan"):
        fake.add_run(name, sha_of(f"nightly:{name}"), event="schedule", created_at=NOW - timedelta(days=1))
    head = sha_of(f"pr-head:{tag}")
    fake.add_pull(sha, 42, head)
    fake.add_run("Dependency Review", head, event="pull_request", head_branch="feature-42")
    fake.add_code_alert("CodeQL", "low", severity="note")  # below the default threshold
    return sha
