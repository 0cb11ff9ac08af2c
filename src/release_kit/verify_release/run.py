"""verify-release end to end: the release, its assets, their bytes and their attestations."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

from release_kit import gha
from release_kit.attestations import fetch
from release_kit.attestations.identity import IdentityPolicy
from release_kit.attestations.judge import SBOM_SUFFIX, judge_asset, sbom_for
from release_kit.attestations.models import Status
from release_kit.attestations.trust import Trust
from release_kit.attestations.verify import CYCLONEDX, SLSA_PROVENANCE_V1, VERIFIED, check_bundle
from release_kit.errors import ConfigError, ExitCode, InputError
from release_kit.github.client import DownloadTooLarge, GitHubClient, GitHubError, parse_repo
from release_kit.reporting import emit, write_report
from release_kit.verify_release import immutable, sources
from release_kit.verify_release import report as render
from release_kit.verify_release.models import AssetResult, ReleaseAttestation, VerifyReport

RUNBOOK_ASSETS = [
    "starter_contracts-*.whl",
    "starter_console-*.whl",
    "starter_providers-*.whl",
    "starter_contracts-sbom.json",
    "starter_console-sbom.json",
    "starter_providers-sbom.json",
    "frontend-sbom.json",
]
ALWAYS_ACCEPTED = {"SHA256SUMS"}  # release-kit's release adds it; when present it is verified like the rest


def expected_patterns(expect: list[str], config_path: Path | None) -> list[str]:
    """The asset patterns to verify; a list that ends up empty is refused (it would check nothing)."""
    if expect:
        patterns = [p for value in expect for p in value.split()]
        if not patterns:
            raise InputError("--expect is empty: expected at least one asset pattern, e.g. 'app-*.whl'")
        return patterns
    from release_kit import config  # only without --expect: the config models are costly to build

    loaded = config.load(config_path)
    if loaded is not None and loaded.release is not None and loaded.release.expect is not None:
        patterns = [p.strip() for p in loaded.release.expect if p.strip()]
        if not patterns:
            where = config_path or config.DEFAULT_PATH
            raise ConfigError(f"{where}: release.expect is empty: list at least one asset pattern, or remove it")
        return patterns
    return list(RUNBOOK_ASSETS)


def run(
    *,
    repo: str | None,
    tag: str | None,
    expect: list[str],
    config_path: Path | None,
    signer_workflow: str | None,
    source_ref: str | None,
    oidc_issuer: str | None,
    allow_self_hosted: bool,
    allow_extra: bool,
    offline_bundles: Path | None,
    report_path: Path | None,
    fmt: str,
    custom_trusted_root: Path | None = None,
    require_immutable: bool = False,
    client: GitHubClient | None = None,
    trust: Trust | None = None,
) -> ExitCode:
    name = parse_repo(repo)
    tag = (tag or os.environ.get("GITHUB_REF", "")).removeprefix("refs/tags/")
    if not tag:
        raise InputError("--tag is required: expected the release's tag, e.g. v1.4.0")
    if offline_bundles is not None and not offline_bundles.is_dir():
        raise InputError(f"--offline-bundles {offline_bundles}: no such folder")
    if custom_trusted_root is not None and not custom_trusted_root.is_file():
        raise InputError(
            f"--custom-trusted-root {custom_trusted_root}: no such file", hint="a Sigstore trusted_root.json"
        )
    patterns = expected_patterns(expect, config_path)
    trust = trust or Trust(custom=custom_trusted_root)
    policy = IdentityPolicy.from_options(
        repository=name.full_name,
        tag=tag,
        signer_workflow=signer_workflow,
        source_ref=source_ref,
        oidc_issuer=oidc_issuer,
        allow_self_hosted=allow_self_hosted,
    )
    base = f"/repos/{name.owner}/{name.name}"
    gh = client or GitHubClient()
    try:
        report, digests = _verify(gh, base, name.full_name, tag, patterns, policy, allow_extra, offline_bundles, trust)
        assets = release_assets(report, digests)
        report = _release_checks(gh, base, report, assets, policy.server, trust, offline_bundles)
        report = _judge_release(report, allow_extra, require_immutable, trust)
    finally:
        if client is None:
            gh.close()
    return publish(report, report_path, fmt)


def _verify(
    gh: GitHubClient,
    base: str,
    repository: str,
    tag: str,
    patterns: list[str],
    policy: IdentityPolicy,
    allow_extra: bool,
    offline: Path | None,
    trust: Trust,
) -> tuple[VerifyReport, dict[str, str | None]]:
    """The report, and GitHub's digest of every asset on the release (by name)."""
    try:
        release = gh.get_json(f"{base}/releases/tags/{tag}")
    except GitHubError as err:
        if err.status != 404:
            raise
        drafts = [r for r in gh.paginate(f"{base}/releases") if r.get("tag_name") == tag and r.get("draft")]
        why = "only a draft exists: a draft is not a published release" if drafts else "no release for this tag"
        missing = [AssetResult(name=p, status=Status.MISSING, verified=False, reasons=[why]) for p in patterns]
        return VerifyReport(repository=repository, tag=tag, release_url=None, passed=False, assets=missing), {}
    remote = list(gh.paginate(f"{base}/releases/{release['id']}/assets"))
    by_name = {a["name"]: a for a in remote}
    results: list[AssetResult] = []
    chosen: list[str] = []
    for pattern in patterns:
        hits = sorted(n for n in by_name if fnmatch.fnmatchcase(n, pattern))
        if not hits:
            results.append(
                AssetResult(name=pattern, status=Status.MISSING, verified=False, reasons=["not on the release"])
            )
        chosen += [h for h in hits if h not in chosen]
    chosen += [n for n in sorted(by_name) if n in ALWAYS_ACCEPTED and n not in chosen]
    for extra in sorted(set(by_name) - set(chosen)):
        reason = "not expected (allowed by --allow-extra)" if allow_extra else "not expected"
        results.append(
            AssetResult(
                name=extra,
                state=by_name[extra].get("state"),
                status=Status.UNEXPECTED,
                verified=False,
                reasons=[reason],
            )
        )
    sbom_cap = sources.sbom_limit()
    for asset_name in chosen:
        asset = by_name[asset_name]
        reasons: list[str] = []
        if asset.get("state") != "uploaded":
            reasons.append(f"state is {asset.get('state')!r}, not 'uploaded'")
        try:
            cap = sbom_cap if asset_name.endswith(SBOM_SUFFIX) else None
            digests = sources.download_digests(gh, base, int(asset["id"]), name=asset_name, limit=cap)
        except DownloadTooLarge as err:
            results.append(
                AssetResult(name=asset_name, state=asset.get("state"), status=Status.UNVERIFIED, verified=False,
                            reasons=[*reasons, err.message])
            )  # fmt: skip
            continue
        local = f"sha256:{digests['sha256']}"
        if asset.get("digest") and asset["digest"] != local:
            reasons.append(f"GitHub's digest {asset['digest']} differs from the downloaded bytes' {local}")
        bundles = (
            fetch.offline_bundles(offline, asset_name)
            if offline is not None
            else fetch.api_bundles(gh, base, digests["sha256"])
        )
        checks = [check_bundle(raw, policy, digests, trust) for raw in bundles]
        required = [SLSA_PROVENANCE_V1]
        sbom_json = None
        if asset_name.endswith(".whl") and sbom_for(asset_name) in by_name:
            required.append(CYCLONEDX)
            sbom = sbom_for(asset_name)
            try:
                sbom_json = sources.download_json(gh, base, int(by_name[sbom]["id"]), name=sbom, limit=sbom_cap)
            except DownloadTooLarge as err:
                reasons.append(f"its SBOM cannot be compared: {err.message}")
        status, attestations, reasons = judge_asset(asset_name, required, checks, sbom_json, reasons)
        results.append(
            AssetResult(
                name=asset_name,
                digest=local,
                state=asset.get("state"),
                status=status,
                verified=status is Status.VERIFIED,
                attestations=attestations,
                reasons=reasons,
            )
        )
    passed = all(r.verified or (r.status is Status.UNEXPECTED and allow_extra) for r in results)
    github_digests = {n: a.get("digest") if isinstance(a.get("digest"), str) else None for n, a in by_name.items()}
    report = VerifyReport(
        repository=repository,
        tag=tag,
        release_url=release.get("html_url"),
        passed=passed,
        assets=results,
        immutable=bool(release.get("immutable")),
    )
    return report, github_digests


def release_assets(report: VerifyReport, github_digests: dict[str, str | None]) -> dict[str, str | None]:
    """Every asset on the release with its sha256: of the downloaded bytes, or GitHub's for the
    assets not downloaded (unexpected ones); None when neither is known (not compared)."""
    out: dict[str, str | None] = {}
    for asset in report.assets:
        if asset.status is Status.MISSING:
            continue
        digest = asset.digest or github_digests.get(asset.name)
        out[asset.name] = digest.removeprefix("sha256:") if digest and digest.startswith("sha256:") else None
    return out


def _release_checks(
    gh: GitHubClient,
    base: str,
    report: VerifyReport,
    assets: dict[str, str | None],
    server: str,
    trust: Trust,
    offline: Path | None,
) -> VerifyReport:
    """GitHub's release attestation, when there is a release (none is fetched with --offline-bundles)."""
    if report.immutable is None:
        return report
    if offline is not None:
        note = ReleaseAttestation(
            status="not-checked", reasons=["--offline-bundles: the release attestation is not fetched"]
        )
        return report.model_copy(update={"release_attestation": note})
    commit = immutable.tag_commit(gh, base, report.tag)
    if commit is None:
        note = ReleaseAttestation(
            status=immutable.MISSING, reasons=[f"the tag {report.tag} cannot be resolved to a commit"]
        )
        return report.model_copy(update={"release_attestation": note})
    verdict = immutable.check_release(
        immutable.release_bundles(gh, base, commit),
        repository=report.repository,
        tag=report.tag,
        commit=commit,
        assets=assets,
        server=server,
        trust=trust,
    )
    return report.model_copy(update={"release_attestation": verdict})


def _judge_release(report: VerifyReport, allow_extra: bool, require_immutable: bool, trust: Trust) -> VerifyReport:
    """The release-wide verdict: a release attestation that fails is a failure; with
    --require-immutable, so is a release that is not immutable or whose attestation is not verified."""
    reasons = []
    attestation = report.release_attestation
    if attestation is not None and attestation.status == immutable.UNVERIFIED:
        reasons.append("GitHub's release attestation does not match the release: " + "; ".join(attestation.reasons))
    if require_immutable and report.immutable is not None:
        if not report.immutable:
            reasons.append("the release is not immutable (--require-immutable)")
        elif attestation is None or attestation.status not in (VERIFIED, immutable.UNVERIFIED):  # said above
            why = "; ".join(attestation.reasons) if attestation else "not checked"
            reasons.append(f"the release attestation is not verified (--require-immutable): {why}")
    passed = report.passed and not reasons
    return report.model_copy(update={"passed": passed, "reasons": reasons, "trust": list(trust.notes)})


def publish(report: VerifyReport, report_path: Path | None, fmt: str) -> ExitCode:
    if report_path is not None:
        write_report(report, report_path)
    emit(report, render.text(report), fmt)
    gha.add_summary(render.markdown(report))
    for title, message in render.failures(report) if gha.in_actions() else []:
        gha.error(message, title=title)
    gha.set_outputs({"passed": "true" if report.passed else "false"})
    return ExitCode.OK if report.passed else ExitCode.NOT_OK
