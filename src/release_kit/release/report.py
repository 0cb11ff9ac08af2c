"""release build / release plan at the CLI edge: inputs, then the report, summary and outputs."""

from __future__ import annotations

import json
from pathlib import Path

from release_kit import gha
from release_kit.errors import ExitCode
from release_kit.release.models import PackageBuild, ReleasePlan, Role
from release_kit.release.transaction import ReleaseReport
from release_kit.reporting import emit, md_code, md_escape, md_link, table, write_report


def _how(build: PackageBuild) -> str:
    """How one package's version was decided, e.g. ``hatch-vcs (SETUPTOOLS_SCM_PRETEND_VERSION=1.4.0)``."""
    pretend = f" ({', '.join(f'{k}={v}' for k, v in build.pretend.items())})" if build.pretend else ""
    siblings = f"; siblings from this run: {', '.join(build.siblings)}" if build.siblings else ""
    return f"{build.versioning}{pretend}{siblings}"


def text(result: ReleasePlan) -> str:
    kind = "pre-release" if result.prerelease else "release"
    rows = [[a.name, a.role.value, str(a.size), a.sha256] for a in result.assets]
    built = "".join(f"built {b.name} {b.version} from {b.package}: {_how(b)}\n" for b in result.builds)
    return (
        f"{result.tag} ({kind} {result.version}): {len(result.assets)} assets\n"
        + (f"\n{built}" if built else "")
        + "\n"
        + table(["ASSET", "ROLE", "BYTES", "SHA256"], rows)
    )


def markdown(result: ReleasePlan) -> str:
    lines = [f"### release-kit: {result.tag}", ""]
    if result.builds:
        lines += ["| Package | Version | Built at the tag by |", "| --- | --- | --- |"]
        lines += [f"| {md_code(b.name)} | {b.version} | {md_escape(_how(b))} |" for b in result.builds]
        lines.append("")
    lines += ["| Asset | Role | Bytes | sha256 |", "| --- | --- | --- | --- |"]
    lines += [f"| {md_code(a.name)} | {a.role.value} | {a.size} | `{a.sha256}` |" for a in result.assets]
    return "\n".join(lines) + "\n"


def publish(result: ReleasePlan, report_path: Path | None, fmt: str) -> ExitCode:
    if report_path is not None:
        write_report(result, report_path)
    emit(result, text(result), fmt)
    gha.add_summary(markdown(result))
    sboms = {a.subject: a for a in result.assets if a.role is Role.SBOM and a.subject}
    pairs = [{"wheel": str(a.path), "sbom": str(sboms[a.name].path)} for a in result.assets if a.name in sboms]
    gha.set_outputs(
        {
            "assets": json.dumps([a.model_dump(mode="json") for a in result.assets]),
            "wheel-sboms": json.dumps(pairs),  # what actions/attest-sbom signs, one wheel at a time
            "wheel-count": str(len(pairs)),
        }
    )
    return ExitCode.OK


def publish_release(result: ReleaseReport, report_path: Path | None, fmt: str) -> ExitCode:
    if report_path is not None:
        write_report(result, report_path)
    rows = [[a.name, a.action, str(a.size), a.sha256] for a in result.assets]
    state = "draft" if result.draft else "published"
    emit(
        result,
        f"{result.tag}: {state} release {result.release_url}\n\n" + table(["ASSET", "DONE", "BYTES", "SHA256"], rows),
        fmt,
    )
    lines = [f"### release-kit: {result.tag} ({state})", "", md_link(result.release_url or "", result.release_url), "",
             "| Asset | Done | sha256 | Attestations |", "| --- | --- | --- | --- |"]  # fmt: skip
    attest = f"https://github.com/{result.repository}/attestations"
    for a in result.assets:
        verdict = result.attestations.get(a.name)
        cell = f"[{verdict}]({attest})" if verdict else "—"
        lines.append(f"| {md_code(a.name)} | {a.action} | `{a.sha256}` | {cell} |")
    gha.add_summary("\n".join(lines) + "\n")
    gha.set_outputs(
        {
            "release-id": str(result.release_id),
            "release-url": result.release_url or "",
            "assets": json.dumps([a.model_dump(mode="json") for a in result.assets]),
        }
    )
    return ExitCode.OK
