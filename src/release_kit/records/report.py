"""The record and the last-good answer as text, as a markdown step summary, and as step outputs."""

from __future__ import annotations

import json

from release_kit.records.deployments import GoodRecord, LastGoodSearch, RecordResult
from release_kit.reporting import md_escape, table


def _images(images: dict[str, str]) -> list[list[str]]:
    return [[role, ref] for role, ref in images.items()]


def _when(record: GoodRecord) -> str:
    when = record.succeeded_at or record.created_at
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def record_text(result: RecordResult) -> str:
    head = f"recorded deployment {result.deployment_id} of {result.ref} in {result.environment}: {result.state}" + (
        f" (rollback of {result.rollback_of})" if result.rollback_of else ""
    )
    lines = [head, "", table(["ROLE", "IMAGE"], _images(result.images))]
    if result.checks:
        lines += ["", "checks: " + ", ".join(f"{k}={v}" for k, v in result.checks.items())]
    if result.snapshot:
        lines.append(f"snapshot: {result.snapshot}")
    if result.log_url:
        lines.append(f"log: {result.log_url}")
    return "\n".join(lines)


def record_markdown(result: RecordResult) -> str:
    icon = "✅" if result.state == "success" else "❌"
    lines = [
        "### release-kit record",
        "",
        f"**{icon} deployment {result.deployment_id} of `{md_escape(result.ref)}` in "
        f"`{md_escape(result.environment)}`: {result.state}**"
        + (f" (rollback of {result.rollback_of})" if result.rollback_of else ""),
        "",
        "| Role | Image |",
        "| --- | --- |",
        *(f"| {md_escape(role)} | `{md_escape(ref)}` |" for role, ref in result.images.items()),
    ]
    if result.checks:
        lines += ["", "Checks: " + ", ".join(f"{md_escape(k)} {v}" for k, v in result.checks.items())]
    if result.snapshot:
        lines += ["", f"Snapshot: `{md_escape(result.snapshot)}`"]
    return "\n".join(lines) + "\n"


def last_good_text(search: LastGoodSearch) -> str:
    found = search.found
    read = search.summary()
    if found is None:
        return f"no {read}"
    lines = [
        f"last good in {search.environment}: {found.ref} (deployment {found.deployment_id}, {_when(found)})",
        "",
        table(["ROLE", "IMAGE"], _images(found.images)),
        "",
        f"snapshot: {found.snapshot or 'none'}",
    ]
    if found.rollback_of:
        lines.append(f"itself a rollback of deployment {found.rollback_of}")
    if search.newest:
        lines.append(f"newest record: {search.newest.ref} (deployment {search.newest.deployment_id})")
    lines.append(read[0].upper() + read[1:])
    return "\n".join(lines)


def last_good_markdown(search: LastGoodSearch) -> str:
    found = search.found
    lines = ["### release-kit last-good", ""]
    if found is None:
        return "\n".join([*lines, f"**❌ no {md_escape(search.summary())}**"]) + "\n"
    lines += [
        f"**{md_escape(found.ref)}**, deployment {found.deployment_id}, {_when(found)}"
        + (f" ([log]({found.log_url}))" if found.log_url else ""),
        "",
        "| Role | Image |",
        "| --- | --- |",
        *(f"| {md_escape(role)} | `{md_escape(ref)}` |" for role, ref in found.images.items()),
        "",
        f"Snapshot: `{md_escape(found.snapshot)}`" if found.snapshot else "Snapshot: none",
        "",
        "| Skipped deployment | Ref | Why |",
        "| --- | --- | --- |",
        *(f"| {s.deployment_id} | {md_escape(s.ref)} | {md_escape(s.reason)} |" for s in search.skipped[:50]),
    ]
    return "\n".join(lines) + "\n"


def last_good_outputs(search: LastGoodSearch) -> dict[str, str]:
    found = search.found
    return {
        "found": "true" if found else "false",
        "ref": found.ref if found else "",
        "deployment-id": str(found.deployment_id) if found else "",
        "images": json.dumps(found.images if found else {}),
        "snapshot": (found.snapshot or "") if found else "",
    }
