"""The push engine: every blob exists (HEAD, else mount, else upload), then manifests, children first."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from release_kit.errors import RemoteError, RemoteGaveUp
from release_kit.images.distribution import DistributionClient, UnsafeURL
from release_kit.images.layout import Blob, Manifest
from release_kit.images.models import BlobCounts


@dataclass
class MountSources:
    """Which repository of this run already holds each blob, for cross-repository mounts."""

    by_digest: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, digest: str) -> str | None:
        with self.lock:
            return self.by_digest.get(digest)

    def add(self, digest: str, repo: str) -> None:
        with self.lock:
            self.by_digest.setdefault(digest, repo)


UPLOAD_ATTEMPTS = 3


def _upload(client: DistributionClient, repo: str, blob: Blob) -> None:
    """Upload in a fresh session each time; after a failure, HEAD first: it may have landed."""
    for attempt in range(1, UPLOAD_ATTEMPTS + 1):
        try:
            client.upload(repo, blob)
            return
        except UnsafeURL:
            raise  # a location we refuse to send to: asking again gets the same answer
        except (httpx.TransportError, RemoteError) as exc:
            if client.has_blob(repo, blob.digest):
                return
            if attempt == UPLOAD_ATTEMPTS:
                raise RemoteGaveUp(
                    f"registry {client.endpoint} did not take blob {blob.digest} for {repo} after "
                    f"{UPLOAD_ATTEMPTS} attempts ({type(exc).__name__}: {exc})",
                    hint="re-run: blobs already pushed are skipped",
                ) from None


def _ensure_blob(client: DistributionClient, repo: str, blob: Blob, sources: MountSources) -> str:
    if client.has_blob(repo, blob.digest):
        outcome = "skipped"
    elif (source := sources.get(blob.digest)) and source != repo and client.mount(repo, blob.digest, source):
        outcome = "mounted"
    else:
        _upload(client, repo, blob)
        outcome = "uploaded"
    sources.add(blob.digest, repo)
    return outcome


def push_image(
    client: DistributionClient,
    repo: str,
    image: Manifest,
    tags: list[str],
    *,
    sources: MountSources | None = None,
    workers: int = 4,
) -> tuple[str, BlobCounts]:
    """Push ``image`` to ``repo`` under every tag; returns its digest and what each blob needed."""
    sources = sources or MountSources()
    counts = BlobCounts()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="release-kit-push") as pool:
        outcomes = list(pool.map(lambda b: _ensure_blob(client, repo, b, sources), image.all_blobs()))
    for outcome in outcomes:
        setattr(counts, outcome, getattr(counts, outcome) + 1)
    for child in image.manifests()[:-1]:  # each once, an index only after every manifest it names exists
        client.put_manifest(repo, child.digest, child)
    digest = image.digest
    for reference in tags or [image.digest]:
        digest = client.put_manifest(repo, reference, image)
    return digest, counts
