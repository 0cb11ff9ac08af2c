"""Pushes to a real registry on 127.0.0.1, checked with skopeo as an independent reader."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from release_kit.images.distribution import DistributionClient
from release_kit.images.layout import read_image
from release_kit.images.push import MountSources, push_image
from tests.images.images import docker_save, oci_layout, random_layer
from tests.images.server import registry


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[str]:
    with registry(tmp_path / "registry") as url:
        yield url


def skopeo_digest(endpoint: str, ref: str, creds: str | None = None) -> str:
    if not shutil.which("skopeo"):
        pytest.skip("skopeo is not installed (.ci/run installs it)")
    host = endpoint.removeprefix("http://")
    done = subprocess.run(
        [
            "skopeo",
            "inspect",
            "--raw",
            "--tls-verify=false",
            *(["--creds", creds] if creds else []),
            f"docker://{host}/{ref}",
        ],
        capture_output=True,
        check=True,
    )
    import hashlib

    return "sha256:" + hashlib.sha256(done.stdout).hexdigest()


def test_two_images_sharing_layers_then_a_repush(endpoint: str, tmp_path: Path) -> None:
    base = [random_layer(200_000), random_layer(100_000)]
    api = read_image(oci_layout(tmp_path / "api", [*base, random_layer(5000)]))
    web = read_image(oci_layout(tmp_path / "web", [*base, random_layer(6000)]))
    client = DistributionClient(endpoint)
    sources = MountSources()
    api_digest, api_counts = push_image(client, "org/app/api", api, ["1.4.0", "latest"], sources=sources)
    web_digest, web_counts = push_image(client, "org/app/web", web, ["1.4.0"], sources=sources)
    assert (api_counts.uploaded, api_counts.mounted, api_counts.skipped) == (4, 0, 0)
    # the two base layers and the identical config were mounted from api; only its own layer uploaded
    assert (web_counts.uploaded, web_counts.mounted, web_counts.skipped) == (1, 3, 0)
    assert skopeo_digest(endpoint, "org/app/api:1.4.0") == api_digest == api.digest
    assert skopeo_digest(endpoint, "org/app/api:latest") == api_digest
    assert skopeo_digest(endpoint, "org/app/web:1.4.0") == web_digest
    again_digest, again = push_image(client, "org/app/api", api, ["1.4.0"])
    assert again_digest == api_digest and (again.uploaded, again.mounted, again.skipped) == (0, 0, 4)


def test_multi_platform_index_is_pushed_whole(endpoint: str, tmp_path: Path) -> None:
    image = read_image(oci_layout(tmp_path / "img", [random_layer(1000)], platforms=("amd64", "arm64")))
    client = DistributionClient(endpoint)
    digest, _ = push_image(client, "org/multi", image, ["1.0.0"])
    assert skopeo_digest(endpoint, "org/multi:1.0.0") == digest == image.digest
    for child in image.children:
        assert skopeo_digest(endpoint, f"org/multi@{child.digest}") == child.digest


def test_docker_save_archive_push(endpoint: str, tmp_path: Path) -> None:
    image = read_image(docker_save(tmp_path / "app.tar", [random_layer(3000)]))
    digest, counts = push_image(DistributionClient(endpoint), "org/legacy", image, ["v1"])
    assert counts.uploaded == 2
    assert skopeo_digest(endpoint, "org/legacy:v1") == digest
    raw = json.loads(image.data)
    assert raw["layers"][0]["size"] == 3000


def test_upload_interrupted_midway_then_rerun_converges(endpoint: str, tmp_path: Path) -> None:
    from release_kit.cli import run_cli
    from tests.images.proxy import cutting_proxy

    layout = oci_layout(tmp_path / "img", [random_layer(2_000_000), random_layer(1000)])
    port = int(endpoint.rsplit(":", 1)[1])
    args = ["publish-images", "--registry", "127.0.0.1", "--image-prefix", "org", f"--image=api={layout}", "--tag", "1"]
    with cutting_proxy(port, cut_after=500_000) as proxy_port:
        code = run_cli([*args, "--registry-endpoint", f"http://127.0.0.1:{proxy_port}"])
    assert code == 3  # the big layer never got through: the remote gave up, nothing was tagged
    client = DistributionClient(endpoint)
    image = read_image(layout)
    small = [b for b in image.blobs if b.size < 500_000]
    assert all(client.has_blob("org/api", b.digest) for b in small)  # what got through stays
    assert not client.has_blob("org/api", image.blobs[1].digest)
    assert run_cli([*args, "--registry-endpoint", endpoint]) == 0  # the re-run converges
    assert skopeo_digest(endpoint, "org/api:1") == image.digest


def test_chunked_upload_to_a_real_registry(endpoint: str, tmp_path: Path) -> None:
    image = read_image(oci_layout(tmp_path / "img", [random_layer(300_000)]))
    client = DistributionClient(endpoint, chunk_size=64 * 1024)
    digest, counts = push_image(client, "org/chunked", image, ["1"])
    assert counts.uploaded == 2 and skopeo_digest(endpoint, "org/chunked:1") == digest


def test_a_413_on_a_whole_blob_falls_back_to_chunks(endpoint: str, tmp_path: Path) -> None:
    import httpx

    refused: list[int] = []
    real = httpx.HTTPTransport()

    class Capped(httpx.BaseTransport):
        """A registry front that accepts at most 128 KiB per request, like GHCR's 4 MiB cap."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if int(request.headers.get("content-length", "0")) > 128 * 1024:
                refused.append(int(request.headers["content-length"]))
                return httpx.Response(413)
            return real.handle_request(request)

    image = read_image(oci_layout(tmp_path / "img", [random_layer(400_000)]))
    client = DistributionClient(endpoint, transport=Capped(), fallback_chunk_size=100 * 1024)
    digest, _ = push_image(client, "org/capped", image, ["1"], workers=1)
    assert refused == [400_000] and client.chunk_size == 100 * 1024
    assert skopeo_digest(endpoint, "org/capped:1") == digest
