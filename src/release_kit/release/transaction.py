"""release upload and release publish: the draft, its assets, the attestation check, the publish."""

from __future__ import annotations

from pydantic import BaseModel, Field

from release_kit.github.client import GitHubClient, RepoName
from release_kit.release.models import ReleasePlan
from release_kit.release.remote import (
    AssetOutcome,
    NotPublishable,
    Releases,
    check_can_attest,
    differences,
    find_or_create_draft,
    reconcile,
    refuse_changed_published,
)


class ReleaseReport(BaseModel):
    repository: str
    tag: str
    release_id: int
    release_url: str | None
    draft: bool
    assets: list[AssetOutcome]
    attestations: dict[str, int] = Field(default_factory=dict, description="Attestations found per asset (publish).")


def _skipped(plan: ReleasePlan) -> list[AssetOutcome]:
    return [AssetOutcome(name=a.name, size=a.size, sha256=a.sha256, remote_state="uploaded", action="skipped")
            for a in plan.assets]  # fmt: skip


def upload(gh: GitHubClient, repo: RepoName, plan: ReleasePlan, *, attest: bool = False) -> ReleaseReport:
    if attest:
        check_can_attest()  # before anything changes
    releases = Releases(gh, repo)
    release, published = find_or_create_draft(releases, plan)
    if published:  # idempotent when it already holds exactly the plan; never mutated
        refuse_changed_published(plan, releases.assets(release.id))
        outcomes = _skipped(plan)
    else:
        outcomes = reconcile(releases, release, plan)
    return ReleaseReport(repository=repo.full_name, tag=plan.tag, release_id=release.id,
                         release_url=release.html_url, draft=release.draft, assets=outcomes)  # fmt: skip


def publish(gh: GitHubClient, repo: RepoName, plan: ReleasePlan, *, require_attestations: bool) -> ReleaseReport:
    releases = Releases(gh, repo)
    release = releases.find(plan.tag)
    if release is None:
        raise NotPublishable(f"no release for {plan.tag}: run 'release-kit release upload' first")
    if not release.draft:
        refuse_changed_published(plan, releases.assets(release.id))
        return ReleaseReport(repository=repo.full_name, tag=plan.tag, release_id=release.id,
                             release_url=release.html_url, draft=False, assets=_skipped(plan))  # fmt: skip
    diff = differences(plan, releases.assets(release.id))
    if diff:
        raise NotPublishable(f"the draft {plan.tag} does not hold the planned assets: {'; '.join(diff)}")
    counts = {a.name: releases.attestation_count(a.sha256) for a in plan.assets}
    unattested = [name for name, n in counts.items() if n == 0]
    if require_attestations and unattested:
        raise NotPublishable(
            f"no attestation for {', '.join(unattested)}: run actions/attest before publishing "
            "(or pass --no-require-attestations)"
        )
    published = releases.publish(release, plan.prerelease)
    after = releases.get(published.id)
    diff = differences(plan, releases.assets(after.id))
    if after.draft or diff:
        raise NotPublishable(
            f"after publishing, {plan.tag} is {'still a draft' if after.draft else 'changed'}: {'; '.join(diff)}"
        )
    return ReleaseReport(repository=repo.full_name, tag=plan.tag, release_id=after.id, release_url=after.html_url,
                         draft=False, assets=_skipped(plan), attestations=counts)  # fmt: skip
