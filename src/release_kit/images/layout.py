"""Read an image to push: an OCI image layout directory, a tar of one, or a ``docker save`` archive.

Blobs are never read whole: each one is opened as a stream from disk (a file, or a member of an
uncompressed tar read in place), so memory stays flat whatever the layer size.

Nothing in the input is trusted. Every name it gives (``index.json`` descriptors, ``manifest.json``
entries, tar members and their links) must stay inside the input after resolution and name a
regular file; digests must follow the OCI grammar before they become paths, and OCI blobs are only
ever opened under ``blobs/``. Each blob is hashed while it is streamed for upload, and the last
bytes are withheld until the digest and size are checked, so a registry never receives a
complete body that differs from its descriptor. Manifests and indexes over 4 MiB are refused
unread; each is parsed once however often an index names it, and indexes nest at most 8 deep.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import re
import stat
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
MAX_DOCUMENT = 4 * 1024 * 1024  # a manifest, an index, index.json or manifest.json
MAX_DEPTH = 8  # indexes of indexes
MAX_LINKS = 16  # symlinks followed inside a tar
DIGEST_RE = re.compile(r"sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}")


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _hasher(digest: str) -> Any:
    return hashlib.new(digest.partition(":")[0])


class _Verified(io.RawIOBase):
    """Stream a blob while hashing it: the read that would return its last bytes first checks the
    size and the digest, so a mismatch stops the upload before the registry has the whole body."""

    def __init__(self, inner: BinaryIO, digest: str, size: int, source: str) -> None:
        self._inner = inner
        self._digest = digest
        self._left = size
        self._hash = _hasher(digest)
        self._source = source
        self._checked = False

    def readable(self) -> bool:
        return True

    def _mismatch(self) -> InputError:
        return InputError(
            f"--image {self._source}: blob {self._digest} does not match its content",
            hint="the image changed or is corrupt: rebuild it",
        )

    def readinto(self, buffer: Any) -> int:
        if self._checked:
            return 0
        view = memoryview(buffer).cast("B")[: self._left]
        n = self._inner.readinto(view) if self._left else 0  # type: ignore[attr-defined]
        n = n or 0
        if self._left and n == 0:
            raise self._mismatch()  # shorter than its descriptor
        self._hash.update(view[:n])
        self._left -= n
        if self._left == 0:
            if self._inner.read(1):
                raise self._mismatch()  # longer than its descriptor
            if f"{self._digest.partition(':')[0]}:{self._hash.hexdigest()}" != self._digest:
                raise self._mismatch()
            self._checked = True
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()


@dataclass(frozen=True)
class Blob:
    digest: str
    size: int
    opener: Callable[[], BinaryIO] = field(repr=False, compare=False)
    source: str = field(default="", compare=False)

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        """The blob's bytes, checked against its digest and size as they are read."""
        handle = io.BufferedReader(_Verified(self.opener(), self.digest, self.size, self.source), CHUNK)
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

    def _walk(self, seen: set[str], out: list[Manifest]) -> None:
        for child in self.children:
            if child.digest not in seen:
                seen.add(child.digest)
                child._walk(seen, out)
        out.append(self)

    def manifests(self) -> list[Manifest]:
        """Every manifest and index below this one, each once, children before their index; then this."""
        out: list[Manifest] = []
        self._walk({self.digest}, out)
        return out

    def all_blobs(self) -> list[Blob]:
        seen: dict[str, Blob] = {}
        for manifest in self.manifests():
            for blob in manifest.blobs:
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


@dataclass(frozen=True)
class _Entry:
    name: str
    size: int
    opener: Callable[[], BinaryIO] = field(repr=False)


def _inside(name: str) -> str | None:
    """``name`` normalised inside its archive, or None when it is absolute or climbs out."""
    if not name or name.startswith("/"):
        return None
    norm = posixpath.normpath(name)
    if norm == ".." or norm.startswith("../"):
        return None
    return norm.removeprefix("./")


def _kind(under: str) -> str:
    return "layout" if under else "input"


class _Store:
    """Files by name inside the image input: a directory, or an uncompressed tar read in place.

    A name resolves (following symlinks) inside the input, to a regular file, or is refused."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = path.resolve()
        self.members: dict[str, tarfile.TarInfo] | None = None
        if path.is_file():
            try:
                with tarfile.open(path, "r:") as tar:
                    members = tar.getmembers()
            except tarfile.TarError:
                raise InputError(f"--image {path}: not an OCI layout folder or an uncompressed tar") from None
            self.members = {}
            for member in members:
                name = _inside(member.name)
                if name is None:
                    raise InputError(f"--image {path}: archive member {member.name!r} is outside the archive")
                if member.issym() or member.islnk():
                    base = posixpath.dirname(name) if member.issym() else ""
                    if _inside(posixpath.join(base, member.linkname)) is None or member.linkname.startswith("/"):
                        raise InputError(
                            f"--image {path}: archive member {member.name!r} links outside the archive "
                            f"({member.linkname!r})"
                        )
                self.members[name] = member

    def has(self, name: str) -> bool:
        if self.members is not None:
            return name in self.members
        return os.path.lexists(self.path / name)

    def entry(self, name: str, what: str, under: str = "") -> _Entry:
        """The regular file ``name`` names inside the input (and inside ``under``), else exit 2."""
        if self.members is not None:
            return self._member(name, what, under)
        local = _inside(name)
        if local is None:
            raise InputError(f"--image {self.path}: {what} is not a relative path inside the input")
        try:
            real = (self.path / local).resolve(strict=True)
            info = real.stat()
        except (OSError, RuntimeError):
            raise InputError(f"--image {self.path}: {what} is missing from the {_kind(under)}") from None
        if not real.is_relative_to(self.root / under):
            where = f"{under}/ of the input" if under else "the input"
            raise InputError(f"--image {self.path}: {what} resolves outside {where}")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"--image {self.path}: {what} is not a regular file")
        return _Entry(str(real), info.st_size, lambda: real.open("rb"))

    def _member(self, name: str, what: str, under: str) -> _Entry:
        assert self.members is not None
        current = _inside(name)
        if current is None:
            raise InputError(f"--image {self.path}: {what} is not a relative path inside the archive")
        for _ in range(MAX_LINKS):
            member = self.members.get(current)
            if member is None:
                raise InputError(f"--image {self.path}: {what} is missing from the {_kind(under)}")
            if member.issym():
                current = _inside(posixpath.join(posixpath.dirname(current), member.linkname)) or ""
            elif member.islnk():
                current = _inside(member.linkname) or ""
            else:
                break
        else:
            raise InputError(f"--image {self.path}: {what} is a chain of more than {MAX_LINKS} links")
        if under and not current.startswith(under + "/"):
            raise InputError(f"--image {self.path}: {what} resolves outside {under}/ of the archive")
        if not member.isreg():
            raise InputError(f"--image {self.path}: {what} is not a regular file")
        tar, offset, size = self.path, member.offset_data, member.size
        return _Entry(current, size, lambda: io.BufferedReader(_Section(tar, offset, size), CHUNK))

    def document(self, name: str, what: str, under: str = "", size: int | None = None) -> bytes:
        """A JSON document's bytes, refused unread when over MAX_DOCUMENT."""
        entry = self.entry(name, what, under)
        declared = size if size is not None else entry.size
        if max(declared, entry.size) > MAX_DOCUMENT:
            raise InputError(
                f"--image {self.path}: {what} is {max(declared, entry.size)} bytes; "
                f"manifests and indexes are limited to {MAX_DOCUMENT // (1024 * 1024)} MiB"
            )
        with entry.opener() as handle:
            return handle.read(MAX_DOCUMENT + 1)


def _json(data: bytes, what: str, source: Path) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise InputError(f"--image {source}: {what} is not valid JSON") from None


class _OciReader:
    """Reads manifests and indexes of an OCI layout, each once, however often they are named."""

    def __init__(self, store: _Store, source: Path) -> None:
        self.store = store
        self.source = source
        self.parsed: dict[str, Manifest] = {}

    def fail(self, where: str, problem: str) -> InputError:
        return InputError(f"--image {self.source}: {where} {problem}")

    def descriptor(self, value: Any, where: str) -> tuple[str, int, dict[str, Any]]:
        if not isinstance(value, dict):
            raise self.fail(where, "is not an object (expected a descriptor with digest and size)")
        digest, size = value.get("digest"), value.get("size")
        if not isinstance(digest, str) or not DIGEST_RE.fullmatch(digest):
            raise self.fail(
                where,
                f"digest {digest!r} is not a valid OCI digest (expected sha256: and 64 lower-case hex, "
                "or sha512: and 128)",
            )
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise self.fail(where, f"size {size!r} is not a number of bytes")
        return digest, size, value

    def path(self, digest: str) -> str:
        algo, _, hexpart = digest.partition(":")
        return f"blobs/{algo}/{hexpart}"

    def blob(self, value: Any, where: str) -> Blob:
        digest, size, _ = self.descriptor(value, where)
        entry = self.store.entry(self.path(digest), f"blob {digest}", "blobs")
        if entry.size != size:
            raise self.fail(where, f"blob {digest} is {entry.size} bytes, its descriptor says {size}")
        return Blob(digest, size, entry.opener, str(self.source))

    def manifest(self, value: Any, where: str, depth: int) -> Manifest:
        digest, size, descriptor = self.descriptor(value, where)
        if digest in self.parsed:
            return self.parsed[digest]
        data = self.store.document(self.path(digest), f"manifest {digest}", "blobs", size)
        if len(data) != size:
            raise self.fail(where, f"manifest {digest} is {len(data)} bytes, its descriptor says {size}")
        check = _hasher(digest)
        check.update(data)
        if f"{digest.partition(':')[0]}:{check.hexdigest()}" != digest:
            raise self.fail(where, f"manifest {digest} does not match its digest (corrupt layout)")
        doc = _json(data, f"manifest {digest}", self.source)
        if not isinstance(doc, dict):
            raise self.fail(f"manifest {digest}", "is not a JSON object")
        media_type = descriptor.get("mediaType") or doc.get("mediaType") or OCI_MANIFEST
        if not isinstance(media_type, str):
            raise self.fail(f"manifest {digest}", f"has a media type that is not a string ({media_type!r})")
        here = f"manifest {digest}"
        if media_type in INDEX_TYPES:
            if depth > MAX_DEPTH:
                raise self.fail(where, f"nests indexes deeper than {MAX_DEPTH} levels")
            entries = doc.get("manifests", [])
            if not isinstance(entries, list):
                raise self.fail(here, "has manifests that are not a list")
            children: dict[str, Manifest] = {}
            for i, d in enumerate(entries):
                child = self.manifest(d, f"{here} manifests[{i}]", depth + 1)
                children.setdefault(child.digest, child)
            parsed = Manifest(digest, media_type, data, children=tuple(children.values()))
        elif media_type in MANIFEST_TYPES:
            if "config" not in doc:
                raise self.fail(here, "has no config")
            layers = doc.get("layers", [])
            if not isinstance(layers, list):
                raise self.fail(here, "has layers that are not a list")
            blobs = [self.blob(doc["config"], f"{here} config")]
            blobs += [self.blob(d, f"{here} layers[{i}]") for i, d in enumerate(layers)]
            parsed = Manifest(digest, media_type, data, blobs=tuple(blobs))
        else:
            raise InputError(f"--image {self.source}: unsupported manifest media type {media_type!r}")
        self.parsed[digest] = parsed
        return parsed


def _from_oci(store: _Store, source: Path) -> Manifest:
    index = _json(store.document("index.json", "index.json"), "index.json", source)
    if not isinstance(index, dict):
        raise InputError(f"--image {source}: index.json is not a JSON object")
    manifests = index.get("manifests") or []
    if not isinstance(manifests, list):
        raise InputError(f"--image {source}: index.json has manifests that are not a list")
    if not manifests:
        raise InputError(f"--image {source}: index.json lists no manifest")
    reader = _OciReader(store, source)
    if len(manifests) == 1:
        return reader.manifest(manifests[0], "index.json manifests[0]", 1)
    # several top-level manifests (multi-platform): push them all, then an index naming them
    children = tuple(reader.manifest(d, f"index.json manifests[{i}]", 1) for i, d in enumerate(manifests))
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {k: v for k, v in d.items() if k in ("mediaType", "digest", "size", "platform", "annotations")}
            for d in manifests
        ],
    }
    data = json.dumps(doc, separators=(",", ":")).encode()
    unique = tuple({c.digest: c for c in children}.values())
    return Manifest(sha256_digest(data), OCI_INDEX, data, children=unique)


def _hashed(entry: _Entry, source: Path) -> Blob:
    digest = hashlib.sha256()
    with entry.opener() as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return Blob("sha256:" + digest.hexdigest(), entry.size, entry.opener, str(source))


def _from_docker_save(store: _Store, source: Path) -> Manifest:
    entries = _json(store.document("manifest.json", "manifest.json"), "manifest.json", source)
    if not isinstance(entries, list) or len(entries) != 1:
        raise InputError(f"--image {source}: a docker save archive with exactly one image is expected")
    entry = entries[0]
    where = "manifest.json entry 0"
    if not isinstance(entry, dict):
        raise InputError(f"--image {source}: {where} is not an object (expected Config and Layers)")
    config_name, layer_names = entry.get("Config"), entry.get("Layers")
    if not isinstance(config_name, str) or not config_name:
        raise InputError(f"--image {source}: {where} has no Config (expected the config file's name)")
    if not isinstance(layer_names, list) or not all(isinstance(n, str) for n in layer_names):
        raise InputError(f"--image {source}: {where} has Layers that are not a list of file names")
    hashed: dict[str, Blob] = {}  # each file hashed once, however often it is listed

    def blob(name: str, what: str) -> Blob:
        found = store.entry(name, f"{what} {name!r}")
        if found.name not in hashed:
            hashed[found.name] = _hashed(found, source)
        return hashed[found.name]

    config = blob(config_name, f"{where} Config")
    layers = [blob(name, f"{where} Layers[{i}]") for i, name in enumerate(layer_names)]
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
    if store.has("index.json") and store.has("oci-layout"):
        return _from_oci(store, path)
    if store.has("manifest.json"):
        return _from_docker_save(store, path)
    raise InputError(f"--image {path}: neither an OCI image layout (oci-layout, index.json) nor a docker save archive")
