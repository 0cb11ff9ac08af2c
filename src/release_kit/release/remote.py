"""The GitHub Release side: find or create the draft, reconcile assets, publish, verify.

Every step re-reads GitHub's state and decides from it, so re-running any step, or the whole
workflow after a failure at any point, converges on the same release with the planned assets.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from release_kit import gha
from release_kit.errors import AccessError, ExitCode, InputError, ReleaseKitError, RemoteGaveUp
from release_kit.github.client import GitHubClient, GitHubError, GitHubForbidden, RepoName
from release_kit.release.models import Asset, ReleasePlan

UPLOAD_TIMEOUT = httpx.Timeout(300.0, connect=10.0)  # per attempt
UPLOAD_ATTEMPTS = 3
CHUNK = 1024 * 1024
PERMISSIONS_FIX = "the job needs:\n  permissions:\n    contents: write\n    id-token: write\n    attestations: write"


def check_can_attest() -> None:
    """In Actions, attesting needs an OIDC token: without ``id-token: write`` the runner offers none."""
    gha.require_id_token(PERMISSIONS_FIX)


class RemoteAsset(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    name: str
    state: str
    size: int = 0
    digest: str | None = None
    browser_download_url: str | None = None


class RemoteRelease(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    tag_name: str
    draft: bool
    prerelease: bool = False
    immutable: bool = False
    html_url: str | None = None
    upload_url: str = ""


class AssetOutcome(BaseModel):
    name: str
    size: int
    sha256: str
    remote_state: str | None
    action: str = Field(description="uploaded, skipped, replaced or deleted")


class NotPublishable(ReleaseKitError):
    """What was verified is not OK: the release does not match the plan."""

    exit_code = ExitCode.NOT_OK


def _stream(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


class Releases:
    def __init__(self, gh: GitHubClient, repo: RepoName) -> None:
        self.gh = gh
        self.repo = repo
        self.base = f"/repos/{repo.owner}/{repo.name}"

    def _write(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.gh.request(method, url, **kwargs)
        except GitHubForbidden as err:
            raise AccessError(
                f"GitHub refused {method} on {self.repo}'s releases ({err.api_message})", hint=PERMISSIONS_FIX
            ) from None

    def find(self, tag: str) -> RemoteRelease | None:
        """The release for ``tag``, draft or not (a draft is not returned by /releases/tags/{tag})."""
        found = [
            RemoteRelease.model_validate(r)
            for r in self.gh.paginate(f"{self.base}/releases")
            if r.get("tag_name") == tag
        ]
        if len(found) > 1:  # never create a second draft; reuse the published one, else the oldest draft
            found.sort(key=lambda r: (r.draft, r.id))
        return found[0] if found else None

    def get(self, release_id: int) -> RemoteRelease:
        return RemoteRelease.model_validate(self.gh.get_json(f"{self.base}/releases/{release_id}"))

    def assets(self, release_id: int) -> list[RemoteAsset]:
        return [RemoteAsset.model_validate(a) for a in self.gh.paginate(f"{self.base}/releases/{release_id}/assets")]

    def notes(self, tag: str) -> str:
        try:
            answer = self._write("POST", f"{self.base}/releases/generate-notes", json={"tag_name": tag}).json()
        except GitHubError:
            return ""
        return str(answer.get("body") or "")

    def create_draft(self, plan: ReleasePlan, body: str) -> RemoteRelease:
        data = {"tag_name": plan.tag, "name": plan.tag, "body": body, "draft": True, "prerelease": plan.prerelease}
        return RemoteRelease.model_validate(self._write("POST", f"{self.base}/releases", json=data).json())

    def delete_asset(self, asset_id: int) -> None:
        try:
            self._write("DELETE", f"{self.base}/releases/assets/{asset_id}")
        except GitHubError as err:
            if err.status != 404:  # already gone: what we wanted
                raise

    def upload(self, release: RemoteRelease, asset: Asset) -> None:
        """One streamed POST; the caller re-reads the assets after any failure instead of re-sending."""
        url = release.upload_url.split("{", 1)[0]
        self._write(
            "POST",
            url,
            params={"name": asset.name},
            content=_stream(asset.path),
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(asset.size)},
            timeout=UPLOAD_TIMEOUT,
        )

    def publish(self, release: RemoteRelease, prerelease: bool) -> RemoteRelease:
        data = {"draft": False, "prerelease": prerelease, "make_latest": "false" if prerelease else "true"}
        return RemoteRelease.model_validate(
            self._write("PATCH", f"{self.base}/releases/{release.id}", json=data).json()
        )


def matches(remote: RemoteAsset | None, asset: Asset) -> bool:
    return remote is not None and remote.state == "uploaded" and remote.digest == f"sha256:{asset.sha256}"


def differences(plan: ReleasePlan, remote: list[RemoteAsset]) -> list[str]:
    by_name = {a.name: a for a in remote}
    out = []
    for asset in plan.assets:
        got = by_name.get(asset.name)
        if got is None:
            out.append(f"{asset.name} is missing")
        elif not matches(got, asset):
            out.append(f"{asset.name} is {got.state} with {got.digest or 'no digest'}, expected sha256:{asset.sha256}")
    planned = {a.name for a in plan.assets}
    out += [f"{a.name} is not in the plan" for a in remote if a.name not in planned]
    return out


def reconcile(releases: Releases, release: RemoteRelease, plan: ReleasePlan) -> list[AssetOutcome]:
    """Make the draft hold exactly the planned assets: skip what matches, replace what does not."""
    outcomes: dict[str, AssetOutcome] = {}
    attempted: set[str] = set()
    for attempt in range(1, UPLOAD_ATTEMPTS + 1):
        remote = {a.name: a for a in releases.assets(release.id)}
        for name, stray in remote.items():
            if name not in {a.name for a in plan.assets}:
                releases.delete_asset(stray.id)
                outcomes[name] = AssetOutcome(
                    name=name, size=stray.size, sha256="", remote_state=stray.state, action="deleted"
                )
        failed: list[str] = []
        for asset in plan.assets:
            got = remote.get(asset.name)
            if matches(got, asset):
                # there already, or landed although this run's attempt answered with an error
                done = "uploaded" if asset.name in attempted else "skipped"
                outcomes.setdefault(
                    asset.name,
                    AssetOutcome(
                        name=asset.name, size=asset.size, sha256=asset.sha256, remote_state="uploaded", action=done
                    ),
                )
                continue
            action = "uploaded"
            if got is not None:  # half-uploaded ("starter") or different bytes: replace it
                releases.delete_asset(got.id)
                action = "replaced"
            attempted.add(asset.name)
            try:
                with gha.group(f"upload {asset.name} ({asset.size} bytes)"):
                    releases.upload(release, asset)
            except (GitHubError, httpx.TransportError) as err:
                if isinstance(err, GitHubError) and err.status in (401, 403):
                    raise
                failed.append(f"{asset.name}: {err}")  # it may have landed all the same: re-read and decide
                continue
            outcomes[asset.name] = AssetOutcome(name=asset.name, size=asset.size, sha256=asset.sha256,
                                                remote_state="uploaded", action=action)  # fmt: skip
        if not failed:
            final = releases.assets(release.id)
            if not differences(plan, final):
                return [outcomes[a.name] for a in plan.assets] + [o for o in outcomes.values() if o.action == "deleted"]
            failed = differences(plan, final)
        if attempt == UPLOAD_ATTEMPTS:
            raise RemoteGaveUp(
                f"the release {plan.tag} still differs from the plan after {attempt} rounds: {'; '.join(failed)}",
                hint="re-run: what is already uploaded is kept",
            )
    raise AssertionError("unreachable")


def find_or_create_draft(releases: Releases, plan: ReleasePlan) -> tuple[RemoteRelease, bool]:
    """(release, published): a published release is returned as is and never changed."""
    release = releases.find(plan.tag)
    if release is not None:
        return release, not release.draft
    notes = releases.notes(plan.tag)
    return releases.create_draft(plan, release_body(plan, notes)), False


def release_body(plan: ReleasePlan, notes: str) -> str:
    lines = [notes.strip(), "", "## Provenance", "", "| Asset | sha256 |", "| --- | --- |"]
    lines += [f"| `{a.name}` | `{a.sha256}` |" for a in plan.assets]
    repo = plan.repository or "OWNER/REPO"
    lines += [
        "",
        "Verify a downloaded asset with the GitHub CLI:",
        "",
        "```sh",
        f"gh attestation verify <asset> --repo {repo}",
        f"release-kit verify-release --repo {repo} --tag {plan.tag}",
        "```",
    ]
    return "\n".join(lines).strip() + "\n"


def refuse_changed_published(plan: ReleasePlan, remote: list[RemoteAsset]) -> None:
    diff = differences(plan, remote)
    if diff:
        raise InputError(
            f"release {plan.tag} is already published and differs from the plan ({'; '.join(diff[:3])}): "
            "a published release is never changed; cut a new version"
        )
