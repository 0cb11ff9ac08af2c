"""A Sigstore instance made in the tests, shaped like GitHub's: a Fulcio-like CA that issues
short-lived signing certificates with GitHub's OIDC claims, an RFC 3161 timestamp authority, no
transparency log; its ``trusted_root.json``; and bundles (v0.3, DSSE, signed timestamp) signed
through it. Keys are made at test time; nothing leaves the machine.

The timestamp responses are DER written here (CMS SignedData over a TSTInfo, as RFC 3161 and
RFC 5652 define them) and checked by the same ``rfc3161_client`` verifier release-kit uses."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from release_kit.attestations.timestamped import pae

SHA256 = "2.16.840.1.101.3.4.2.1"
ECDSA_SHA256 = "1.2.840.10045.4.3.2"
SIGNED_DATA = "1.2.840.113549.1.7.2"
TST_INFO = "1.2.840.113549.1.9.16.1.4"
CONTENT_TYPE = "1.2.840.113549.1.9.3"
MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
SIGNING_CERT_V2 = "1.2.840.113549.1.9.16.2.47"
FULCIO = "1.3.6.1.4.1.57264.1."
RELEASE_SIGNER = "https://dotcom.releases.github.com"


# --- DER, just what a timestamp response needs -----------------------------------------------


def tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + content


def seq(*items: bytes) -> bytes:
    return tlv(0x30, b"".join(items))


def set_of(*items: bytes) -> bytes:
    return tlv(0x31, b"".join(sorted(items)))  # DER sorts a SET OF by encoding


def integer(value: int) -> bytes:
    return tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    out = bytearray([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        while part := part >> 7:
            chunk.append(0x80 | (part & 0x7F))
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


def octets(value: bytes) -> bytes:
    return tlv(0x04, value)


def explicit(number: int, content: bytes) -> bytes:
    return tlv(0xA0 + number, content)


def utf8(value: str) -> bytes:
    return tlv(0x0C, value.encode())


# --- certificates ----------------------------------------------------------------------------


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "release-kit tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _ca(common: str, start: datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(_name(common))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # keyCertSign, cRLSign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _issued(
    issuer_key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate,
    key: ec.EllipticCurvePrivateKey,
    common: str,
    start: datetime,
    end: datetime,
    usage: x509.ObjectIdentifier,
    extensions: list[tuple[x509.ExtensionType, bool]],
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common) if common else x509.Name([]))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )  # digitalSignature
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=usage == ExtendedKeyUsageOID.TIME_STAMPING)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class Signer:
    """Who signs: the SAN URI and GitHub's OIDC claims as Fulcio writes them."""

    san: str
    repository: str | None = None  # OWNER/REPO
    ref: str | None = None
    workflow: str | None = None  # PATH of the workflow file
    runner: str = "github-hosted"
    issuer: str = "https://token.actions.githubusercontent.com"

    @classmethod
    def workflow_run(
        cls, repository: str, workflow: str = ".github/workflows/release.yml", ref: str = "refs/tags/v1.0.0"
    ) -> Signer:
        return cls(f"https://github.com/{repository}/{workflow}@{ref}", repository, ref, workflow)

    def extensions(self) -> list[tuple[x509.ExtensionType, bool]]:
        out: list[tuple[x509.ExtensionType, bool]] = [
            (x509.SubjectAlternativeName([x509.UniformResourceIdentifier(self.san)]), True)
        ]
        claims = {"8": self.issuer}
        if self.repository:
            claims |= {"9": self.san, "11": self.runner, "12": f"https://github.com/{self.repository}"}
        if self.ref:
            claims["14"] = self.ref
        for number, value in claims.items():
            out.append((x509.UnrecognizedExtension(x509.ObjectIdentifier(FULCIO + number), utf8(value)), False))
        return out


@dataclass
class LocalInstance:
    """The CA, the TSA and their trusted root; :meth:`bundle` signs a statement through them."""

    start: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0) - timedelta(days=1))

    def __post_init__(self) -> None:
        self.ca_key, self.ca = _ca("Fulcio test root", self.start)
        self.tsa_root_key, self.tsa_root = _ca("TSA test root", self.start)
        self.tsa_key = ec.generate_private_key(ec.SECP256R1())
        self.tsa = _issued(
            self.tsa_root_key,
            self.tsa_root,
            self.tsa_key,
            "TSA test timestamping",
            self.start,
            self.start + timedelta(days=3650),
            ExtendedKeyUsageOID.TIME_STAMPING,
            [],
        )

    def trusted_root(self) -> dict[str, Any]:
        since = self.start.strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [],
            "certificateAuthorities": [
                {
                    "subject": {"organization": "release-kit tests", "commonName": "Fulcio test root"},
                    "uri": "fulcio.test",
                    "certChain": {"certificates": [{"rawBytes": b64(der(self.ca))}]},
                    "validFor": {"start": since},
                }
            ],
            "ctlogs": [],
            "timestampAuthorities": [
                {
                    "subject": {"organization": "release-kit tests", "commonName": "TSA test root"},
                    "uri": "timestamp.test",
                    "certChain": {
                        "certificates": [{"rawBytes": b64(der(self.tsa))}, {"rawBytes": b64(der(self.tsa_root))}]
                    },
                    "validFor": {"start": since},
                }
            ],
        }

    def write_root(self, path: Path) -> Path:
        path.write_text(json.dumps(self.trusted_root()))
        return path

    def timestamp(self, message: bytes, when: datetime) -> bytes:
        """An RFC 3161 TimeStampResp granting a timestamp over ``message`` at ``when``."""
        tst_info = seq(
            integer(1),
            oid("1.3.6.1.4.1.57264.2"),
            seq(seq(oid(SHA256)), octets(hashlib.sha256(message).digest())),
            integer(x509.random_serial_number()),
            tlv(0x18, when.strftime("%Y%m%d%H%M%SZ").encode()),
        )
        attributes = [
            seq(oid(CONTENT_TYPE), set_of(oid(TST_INFO))),
            seq(oid(MESSAGE_DIGEST), set_of(octets(hashlib.sha256(tst_info).digest()))),
            seq(oid(SIGNING_CERT_V2), set_of(seq(seq(seq(octets(hashlib.sha256(der(self.tsa)).digest())))))),
        ]
        signed = set_of(*attributes)
        signature = self.tsa_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        signer_info = seq(
            integer(1),
            seq(self.tsa.issuer.public_bytes(), integer(self.tsa.serial_number)),
            seq(oid(SHA256)),
            tlv(0xA0, signed[2:] if signed[1] < 0x80 else signed[2 + (signed[1] & 0x7F) :]),
            seq(oid(ECDSA_SHA256)),
            octets(signature),
        )
        signed_data = seq(
            integer(3),
            set_of(seq(oid(SHA256))),
            seq(oid(TST_INFO), explicit(0, octets(tst_info))),
            tlv(0xA0, der(self.tsa)),
            set_of(signer_info),
        )
        return seq(seq(integer(0)), seq(oid(SIGNED_DATA), explicit(0, signed_data)))

    def bundle(
        self,
        statement: dict[str, Any],
        signer: Signer,
        *,
        when: datetime | None = None,
        timestamped: bool = True,
    ) -> dict[str, Any]:
        """A v0.3 bundle: DSSE over the statement, a fresh certificate for ``signer``, a signed timestamp."""
        when = when or datetime.now(UTC).replace(microsecond=0)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _issued(
            self.ca_key,
            self.ca,
            key,
            "",
            when - timedelta(minutes=1),
            when + timedelta(minutes=10),
            ExtendedKeyUsageOID.CODE_SIGNING,
            signer.extensions(),
        )
        payload = json.dumps(statement).encode()
        payload_type = "application/vnd.in-toto+json"
        signature = key.sign(pae(payload_type, payload), ec.ECDSA(hashes.SHA256()))
        material: dict[str, Any] = {"certificate": {"rawBytes": b64(der(cert))}}
        if timestamped:
            stamp = self.timestamp(signature, when)
            material["timestampVerificationData"] = {"rfc3161Timestamps": [{"signedTimestamp": b64(stamp)}]}
        return {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": material,
            "dsseEnvelope": {
                "payload": b64(payload),
                "payloadType": payload_type,
                "signatures": [{"sig": b64(signature)}],
            },
        }


def statement(subjects: list[dict[str, Any]], predicate_type: str, predicate: dict[str, Any]) -> dict[str, Any]:
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subjects,
        "predicateType": predicate_type,
        "predicate": predicate,
    }
