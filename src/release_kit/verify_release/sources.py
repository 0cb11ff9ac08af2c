"""The release's assets, downloaded and hashed as they stream; SBOMs read within their cap."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from release_kit.github.client import DownloadTooLarge, GitHubClient, download_limit, read_capped

CHUNK = 1024 * 1024
SBOM_LIMIT_VARIABLE = "RELEASE_KIT_MAX_SBOM_MIB"
SBOM_LIMIT_MIB = 50


def sbom_limit() -> int:
    return download_limit(SBOM_LIMIT_VARIABLE, SBOM_LIMIT_MIB)


def download_digests(
    gh: GitHubClient, base: str, asset_id: int, *, name: str, limit: int | None = None
) -> dict[str, str]:
    """sha256 and sha512 of an asset's bytes, streamed (never held whole).

    With ``limit``, more bytes than that raise :class:`DownloadTooLarge` (nothing more is read).
    """
    sha256, sha512 = hashlib.sha256(), hashlib.sha512()
    size = 0
    # the API redirects to storage; the token is only ever sent to GitHub's own origin
    with gh.stream(f"{base}/releases/assets/{asset_id}", headers={"Accept": "application/octet-stream"}) as response:
        for piece in response.iter_bytes(CHUNK):
            size += len(piece)
            if limit is not None and size > limit:
                raise DownloadTooLarge(name, limit)
            sha256.update(piece)
            sha512.update(piece)
    return {"sha256": sha256.hexdigest(), "sha512": sha512.hexdigest()}


def download_json(gh: GitHubClient, base: str, asset_id: int, *, name: str, limit: int) -> Any:
    """An asset parsed as JSON (None when it is not JSON); over ``limit`` bytes raises :class:`DownloadTooLarge`."""
    with gh.stream(f"{base}/releases/assets/{asset_id}", headers={"Accept": "application/octet-stream"}) as answer:
        return parse_json(read_capped(answer, limit, what=name))


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None
