"""Hostile image inputs: names that climb out of the input, forged digests, blobs that lie about
their content, malformed documents. Each is exit 2 with one line naming the entry, nothing of the
files beside the input (a checkout's .git/config) reaches the registry, and no secret is printed."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from release_kit.cli import run_cli
from release_kit.errors import InputError
from release_kit.images.distribution import DistributionClient
from release_kit.images.layout import read_image
from release_kit.images.push import push_image
from tests.images.images import docker_save, oci_layout, random_layer, tar_of
from tests.images.server import registry

SECRET = "rk-planted-secret-7f3a9c"  # what a checkout's .git/config beside the build output holds
TOKEN = "ghs_plantedJobToken00000001"


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("registry")
    with registry(tmp / "reg") as url:
        yield url, tmp / "reg" / "data"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A job's workspace: the checkout's .git/config holds a secret, the job holds a token."""
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(f'[http]\n\textraheader = "AUTHORIZATION: basic {SECRET}"\n')
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    return tmp_path


def publish(url: str, image: Path, capsys: pytest.CaptureFixture[str], workspace: Path) -> tuple[int, str]:
    args = ["publish-images", "--registry", url.removeprefix("http://"), "--image-prefix", "org"]
    args += [f"--image=api={image}", "--tag", "1", "--report", str(workspace / "report.json")]
    code = run_cli(args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def assert_nothing_leaked(data_dir: Path, output: str, workspace: Path) -> None:
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), f"{path} holds the planted secret"
    written = [workspace / n for n in ("summary.md", "output", "report.json") if (workspace / n).exists()]
    for text in [output, *(p.read_text() for p in written)]:
        assert SECRET not in text and TOKEN not in text


def refused(code: int, output: str, *expected: str) -> None:
    assert code == 2, output
    lines = [line for line in output.strip().splitlines() if line not in ("::endgroup::",)]
    lines = [line for line in lines if not line.startswith("::group::")]
    assert len(lines) == 1 and "Traceback" not in output, output
    for part in expected:
        assert part in lines[0], lines[0]


# -- docker save folders and archives ------------------------------------------------------------


def save_folder(root: Path, config: str = "config.json", layers: list[str] | None = None) -> Path:
    root.mkdir()
    (root / "config.json").write_text(json.dumps({"architecture": "amd64", "os": "linux"}))
    (root / "l0").mkdir()
    (root / "l0" / "layer.tar").write_bytes(random_layer(500))
    entry = {"Config": config, "RepoTags": ["app:1"], "Layers": layers if layers is not None else ["l0/layer.tar"]}
    (root / "manifest.json").write_text(json.dumps([entry]))
    return root


def _absolute(ws: Path, root: Path) -> list[str]:
    return [str(ws / ".git" / "config")]


def _climbing(ws: Path, root: Path) -> list[str]:
    return ["../.git/config"]


def _climbing_through(ws: Path, root: Path) -> list[str]:
    return ["l0/../../.git/config"]


def _symlink_out(ws: Path, root: Path) -> list[str]:
    (root / "l0" / "layer.tar").unlink()
    (root / "l0" / "layer.tar").symlink_to(ws / ".git" / "config")
    return ["l0/layer.tar"]


def _symlinked_dir_out(ws: Path, root: Path) -> list[str]:
    (root / "l1").symlink_to(ws / ".git")
    return ["l1/config"]


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (_absolute, "is not a relative path inside the input"),
        (_climbing, "is not a relative path inside the input"),
        (_climbing_through, "is not a relative path inside the input"),
        (_symlink_out, "resolves outside the input"),
        (_symlinked_dir_out, "resolves outside the input"),
    ],
)
@pytest.mark.parametrize("field", ["Config", "Layers"])
def test_docker_save_names_outside_the_folder_are_refused(
    plain: tuple[str, Path],
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path, Path], list[str]],
    problem: str,
    field: str,
) -> None:
    root = workspace / "build" / "app"
    root.parent.mkdir()
    save_folder(root)
    names = make(workspace, root)
    entry = json.loads((root / "manifest.json").read_text())[0]
    if field == "Config":
        entry["Config"] = names[0]
    else:
        entry["Layers"] = ["l0/layer.tar", *names] if make is not _symlink_out else names
    (root / "manifest.json").write_text(json.dumps([entry]))
    code, output = publish(plain[0], root, capsys, workspace)
    index = "" if field == "Config" else ("[1]" if make is not _symlink_out else "[0]")
    refused(code, output, f"manifest.json entry 0 {field}{index}", problem)
    assert_nothing_leaked(plain[1], output, workspace)


def test_a_docker_save_entry_that_is_not_a_regular_file_is_refused(
    plain: tuple[str, Path], workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = save_folder(workspace / "app", layers=["l0"])  # a directory
    code, output = publish(plain[0], root, capsys, workspace)
    refused(code, output, "Layers[0] 'l0' is not a regular file")
    fifo = root / "pipe"
    os.mkfifo(fifo)  # reading it would hang the push
    (root / "manifest.json").write_text(json.dumps([{"Config": "pipe", "Layers": []}]))
    code, output = publish(plain[0], root, capsys, workspace)
    refused(code, output, "Config 'pipe' is not a regular file")


def test_a_symlink_inside_the_folder_is_followed(plain: tuple[str, Path], tmp_path: Path) -> None:
    """docker save links a repeated layer to its first copy: a link that stays inside is fine."""
    root = save_folder(tmp_path / "app")
    (root / "l1").mkdir()
    (root / "l1" / "layer.tar").symlink_to("../l0/layer.tar")
    (root / "manifest.json").write_text(
        json.dumps([{"Config": "config.json", "Layers": ["l0/layer.tar", "l1/layer.tar"]}])
    )
    image = read_image(root)
    assert len(image.blobs) == 3 and image.blobs[1].digest == image.blobs[2].digest
    digest, counts = push_image(DistributionClient(plain[0]), "org/linked", image, ["1"])
    assert digest == image.digest and counts.uploaded == 2


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


def _save_members(layer: tuple[tarfile.TarInfo, bytes | None]) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    manifest = json.dumps([{"Config": "config.json", "Layers": [layer[0].name]}]).encode()
    return [_file("manifest.json", manifest), _file("config.json", b'{"os":"linux"}'), layer]


@pytest.mark.parametrize(
    ("layer", "problem"),
    [
        (_file("../outside.tar", b"x"), "archive member '../outside.tar' is outside the archive"),
        (_file("/etc/layer.tar", b"x"), "archive member '/etc/layer.tar' is outside the archive"),
        (_link("layer.tar", "/work/.git/config"), "archive member 'layer.tar' links outside the archive"),
        (_link("l0/layer.tar", "../../.git/config"), "archive member 'l0/layer.tar' links outside the archive"),
        (_link("layer.tar", "../x", tarfile.LNKTYPE), "archive member 'layer.tar' links outside the archive"),
    ],
)
def test_tar_members_outside_the_archive_are_refused(
    plain: tuple[str, Path],
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    layer: tuple[tarfile.TarInfo, bytes | None],
    problem: str,
) -> None:
    archive = _tar(workspace / "app.tar", _save_members(layer))
    code, output = publish(plain[0], archive, capsys, workspace)
    refused(code, output, problem)
    assert_nothing_leaked(plain[1], output, workspace)


def test_links_inside_a_tar_resolve_to_their_member(tmp_path: Path) -> None:
    data = random_layer(800)
    members: list[tuple[tarfile.TarInfo, bytes | None]] = [
        _file("manifest.json", json.dumps([{"Config": "c.json", "Layers": ["a/layer.tar", "b/layer.tar"]}]).encode()),
        _file("c.json", b"{}"),
        _file("a/layer.tar", data),
        _link("b/layer.tar", "../a/layer.tar"),
    ]
    image = read_image(_tar(tmp_path / "app.tar", members))
    assert [b.size for b in image.blobs] == [2, 800, 800]
    with image.blobs[2].open() as handle:
        assert handle.read() == data


# -- OCI layouts: digests are checked before they become paths ----------------------------------


def _rewrite_layer_descriptor(layout: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Edit the first layer's descriptor, then re-hash the manifest and index.json so only it is hostile."""
    index = json.loads((layout / "index.json").read_text())
    old = index["manifests"][0]
    doc = json.loads((layout / "blobs" / "sha256" / old["digest"].split(":")[1]).read_text())
    change(doc["layers"][0])
    data = json.dumps(doc).encode()
    hexdigest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / hexdigest).write_bytes(data)
    old.update(digest=f"sha256:{hexdigest}", size=len(data))
    (layout / "index.json").write_text(json.dumps(index))


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:../../../.git/config",
        "sha256:" + "A" * 64,  # upper-case hex
        "sha256:" + "a" * 63,
        "sha512:" + "a" * 64,
        "md5:" + "a" * 32,
        "sha256:" + "a" * 64 + "/../../../.git/config",
        "",
        7,
    ],
)
def test_descriptor_digests_follow_the_oci_grammar(
    plain: tuple[str, Path], workspace: Path, capsys: pytest.CaptureFixture[str], digest: object
) -> None:
    layout = oci_layout(workspace / "img", [random_layer(100)])
    _rewrite_layer_descriptor(layout, lambda d: d.update(digest=digest))
    code, output = publish(plain[0], layout, capsys, workspace)
    refused(code, output, "layers[0] digest", "is not a valid OCI digest")
    assert_nothing_leaked(plain[1], output, workspace)


def test_a_blob_symlinked_out_of_blobs_is_refused_even_with_a_matching_digest(
    plain: tuple[str, Path], workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = (workspace / ".git" / "config").read_bytes()
    layout = oci_layout(workspace / "img", [random_layer(100)])
    hexdigest = hashlib.sha256(secret).hexdigest()
    (layout / "blobs" / "sha256" / hexdigest).symlink_to(workspace / ".git" / "config")
    _rewrite_layer_descriptor(layout, lambda d: d.update(digest=f"sha256:{hexdigest}", size=len(secret)))
    code, output = publish(plain[0], layout, capsys, workspace)
    refused(code, output, f"blob sha256:{hexdigest} resolves outside blobs/")
    assert_nothing_leaked(plain[1], output, workspace)
    # the same through a symlinked blobs/sha256 folder, and an index.json that is a link out
    (layout / "index.json").unlink()
    (layout / "index.json").symlink_to(workspace / ".git" / "config")
    code, output = publish(plain[0], layout, capsys, workspace)
    refused(code, output, "index.json resolves outside the input")


def test_a_sha512_layout_is_read_and_verified(tmp_path: Path) -> None:
    layout = oci_layout(tmp_path / "img", [random_layer(100)])
    data = random_layer(300)
    hexdigest = hashlib.sha512(data).hexdigest()
    (layout / "blobs" / "sha512").mkdir()
    (layout / "blobs" / "sha512" / hexdigest).write_bytes(data)
    _rewrite_layer_descriptor(layout, lambda d: d.update(digest=f"sha512:{hexdigest}", size=len(data)))
    image = read_image(layout)
    with image.blobs[1].open() as handle:
        assert handle.read() == data


# -- blob content is verified as it streams -------------------------------------------------------


class Counting(httpx.BaseTransport):
    def __init__(self) -> None:
        self.real = httpx.HTTPTransport()
        self.requests: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        return self.real.handle_request(request)


def _corrupt_layer(layout: Path, size: int) -> str:
    """Overwrite the layer's file (same size) so its bytes no longer hash to its digest."""
    image = read_image(layout)
    layer = next(b for b in image.blobs if b.size == size)
    (layout / "blobs" / "sha256" / layer.digest.split(":")[1]).write_bytes(random_layer(size))
    return layer.digest


@pytest.mark.parametrize("chunk_size", [None, 64 * 1024])
def test_a_blob_whose_bytes_do_not_match_its_digest_is_never_uploaded(
    plain: tuple[str, Path], tmp_path: Path, chunk_size: int | None
) -> None:
    layout = oci_layout(tmp_path / "img", [random_layer(200_000)])
    image = read_image(layout)  # read, then the file changes under it
    digest = _corrupt_layer(layout, 200_000)
    transport = Counting()
    client = DistributionClient(plain[0], transport=transport, chunk_size=chunk_size)
    repo = f"org/corrupt-{chunk_size or 0}"
    with pytest.raises(InputError, match=rf"blob {digest} does not match its content") as info:
        push_image(client, repo, image, ["1"], workers=1)
    assert info.value.exit_code == 2
    assert sum(r == f"POST /v2/{repo}/blobs/uploads/" for r in transport.requests) <= 2  # config + layer, no retry
    assert not any(r.startswith("PUT") and "/manifests/" in r for r in transport.requests)
    assert not DistributionClient(plain[0]).has_blob(repo, digest)


def test_a_blob_shorter_or_longer_than_its_descriptor_is_refused(
    plain: tuple[str, Path], workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = oci_layout(workspace / "img", [random_layer(1000)])
    image = read_image(layout)
    layer = image.blobs[1]
    path = layout / "blobs" / "sha256" / layer.digest.split(":")[1]
    path.write_bytes(path.read_bytes() + b"extra")
    code, output = publish(plain[0], layout, capsys, workspace)
    refused(code, output, f"blob {layer.digest} is 1005 bytes, its descriptor says 1000")
    # the file grows after it was read: caught while streaming, before the registry has it whole
    path.write_bytes(path.read_bytes()[:1000])
    image = read_image(layout)
    path.write_bytes(path.read_bytes() + b"extra")
    with pytest.raises(InputError, match="does not match its content"):
        push_image(DistributionClient(plain[0]), "org/longer", image, ["1"])
    path.write_bytes(path.read_bytes()[:900])
    with pytest.raises(InputError, match="does not match its content"):
        push_image(DistributionClient(plain[0]), "org/shorter", image, ["1"])
    assert not DistributionClient(plain[0]).has_blob("org/longer", layer.digest)


def test_a_docker_save_layer_changed_after_hashing_fails_the_cli_with_exit_2(
    plain: tuple[str, Path], workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from release_kit.images import run as publish_run

    archive = docker_save(workspace / "app.tar", [random_layer(5000)])
    real = publish_run.read_image

    def then_tampered(path: Path) -> Any:
        image = real(path)
        with tarfile.open(archive) as tar:
            at = tar.getmember("l0/layer.tar").offset_data + 100
        raw = bytearray(archive.read_bytes())
        raw[at] ^= 0xFF  # one bit of the layer, after its digest was taken
        archive.write_bytes(bytes(raw))
        return image

    monkeypatch.setattr(publish_run, "read_image", then_tampered)
    code, output = publish(plain[0], archive, capsys, workspace)
    refused(code, output, "does not match its content")


# -- malformed documents --------------------------------------------------------------------------


def _write_index(layout: Path, index: Any) -> Path:
    (layout / "index.json").write_text(json.dumps(index))
    return layout


def _manifest_blob(layout: Path, doc: Any) -> dict[str, Any]:
    data = json.dumps(doc).encode()
    hexdigest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / hexdigest).write_bytes(data)
    return {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": f"sha256:{hexdigest}",
        "size": len(data),
    }


MALFORMED_OCI: list[tuple[str, Callable[[Path], Any], str]] = [
    ("index-not-object", lambda lay: _write_index(lay, ["x"]), "index.json is not a JSON object"),
    ("manifests-not-list", lambda lay: _write_index(lay, {"manifests": {"a": 1}}), "manifests that are not a list"),
    (
        "descriptor-not-object",
        lambda lay: _write_index(lay, {"manifests": ["sha256:x"]}),
        "manifests[0] is not an object",
    ),
    (
        "manifest-without-config",
        lambda lay: _write_index(lay, {"manifests": [_manifest_blob(lay, {"schemaVersion": 2, "layers": []})]}),
        "has no config",
    ),
    (
        "config-not-object",
        lambda lay: _write_index(lay, {"manifests": [_manifest_blob(lay, {"config": "x", "layers": []})]}),
        "config is not an object",
    ),
    (
        "layers-not-list",
        lambda lay: _write_index(lay, {"manifests": [_manifest_blob(lay, {"config": {}, "layers": 3})]}),
        "has layers that are not a list",
    ),
    (
        "manifest-not-object",
        lambda lay: _write_index(lay, {"manifests": [_manifest_blob(lay, [1, 2])]}),
        "is not a JSON object",
    ),
    (
        "size-not-a-number",
        lambda lay: _write_index(lay, {"manifests": [{**_manifest_blob(lay, {}), "size": "12"}]}),
        "size '12' is not a number of bytes",
    ),
    ("index-not-json", lambda lay: (lay / "index.json").write_text("{"), "index.json is not valid JSON"),
    ("deep-json", lambda lay: (lay / "index.json").write_text("[" * 100_000), "index.json is not valid JSON"),
]


@pytest.mark.parametrize(("name", "damage", "problem"), MALFORMED_OCI, ids=[m[0] for m in MALFORMED_OCI])
def test_malformed_layouts_are_exit_2_naming_the_problem(
    workspace: Path, capsys: pytest.CaptureFixture[str], name: str, damage: Callable[[Path], Any], problem: str
) -> None:
    layout = oci_layout(workspace / "img", [random_layer(10)])
    damage(layout)
    code, output = publish("http://127.0.0.1:1", layout, capsys, workspace)  # never contacted
    refused(code, output, f"--image {layout}", problem)
    # and the same layout as a tar
    archive = tar_of(layout, workspace / "img.tar")
    code, output = publish("http://127.0.0.1:1", archive, capsys, workspace)
    refused(code, output, problem)


MALFORMED_SAVE: list[tuple[str, Any, str]] = [
    ("entry-not-object", ["config.json"], "entry 0 is not an object"),
    ("no-config", [{"Layers": []}], "entry 0 has no Config"),
    ("config-not-string", [{"Config": ["a"], "Layers": []}], "entry 0 has no Config"),
    ("layers-not-list", [{"Config": "config.json", "Layers": "l0/layer.tar"}], "Layers that are not a list"),
    ("layer-not-string", [{"Config": "config.json", "Layers": [{"a": 1}]}], "Layers that are not a list"),
    ("missing-layer", [{"Config": "config.json", "Layers": ["nope.tar"]}], "Layers[0] 'nope.tar' is missing"),
]


@pytest.mark.parametrize(("name", "entries", "problem"), MALFORMED_SAVE, ids=[m[0] for m in MALFORMED_SAVE])
def test_malformed_docker_save_is_exit_2_naming_the_problem(
    workspace: Path, capsys: pytest.CaptureFixture[str], name: str, entries: Any, problem: str
) -> None:
    root = save_folder(workspace / "app")
    (root / "manifest.json").write_text(json.dumps(entries))
    code, output = publish("http://127.0.0.1:1", root, capsys, workspace)
    refused(code, output, problem)


def _nested(layout: Path, levels: int, fan_out: int) -> Path:
    """``levels`` indexes, each naming the next one ``fan_out`` times, above one image manifest."""
    index = json.loads((layout / "index.json").read_text())
    descriptor = index["manifests"][0]
    for _ in range(levels):
        doc = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [descriptor] * fan_out,
        }
        data = json.dumps(doc).encode()
        hexdigest = hashlib.sha256(data).hexdigest()
        (layout / "blobs" / "sha256" / hexdigest).write_bytes(data)
        descriptor = {"mediaType": doc["mediaType"], "digest": f"sha256:{hexdigest}", "size": len(data)}
    return _write_index(layout, {"schemaVersion": 2, "manifests": [descriptor]})


@pytest.mark.timeout(60)
def test_a_wide_index_eight_deep_reads_each_document_once(
    plain: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = _nested(oci_layout(tmp_path / "img", [random_layer(100)]), levels=8, fan_out=200)
    opened: list[str] = []
    real_open = Path.open

    def counting_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if "blobs" in self.parts:
            opened.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", counting_open)
    image = read_image(layout)  # 200**8 paths through the indexes: each document is read once
    assert len(opened) == len(set(opened)) == 9
    assert len(image.manifests()) == 9 and len(image.all_blobs()) == 2
    digest, counts = push_image(DistributionClient(plain[0]), "org/nested", image, ["1"])
    assert digest == image.digest and counts.uploaded == 2
    assert len(opened) == 11  # each blob read once more, to stream it


def test_indexes_nested_deeper_than_eight_are_refused(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layout = _nested(oci_layout(workspace / "img", [random_layer(100)]), levels=9, fan_out=1)
    code, output = publish("http://127.0.0.1:1", layout, capsys, workspace)
    refused(code, output, "nests indexes deeper than 8 levels")


def test_manifests_over_4_mib_are_refused_unread(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layout = oci_layout(workspace / "img", [random_layer(10)])
    big = _manifest_blob(layout, {"config": {}, "layers": [], "pad": "x" * (4 * 1024 * 1024)})
    _write_index(layout, {"manifests": [big]})
    code, output = publish("http://127.0.0.1:1", layout, capsys, workspace)
    refused(code, output, f"manifest {big['digest']} is {big['size']} bytes", "limited to 4 MiB")
    # a descriptor that claims a huge size is refused before the file is opened
    small = _manifest_blob(layout, {"config": {}, "layers": []})
    _write_index(layout, {"manifests": [{**small, "size": 1 << 40}]})
    code, output = publish("http://127.0.0.1:1", layout, capsys, workspace)
    refused(code, output, "limited to 4 MiB")
    (layout / "index.json").write_bytes(b" " * (4 * 1024 * 1024 + 1))
    code, output = publish("http://127.0.0.1:1", layout, capsys, workspace)
    refused(code, output, "index.json is 4194305 bytes")
