"""verify-release for private repositories (GitHub's Sigstore instance, --custom-trusted-root) and
immutable releases (GitHub's release attestation, --require-immutable), against the fake GitHub.

The fake serves attestations by sha256 only; the release attestation (listed by the tag's commit,
``sha1:``) is served here, in the shape of GitHub's list-attestations answer."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from release_kit.attestations.trust import Trust
from release_kit.cli import run_cli
from release_kit.github.client import GitHubClient
from release_kit.http import RetryPolicy
from release_kit.verify_release.immutable import RELEASE_PREDICATE
from release_kit.verify_release.run import run
from tests.attestations.local_instance import RELEASE_SIGNER, LocalInstance, Signer, statement
from tests.fakes.clock import FakeClock
from tests.fakes.fixtures import ATTESTATIONS
from tests.fakes.github import FakeGitHub, serve

WHEEL = "github_provenance_demo-0.0.12-py3-none-any.whl"
GITHUB_ROOT = ATTESTATIONS / "github_trusted_root.json"
PUBLIC_ROOT = ATTESTATIONS / "trusted_root.json"
COMMIT = "c5e17a62e06a1d201570249c61fae531e9244e1b"
APP = "app-1.0.0.tar.gz"
PROVENANCE = "https://slsa.dev/provenance/v1"
WORKFLOW = ".github/workflows/fake.yml@refs/tags/v1.0.0"


@pytest.fixture(scope="module")
def instance() -> LocalInstance:
    return LocalInstance()


class ReleaseAttestations:
    """The fake GitHub, plus the attestations of commits (``/attestations/sha1:...``)."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.by_commit: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[str] = []
        self.inner = fake.transport()

    def handle(self, request: httpx.Request) -> httpx.Response:
        if m := re.search(r"/attestations/sha1:([0-9a-f]{40})$", request.url.path):
            self.requests.append(f"{request.url.path}?{request.url.query.decode()}")
            found = self.by_commit.get(m.group(1))
            if not found:
                return httpx.Response(404, json={"message": "Not Found"})
            return httpx.Response(200, json={"attestations": [{"bundle": b, "repository_id": 1} for b in found]})
        return self.inner.handle_request(request)


def release_statement(repository: str, tag: str, assets: dict[str, bytes], commit: str = COMMIT) -> dict[str, Any]:
    subjects: list[dict[str, Any]] = [{"uri": f"pkg:github/{repository}@{tag}", "digest": {"sha1": commit}}]
    subjects += [{"name": n, "digest": {"sha256": hashlib.sha256(d).hexdigest()}} for n, d in assets.items()]
    predicate = {"ownerId": "1", "purl": f"pkg:github/{repository}@{tag}", "releaseId": "7", "repository": repository,
                 "repositoryId": "9", "tag": tag}  # fmt: skip
    return statement(subjects, RELEASE_PREDICATE, predicate)


def immutable_release(
    instance: LocalInstance,
    *,
    immutable: bool = True,
    attested: dict[str, bytes] | None = None,
    signer: str = RELEASE_SIGNER,
    tag_in_predicate: str = "v1.0.0",
) -> ReleaseAttestations:
    """octo-org/app v1.0.0 with one asset, its provenance from the local instance, and (unless
    ``attested`` is empty) GitHub's release attestation of ``attested`` (default: the real asset)."""
    fake = FakeGitHub(owner="octo-org", repo="app")
    release = fake.add_release("v1.0.0", draft=False, immutable=immutable)
    data = b"app bytes"
    fake.add_asset(release, APP, data)
    fake.add_ref("tags/v1.0.0", COMMIT)
    build = statement([{"name": APP, "digest": {"sha256": hashlib.sha256(data).hexdigest()}}], PROVENANCE, {})
    fake.attest_bundle(
        hashlib.sha256(data).hexdigest(), instance.bundle(build, Signer.workflow_run("octo-org/app")), by_url=False
    )
    served = ReleaseAttestations(fake)
    attested = {APP: data} if attested is None else attested
    if attested:
        body = release_statement("octo-org/app", tag_in_predicate, attested)
        served.by_commit[COMMIT] = [instance.bundle(body, Signer(san=signer, issuer=""))]
    return served


def verify(
    served: ReleaseAttestations | FakeGitHub, tmp_path: Path, trust: Trust | None = None, **options: Any
) -> tuple[int, dict[str, Any]]:
    fake = served.fake if isinstance(served, ReleaseAttestations) else served
    transport = httpx.MockTransport(served.handle) if isinstance(served, ReleaseAttestations) else fake.transport()
    args: dict[str, Any] = {
        "repo": fake.full_name, "tag": "v1.0.0", "expect": [APP], "config_path": None, "signer_workflow": None,
        "source_ref": None, "oidc_issuer": None, "allow_self_hosted": False, "allow_extra": False,
        "offline_bundles": None, "report_path": tmp_path / "report.json", "fmt": "text",
    }  # fmt: skip
    args.update(options)
    gh = GitHubClient(token="ghs_verify", transport=transport, policy=RetryPolicy(clock=FakeClock()))
    code = run(**args, client=gh, trust=trust)
    return int(code), json.loads((tmp_path / "report.json").read_text())


def local_trust(instance: LocalInstance, tmp_path: Path) -> Trust:
    return Trust(custom=instance.write_root(tmp_path / "trusted_root.json"))


# --- GitHub's instance, --custom-trusted-root -------------------------------------------------


def private_release(*, by_url: bool = True) -> FakeGitHub:
    fake = FakeGitHub(owner="actions", repo="attest-demo")
    release = fake.add_release("v1.0.0", draft=False)
    data = (ATTESTATIONS / WHEEL).read_bytes()
    fake.add_asset(release, WHEEL, data)
    line = (ATTESTATIONS / "github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl").read_text().splitlines()[0]
    fake.attest_bundle(hashlib.sha256(data).hexdigest(), json.loads(line), by_url=by_url)
    return fake


def test_a_private_repository_release_verifies_with_githubs_trusted_root(tmp_path: Path) -> None:
    fake = private_release()
    code, report = verify(fake, tmp_path, expect=[WHEEL], source_ref="refs/heads/main", custom_trusted_root=GITHUB_ROOT)
    assert code == 0 and report["passed"] is True
    (asset,) = report["assets"]
    assert asset["status"] == "verified" and asset["attestations"][0]["instance"] == "github"
    assert report["trust"] == [f"every bundle verified against {GITHUB_ROOT} alone (--custom-trusted-root)"]


def test_the_same_release_fails_against_the_public_good_root(tmp_path: Path) -> None:
    code, report = verify(private_release(), tmp_path, expect=[WHEEL], source_ref="refs/heads/main",
                          custom_trusted_root=PUBLIC_ROOT)  # fmt: skip
    assert code == 1 and report["assets"][0]["status"] == "unverified"
    assert report["assets"][0]["attestations"][0]["reasons"][0].startswith("timestamp: ")


def test_the_option_works_from_the_command_line_and_refuses_a_missing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = private_release(by_url=False)  # a served fake has no bundle storage host
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GITHUB_TOKEN", "ghs_cliToken0042")
        base = ["verify-release", "--repo", fake.full_name, "--tag", "v1.0.0", "--expect", WHEEL,
                "--source-ref", "refs/heads/main"]  # fmt: skip
        assert run_cli([*base, "--custom-trusted-root", str(GITHUB_ROOT)]) == 0
        out = capsys.readouterr().out
        assert "trusted root: every bundle verified against" in out and "ghs_cliToken0042" not in out
        assert run_cli([*base, "--custom-trusted-root", str(tmp_path / "nope.json")]) == 2
        assert "--custom-trusted-root" in capsys.readouterr().err


# --- immutable releases -----------------------------------------------------------------------


def test_an_immutable_release_with_its_release_attestation_verifies(instance: LocalInstance, tmp_path: Path) -> None:
    served = immutable_release(instance)
    code, report = verify(served, tmp_path, local_trust(instance, tmp_path), require_immutable=True)
    assert code == 0 and report["passed"] is True and report["immutable"] is True
    assert report["release_attestation"] == {
        "status": "verified",
        "commit": COMMIT,
        "instance": "github",
        "reasons": [],
    }
    assert served.requests == [f"/repos/octo-org/app/attestations/sha1:{COMMIT}?per_page=100&predicate_type=release"]


def test_require_immutable_fails_a_release_that_is_not(instance: LocalInstance, tmp_path: Path) -> None:
    served = immutable_release(instance, immutable=False, attested={})
    trust = local_trust(instance, tmp_path)
    code, report = verify(served, tmp_path, trust)
    assert code == 0 and report["immutable"] is False and report["release_attestation"]["status"] == "missing"
    code, report = verify(served, tmp_path, trust, require_immutable=True)
    assert code == 1 and report["reasons"] == ["the release is not immutable (--require-immutable)"]
    assert report["assets"][0]["status"] == "verified"  # the assets themselves are fine


def test_require_immutable_needs_the_release_attestation_verified(instance: LocalInstance, tmp_path: Path) -> None:
    served = immutable_release(instance, attested={})  # immutable, but no attestation is found
    code, report = verify(served, tmp_path, local_trust(instance, tmp_path), require_immutable=True)
    assert code == 1 and report["reasons"][0].startswith(
        "the release attestation is not verified (--require-immutable)"
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"attested": {APP: b"other bytes"}}, f"names '{APP}' with sha256:"),
        ({"attested": {APP: b"app bytes", "extra.bin": b"x"}}, "names the asset 'extra.bin', which is not on"),
        ({"attested": {"other.tgz": b"x"}}, f"does not name the asset {APP}"),
        ({"signer": f"https://github.com/octo-org/app/{WORKFLOW}"}, "not by GitHub's release signer"),
    ],
)
def test_a_release_attestation_that_disagrees_with_the_release_fails_it(
    instance: LocalInstance, tmp_path: Path, change: dict[str, Any], reason: str
) -> None:
    trust = local_trust(instance, tmp_path)
    code, report = verify(immutable_release(instance, **change), tmp_path, trust, require_immutable=True)
    assert code == 1 and report["release_attestation"]["status"] == "unverified"
    assert any(reason in r for r in report["release_attestation"]["reasons"]), report["release_attestation"]
    (failure,) = report["reasons"]  # said once, --require-immutable or not
    assert failure.startswith("GitHub's release attestation does not match the release")


def test_another_tags_release_attestation_of_the_same_commit_is_not_this_ones(
    instance: LocalInstance, tmp_path: Path
) -> None:
    served = immutable_release(instance, tag_in_predicate="v0.9.0")
    code, report = verify(served, tmp_path, local_trust(instance, tmp_path), require_immutable=True)
    assert code == 1 and report["release_attestation"]["status"] == "missing"
    other = served.by_commit[COMMIT][0]
    other["dsseEnvelope"]["signatures"][0]["sig"] = "AAAA"  # broken, but another tag's: not this release's
    good = immutable_release(instance).by_commit[COMMIT][0]
    served.by_commit[COMMIT] = [other, good]
    code, report = verify(served, tmp_path, local_trust(instance, tmp_path), require_immutable=True)
    assert code == 0 and report["release_attestation"]["status"] == "verified"


def test_a_tampered_release_attestation_is_refused(instance: LocalInstance, tmp_path: Path) -> None:
    served = immutable_release(instance)
    bundle = served.by_commit[COMMIT][0]
    bundle["dsseEnvelope"]["payload"] = bundle["dsseEnvelope"]["payload"][:-8] + "AAAAAAA="
    code, report = verify(served, tmp_path, local_trust(instance, tmp_path))
    assert code == 1 and report["release_attestation"]["status"] == "unverified"
    assert report["release_attestation"]["reasons"][0].startswith("signature: ")


def test_the_release_attestation_is_unverifiable_without_githubs_root(instance: LocalInstance, tmp_path: Path) -> None:
    served = immutable_release(instance)
    offline = Trust(tuf_url="http://127.0.0.1:9/tuf", cache=tmp_path / "empty-cache")
    code, report = verify(served, tmp_path, offline)
    assert code == 1  # the asset's own provenance cannot be checked either
    assert report["release_attestation"]["status"] == "unverifiable"
    assert "nothing is cached" in report["release_attestation"]["reasons"][0]


def test_text_and_summary_say_immutable_and_the_release_attestation(
    instance: LocalInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    served = immutable_release(instance, immutable=False, attested={})
    code, _ = verify(served, tmp_path, local_trust(instance, tmp_path), require_immutable=True)
    out = capsys.readouterr().out
    assert code == 1 and "immutable release: no" in out and "FAILED: the release is not immutable" in out
    assert "::error title=release::the release is not immutable (--require-immutable)" in out
    assert "- immutable release: no" in summary.read_text()


def test_assets_not_downloaded_are_matched_by_githubs_digest(instance: LocalInstance, tmp_path: Path) -> None:
    served = immutable_release(instance, attested={APP: b"app bytes", "NOTES.txt": b"notes"})
    served.fake.add_asset(served.fake.release_by_tag("v1.0.0"), "NOTES.txt", b"notes")
    trust = local_trust(instance, tmp_path)
    code, report = verify(served, tmp_path, trust, allow_extra=True, require_immutable=True)
    assert code == 0 and report["release_attestation"]["status"] == "verified"
    served.fake.assets_of("v1.0.0")["NOTES.txt"]["digest"] = "sha256:" + "0" * 64  # not what was attested
    code, report = verify(served, tmp_path, trust, allow_extra=True)
    assert code == 1 and "names 'NOTES.txt' with sha256:" in report["release_attestation"]["reasons"][0]


def test_a_public_good_release_verifies_against_a_custom_root_that_lists_its_log(tmp_path: Path) -> None:
    fake = FakeGitHub(owner="malancas", repo="attest-demo")
    release = fake.add_release("v1.0.0", draft=False)
    data = (ATTESTATIONS / "reusable-workflow-artifact").read_bytes()
    fake.add_asset(release, "reusable-workflow-artifact", data)
    bundle = json.loads((ATTESTATIONS / "reusable-workflow-attestation.sigstore.json").read_text())
    fake.attest_bundle(hashlib.sha256(data).hexdigest(), bundle, by_url=False)
    options: dict[str, Any] = {
        "expect": ["reusable-workflow-artifact"],
        "source_ref": "refs/heads/main",
        "signer_workflow": "github/artifact-attestations-workflows/.github/workflows/attest.yml",
    }
    code, report = verify(fake, tmp_path, custom_trusted_root=PUBLIC_ROOT, **options)
    assert code == 0 and report["assets"][0]["attestations"][0]["instance"] == "public-good"
    code, report = verify(fake, tmp_path, custom_trusted_root=GITHUB_ROOT, **options)  # that root alone: no log
    assert code == 1 and "lists no transparency log" in report["assets"][0]["attestations"][0]["reasons"][0]
