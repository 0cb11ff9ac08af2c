"""Downloads are capped and streamed; what cannot be read is a verdict with its reason, never a crash;
a verification that would check nothing is refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cramjam
import httpx
import pytest

from release_kit.attestations import fetch
from release_kit.cli import run_cli
from release_kit.errors import InputError
from release_kit.github.client import DownloadTooLarge, read_capped
from release_kit.verify_release import sources
from tests.fakes.fixtures import ATTESTATIONS
from tests.fakes.github import FakeGitHub
from tests.verify_release.test_verify_release import ARTIFACT, bundle, verify

WHEEL = "starter_contracts-1.0.0-py3-none-any.whl"
SBOM = "starter_contracts-sbom.json"


def release_with_blob(blob: bytes) -> FakeGitHub:
    """A release whose only attestation sits behind a bundle_url serving ``blob``."""
    fake = FakeGitHub(owner="malancas", repo="attest-demo")
    release = fake.add_release("v1.0.0", draft=False)
    data = (ATTESTATIONS / ARTIFACT).read_bytes()
    fake.add_asset(release, ARTIFACT, data)
    url = "https://attestations.blob.example.test/hostile.json.sn"
    fake.bundle_blobs[url] = blob
    fake.attestations[hashlib.sha256(data).hexdigest()] = [{"bundle": None, "bundle_url": url}]
    return fake


def only_row(report: dict[str, object]) -> dict[str, object]:
    (row,) = report["assets"]  # type: ignore[misc]
    return row  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "blob",
    [b"", b"not snappy at all", b"\xff" * 64, b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01"],
    ids=["empty", "text", "ff", "huge-varint"],
)
def test_a_bundle_url_that_is_not_snappy_is_an_unverifiable_row(tmp_path: Path, blob: bytes) -> None:
    code, report = verify(release_with_blob(blob), tmp_path)
    row = only_row(report)
    assert code == 1 and row["status"] == "unverifiable" and row["verified"] is False
    (attestation,) = row["attestations"]  # type: ignore[misc]
    assert attestation["status"] == "unverifiable"
    assert attestation["reasons"][0].startswith("bundle_url:")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://attestations.blob.example.test/expired.json.sn", "answered 404"),
        ("file:///etc/passwd", "not http(s)"),
        ("ftp://attestations.blob.example.test/x", "not http(s)"),
    ],
)
def test_a_bundle_url_that_cannot_be_fetched_is_an_unverifiable_row(tmp_path: Path, url: str, reason: str) -> None:
    fake = release_with_blob(b"")
    (entries,) = fake.attestations.values()
    entries[0]["bundle_url"] = url
    code, report = verify(fake, tmp_path)
    row = only_row(report)
    assert code == 1 and row["status"] == "unverifiable"
    assert reason in row["attestations"][0]["reasons"][0]  # type: ignore[index]


def test_snappy_that_is_not_a_bundle_is_unverifiable(tmp_path: Path) -> None:
    code, report = verify(release_with_blob(bytes(cramjam.snappy.compress_raw(b"<html>oops</html>"))), tmp_path)
    assert code == 1 and only_row(report)["status"] == "unverifiable"


def test_a_bundle_over_the_cap_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = json.dumps(bundle("reusable-workflow-attestation.sigstore.json")).encode()
    compressed = bytes(cramjam.snappy.compress_raw(real))
    monkeypatch.setenv(fetch.BUNDLE_LIMIT_VARIABLE, str(len(compressed) / 2 / 1024 / 1024))
    code, report = verify(release_with_blob(compressed), tmp_path)
    row = only_row(report)
    assert code == 1 and row["status"] == "unverifiable"
    assert "is larger than" in row["attestations"][0]["reasons"][0]  # type: ignore[index]
    monkeypatch.delenv(fetch.BUNDLE_LIMIT_VARIABLE)
    code, report = verify(release_with_blob(compressed), tmp_path)  # the same bundle within the default cap
    assert code == 0 and only_row(report)["status"] == "verified"


def test_a_bundle_that_would_decompress_past_the_cap_is_not_decompressed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = bytes(cramjam.snappy.compress_raw(b"{" + b" " * 2_000_000 + b"}"))
    assert len(bomb) < 200_000
    monkeypatch.setenv(fetch.BUNDLE_LIMIT_VARIABLE, "1")
    code, report = verify(release_with_blob(bomb), tmp_path)
    reason = only_row(report)["attestations"][0]["reasons"][0]  # type: ignore[index]
    assert code == 1 and "would decompress to more than 1 MiB" in reason


def test_an_offline_bundle_over_the_cap_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "bundles"
    folder.mkdir()
    (folder / f"{ARTIFACT}.sigstore.json").write_bytes(b" " * 4096)
    (folder / f"{ARTIFACT}.jsonl").write_bytes(b"\xff\xfe not utf-8\n")
    monkeypatch.setenv(fetch.BUNDLE_LIMIT_VARIABLE, str(2048 / 1024 / 1024))
    code, report = verify(release_with_blob(b""), tmp_path, offline_bundles=folder)
    reasons = [a["reasons"][0] for a in only_row(report)["attestations"]]  # type: ignore[attr-defined]
    assert code == 1 and reasons[0] == f"{ARTIFACT}.sigstore.json is larger than 2048 bytes: not read"
    assert len(reasons) == 2  # the undecodable .jsonl is a row too, not a crash


def sbom_release(sbom: bytes) -> FakeGitHub:
    fake = FakeGitHub(owner="malancas", repo="attest-demo")
    release = fake.add_release("v1.0.0", draft=False)
    fake.add_asset(release, WHEEL, b"wheel bytes")
    fake.add_asset(release, SBOM, sbom)
    return fake


def test_an_sbom_over_the_cap_is_a_verdict_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sbom = json.dumps({"bomFormat": "CycloneDX", "components": [{"name": "x" * 100}] * 50}).encode()
    monkeypatch.setenv(sources.SBOM_LIMIT_VARIABLE, str(1024 / 1024 / 1024))
    code, report = verify(sbom_release(sbom), tmp_path, expect=[WHEEL, SBOM])
    rows = {a["name"]: a for a in report["assets"]}
    assert code == 1
    assert rows[SBOM]["reasons"] == [f"{SBOM} is larger than 1024 bytes: not read"]
    assert f"its SBOM cannot be compared: {SBOM} is larger than 1024 bytes: not read" in rows[WHEEL]["reasons"]


def test_caps_default_to_50_and_10_mib_and_refuse_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sources.sbom_limit() == 50 * 1024 * 1024 and fetch.bundle_limit() == 10 * 1024 * 1024
    for bad in ("abc", "0", "-5", "nan"):
        monkeypatch.setenv(fetch.BUNDLE_LIMIT_VARIABLE, bad)
        with pytest.raises(InputError, match=f"{fetch.BUNDLE_LIMIT_VARIABLE}='{bad}': expected a size in MiB"):
            fetch.bundle_limit()


@pytest.mark.parametrize(
    "headers",
    [{}, {"content-length": "10"}, {"content-length": "5000"}],
    ids=["chunked", "understated-length", "stated-length"],
)
def test_capped_reads_stop_at_the_cap_whatever_the_length_header_says(headers: dict[str, str]) -> None:
    pieces = [b"a" * 1000] * 5
    served: list[int] = []

    def body() -> object:
        for piece in pieces:
            served.append(len(piece))
            yield piece

    response = httpx.Response(200, headers=headers, content=body())  # type: ignore[arg-type]
    with pytest.raises(DownloadTooLarge, match="blob is larger than 2500 bytes"):
        read_capped(response, 2500, what="blob")
    assert sum(served) <= 3000  # stopped at the first piece past the cap, never read whole


@pytest.mark.parametrize("expect", [[""], [" "], ["", "  "]])
def test_an_empty_expect_list_is_exit_2(capsys: pytest.CaptureFixture[str], expect: list[str]) -> None:
    args = [arg for value in expect for arg in ("--expect", value)]
    assert run_cli(["verify-release", "--repo", "octo-org/app", "--tag", "v1.0.0", *args]) == 2
    err = capsys.readouterr().err
    assert "--expect is empty: expected at least one asset pattern" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("listing", ["[]", "['  ']"])
def test_an_empty_expect_list_in_the_config_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, listing: str
) -> None:
    (tmp_path / "rk.yml").write_text(f"release:\n  expect: {listing}\n")
    args = ["--repo", "octo-org/app", "--tag", "v1.0.0", "--config", str(tmp_path / "rk.yml")]
    assert run_cli(["verify-release", *args]) == 2
    assert "release.expect is empty" in capsys.readouterr().err


@pytest.mark.parametrize("section", ["gates: []", "gates:\n  gates: []"])
def test_verify_gates_with_no_gates_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, section: str) -> None:
    (tmp_path / "rk.yml").write_text(section + "\n")
    assert run_cli(["verify-gates", "--repo", "octo-org/app", "--ref", "v1", "--config", str(tmp_path / "rk.yml")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'rk.yml'}:" in err and len(err.splitlines()) == 1
