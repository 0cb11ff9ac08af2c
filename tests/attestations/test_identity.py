"""The identity policy on certificates generated here, carrying GitHub's OIDC extension OIDs."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from release_kit.attestations.identity import (
    FULCIO,
    GITHUB_ISSUER,
    IdentityPolicy,
    identity_of,
)


def utf8(text: str) -> bytes:
    raw = text.encode()
    if len(raw) < 128:
        return b"\x0c" + bytes([len(raw)]) + raw
    size = len(raw).to_bytes((len(raw).bit_length() + 7) // 8, "big")
    return b"\x0c" + bytes([0x80 | len(size)]) + size + raw


def cert(**claims: str) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sigstore-intermediate")])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(minutes=10))
    )
    numbers = {"issuer": "8", "signer": "9", "runner": "11", "repo": "12", "ref": "14"}
    for claim, value in claims.items():
        oid = x509.ObjectIdentifier(FULCIO + numbers[claim])
        builder = builder.add_extension(x509.UnrecognizedExtension(oid, utf8(value)), critical=False)
    return builder.sign(key, hashes.SHA256())


GOOD = {
    "issuer": GITHUB_ISSUER,
    "signer": "https://github.com/octo-org/app/.github/workflows/release.yml@refs/tags/v1.4.0",
    "runner": "github-hosted",
    "repo": "https://github.com/octo-org/app",
    "ref": "refs/tags/v1.4.0",
}
POLICY = IdentityPolicy(repository="octo-org/app", source_ref="refs/tags/v1.4.0")


def test_the_release_workflow_of_the_repository_passes() -> None:
    assert POLICY.failures(identity_of(cert(**GOOD))) == []


@pytest.mark.parametrize(
    ("claim", "value", "rule"),
    [
        ("issuer", "https://token.actions.example.com", "issuer"),
        ("repo", "https://github.com/mallory/app", "source repository"),
        ("ref", "refs/heads/feature", "source ref"),
        ("signer", "https://github.com/mallory/app/.github/workflows/x.yml@refs/heads/main", "signer workflow"),
        ("runner", "self-hosted", "runner"),
    ],
)
def test_each_broken_rule_is_named(claim: str, value: str, rule: str) -> None:
    failures = POLICY.failures(identity_of(cert(**{**GOOD, claim: value})))
    assert len(failures) == 1 and failures[0].startswith(rule)


def test_options_relax_or_pin_rules() -> None:
    hosted_elsewhere = identity_of(cert(**{**GOOD, "runner": "self-hosted", "ref": "refs/heads/main"}))
    relaxed = IdentityPolicy(repository="octo-org/app", source_ref=None, allow_self_hosted=True)
    assert relaxed.failures(hosted_elsewhere) == []
    reusable = identity_of(cert(**{**GOOD, "signer": "https://github.com/org/shared/.github/workflows/attest.yml@v1"}))
    pinned = IdentityPolicy(
        repository="octo-org/app", signer_workflow="github.com/org/shared/.github/workflows/attest.yml"
    )
    assert pinned.failures(reusable) == []
    assert POLICY.failures(reusable)[0].startswith("signer workflow")


def test_long_claims_use_der_long_form_lengths() -> None:
    long_ref = "refs/tags/" + "v" * 200
    assert identity_of(cert(**{**GOOD, "ref": long_ref})).source_ref == long_ref


@pytest.mark.parametrize(
    ("signer", "passes"),
    [
        ("https://GitHub.com/ORG/Shared/.github/workflows/attest.yml@v1", True),  # host, owner, repo: any case
        ("https://github.com/org/shared/.github/workflows/Attest.yml@v1", False),  # the path is case-sensitive
        ("https://github.com/org/shared/.GitHub/workflows/attest.yml@v1", False),
        ("https://github.com/org/shared/.github/workflows/attest.yml.evil.yml@v1", False),
        ("https://github.com/org/shared-evil/.github/workflows/attest.yml@v1", False),
        ("https://github.com/org/shared/.github/workflows/attest.yml", False),  # no @ref
    ],
)
def test_the_pinned_signer_path_is_compared_case_sensitively(signer: str, passes: bool) -> None:
    pinned = IdentityPolicy(
        repository="octo-org/app", source_ref=None, signer_workflow="github.com/org/shared/.github/workflows/attest.yml"
    )
    failures = pinned.failures(identity_of(cert(**{**GOOD, "signer": signer})))
    assert failures == [] if passes else failures[0].startswith("signer workflow")


@pytest.mark.parametrize(
    ("signer", "passes"),
    [
        ("https://github.com/Octo-Org/APP/.github/workflows/release.yml@refs/tags/v1.4.0", True),
        ("https://github.com/octo-org/app-fork/.github/workflows/release.yml@refs/tags/v1.4.0", False),
        ("https://github.com/octo-org/app", False),
        ("https://github.com/octo-org/app/", False),
    ],
)
def test_any_workflow_of_the_repository_matches_the_repository_exactly(signer: str, passes: bool) -> None:
    failures = POLICY.failures(identity_of(cert(**{**GOOD, "signer": signer})))
    assert failures == [] if passes else failures[0].startswith("signer workflow")
