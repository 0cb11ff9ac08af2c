from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from release_kit.errors import InputError
from release_kit.images.layout import OCI_INDEX, read_image
from tests.images.images import docker_save, oci_layout, random_layer, tar_of


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_single_manifest_layout(tmp_path: Path) -> None:
    layers = [random_layer(1000), random_layer(2000)]
    image = read_image(oci_layout(tmp_path / "img", layers))
    assert image.children == ()
    assert [b.digest for b in image.blobs[1:]] == [digest(d) for d in layers]
    with image.blobs[2].open() as handle:
        assert handle.read() == layers[1]
    assert image.digest == digest(image.data)


def test_multi_platform_layout_pushes_children_and_index(tmp_path: Path) -> None:
    image = read_image(oci_layout(tmp_path / "img", [random_layer(10)], platforms=("amd64", "arm64")))
    assert image.media_type == OCI_INDEX and len(image.children) == 2
    assert {json.loads(c.data)["config"]["digest"] for c in image.children} == {
        c.blobs[0].digest for c in image.children
    }
    assert len(image.all_blobs()) == 5  # shared layer once, one extra layer and one config per platform


def test_tar_of_a_layout_reads_blobs_in_place(tmp_path: Path) -> None:
    layers = [random_layer(300_000)]
    folder = oci_layout(tmp_path / "img", layers)
    from_dir = read_image(folder)
    from_tar = read_image(tar_of(folder, tmp_path / "img.tar"))
    assert from_tar.digest == from_dir.digest
    with from_tar.blobs[1].open() as handle:
        assert handle.read() == layers[0]


def test_docker_save_archive(tmp_path: Path) -> None:
    layers = [random_layer(500), random_layer(700)]
    image = read_image(docker_save(tmp_path / "app.tar", layers))
    doc = json.loads(image.data)
    assert [layer["digest"] for layer in doc["layers"]] == [digest(d) for d in layers]
    assert image.digest == digest(image.data)


def test_missing_or_corrupt_input_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        read_image(tmp_path / "nope")
    folder = oci_layout(tmp_path / "img", [random_layer(10)])
    blob = next(p for p in (folder / "blobs" / "sha256").iterdir() if p.stat().st_size == 10)
    blob.unlink()
    with pytest.raises(InputError, match=r"blob sha256:\w+ is missing from the layout"):
        read_image(folder)
    (tmp_path / "junk").mkdir()
    with pytest.raises(InputError, match="neither an OCI image layout"):
        read_image(tmp_path / "junk")
