"""The verify-release verdict for people: each asset's reasons with the identity rules that failed
(``source ref is 'refs/heads/main', expected 'refs/tags/v1.4.0'``), as text, summary and annotations."""

from __future__ import annotations

from release_kit.attestations.models import Status
from release_kit.attestations.verify import CYCLONEDX, SLSA_PROVENANCE_V1, VERIFIED
from release_kit.reporting import md_code, md_escape, table
from release_kit.verify_release.models import AssetResult, VerifyReport

KIND_NAMES = {SLSA_PROVENANCE_V1: "provenance", CYCLONEDX: "SBOM"}
OTHER_SUBJECT = "the signed subject digest does not match the asset's bytes"


def explain(asset: AssetResult) -> list[str]:
    """The asset's reasons, then, for each attestation kind with no passing attestation, every
    distinct rule its attestations broke (those signed for other bytes only when no other is left).
    A verified asset's other attestations are not listed."""
    lines = list(asset.reasons)
    if asset.verified:
        return lines
    passed = {a.predicate_type for a in asset.attestations if a.status == VERIFIED}
    failed = [a for a in asset.attestations if a.status != VERIFIED and a.predicate_type not in passed]
    about = [a for a in failed if OTHER_SUBJECT not in a.reasons]  # those signed for these bytes say most
    for attestation in about or failed:
        kind = attestation.predicate_type
        label = f"{KIND_NAMES.get(kind, kind)} attestation" if kind else "attestation"
        for reason in attestation.reasons:
            line = f"{label}: {reason}"
            if line not in lines:
                lines.append(line)
    return lines


def verdict(report: VerifyReport) -> str:
    return "verified" if report.passed else "NOT verified"


def release_lines(report: VerifyReport) -> list[str]:
    """Immutability, GitHub's release attestation, the trusted roots used, release-wide failures."""
    lines = []
    if report.immutable is not None:
        lines.append(f"immutable release: {'yes' if report.immutable else 'no'}")
    attestation = report.release_attestation
    if attestation is not None:
        why = f" ({'; '.join(attestation.reasons)})" if attestation.reasons else ""
        lines.append(f"release attestation: {attestation.status}{why}")
    lines += [f"trusted root: {note}" for note in report.trust]
    lines += [f"FAILED: {reason}" for reason in report.reasons]
    return lines


def text(report: VerifyReport) -> str:
    rows = [[a.name, a.status.value, "; ".join(explain(a)) or "-"] for a in report.assets]
    head = "".join(f"{line}\n" for line in release_lines(report))
    return f"{report.repository} {report.tag}: {verdict(report)}\n{head}\n" + table(
        ["ASSET", "STATUS", "REASONS"], rows
    )


def markdown(report: VerifyReport) -> str:
    lines = [
        f"### release-kit verify-release: {md_escape(report.tag)} {verdict(report)}",
        "",
        *(f"- {md_escape(line)}" for line in release_lines(report)),
        "",
        "| Asset | Status | Reasons |",
        "| --- | --- | --- |",
    ]
    for a in report.assets:
        reasons = "<br>".join(md_escape(r) for r in explain(a)) or "—"
        lines.append(f"| {md_code(a.name)} | {a.status.value} | {reasons} |")
    return "\n".join(lines) + "\n"


def failures(report: VerifyReport) -> list[tuple[str, str]]:
    """(title, message) for every asset that fails the release."""
    out = [("release", reason) for reason in report.reasons]
    for asset in report.assets:
        if not asset.verified and not (asset.status is Status.UNEXPECTED and report.passed):
            out.append((f"{asset.name}: {asset.status.value}", "; ".join(explain(asset)) or asset.status.value))
    return out
