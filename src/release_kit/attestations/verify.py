"""Check one Sigstore bundle: the signature and transparency log offline against the public-good
trust root shipped with sigstore-python, the signer's identity, the signed subject digest and the
predicate type. A bundle sigstore-python cannot check is ``unverifiable``, never ``verified``."""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from release_kit.attestations.fetch import Fetched, Unreadable
from release_kit.attestations.identity import IdentityPolicy, identity_of
from release_kit.errors import MissingExtra

SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
CYCLONEDX = "https://cyclonedx.org/bom"
VERIFIED, UNVERIFIED, UNVERIFIABLE = "verified", "unverified", "unverifiable"


@dataclass
class BundleCheck:
    status: str
    predicate_type: str | None = None
    reasons: list[str] = field(default_factory=list)
    predicate: Any = None


@cache
def _verifier() -> Any:
    try:
        from sigstore.verify import Verifier
    except ImportError:
        raise MissingExtra("verify", "verifying attestations") from None
    logging.getLogger("sigstore").setLevel(logging.ERROR)
    return Verifier.production(offline=True)  # the trust root shipped in the package; no network


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
        for alg, value in (subject.get("digest") or {}).items():
            if digests.get(alg.lower()) == str(value).lower():
                return True
    return False


def check_bundle(raw: Fetched, policy: IdentityPolicy, digests: dict[str, str]) -> BundleCheck:
    if isinstance(raw, Unreadable):
        return BundleCheck(UNVERIFIABLE, reasons=[raw.reason])
    from sigstore.errors import VerificationError
    from sigstore.models import Bundle, InvalidBundle

    try:
        bundle = Bundle.from_json(raw)
    except (InvalidBundle, ValueError) as exc:
        reason = " ".join(str(exc).split())[:200]
        if "tlogEntries" in reason:
            reason = "no transparency log entry (a private Sigstore instance); sigstore-python cannot check it"
        return BundleCheck(UNVERIFIABLE, reasons=[reason])
    try:
        payload_type, payload = _verifier().verify_dsse(bundle, _accept_all())
    except VerificationError as exc:
        text = " ".join(str(exc).split())
        unsupported = "only supported" in text or "not supported" in text or "unsupported" in text
        return BundleCheck(UNVERIFIABLE if unsupported else UNVERIFIED, reasons=[f"sigstore-python: {text[:200]}"])
    reasons = policy.failures(identity_of(bundle.signing_certificate))
    try:
        statement = json.loads(payload)
    except ValueError:
        return BundleCheck(UNVERIFIED, reasons=[*reasons, f"payload ({payload_type}) is not an in-toto statement"])
    if not subject_matches(statement, digests):
        reasons.append("the signed subject digest does not match the asset's bytes")
    return BundleCheck(
        VERIFIED if not reasons else UNVERIFIED, statement.get("predicateType"), reasons, statement.get("predicate")
    )
