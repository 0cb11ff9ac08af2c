"""An asset's verdict from the checks of its bundles: shared by verify-release and release publish."""

from __future__ import annotations

from typing import Any

from release_kit.attestations.models import AttestationResult, Status
from release_kit.attestations.verify import CYCLONEDX, UNVERIFIABLE, VERIFIED, BundleCheck

SBOM_SUFFIX = "-sbom.json"


def sbom_for(wheel_name: str) -> str:
    """The SBOM asset of a wheel: ``starter_contracts-1.2.3-py3-none-any.whl`` -> ``starter_contracts-sbom.json``."""
    return wheel_name.split("-", 1)[0] + SBOM_SUFFIX


def judge_asset(
    name: str, required: list[str], checks: list[BundleCheck], sbom_json: Any | None, problems: list[str]
) -> tuple[Status, list[AttestationResult], list[str]]:
    """Verified when every required predicate type has a bundle passing every rule. A failure is
    hard (bad state, digest mismatch, invalid attestations) or soft (only bundles that cannot be
    checked here): soft failures alone make the asset unverifiable, never verified."""
    results = [
        AttestationResult(predicate_type=c.predicate_type, status=c.status, reasons=c.reasons, instance=c.instance)
        for c in checks
    ]
    reasons = list(problems)
    hard = bool(problems)
    for kind in required:
        good = [c for c in checks if c.status == VERIFIED and c.predicate_type == kind]
        if kind == CYCLONEDX and sbom_json is not None:
            same = [c for c in good if c.predicate == sbom_json]
            if good and not same:
                reasons.append(f"the signed SBOM differs from {sbom_for(name)}")
                hard = True
            good = same
        if good:
            continue
        if checks and all(c.status == UNVERIFIABLE for c in checks):
            reasons.append(f"no {kind} attestation could be checked here")
        else:
            hard = True
            reasons.append(f"no valid {kind} attestation" + ("" if checks else " (none found)"))
    if not reasons:
        return Status.VERIFIED, results, reasons
    return (Status.UNVERIFIED if hard else Status.UNVERIFIABLE), results, reasons
