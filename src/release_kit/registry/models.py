"""The publish-images report."""

from __future__ import annotations

from pydantic import BaseModel, Field


class BlobCounts(BaseModel):
    uploaded: int = 0
    mounted: int = 0
    skipped: int = 0


class ImageResult(BaseModel):
    name: str = Field(description="The image's name (api, web).")
    repository: str = Field(description="<registry>/<image_prefix>/<name>")
    digest: str
    tags: list[str]
    references: list[str] = Field(description="<repository>:<tag> for each tag, then <repository>@<digest>.")
    blobs: BlobCounts
    platforms: int = Field(1, description="Manifests pushed under this digest (an index counts its children).")
    tags_locked: bool = Field(False, description="ACR --lock-tags: the tags were made read-only.")
    tag_mutability: str | None = Field(None, description="ECR: the repository's imageTagMutability.")


class PushReport(BaseModel):
    registry: str
    kind: str
    images: list[ImageResult]
