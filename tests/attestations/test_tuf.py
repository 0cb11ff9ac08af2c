"""GitHub's trusted root through TUF, against a TUF repository built here (keys made at test time,
served over http on 127.0.0.1 through release-kit's own HTTP client): refresh, key rotation,
offline use of a valid cache, and the refusals (expired, rolled back, badly signed)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (  # type: ignore[attr-defined]
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)

from release_kit.attestations.identity import IdentityPolicy
from release_kit.attestations.trust import TRUSTED_ROOT_TARGET, Trust, refresh_github_root
from release_kit.attestations.verify import VERIFIED, check_bundle
from tests.fakes.fixtures import ATTESTATIONS

GITHUB_ROOT = (ATTESTATIONS / "github_trusted_root.json").read_bytes()
NOW = datetime.now(UTC).replace(microsecond=0)


class Repository:
    """A consistent-snapshot TUF repository in a folder: one key per role, re-signed on publish."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        (folder / "targets").mkdir(parents=True)
        self.signers: dict[str, list[CryptoSigner]] = {r: [CryptoSigner.generate_ecdsa()] for r in ROLES}
        self.root = Metadata(Root(expires=NOW + timedelta(days=365)))
        for role, signers in self.signers.items():
            for signer in signers:
                self.root.signed.add_key(signer.public_key, role)
        self.timestamp = Metadata(Timestamp(expires=NOW + timedelta(days=1)))
        self.snapshot = Metadata(Snapshot(expires=NOW + timedelta(days=7)))
        self.targets = Metadata(Targets(expires=NOW + timedelta(days=30)))
        self.add_target(GITHUB_ROOT)
        self.publish_root()
        self.publish()

    def sign(self, metadata: Metadata[Any], role: str) -> None:
        metadata.signatures.clear()
        for signer in self.signers[role]:
            metadata.sign(signer, append=True)

    def root_bytes(self) -> bytes:
        return self.root.to_bytes()

    def publish_root(self, extra_signers: list[CryptoSigner] | None = None) -> None:
        self.sign(self.root, "root")
        for signer in extra_signers or []:
            self.root.sign(signer, append=True)
        (self.folder / f"{self.root.signed.version}.root.json").write_bytes(self.root.to_bytes())

    def add_target(self, data: bytes) -> None:
        target = TargetFile.from_data(TRUSTED_ROOT_TARGET, data)
        self.targets.signed.targets[TRUSTED_ROOT_TARGET] = target
        digest = hashlib.sha256(data).hexdigest()
        (self.folder / "targets" / f"{digest}.{TRUSTED_ROOT_TARGET}").write_bytes(data)

    def publish(self, *, timestamp_expires: datetime | None = None) -> None:
        """New versions of targets, snapshot and timestamp, signed and written."""
        self.targets.signed.version += 1
        self.sign(self.targets, "targets")
        (self.folder / f"{self.targets.signed.version}.targets.json").write_bytes(self.targets.to_bytes())
        self.snapshot.signed.version += 1
        self.snapshot.signed.meta["targets.json"] = MetaFile(version=self.targets.signed.version)
        self.sign(self.snapshot, "snapshot")
        (self.folder / f"{self.snapshot.signed.version}.snapshot.json").write_bytes(self.snapshot.to_bytes())
        self.timestamp.signed.version += 1
        self.timestamp.signed.snapshot_meta = MetaFile(version=self.snapshot.signed.version)
        self.timestamp.signed.expires = timestamp_expires or NOW + timedelta(days=1)
        self.sign(self.timestamp, "timestamp")
        (self.folder / "timestamp.json").write_bytes(self.timestamp.to_bytes())


ROLES = ("root", "timestamp", "snapshot", "targets")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return Repository(tmp_path / "repo")


@pytest.fixture
def url(repo: Repository) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(repo.folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def refresh(repo: Repository, url: str, cache: Path, bootstrap: bytes, **kwargs: Any) -> Any:
    return refresh_github_root(url=url, cache=cache, bootstrap=bootstrap, **kwargs)


def test_refresh_fetches_the_trusted_root_into_a_private_cache(repo: Repository, url: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    got = refresh(repo, url, cache, repo.root_bytes())
    assert got.path is not None and got.path.read_bytes() == GITHUB_ROOT
    assert got.note == f"GitHub's trusted root refreshed through TUF from {url}"
    for folder in (cache, cache / "metadata", cache / "targets"):
        assert folder.stat().st_mode & 0o777 == 0o700


def test_a_bundle_verifies_through_the_tuf_refreshed_root(repo: Repository, url: str, tmp_path: Path) -> None:
    trust = Trust(tuf_url=url, cache=tmp_path / "cache", bootstrap=repo.root_bytes())
    line = (ATTESTATIONS / "github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl").read_text().splitlines()[0]
    wheel = (ATTESTATIONS / "github_provenance_demo-0.0.12-py3-none-any.whl").read_bytes()
    policy = IdentityPolicy(repository="actions/attest-demo", source_ref="refs/heads/main")
    check = check_bundle(line.encode(), policy, {"sha256": hashlib.sha256(wheel).hexdigest()}, trust)
    assert check.status == VERIFIED and check.instance == "github"
    assert trust.notes == [f"GitHub's trusted root refreshed through TUF from {url}"]


def test_root_key_rotation_is_followed(repo: Repository, url: str, tmp_path: Path) -> None:
    bootstrap = repo.root_bytes()
    cache = tmp_path / "cache"
    assert refresh(repo, url, cache, bootstrap).path is not None
    old_root = repo.signers["root"]
    repo.signers["root"] = [CryptoSigner.generate_ecdsa()]
    repo.signers["timestamp"] = [CryptoSigner.generate_ecdsa()]
    for role in ("root", "timestamp"):
        for keyid in list(repo.root.signed.roles[role].keyids):
            repo.root.signed.revoke_key(keyid, role)
        repo.root.signed.add_key(repo.signers[role][0].public_key, role)
    repo.root.signed.version += 1
    repo.publish_root(extra_signers=old_root)  # the new root, signed by the old keys and the new
    repo.add_target(GITHUB_ROOT.replace(b'"GitHub, Inc."', b'"GitHub, Inc. "', 1))
    repo.publish()
    got = refresh(repo, url, cache, bootstrap)
    assert got.path is not None and b'"GitHub, Inc. "' in got.path.read_bytes()
    assert (cache / "metadata" / "root_history" / "2.root.json").is_file()


def test_a_root_not_signed_by_the_previous_keys_is_refused(repo: Repository, url: str, tmp_path: Path) -> None:
    bootstrap = repo.root_bytes()
    repo.signers["root"] = [CryptoSigner.generate_ecdsa()]
    for keyid in list(repo.root.signed.roles["root"].keyids):
        repo.root.signed.revoke_key(keyid, "root")
    repo.root.signed.add_key(repo.signers["root"][0].public_key, "root")
    repo.root.signed.version += 1
    repo.publish_root()  # signed by the new key only
    got = refresh(repo, url, tmp_path / "cache", bootstrap)
    assert got.path is None and "failed verification, not used" in got.note and "root" in got.note


def test_an_expired_timestamp_is_refused(repo: Repository, url: str, tmp_path: Path) -> None:
    repo.publish(timestamp_expires=NOW - timedelta(hours=1))
    got = refresh(repo, url, tmp_path / "cache", repo.root_bytes())
    assert got.path is None and "failed verification, not used" in got.note and "timestamp.json is expired" in got.note


def test_a_badly_signed_timestamp_is_refused(repo: Repository, url: str, tmp_path: Path) -> None:
    data = json.loads((repo.folder / "timestamp.json").read_text())
    data["signed"]["expires"] = (NOW + timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%SZ")  # signature now stale
    (repo.folder / "timestamp.json").write_text(json.dumps(data))
    got = refresh(repo, url, tmp_path / "cache", repo.root_bytes())
    assert got.path is None and "failed verification, not used" in got.note


def test_a_rolled_back_timestamp_is_refused(repo: Repository, url: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    old = (repo.folder / "timestamp.json").read_bytes()
    repo.publish()
    assert refresh(repo, url, cache, repo.root_bytes()).path is not None  # the cache now knows version 2
    (repo.folder / "timestamp.json").write_bytes(old)  # validly signed, older
    got = refresh(repo, url, cache, repo.root_bytes())
    assert got.path is None and "failed verification, not used" in got.note and "BadVersionNumberError" in got.note


def test_offline_a_valid_cache_is_used_and_said(repo: Repository, url: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert refresh(repo, url, cache, repo.root_bytes()).path is not None
    closed = "http://127.0.0.1:9/tuf"
    got = refresh(repo, closed, cache, repo.root_bytes())
    assert got.path is not None and got.path.read_bytes() == GITHUB_ROOT
    assert "cannot be reached" in got.note and "from the cache (offline" in got.note
    stale = refresh(repo, closed, cache, repo.root_bytes(), now=NOW + timedelta(days=2))
    assert stale.path is None and "timestamp metadata expired" in stale.note
    (cache / "targets" / TRUSTED_ROOT_TARGET).write_bytes(GITHUB_ROOT + b" ")
    tampered = refresh(repo, closed, cache, repo.root_bytes())
    assert tampered.path is None and "does not verify" in tampered.note


def test_offline_with_nothing_cached_says_why(tmp_path: Path) -> None:
    trust = Trust(tuf_url="http://127.0.0.1:9/tuf", cache=tmp_path / "cache")
    root, why = trust.github()
    assert root is None and "cannot be reached" in why and "nothing is cached" in why


def test_a_custom_root_makes_no_tuf_request(tmp_path: Path) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no TUF request may be made with --custom-trusted-root")

    trust = Trust(custom=ATTESTATIONS / "github_trusted_root.json", fetcher=refuse)  # type: ignore[arg-type]
    root, why = trust.github()
    assert root is not None and why == "" and not (tmp_path / "cache").exists()


def test_offline_a_tampered_cache_is_refused(repo: Repository, url: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert refresh(repo, url, cache, repo.root_bytes()).path is not None
    cached = cache / "metadata" / "timestamp.json"
    data = json.loads(cached.read_text())
    data["signed"]["expires"] = (NOW + timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%SZ")  # stretched by hand
    cached.write_text(json.dumps(data))
    got = refresh(repo, "http://127.0.0.1:9/tuf", cache, repo.root_bytes())
    assert got.path is None and "cached metadata does not verify" in got.note
