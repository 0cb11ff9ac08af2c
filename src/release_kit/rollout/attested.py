"""Only attested images are deployed (``deploy.require_attestations``): before deploy or rollback
changes anything, every digest must carry a build-provenance attestation from this repository's
release workflow, checked with verify-release's identity policy on either Sigstore instance (the
public-good one, or GitHub's for private repositories). One that fails is named with its reason and
nothing is deployed (exit 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from release_kit.errors import ExitCode, ReleaseKitError

if TYPE_CHECKING:
    from release_kit.image_refs import ImageRef
    from release_kit.target.settings import DeploySettings, Role


class NotAttested(ReleaseKitError):
    """A digest without a valid build-provenance attestation: nothing was deployed."""

    exit_code = ExitCode.NOT_OK


def require_attested(
    settings: DeploySettings,
    images: Mapping[Role, ImageRef],
    *,
    repository: str | None,
    custom_trusted_root: Path | None = None,
) -> list[str]:
    """Every image's digest verified, or :class:`NotAttested` naming each one that is not.

    Returns one line of evidence per image (``api sha256:… attested by <workflow>``). Does nothing,
    and returns nothing, unless ``deploy.require_attestations`` is set."""
    if not settings.require_attestations or not images:
        return []
    from release_kit.attestations import fetch
    from release_kit.attestations.identity import IdentityPolicy
    from release_kit.attestations.trust import Trust
    from release_kit.attestations.verify import VERIFIED, verify_digest
    from release_kit.github.client import GitHubClient, parse_repo

    name = parse_repo(repository)
    policy = IdentityPolicy.from_options(
        repository=name.full_name,
        tag="",
        signer_workflow=settings.signer_workflow,
        source_ref="any",  # a rollback deploys an older release: the signer and the repository decide
        oidc_issuer=None,
        allow_self_hosted=False,
    )
    trust = Trust(custom=custom_trusted_root)
    evidence: list[str] = []
    refused: list[str] = []
    with GitHubClient() as gh:
        base = f"/repos/{name.owner}/{name.name}"
        for role, image in images.items():
            digest = image.digest.removeprefix("sha256:")
            verdict = verify_digest(digest, fetch.api_bundles(gh, base, digest), policy, trust)
            if verdict.status == VERIFIED:
                evidence.append(f"{role} sha256:{digest[:12]} attested ({policy.signer_prefix()}…)")
            else:
                refused.append(f"{role} {image}: {verdict.status}: {verdict.reason}")
    if refused:
        raise NotAttested(
            "deploy.require_attestations: nothing was deployed; not attested by "
            f"{policy.signer_prefix()}…: " + "; ".join(refused)
        )
    return evidence
