"""release upload and release publish: the draft, its assets, the attestation check, the publish."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from release_kit.attestations.identity import IdentityPolicy
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

if TYPE_CHECKING:
    from release_kit.attestations.trust import Trust


class ReleaseReport(BaseModel):
    repository: str
    tag: str
    release_id: int
    release_url: str | None
    draft: bool
    assets: list[AssetOutcome]
    attestations: dict[str, str] = Field(
        default_factory=dict,
        description="Publish: each asset's attestation verdict (verified, unverified, unverifiable).",
    )


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


def verify_attestations(
    gh: GitHubClient, repo: RepoName, plan: ReleasePlan, policy: IdentityPolicy, trust: Trust | None = None
) -> dict[str, Any]:
    """Each planned asset's verdict from its attestations, with the code verify-release uses."""
    from release_kit.attestations import fetch
    from release_kit.attestations.judge import judge_asset
    from release_kit.attestations.verify import SLSA_PROVENANCE_V1, check_bundle

    base = f"/repos/{repo.owner}/{repo.name}"
    verdicts: dict[str, Any] = {}
    for asset in plan.assets:
        sha512 = hashlib.sha512(asset.path.read_bytes()).hexdigest()
        digests = {"sha256": asset.sha256, "sha512": sha512}
        checks = [check_bundle(raw, policy, digests, trust) for raw in fetch.api_bundles(gh, base, asset.sha256)]
        verdicts[asset.name] = judge_asset(asset.name, [SLSA_PROVENANCE_V1], checks, None, [])
    return verdicts


def publish(
    gh: GitHubClient,
    repo: RepoName,
    plan: ReleasePlan,
    *,
    require_attestations: bool,
    policy: IdentityPolicy | None = None,
    trust: Trust | None = None,
) -> ReleaseReport:
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
    statuses: dict[str, str] = {}
    if require_attestations:
        policy = policy or IdentityPolicy.from_options(
            repository=repo.full_name,
            tag=plan.tag,
            signer_workflow=None,
            source_ref=None,
            oidc_issuer=None,
            allow_self_hosted=False,
        )
        verdicts = verify_attestations(gh, repo, plan, policy, trust)
        statuses = {name: status.value for name, (status, _, _) in verdicts.items()}
        bad = {
            name: [*reasons, *(r for result in results for r in result.reasons)]  # each bundle's own reasons too
            for name, (status, results, reasons) in verdicts.items()
            if status.value != "verified"
        }
        if bad:
            detail = "; ".join(f"{name}: {', '.join(reasons)}" for name, reasons in bad.items())
            raise NotPublishable(
                f"not every asset carries a valid provenance attestation ({detail}): run the attest steps "
                "before publishing (or pass --no-require-attestations)"
            )
    published = releases.publish(release, plan.prerelease)
    after = releases.get(published.id)
    diff = differences(plan, releases.assets(after.id))
    if after.draft or diff:
        raise NotPublishable(
            f"after publishing, {plan.tag} is {'still a draft' if after.draft else 'changed'}: {'; '.join(diff)}"
        )
    return ReleaseReport(repository=repo.full_name, tag=plan.tag, release_id=after.id, release_url=after.html_url,
                         draft=False, assets=_skipped(plan), attestations=statuses)  # fmt: skip
