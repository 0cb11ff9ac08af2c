"""The publish-images report.

Plain dataclasses rather than pydantic models: publish-images is the command whose start-up is
on the clock (a re-push is a few HEAD requests), and importing pydantic costs more than the push.
The JSON shape is the one documented in the README.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass
class BlobCounts:
    uploaded: int = 0
    mounted: int = 0
    skipped: int = 0


@dataclass
class ImageResult:
    name: str  # the image's name (api, web)
    repository: str  # <registry>/<image_prefix>/<name>
    digest: str
    tags: list[str]
    references: list[str]  # <repository>:<tag> for each tag, then <repository>@<digest>
    blobs: BlobCounts
    platforms: int = 1  # manifests pushed under this digest (an index counts its children)
    tags_locked: bool = False  # ACR --lock-tags: the tags were made read-only
    tag_mutability: str | None = None  # ECR: the repository's imageTagMutability


@dataclass
class PushReport:
    registry: str
    kind: str
    images: list[ImageResult] = field(default_factory=list)

    def model_dump_json(self, *, indent: int | None = None) -> str:
        return json.dumps(asdict(self), indent=indent)
