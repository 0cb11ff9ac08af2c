"""Where bundles come from: the attestations API (every page; ``bundle_url`` fetched without the
GitHub token and snappy-decoded) or a folder of ``<asset>.sigstore.json`` / ``.jsonl`` bundles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from release_kit.github.client import GitHubClient, GitHubError


def _snappy(data: bytes) -> bytes:
    import cramjam

    return bytes(cramjam.snappy.decompress_raw(data))


def api_bundles(gh: GitHubClient, base: str, sha256: str) -> Iterator[bytes]:
    """Every attestation bundle GitHub holds for the digest, following every page."""
    try:
        items = list(gh.paginate(f"{base}/attestations/sha256:{sha256}", key="attestations"))
    except GitHubError as err:
        if err.status == 404:
            return
        raise
    for item in items:
        if item.get("bundle"):
            yield json.dumps(item["bundle"]).encode()
        elif item.get("bundle_url"):
            yield _snappy(gh.get_without_token(item["bundle_url"]))  # pre-signed: no token


def offline_bundles(folder: Path, asset_name: str) -> Iterator[bytes]:
    for suffix in (".sigstore.json", ".sigstore.jsonl", ".jsonl"):
        path = folder / f"{asset_name}{suffix}"
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if suffix == ".sigstore.json":
            yield text.encode()
        else:
            yield from (line.encode() for line in text.splitlines() if line.strip())
