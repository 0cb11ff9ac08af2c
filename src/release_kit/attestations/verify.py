"""Check one Sigstore bundle: the signature against its instance's trusted root (public-good:
sigstore-python, certificate chain and transparency log entry; GitHub's instance: signed
timestamps, certificate chain, DSSE signature, see :mod:`timestamped`), then the signer's identity,
the signed subject digest and the predicate type. A bundle that cannot be checked here is
``unverifiable``, never ``verified``.

:func:`verify_digest` is the entry point for one digest (an image at deploy time)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from release_kit.attestations.fetch import Fetched, Unreadable
from release_kit.attestations.identity import IdentityPolicy, identity_of
from release_kit.attestations.trust import Trust

SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
CYCLONEDX = "https://cyclonedx.org/bom"
VERIFIED, UNVERIFIED, UNVERIFIABLE = "verified", "unverified", "unverifiable"
PUBLIC_GOOD, GITHUB = "public-good", "github"


@dataclass
class BundleCheck:
    status: str
    predicate_type: str | None = None
    reasons: list[str] = field(default_factory=list)
    predicate: Any = None
    instance: str | None = None  # "public-good" or "github" (the bundle's kind: log entry or signed timestamps only)
    statement: dict[str, Any] | None = None
    certificate: Any = None


@cache
def default_trust() -> Trust:
    """The public-good root shipped with sigstore-python; GitHub's through TUF when first needed."""
    return Trust()


def _accept_all() -> Any:
    """Identity is checked by IdentityPolicy (every failed rule named), after the signature."""
    from sigstore.verify.policy import VerificationPolicy

    class Accept(VerificationPolicy):
        def verify(self, cert: Any) -> None:
            return None

    return Accept()


def statement_of(bundle_json: dict[str, Any]) -> dict[str, Any] | None:
    """The in-toto statement inside a bundle's DSSE envelope, unverified (for reporting only)."""
    try:
        payload = bundle_json["dsseEnvelope"]["payload"]
        return dict(json.loads(base64.b64decode(payload)))
    except (KeyError, ValueError, TypeError):
        return None


def subject_matches(statement: dict[str, Any], digests: dict[str, str]) -> bool:
    """A subject of the statement names the asset's bytes: sha256 or sha512 (matched by digest, never by name)."""
    for subject in statement.get("subject") or []:
        if not isinstance(subject, dict):
            continue
        for alg, value in (subject.get("digest") or {}).items():
            if digests.get(alg.lower()) == str(value).lower():
                return True
    return False


def _one_line(text: str) -> str:
    return " ".join(text.split())[:240]


def _public_good(raw: bytes, trust: Trust) -> tuple[Any, str, bytes] | BundleCheck:
    """sigstore-python's verification (signature, certificate chain, transparency log entry)."""
    from sigstore.errors import VerificationError
    from sigstore.models import Bundle, InvalidBundle

    try:
        bundle = Bundle.from_json(raw)
    except (InvalidBundle, ValueError) as exc:
        return BundleCheck(UNVERIFIABLE, reasons=[_one_line(str(exc))], instance=PUBLIC_GOOD)
    custom = trust.custom_root
    if custom is not None and not custom.has_tlogs:
        why = f"trusted root: {custom.label} lists no transparency log, so this bundle's log entry cannot be checked"
        return BundleCheck(UNVERIFIED, reasons=[why], instance=PUBLIC_GOOD)
    try:
        verifier = trust.public_good_verifier()
    except Exception as exc:  # sigstore-python refuses the custom root: the bundle cannot pass against it
        return BundleCheck(UNVERIFIED, reasons=[f"trusted root: {_one_line(str(exc))}"], instance=PUBLIC_GOOD)
    try:
        payload_type, payload = verifier.verify_dsse(bundle, _accept_all())
    except VerificationError as exc:
        text = _one_line(str(exc))
        unsupported = "only supported" in text or "not supported" in text or "unsupported" in text
        status = UNVERIFIABLE if unsupported and trust.custom is None else UNVERIFIED
        return BundleCheck(status, reasons=[f"sigstore-python: {text}"], instance=PUBLIC_GOOD)
    return bundle.signing_certificate, payload_type, payload


def _github(data: dict[str, Any], trust: Trust) -> tuple[Any, str, bytes] | BundleCheck:
    """GitHub's instance: signed timestamps from its TSA, no transparency log entry."""
    from release_kit.attestations.timestamped import Refused, verify_timestamped

    root, why = trust.github()
    if root is None:
        return BundleCheck(UNVERIFIABLE, reasons=[f"GitHub's Sigstore instance: {why}"], instance=GITHUB)
    try:
        return verify_timestamped(data, root)
    except Refused as exc:
        return BundleCheck(UNVERIFIED, reasons=[str(exc)], instance=GITHUB)


def check_bundle(
    raw: Fetched, policy: IdentityPolicy, digests: dict[str, str], trust: Trust | None = None
) -> BundleCheck:
    """One bundle against the trusted roots, the identity policy and the asset's digests."""
    if isinstance(raw, Unreadable):
        return BundleCheck(UNVERIFIABLE, reasons=[raw.reason])
    check = verify_signature(raw, trust)
    if check.status != VERIFIED:
        return check
    reasons = policy.failures(identity_of(check.certificate))
    if check.statement is None:
        return BundleCheck(
            UNVERIFIED, reasons=[*reasons, "the payload is not an in-toto statement"], instance=check.instance
        )
    if not subject_matches(check.statement, digests):
        reasons.append("the signed subject digest does not match the asset's bytes")
    return BundleCheck(
        VERIFIED if not reasons else UNVERIFIED,
        check.predicate_type,
        reasons,
        check.predicate,
        check.instance,
        check.statement,
        check.certificate,
    )


def verify_signature(raw: bytes, trust: Trust | None = None) -> BundleCheck:
    """The cryptographic part only: ``verified`` with the certificate and statement, or why not.

    A bundle with a transparency log entry is verified by sigstore-python (public-good instance,
    or the custom root); one with signed timestamps only, against GitHub's root (or the custom one)."""
    trust = trust or default_trust()
    try:
        data = json.loads(raw)
    except ValueError:
        return BundleCheck(UNVERIFIABLE, reasons=["the bundle is not JSON"])
    if not isinstance(data, dict):
        return BundleCheck(UNVERIFIABLE, reasons=["the bundle is not a JSON object"])
    material = data.get("verificationMaterial")
    logged = isinstance(material, dict) and bool(material.get("tlogEntries"))
    verified = _public_good(raw, trust) if logged else _github(data, trust)
    if isinstance(verified, BundleCheck):
        return verified
    certificate, payload_type, payload = verified
    instance = PUBLIC_GOOD if logged else GITHUB
    try:
        statement = json.loads(payload)
    except ValueError:
        statement = None
    if not isinstance(statement, dict):
        return BundleCheck(
            VERIFIED, instance=instance, certificate=certificate, reasons=[f"payload type {payload_type}"]
        )
    return BundleCheck(
        VERIFIED,
        statement.get("predicateType"),
        [],
        statement.get("predicate"),
        instance,
        statement,
        certificate,
    )


@dataclass(frozen=True)
class DigestVerdict:
    """Whether a digest (an image, a file) has a passing attestation of one predicate type."""

    status: str  # verified / unverified / unverifiable
    reason: str
    checks: list[BundleCheck]

    @property
    def verified(self) -> bool:
        return self.status == VERIFIED


def verify_digest(
    subject_sha256: str,
    bundles: Iterable[Fetched],
    policy: IdentityPolicy,
    trust: Trust | None = None,
    *,
    predicate_type: str = SLSA_PROVENANCE_V1,
) -> DigestVerdict:
    """The verdict for one sha256 digest: verified when a bundle of ``predicate_type`` passes every
    rule; unverifiable when the only bundles cannot be checked here; unverified otherwise, with
    the first reason of the closest bundle."""
    digest = subject_sha256.lower().removeprefix("sha256:")
    checks = [check_bundle(raw, policy, {"sha256": digest}, trust) for raw in bundles]
    if any(c.status == VERIFIED and c.predicate_type == predicate_type for c in checks):
        return DigestVerdict(VERIFIED, "", checks)
    if not checks:
        return DigestVerdict(UNVERIFIED, f"no attestation found for sha256:{digest}", checks)
    if all(c.status == UNVERIFIABLE for c in checks):
        return DigestVerdict(UNVERIFIABLE, "; ".join(dict.fromkeys(r for c in checks for r in c.reasons)), checks)
    relevant = [c for c in checks if c.status == UNVERIFIED] or checks
    ours = [c for c in relevant if c.predicate_type == predicate_type] or relevant
    first = next((c for c in ours if c.reasons), ours[0])
    return DigestVerdict(UNVERIFIED, "; ".join(first.reasons) or f"no valid {predicate_type} attestation", checks)
