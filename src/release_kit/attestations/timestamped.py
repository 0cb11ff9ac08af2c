"""Verify a bundle that carries RFC 3161 signed timestamps and no transparency log entry, as
GitHub's Sigstore instance signs private repositories' attestations (what sigstore-python's
``Bundle`` refuses to load). The steps are those of the Sigstore client specification:

1. every signed timestamp (at most 32, none repeated) over the DSSE signature checks against a
   timestamp authority of the trusted root valid at its time; at least one must;
2. the signing certificate chains to a Fulcio CA of the trusted root valid at each signed time,
   and the certificate itself was valid then, for digital signature and code signing;
3. the DSSE signature (over the PAE encoding of the payload) verifies with the certificate's key.

Each failure raises :class:`Refused` naming the step (``timestamp``, ``certificate chain``,
``signature``) with the detail.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from release_kit.attestations.trust import RootFile

MAX_TIMESTAMPS = 32


class Refused(Exception):
    def __init__(self, step: str, detail: str) -> None:
        super().__init__(f"{step}: {detail}")
        self.step = step
        self.detail = detail


def _b64(value: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise Refused("bundle", f"{what} is not base64") from None


def leaf_certificate(bundle: dict[str, Any]) -> Any:
    """The signing certificate of a bundle (v0.3 ``certificate`` or v0.1/v0.2 chain's first)."""
    from cryptography import x509

    material = bundle.get("verificationMaterial") or {}
    raw = (material.get("certificate") or {}).get("rawBytes")
    if raw is None:
        chain = (material.get("x509CertificateChain") or {}).get("certificates") or []
        raw = chain[0].get("rawBytes") if chain and isinstance(chain[0], dict) else None
    if raw is None:
        raise Refused("bundle", "no signing certificate (keys without a certificate are not accepted)")
    try:
        return x509.load_der_x509_certificate(_b64(raw, "the signing certificate"))
    except ValueError as exc:
        raise Refused("bundle", f"the signing certificate cannot be read ({exc})") from None


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what the signature covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def _signed_times(bundle: dict[str, Any], signature: bytes, root: RootFile) -> list[datetime]:
    from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response

    data = (bundle.get("verificationMaterial") or {}).get("timestampVerificationData") or {}
    raw = [t.get("signedTimestamp") for t in data.get("rfc3161Timestamps") or [] if isinstance(t, dict)]
    if not raw:
        raise Refused("timestamp", "the bundle carries no signed timestamp and no transparency log entry")
    if len(raw) > MAX_TIMESTAMPS:
        raise Refused("timestamp", f"{len(raw)} signed timestamps, more than {MAX_TIMESTAMPS}")
    if len(set(raw)) != len(raw):
        raise Refused("timestamp", "a signed timestamp is repeated")
    if not root.tsas:
        raise Refused("timestamp", f"{root.label} lists no timestamp authority")
    times = []
    for value in raw:
        try:
            response = decode_timestamp_response(_b64(value, "a signed timestamp"))
        except ValueError as exc:
            raise Refused("timestamp", f"a signed timestamp cannot be read ({exc})") from None
        when = response.tst_info.gen_time
        for authority in root.tsas:
            certs = authority.certificates
            if len(certs) < 2 or not authority.valid_at(when):
                continue
            builder = VerifierBuilder().tsa_certificate(certs[0]).add_root_certificate(certs[-1])
            for middle in certs[1:-1]:
                builder = builder.add_intermediate_certificate(middle)
            try:
                builder.build().verify_message(response, signature)
            except VerificationError:
                continue
            times.append(when)
            break
    if not times:
        raise Refused(
            "timestamp",
            f"no signed timestamp verifies against a timestamp authority of {root.label} (or covers this signature)",
        )
    return times


def _check_chain(cert: Any, when: datetime, root: RootFile) -> None:
    from cryptography.x509 import ExtendedKeyUsage, KeyUsage, UnsupportedGeneralNameType
    from cryptography.x509.oid import ExtendedKeyUsageOID
    from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store
    from cryptography.x509.verification import VerificationError as ChainError

    anchors = [c for authority in root.fulcio if authority.valid_at(when) for c in authority.certificates]
    stamp = f"{when:%Y-%m-%d %H:%M:%S} UTC"
    if not anchors:
        raise Refused("certificate chain", f"no certificate authority of {root.label} was valid at {stamp}")
    ca_policy = ExtensionPolicy.webpki_defaults_ca().may_be_present(ExtendedKeyUsage, Criticality.NON_CRITICAL, None)
    ee_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(ExtendedKeyUsage, Criticality.NON_CRITICAL, None)
    verifier = (
        PolicyBuilder()
        .store(Store(anchors))
        .time(when)
        .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
        .build_client_verifier()
    )
    try:
        verifier.verify(cert, [])
    except (ChainError, UnsupportedGeneralNameType) as exc:
        raise Refused(
            "certificate chain",
            f"the signing certificate does not chain to a certificate authority of {root.label} at {stamp} ({exc})",
        ) from None
    if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
        raise Refused("certificate chain", f"the signing certificate was not valid at the signed time {stamp}")
    try:
        usage = cert.extensions.get_extension_for_class(KeyUsage).value
        extended = cert.extensions.get_extension_for_class(ExtendedKeyUsage).value
    except Exception:
        raise Refused("certificate chain", "the signing certificate lacks key usage extensions") from None
    if not usage.digital_signature or ExtendedKeyUsageOID.CODE_SIGNING not in extended:
        raise Refused("certificate chain", "the signing certificate is not for digital signature and code signing")


def _check_signature(cert: Any, signature: bytes, message: bytes) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise Refused("signature", f"unsupported signing key type {type(key).__name__}")
    digest = hashes.SHA384() if key.curve.key_size >= 384 else hashes.SHA256()
    try:
        key.verify(signature, message, ec.ECDSA(digest))
    except InvalidSignature:
        raise Refused("signature", "the DSSE signature does not verify with the signing certificate's key") from None


def verify_timestamped(bundle: dict[str, Any], root: RootFile) -> tuple[Any, str, bytes]:
    """The signing certificate, the payload type and the payload of a verified bundle; raises :class:`Refused`."""
    envelope = bundle.get("dsseEnvelope")
    if not isinstance(envelope, dict):
        raise Refused("bundle", "no DSSE envelope (only attestations are accepted)")
    signatures = envelope.get("signatures") or []
    if len(signatures) != 1 or not isinstance(signatures[0], dict):
        raise Refused("bundle", f"the DSSE envelope holds {len(signatures)} signatures, expected exactly one")
    signature = _b64(signatures[0].get("sig"), "the DSSE signature")
    payload = _b64(envelope.get("payload"), "the DSSE payload")
    payload_type = str(envelope.get("payloadType") or "")
    cert = leaf_certificate(bundle)
    for when in _signed_times(bundle, signature, root):
        _check_chain(cert, when, root)
    _check_signature(cert, signature, pae(payload_type, payload))
    return cert, payload_type, payload
