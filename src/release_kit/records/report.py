"""The record and the last-good answer as text, as a markdown step summary, and as step outputs."""

from __future__ import annotations

import json

from release_kit.records.deployments import GoodRecord, LastGoodSearch, RecordResult
from release_kit.reporting import md_escape, table

SKIPPED_SHOWN = 20  # in the text answer; the JSON report lists every one


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
        return "\n".join([f"no {read}", *_skipped_text(search)])
    lines = [
        f"last good in {search.environment}: {found.ref} (deployment {found.deployment_id}, {_when(found)})",
        "",
        table(["ROLE", "IMAGE"], _images(found.images)),
        "",
        f"snapshot: {found.snapshot or 'none'}",
    ]
    if found.rollback_of:
        lines.append(f"itself a rollback of deployment {found.rollback_of}")
    lines.append(f"written by: {_who(found.creator)}, run: {found.log_url or 'none recorded'}")
    if search.newest:
        lines.append(f"newest record: {search.newest.ref} (deployment {search.newest.deployment_id})")
    lines.append(read[0].upper() + read[1:])
    return "\n".join(lines + _skipped_text(search))


def _who(creator: str | None) -> str:
    return creator or "unknown (GitHub named no creator)"


def _skipped_text(search: LastGoodSearch) -> list[str]:
    if not search.skipped:
        return []
    shown = [
        f"  {s.deployment_id} {s.ref} (by {s.creator or 'unknown'}): {s.reason}" for s in search.skipped[:SKIPPED_SHOWN]
    ]
    more = len(search.skipped) - len(shown)
    return ["", "skipped:", *shown, *([f"  ... and {more} more (see the JSON report)"] if more > 0 else [])]


def last_good_markdown(search: LastGoodSearch) -> str:
    found = search.found
    lines = ["### release-kit last-good", ""]
    if found is None:
        tail = ["", *_skipped_markdown(search)] if search.skipped else []
        return "\n".join([*lines, f"**❌ no {md_escape(search.summary())}**", *tail]) + "\n"
    lines += [
        f"**{md_escape(found.ref)}**, deployment {found.deployment_id}, {_when(found)}"
        + (f" ([log]({found.log_url}))" if found.log_url else ""),
        "",
        f"Written by `{md_escape(_who(found.creator))}`, run: "
        + (f"[{md_escape(found.log_url)}]({found.log_url})" if found.log_url else "none recorded"),
        "",
        "| Role | Image |",
        "| --- | --- |",
        *(f"| {md_escape(role)} | `{md_escape(ref)}` |" for role, ref in found.images.items()),
        "",
        f"Snapshot: `{md_escape(found.snapshot)}`" if found.snapshot else "Snapshot: none",
        "",
        *_skipped_markdown(search),
    ]
    return "\n".join(lines) + "\n"


def _skipped_markdown(search: LastGoodSearch) -> list[str]:
    return [
        "| Skipped deployment | Ref | By | Why |",
        "| --- | --- | --- | --- |",
        *(
            f"| {s.deployment_id} | {md_escape(s.ref)} | {md_escape(s.creator or 'unknown')} | {md_escape(s.reason)} |"
            for s in search.skipped[:50]
        ),
    ]


def last_good_outputs(search: LastGoodSearch) -> dict[str, str]:
    found = search.found
    return {
        "found": "true" if found else "false",
        "ref": found.ref if found else "",
        "deployment-id": str(found.deployment_id) if found else "",
        "images": json.dumps(found.images if found else {}),
        "snapshot": (found.snapshot or "") if found else "",
    }
