"""Bundle verification on real GitHub Actions Sigstore bundles (tests/fixtures/attestations, MIT)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from release_kit.attestations.identity import IdentityPolicy
from release_kit.attestations.verify import (
    SLSA_PROVENANCE_V1,
    UNVERIFIABLE,
    UNVERIFIED,
    VERIFIED,
    check_bundle,
    statement_of,
    subject_matches,
)
from tests.fakes.fixtures import ATTESTATIONS

REUSABLE = ATTESTATIONS / "reusable-workflow-attestation.sigstore.json"
POLICY = IdentityPolicy(
    repository="malancas/attest-demo",
    source_ref="refs/heads/main",
    signer_workflow="github/artifact-attestations-workflows/.github/workflows/attest.yml",
)


def digests(path: Path, extra: bytes = b"") -> dict[str, str]:
    data = path.read_bytes() + extra
    return {"sha256": hashlib.sha256(data).hexdigest(), "sha512": hashlib.sha512(data).hexdigest()}


def test_a_real_bundle_verifies_against_its_artifact() -> None:
    check = check_bundle(REUSABLE.read_bytes(), POLICY, digests(ATTESTATIONS / "reusable-workflow-artifact"))
    assert (check.status, check.reasons) == (VERIFIED, [])
    assert check.predicate_type == SLSA_PROVENANCE_V1


def test_a_tampered_artifact_fails_on_the_subject_digest() -> None:
    check = check_bundle(REUSABLE.read_bytes(), POLICY, digests(ATTESTATIONS / "reusable-workflow-artifact", b"x"))
    assert check.status == UNVERIFIED
    assert check.reasons == ["the signed subject digest does not match the asset's bytes"]


def test_wrong_repository_ref_or_signer_workflow_each_fail_by_name() -> None:
    artifact = digests(ATTESTATIONS / "reusable-workflow-artifact")
    cases = {
        "source repository": IdentityPolicy(
            repository="malancas/other", source_ref="refs/heads/main", signer_workflow=POLICY.signer_workflow
        ),
        "source ref": IdentityPolicy(
            repository="malancas/attest-demo", source_ref="refs/tags/v1.0.0", signer_workflow=POLICY.signer_workflow
        ),
        "signer workflow": IdentityPolicy(repository="malancas/attest-demo", source_ref="refs/heads/main"),
    }
    for rule, policy in cases.items():
        check = check_bundle(REUSABLE.read_bytes(), policy, artifact)
        assert check.status == UNVERIFIED
        assert len(check.reasons) == 1 and check.reasons[0].startswith(rule), (rule, check.reasons)


def test_a_non_default_issuer_needs_the_oidc_issuer_option() -> None:
    raw = (ATTESTATIONS / "custom-issuer.sigstore.json").read_bytes()
    artifact = digests(ATTESTATIONS / "custom-issuer-artifact")
    default = check_bundle(raw, IdentityPolicy(repository="too-legit/attest"), artifact)
    assert default.status == UNVERIFIED and default.reasons[0].startswith("issuer is")
    tenant = IdentityPolicy(
        repository="too-legit/attest", issuer="https://token.actions.githubusercontent.com/hammer-time"
    )
    assert check_bundle(raw, tenant, artifact).status == VERIFIED


def test_sha512_subject_of_the_npm_tarball() -> None:
    bundle = json.loads((ATTESTATIONS / "sigstore-js-2.1.0-bundle.json").read_text())
    statement = statement_of(bundle)
    assert statement is not None
    tarball = digests(ATTESTATIONS / "sigstore-js-2.1.0.tgz")
    assert "sha512" in statement["subject"][0]["digest"]
    assert subject_matches(statement, tarball)
    assert not subject_matches(statement, digests(ATTESTATIONS / "sigstore-js-2.1.0.tgz", b"x"))


def test_bundles_sigstore_python_cannot_check_are_unverifiable_never_verified() -> None:
    tarball = digests(ATTESTATIONS / "sigstore-js-2.1.0.tgz")
    lines = (ATTESTATIONS / "sigstore-js-2.1.0_with_2_bundles.jsonl").read_text().splitlines()
    assert len(lines) == 2
    for line in lines:
        check = check_bundle(line.encode(), IdentityPolicy(repository="sigstore/sigstore-js"), tarball)
        assert check.status == UNVERIFIABLE and check.reasons
    private = (ATTESTATIONS / "github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl").read_text().splitlines()[0]
    wheel = digests(ATTESTATIONS / "github_provenance_demo-0.0.12-py3-none-any.whl")
    check = check_bundle(private.encode(), IdentityPolicy(repository="bdehamer/github-provenance-demo"), wheel)
    assert check.status == UNVERIFIABLE and check.instance == "github"
    assert check.reasons[0].startswith("GitHub's Sigstore instance: ") and "nothing is cached" in check.reasons[0]
