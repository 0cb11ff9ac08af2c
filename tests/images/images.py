"""Build small OCI image layouts and docker save archives on disk (random layers, no docker)."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from pathlib import Path
from typing import Any


def _write_blob(root: Path, data: bytes) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()
    path = root / "blobs" / "sha256" / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def _manifest(root: Path, layers: list[bytes], arch: str) -> dict[str, Any]:
    config = json.dumps({"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    doc = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **_write_blob(root, config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **_write_blob(root, d)} for d in layers],
    }
    desc = _write_blob(root, json.dumps(doc).encode())
    return {"mediaType": doc["mediaType"], **desc, "platform": {"architecture": arch, "os": "linux"}}


def oci_layout(root: Path, layers: list[bytes], *, platforms: tuple[str, ...] = ("amd64",)) -> Path:
    """An OCI layout with one manifest, or (several platforms) an index of them."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    manifests = [
        _manifest(root, [*layers, arch.encode()] if len(platforms) > 1 else layers, arch) for arch in platforms
    ]
    if len(platforms) > 1:
        index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}
        top = [{"mediaType": index["mediaType"], **_write_blob(root, json.dumps(index).encode())}]
    else:
        top = manifests
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": top}))
    return root


def tar_of(folder: Path, target: Path) -> Path:
    with tarfile.open(target, "w") as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return target


def docker_save(target: Path, layers: list[bytes]) -> Path:
    """A legacy ``docker save`` archive: manifest.json, a config JSON, one layer.tar per layer."""
    work = target.parent / (target.name + ".d")
    work.mkdir(parents=True)
    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    (work / "config.json").write_bytes(config)
    names = []
    for i, data in enumerate(layers):
        (work / f"l{i}").mkdir()
        (work / f"l{i}" / "layer.tar").write_bytes(data)
        names.append(f"l{i}/layer.tar")
    (work / "manifest.json").write_text(json.dumps([{"Config": "config.json", "RepoTags": ["app:1"], "Layers": names}]))
    return tar_of(work, target)


def random_layer(size: int) -> bytes:
    return os.urandom(size)
