"""The release's assets, downloaded and hashed as they stream."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from release_kit.github.client import GitHubClient

CHUNK = 1024 * 1024


def download_digests(gh: GitHubClient, base: str, asset_id: int) -> dict[str, str]:
    """sha256 and sha512 of an asset's bytes, streamed (never held whole)."""
    sha256, sha512 = hashlib.sha256(), hashlib.sha512()
    # the API redirects to storage; httpx drops the token when the redirect changes host
    with gh.stream(f"{base}/releases/assets/{asset_id}", headers={"Accept": "application/octet-stream"}) as response:
        for piece in response.iter_bytes(CHUNK):
            sha256.update(piece)
            sha512.update(piece)
    return {"sha256": sha256.hexdigest(), "sha512": sha512.hexdigest()}


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
