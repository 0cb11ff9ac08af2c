"""Read an image to push: an OCI image layout directory, a tar of one, or a ``docker save`` archive.

Blobs are never read whole: each one is opened as a stream from disk (a file, or a member of an
uncompressed tar read in place), so memory stays flat whatever the layer size.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from release_kit.errors import InputError

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
CHUNK = 1024 * 1024


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Blob:
    digest: str
    size: int
    opener: Callable[[], BinaryIO] = field(repr=False, compare=False)

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        handle = self.opener()
        try:
            yield handle
        finally:
            handle.close()


@dataclass(frozen=True)
class Manifest:
    """An image manifest, or an index whose ``children`` are pushed before it."""

    digest: str
    media_type: str
    data: bytes = field(repr=False)
    blobs: tuple[Blob, ...] = ()
    children: tuple[Manifest, ...] = ()

    @property
    def size(self) -> int:
        return len(self.data)

    def all_blobs(self) -> list[Blob]:
        seen: dict[str, Blob] = {}
        for child in self.children:
            for blob in child.all_blobs():
                seen.setdefault(blob.digest, blob)
        for blob in self.blobs:
            seen.setdefault(blob.digest, blob)
        return list(seen.values())


class _Section(io.RawIOBase):
    """A read-only window onto [offset, offset + size) of a file: one tar member, unbuffered."""

    def __init__(self, path: Path, offset: int, size: int) -> None:
        self._file = path.open("rb")
        self._file.seek(offset)
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer)[: min(len(buffer), self._left)]
        n = self._file.readinto(view)
        self._left -= n or 0
        return n or 0

    def close(self) -> None:
        self._file.close()
        super().close()


class _Store:
    """Blob bytes by path inside the image: a directory, or an uncompressed tar read in place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.members: dict[str, tarfile.TarInfo] | None = None
        if path.is_file():
            try:
                with tarfile.open(path, "r:") as tar:
                    self.members = {m.name.removeprefix("./"): m for m in tar.getmembers() if m.isfile()}
            except tarfile.TarError:
                raise InputError(f"--image {path}: not an OCI layout folder or an uncompressed tar") from None

    def exists(self, name: str) -> bool:
        return name in self.members if self.members is not None else (self.path / name).is_file()

    def size(self, name: str) -> int:
        return self.members[name].size if self.members is not None else (self.path / name).stat().st_size

    def opener(self, name: str) -> Callable[[], BinaryIO]:
        if self.members is not None:
            member = self.members[name]
            return lambda: io.BufferedReader(_Section(self.path, member.offset_data, member.size), CHUNK)
        target = self.path / name
        return lambda: target.open("rb")

    def read(self, name: str) -> bytes:
        with self.opener(name)() as handle:
            return handle.read()


def _json(data: bytes, what: str, source: Path) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise InputError(f"--image {source}: {what} is not valid JSON") from None


def _oci_blob(store: _Store, descriptor: dict[str, Any], source: Path) -> Blob:
    digest = str(descriptor.get("digest", ""))
    algo, _, hexpart = digest.partition(":")
    name = f"blobs/{algo}/{hexpart}"
    if algo != "sha256" or not hexpart or not store.exists(name):
        raise InputError(f"--image {source}: blob {digest or '(no digest)'} is missing from the layout")
    size = store.size(name)
    if descriptor.get("size") not in (None, size):
        raise InputError(f"--image {source}: blob {digest} is {size} bytes, the manifest says {descriptor['size']}")
    return Blob(digest, size, store.opener(name))


def _oci_manifest(store: _Store, descriptor: dict[str, Any], source: Path) -> Manifest:
    blob = _oci_blob(store, descriptor, source)
    with blob.open() as handle:
        data = handle.read()
    if sha256_digest(data) != blob.digest:
        raise InputError(f"--image {source}: manifest {blob.digest} does not match its digest (corrupt layout)")
    doc = _json(data, f"manifest {blob.digest}", source)
    media_type = descriptor.get("mediaType") or doc.get("mediaType") or OCI_MANIFEST
    if media_type in INDEX_TYPES:
        children = tuple(_oci_manifest(store, d, source) for d in doc.get("manifests", []))
        return Manifest(blob.digest, media_type, data, children=children)
    if media_type not in MANIFEST_TYPES:
        raise InputError(f"--image {source}: unsupported manifest media type {media_type!r}")
    blobs = [_oci_blob(store, doc["config"], source)] + [_oci_blob(store, d, source) for d in doc.get("layers", [])]
    return Manifest(blob.digest, media_type, data, blobs=tuple(blobs))


def _from_oci(store: _Store, source: Path) -> Manifest:
    index = _json(store.read("index.json"), "index.json", source)
    manifests = index.get("manifests") or []
    if not manifests:
        raise InputError(f"--image {source}: index.json lists no manifest")
    if len(manifests) == 1:
        return _oci_manifest(store, manifests[0], source)
    # several top-level manifests (multi-platform): push them all, then an index naming them
    children = tuple(_oci_manifest(store, d, source) for d in manifests)
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {k: v for k, v in d.items() if k in ("mediaType", "digest", "size", "platform", "annotations")}
            for d in manifests
        ],
    }
    data = json.dumps(doc, separators=(",", ":")).encode()
    return Manifest(sha256_digest(data), OCI_INDEX, data, children=children)


def _hashed(store: _Store, name: str) -> Blob:
    digest = hashlib.sha256()
    with store.opener(name)() as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return Blob("sha256:" + digest.hexdigest(), store.size(name), store.opener(name))


def _from_docker_save(store: _Store, source: Path) -> Manifest:
    entries = _json(store.read("manifest.json"), "manifest.json", source)
    if not isinstance(entries, list) or len(entries) != 1:
        raise InputError(f"--image {source}: a docker save archive with exactly one image is expected")
    entry = entries[0]
    config = _hashed(store, entry["Config"])
    layers = [_hashed(store, name) for name in entry["Layers"]]
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config.digest, "size": config.size},
        "layers": [{"mediaType": OCI_LAYER_TAR, "digest": b.digest, "size": b.size} for b in layers],
    }
    data = json.dumps(doc, separators=(",", ":")).encode()
    return Manifest(sha256_digest(data), OCI_MANIFEST, data, blobs=(config, *layers))


def read_image(path: Path) -> Manifest:
    """The manifest (or index) to push from ``path``, with every blob it needs."""
    if not path.exists():
        raise InputError(f"--image {path}: no such file or folder (expected an OCI layout or a docker save tar)")
    store = _Store(path)
    if store.exists("index.json") and store.exists("oci-layout"):
        return _from_oci(store, path)
    if store.exists("manifest.json"):
        return _from_docker_save(store, path)
    raise InputError(f"--image {path}: neither an OCI image layout (oci-layout, index.json) nor a docker save archive")
