"""Who signed: GitHub's OIDC claims as Fulcio writes them into the signing certificate, and the
identity policy ``gh attestation verify`` applies, with each failed rule named."""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography import x509

from release_kit.errors import InputError

FULCIO = "1.3.6.1.4.1.57264.1."
ISSUER_V1, ISSUER_V2 = FULCIO + "1", FULCIO + "8"
SIGNER_URI, RUNNER, SOURCE_REPO_URI, SOURCE_REF = (FULCIO + n for n in ("9", "11", "12", "14"))
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


def _der_utf8(value: bytes) -> str:
    """A DER UTF8String (tag 0x0c) as Fulcio's v2 extensions carry them."""
    if len(value) < 2 or value[0] != 0x0C:
        return value.decode("utf-8", errors="replace")
    length, offset = value[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, offset = int.from_bytes(value[2 : 2 + count], "big"), 2 + count
    return value[offset : offset + length].decode("utf-8")


@dataclass(frozen=True)
class Identity:
    issuer: str | None
    signer_uri: str | None  # the workflow that signed, @ its ref (a reusable workflow's own path)
    runner: str | None
    source_repository_uri: str | None
    source_ref: str | None


def identity_of(cert: x509.Certificate) -> Identity:
    values: dict[str, str] = {}
    for ext in cert.extensions:
        oid = ext.oid.dotted_string
        if oid.startswith(FULCIO) and isinstance(ext.value, x509.UnrecognizedExtension):
            raw = ext.value.value
            values[oid] = raw.decode("utf-8", errors="replace") if oid == ISSUER_V1 else _der_utf8(raw)
    return Identity(
        issuer=values.get(ISSUER_V2) or values.get(ISSUER_V1),
        signer_uri=values.get(SIGNER_URI),
        runner=values.get(RUNNER),
        source_repository_uri=values.get(SOURCE_REPO_URI),
        source_ref=values.get(SOURCE_REF),
    )


def check_source_ref(value: str | None) -> None:
    """``--source-ref`` is a full ref (``refs/...``) or ``any``."""
    if value is None or value == "any":
        return
    if not value.startswith("refs/") or len(value) <= len("refs/") or any(c.isspace() for c in value):
        bare = value.strip().strip("/") or "v1.4.0"
        raise InputError(
            f"--source-ref {value!r}: expected a full ref or 'any'",
            hint=f"for a tag write refs/tags/{bare}, for a branch refs/heads/{bare}",
        )


def check_signer_workflow(value: str | None) -> None:
    """``--signer-workflow`` is ``[HOST/]OWNER/REPO/PATH`` with PATH the workflow file."""
    if value is None:
        return
    expected = "expected [HOST/]OWNER/REPO/PATH, e.g. octo-org/app/.github/workflows/release.yml"
    if "://" in value:
        raise InputError(f"--signer-workflow {value!r}: {expected}", hint="leave out the https:// scheme")
    if "@" in value:
        raise InputError(
            f"--signer-workflow {value!r}: {expected}", hint="leave out @REF; the ref is checked by --source-ref"
        )
    parts = [p for p in value.strip("/").split("/") if p]
    if parts and "." in parts[0] and len(parts) >= 4:  # a host was given
        parts = parts[1:]
    if len(parts) < 3 or not parts[-1].endswith((".yml", ".yaml")):
        raise InputError(
            f"--signer-workflow {value!r}: {expected}",
            hint="name the workflow file, not only the repository",
        )


@dataclass(frozen=True)
class IdentityPolicy:
    repository: str  # OWNER/REPO whose release this is
    server: str = "https://github.com"
    issuer: str = GITHUB_ISSUER
    source_ref: str | None = None  # None: any ref
    signer_workflow: str | None = None  # [HOST/]OWNER/REPO/PATH; None: any workflow of this repository
    allow_self_hosted: bool = False

    @classmethod
    def from_options(
        cls,
        *,
        repository: str,
        tag: str,
        signer_workflow: str | None,
        source_ref: str | None,
        oidc_issuer: str | None,
        allow_self_hosted: bool,
    ) -> IdentityPolicy:
        """The policy the CLI options describe: source ref ``refs/tags/<tag>`` unless given (``any`` skips it).

        Both options are checked here, before anything is fetched: a malformed one would
        otherwise fail every attestation with a reason that hides the typo."""
        check_source_ref(source_ref)
        check_signer_workflow(signer_workflow)
        return cls(
            repository=repository,
            server=os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/"),
            issuer=oidc_issuer or GITHUB_ISSUER,
            source_ref=None if source_ref == "any" else (source_ref or f"refs/tags/{tag}"),
            signer_workflow=signer_workflow,
            allow_self_hosted=allow_self_hosted,
        )

    def signer_prefix(self) -> str:
        if self.signer_workflow is None:
            return f"{self.server}/{self.repository}/"
        parts = self.signer_workflow.strip("/").split("/")
        host = self.server.removeprefix("https://").removeprefix("http://")
        if "." in parts[0] and len(parts) >= 4:  # a host was given
            host, parts = parts[0], parts[1:]
        return f"https://{host}/{'/'.join(parts)}@"

    def failures(self, identity: Identity) -> list[str]:
        """Every rule the identity breaks, by name; empty when it passes."""
        out = []
        if identity.issuer != self.issuer:
            out.append(f"issuer is {identity.issuer!r}, expected {self.issuer!r}")
        expected_repo = f"{self.server}/{self.repository}"
        if (identity.source_repository_uri or "").lower() != expected_repo.lower():
            out.append(f"source repository is {identity.source_repository_uri!r}, expected {expected_repo!r}")
        if self.source_ref is not None and identity.source_ref != self.source_ref:
            out.append(f"source ref is {identity.source_ref!r}, expected {self.source_ref!r}")
        prefix = self.signer_prefix()
        if not _signer_matches(identity.signer_uri or "", prefix):
            out.append(f"signer workflow is {identity.signer_uri!r}, expected one starting {prefix!r}")
        if identity.runner != "github-hosted" and not self.allow_self_hosted:
            out.append(f"runner is {identity.runner!r}, expected 'github-hosted' (or allow self-hosted runners)")
        return out


def _split_signer(uri: str) -> tuple[str, str]:
    """``scheme://host/owner/repo`` and the rest (``/path@ref``) of a workflow URI."""
    scheme, sep, rest = uri.partition("://")
    parts = rest.split("/", 3)
    if not sep or len(parts) < 3:
        return uri, ""
    return f"{scheme}://{'/'.join(parts[:3])}", ("/" + parts[3]) if len(parts) == 4 else ""


def _signer_matches(uri: str, prefix: str) -> bool:
    """Host, owner and repository ignore case, as GitHub does; the workflow path and ref do not."""
    uri_repo, uri_rest = _split_signer(uri)
    want_repo, want_rest = _split_signer(prefix)
    return uri_repo.lower() == want_repo.lower() and uri_rest.startswith(want_rest) and len(uri_rest) > 1
