"""GitHub's release attestation of an immutable release: signed by GitHub's own Sigstore instance
(signed timestamps, no transparency log) when the release is published, an in-toto statement of
predicate ``https://in-toto.io/attestation/release/v0.1`` whose subjects are the tag
(``pkg:github/OWNER/REPO@TAG``, the commit's sha1) and every asset (name and sha256).

It is found as ``gh release verify`` finds it: the attestations of the tag's commit, predicate
type ``release``, the one whose predicate names this tag."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from release_kit.attestations import fetch
from release_kit.attestations.fetch import Fetched
from release_kit.attestations.trust import Trust
from release_kit.attestations.verify import UNVERIFIABLE, VERIFIED, BundleCheck, statement_of, verify_signature
from release_kit.github.client import GitHubClient, GitHubError
from release_kit.verify_release.models import ReleaseAttestation

RELEASE_PREDICATE = "https://in-toto.io/attestation/release/v0.1"
MISSING = "missing"
UNVERIFIED = "unverified"
DOTCOM_SIGNER = "https://dotcom.releases.github.com"
TENANT_SIGNER = re.compile(r"https://[a-z0-9-]+\.releases\.github\.com")


def tag_commit(gh: GitHubClient, base: str, tag: str) -> str | None:
    """The object the tag ref points at (as ``gh release verify`` resolves it), or None."""
    try:
        ref = gh.get_json(f"{base}/git/ref/tags/{tag}")
    except GitHubError as err:
        if err.status in (404, 409):
            return None
        raise
    sha = (ref.get("object") or {}).get("sha") if isinstance(ref, dict) else None
    return sha if isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha) else None


def release_bundles(gh: GitHubClient, base: str, commit: str) -> Iterable[Fetched]:
    algorithm = "sha1" if len(commit) == 40 else "sha256"
    return fetch.api_bundles(gh, base, commit, algorithm=algorithm, predicate_type="release")


def _signer(cert: Any) -> str | None:
    from cryptography import x509

    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    uris = names.get_values_for_type(x509.UniformResourceIdentifier)
    return str(uris[0]) if uris else None


def _signer_ok(uri: str | None, server: str) -> bool:
    if uri is None:
        return False
    if server.rstrip("/") == "https://github.com":
        return uri == DOTCOM_SIGNER
    return TENANT_SIGNER.fullmatch(uri) is not None


MAX_REASONS = 20


def _cut(value: object) -> str:
    """A value from the attestation, quoted and bounded for the report."""
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def judge_statement(
    check: BundleCheck, *, repository: str, tag: str, commit: str, assets: dict[str, str | None], server: str
) -> list[str]:
    """Every way a cryptographically verified release attestation disagrees with the release."""
    reasons = []
    statement = check.statement or {}
    found = statement.get("predicate")
    predicate: dict[str, Any] = found if isinstance(found, dict) else {}
    signer = _signer(check.certificate)
    if not _signer_ok(signer, server):
        reasons.append(f"signed by {_cut(signer)}, not by GitHub's release signer {DOTCOM_SIGNER!r}")
    if str(predicate.get("repository", "")).lower() != repository.lower():
        reasons.append(f"names repository {_cut(predicate.get('repository'))}, expected {repository!r}")
    if predicate.get("tag") != tag:
        reasons.append(f"names tag {_cut(predicate.get('tag'))}, expected {tag!r}")
    subjects = [s for s in statement.get("subject") or [] if isinstance(s, dict)]
    purl = f"pkg:github/{repository}@{tag}".lower()
    tag_subjects = [s for s in subjects if str(s.get("uri", "")).lower() == purl]
    if not any(
        str((s.get("digest") or {}).get("sha1" if len(commit) == 40 else "sha256", "")) == commit for s in tag_subjects
    ):
        reasons.append(f"does not name the tag {tag} at commit {commit[:12]} ({purl})")
    attested: dict[str, str] = {}
    for subject in subjects:
        name = subject.get("name")
        if isinstance(name, str) and name:
            attested[name] = str((subject.get("digest") or {}).get("sha256", "")).lower()
    for name, digest in sorted(assets.items()):
        if name not in attested:
            reasons.append(f"does not name the asset {name} (added after publishing?)")
        elif digest is not None and attested[name] != digest:
            reasons.append(
                f"names {_cut(name)} with sha256:{attested[name][:12]}..., the asset is sha256:{digest[:12]}..."
            )
    for name in sorted(set(attested) - set(assets)):
        reasons.append(f"names the asset {_cut(name)}, which is not on the release")
    if len(reasons) > MAX_REASONS:
        reasons = [*reasons[:MAX_REASONS], f"and {len(reasons) - MAX_REASONS} more"]
    return reasons


def _names_other_tag(raw: bytes, tag: str) -> bool:
    """Whether the (not yet verified) statement names another tag: such bundles are not this release's."""
    try:
        data = json.loads(raw)
    except ValueError:
        return False
    statement = statement_of(data) if isinstance(data, dict) else None
    predicate = statement.get("predicate") if statement else None
    return isinstance(predicate, dict) and isinstance(predicate.get("tag"), str) and predicate["tag"] != tag


def check_release(
    bundles: Iterable[Fetched],
    *,
    repository: str,
    tag: str,
    commit: str,
    assets: dict[str, str | None],
    server: str,
    trust: Trust,
) -> ReleaseAttestation:
    """The release attestation's verdict: verified when one bundle for this tag passes every check."""
    found: list[tuple[BundleCheck, list[str]]] = []
    soft: list[str] = []
    for raw in bundles:
        if isinstance(raw, fetch.Unreadable):
            soft.append(raw.reason)
            continue
        if _names_other_tag(raw, tag):
            continue  # another tag's attestation of the same commit (filtered first, as gh does)
        check = verify_signature(raw, trust)
        if check.status != VERIFIED:
            if check.status == UNVERIFIABLE:
                soft.extend(check.reasons)
            else:
                found.append((check, check.reasons))
            continue
        if check.predicate_type != RELEASE_PREDICATE:
            continue
        predicate = check.predicate if isinstance(check.predicate, dict) else {}
        if predicate.get("tag") not in (tag, None):
            continue  # another tag's attestation of the same commit
        reasons = judge_statement(check, repository=repository, tag=tag, commit=commit, assets=assets, server=server)
        if not reasons:
            return ReleaseAttestation(status=VERIFIED, commit=commit, instance=check.instance)
        found.append((check, reasons))
    if found:
        check, reasons = found[0]
        return ReleaseAttestation(status=UNVERIFIED, commit=commit, instance=check.instance, reasons=reasons)
    if soft:
        return ReleaseAttestation(status=UNVERIFIABLE, commit=commit, reasons=list(dict.fromkeys(soft)))
    return ReleaseAttestation(
        status=MISSING,
        commit=commit,
        reasons=[f"GitHub holds no release attestation for {tag} (the release is not immutable, or predates it)"],
    )
