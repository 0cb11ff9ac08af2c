"""Where bundles come from: the attestations API (every page; ``bundle_url`` fetched without the
GitHub token and snappy-decoded) or a folder of ``<asset>.sigstore.json`` / ``.jsonl`` bundles.

Every bundle read is capped (``RELEASE_KIT_MAX_BUNDLE_MIB``, 10 MiB by default), compressed and
decompressed alike; a bundle that cannot be read is yielded as :class:`Unreadable`, which the
check turns into an ``unverifiable`` row with its reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from release_kit.errors import RemoteError
from release_kit.github.client import DownloadTooLarge, GitHubClient, GitHubError, download_limit, format_size

BUNDLE_LIMIT_VARIABLE = "RELEASE_KIT_MAX_BUNDLE_MIB"
BUNDLE_LIMIT_MIB = 10


@dataclass(frozen=True)
class Unreadable:
    """A bundle that was not read: too large, or not what it claims to be."""

    reason: str


Fetched = bytes | Unreadable


def bundle_limit() -> int:
    return download_limit(BUNDLE_LIMIT_VARIABLE, BUNDLE_LIMIT_MIB)


def _snappy(data: bytes, limit: int) -> Fetched:
    import cramjam

    try:
        size = int(cramjam.snappy.decompress_raw_len(data))
        if size > limit:
            return Unreadable(f"bundle_url: the bundle would decompress to more than {format_size(limit)}; not read")
        return bytes(cramjam.snappy.decompress_raw(data))
    except cramjam.DecompressionError:
        return Unreadable("bundle_url: the body is not snappy-compressed data, as GitHub serves bundles")


def api_bundles(
    gh: GitHubClient, base: str, sha256: str, *, algorithm: str = "sha256", predicate_type: str | None = None
) -> Iterator[Fetched]:
    """Every attestation bundle GitHub holds for the digest (``algorithm:value``; a release's is the
    tag's commit, ``sha1``), following every page; ``predicate_type`` filters on GitHub's side."""
    params = {"predicate_type": predicate_type} if predicate_type else None
    try:
        items = list(gh.paginate(f"{base}/attestations/{algorithm}:{sha256}", params, key="attestations"))
    except GitHubError as err:
        if err.status == 404:
            return
        raise
    limit = bundle_limit()
    for item in items:
        if not isinstance(item, dict):
            yield Unreadable("the attestations API listed an entry that is not an object")
        elif item.get("bundle"):
            yield json.dumps(item["bundle"]).encode()
        elif isinstance(item.get("bundle_url"), str):
            try:
                raw = gh.get_without_token(item["bundle_url"], limit=limit)  # pre-signed: no token
            except (DownloadTooLarge, RemoteError) as err:  # too large, refused (4xx), not http(s)
                yield Unreadable(f"bundle_url: {err.message}")
                continue
            yield _snappy(raw, limit)


def offline_bundles(folder: Path, asset_name: str) -> Iterator[Fetched]:
    limit = bundle_limit()
    for suffix in (".sigstore.json", ".sigstore.jsonl", ".jsonl"):
        path = folder / f"{asset_name}{suffix}"
        if not path.is_file():
            continue
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            yield Unreadable(f"{path.name} is larger than {format_size(limit)}: not read")
            continue
        text = data.decode("utf-8", errors="replace")
        if suffix == ".sigstore.json":
            yield text.encode()
        else:
            yield from (line.encode() for line in text.splitlines() if line.strip())
