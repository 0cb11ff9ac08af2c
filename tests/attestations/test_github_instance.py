"""GitHub's own Sigstore instance (private repositories) on a real bundle: the wheel's attestation
from GitHub's test data, verified offline against a snapshot of GitHub's trusted root; each
tampered part refused with its reason."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from release_kit.attestations.identity import IdentityPolicy
from release_kit.attestations.trust import Trust
from release_kit.attestations.verify import (
    SLSA_PROVENANCE_V1,
    UNVERIFIED,
    VERIFIED,
    check_bundle,
    verify_digest,
)
from release_kit.errors import InputError
from tests.fakes.fixtures import ATTESTATIONS

WHEEL = ATTESTATIONS / "github_provenance_demo-0.0.12-py3-none-any.whl"
BUNDLE = ATTESTATIONS / "github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl"
GITHUB_ROOT = ATTESTATIONS / "github_trusted_root.json"
PUBLIC_ROOT = ATTESTATIONS / "trusted_root.json"
POLICY = IdentityPolicy(
    repository="actions/attest-demo",
    source_ref="refs/heads/main",
    signer_workflow="actions/attest-demo/.github/workflows/build-python.yml",
)


def bundle() -> dict[str, Any]:
    return dict(json.loads(BUNDLE.read_text().splitlines()[0]))


def raw(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def wheel_digests(extra: bytes = b"") -> dict[str, str]:
    data = WHEEL.read_bytes() + extra
    return {"sha256": hashlib.sha256(data).hexdigest(), "sha512": hashlib.sha512(data).hexdigest()}


@pytest.fixture(scope="module")
def github_root() -> Trust:
    return Trust(custom=GITHUB_ROOT)


def test_the_wheel_verifies_against_githubs_trusted_root(github_root: Trust) -> None:
    check = check_bundle(raw(bundle()), POLICY, wheel_digests(), github_root)
    assert (check.status, check.reasons, check.instance) == (VERIFIED, [], "github")
    assert check.predicate_type == SLSA_PROVENANCE_V1


def test_the_same_wheel_fails_against_the_public_good_root() -> None:
    check = check_bundle(raw(bundle()), POLICY, wheel_digests(), Trust(custom=PUBLIC_ROOT))
    assert check.status == UNVERIFIED
    assert check.reasons[0].startswith("timestamp: ")


def test_the_identity_policy_is_unchanged_for_githubs_instance(github_root: Trust) -> None:
    for policy, rule in [
        (IdentityPolicy(repository="actions/other", source_ref="refs/heads/main"), "source repository"),
        (IdentityPolicy(repository="actions/attest-demo", source_ref="refs/tags/v1"), "source ref"),
        (
            IdentityPolicy(
                repository="actions/attest-demo", source_ref=None, signer_workflow="o/r/.github/workflows/x.yml"
            ),
            "signer workflow",
        ),
    ]:
        check = check_bundle(raw(bundle()), policy, wheel_digests(), github_root)
        assert check.status == UNVERIFIED and check.reasons[0].startswith(rule), (rule, check.reasons)


def test_a_foreign_certificate_is_refused_on_its_chain(github_root: Trust) -> None:
    other = json.loads((ATTESTATIONS / "reusable-workflow-attestation.sigstore.json").read_text())
    forged = bundle()
    forged["verificationMaterial"]["certificate"] = other["verificationMaterial"]["certificate"]
    check = check_bundle(raw(forged), POLICY, wheel_digests(), github_root)
    assert check.status == UNVERIFIED and check.reasons[0].startswith("certificate chain: ")
    assert "does not chain to a certificate authority" in check.reasons[0]


def test_a_tampered_timestamp_is_refused(github_root: Trust) -> None:
    forged = bundle()
    stamp = forged["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
    data = bytearray(base64.b64decode(stamp["signedTimestamp"]))
    data[-10] ^= 0x01  # inside the TSA's signature
    stamp["signedTimestamp"] = base64.b64encode(bytes(data)).decode()
    check = check_bundle(raw(forged), POLICY, wheel_digests(), github_root)
    assert check.status == UNVERIFIED and check.reasons[0].startswith("timestamp: ")
    missing = bundle()
    del missing["verificationMaterial"]["timestampVerificationData"]
    check = check_bundle(raw(missing), POLICY, wheel_digests(), github_root)
    assert check.reasons == ["timestamp: the bundle carries no signed timestamp and no transparency log entry"]


def test_a_tampered_statement_is_refused_on_its_signature(github_root: Trust) -> None:
    forged = bundle()
    statement = json.loads(base64.b64decode(forged["dsseEnvelope"]["payload"]))
    statement["subject"][0]["digest"]["sha256"] = wheel_digests(b"evil")["sha256"]
    forged["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    check = check_bundle(raw(forged), POLICY, wheel_digests(b"evil"), github_root)
    assert check.status == UNVERIFIED
    assert check.reasons == ["signature: the DSSE signature does not verify with the signing certificate's key"]


def test_other_bytes_are_refused_on_the_subject(github_root: Trust) -> None:
    check = check_bundle(raw(bundle()), POLICY, wheel_digests(b"x"), github_root)
    assert check.status == UNVERIFIED
    assert check.reasons == ["the signed subject digest does not match the asset's bytes"]


def test_verify_digest_gives_one_verdict_with_its_reason(github_root: Trust) -> None:
    sha = wheel_digests()["sha256"]
    verdict = verify_digest(f"sha256:{sha}", [raw(bundle())], POLICY, github_root)
    assert verdict.verified and verdict.reason == ""
    wrong = IdentityPolicy(repository="actions/other", source_ref=None)
    verdict = verify_digest(sha, [raw(bundle())], wrong, github_root)
    assert verdict.status == UNVERIFIED and verdict.reason.startswith("source repository is")
    verdict = verify_digest("0" * 64, [], POLICY, github_root)
    assert verdict.status == UNVERIFIED and verdict.reason == f"no attestation found for sha256:{'0' * 64}"
    tampered = copy.deepcopy(bundle())
    tampered["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(b"\x30\x00").decode()
    verdict = verify_digest(sha, [raw(tampered)], POLICY, github_root)
    assert verdict.status == UNVERIFIED and verdict.reason.startswith("timestamp: ")  # the TSA signed the real one


def test_a_public_good_bundle_fails_against_githubs_root_alone(github_root: Trust) -> None:
    artifact = (ATTESTATIONS / "reusable-workflow-artifact").read_bytes()
    policy = IdentityPolicy(repository="malancas/attest-demo", source_ref=None)
    digests = {"sha256": hashlib.sha256(artifact).hexdigest()}
    data = (ATTESTATIONS / "reusable-workflow-attestation.sigstore.json").read_bytes()
    check = check_bundle(data, policy, digests, github_root)
    assert check.status == UNVERIFIED and check.instance == "public-good"
    assert "transparency log" in check.reasons[0]


def test_a_custom_root_that_is_not_a_trusted_root_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "root.json"
    bad.write_text('{"signed": {}}')
    with pytest.raises(InputError, match="is not a Sigstore trusted root"):
        Trust(custom=bad)
    bad.write_text("{")
    with pytest.raises(InputError, match="cannot be read as JSON"):
        Trust(custom=bad)
