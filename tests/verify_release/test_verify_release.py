"""verify-release against the fake releases and attestations API, with real Sigstore bundles."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from release_kit.github.client import GitHubClient
from release_kit.http import RetryPolicy
from release_kit.verify_release.run import run
from tests.fakes.clock import FakeClock
from tests.fakes.fixtures import ATTESTATIONS
from tests.fakes.github import FakeGitHub

ARTIFACT = "reusable-workflow-artifact"
SIGNER = "github/artifact-attestations-workflows/.github/workflows/attest.yml"


def bundle(name: str) -> dict[str, Any]:
    return dict(json.loads((ATTESTATIONS / name).read_text()))


@pytest.fixture
def fake() -> FakeGitHub:
    fake = FakeGitHub(owner="malancas", repo="attest-demo")
    release = fake.add_release("v1.0.0", draft=False)
    data = (ATTESTATIONS / ARTIFACT).read_bytes()
    fake.add_asset(release, ARTIFACT, data)
    sha = hashlib.sha256(data).hexdigest()
    fake.attest_bundle(sha, bundle("custom-issuer.sigstore.json"), by_url=False)  # another subject: listed, not used
    fake.attest_bundle(sha, bundle("reusable-workflow-attestation.sigstore.json"), by_url=True)
    return fake


def verify(fake: FakeGitHub, tmp_path: Path, **options: Any) -> tuple[int, dict[str, Any]]:
    args: dict[str, Any] = {
        "repo": fake.full_name,
        "tag": "v1.0.0",
        "expect": [ARTIFACT],
        "config_path": None,
        "signer_workflow": SIGNER,
        "source_ref": "refs/heads/main",
        "oidc_issuer": None,
        "allow_self_hosted": False,
        "allow_extra": False,
        "offline_bundles": None,
        "report_path": tmp_path / "report.json",
        "fmt": "text",
    }
    args.update(options)
    gh = GitHubClient(token="ghs_verify", transport=fake.transport(), policy=RetryPolicy(clock=FakeClock()))
    code = run(**args, client=gh)
    return int(code), json.loads((tmp_path / "report.json").read_text())


def test_a_release_with_a_real_attestation_verifies(fake: FakeGitHub, tmp_path: Path) -> None:
    code, report = verify(fake, tmp_path)
    assert code == 0 and report["passed"] is True
    (asset,) = report["assets"]
    assert asset["name"] == ARTIFACT and asset["status"] == "verified" and asset["verified"] is True
    assert asset["digest"] == "sha256:" + hashlib.sha256((ATTESTATIONS / ARTIFACT).read_bytes()).hexdigest()
    statuses = sorted(a["status"] for a in asset["attestations"])
    assert statuses == ["unverified", "verified"]  # the other subject's bundle is listed with its reasons
    assert set(report) == {
        "repository", "tag", "release_url", "passed", "assets", "immutable", "release_attestation", "trust", "reasons"
    }  # fmt: skip
    assert report["immutable"] is False and report["release_attestation"]["status"] == "missing"
    assert report["trust"] == []  # public-good bundles only: GitHub's TUF repository is never asked


def test_the_default_policy_rejects_a_signer_from_another_repository(fake: FakeGitHub, tmp_path: Path) -> None:
    code, report = verify(fake, tmp_path, signer_workflow=None)
    assert code == 1
    good = next(a for a in report["assets"][0]["attestations"] if a["predicate_type"])
    assert any(r.startswith("signer workflow") for r in good["reasons"])
    code, report = verify(fake, tmp_path, source_ref=None)  # default refs/tags/v1.0.0; it was built from main
    assert code == 1


def test_missing_and_unexpected_assets(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.add_asset(fake.release_by_tag("v1.0.0"), "notes.txt", b"extra")
    code, report = verify(fake, tmp_path, expect=[ARTIFACT, "starter_contracts-*.whl"])
    statuses = {a["name"]: a["status"] for a in report["assets"]}
    assert code == 1 and statuses == {
        "starter_contracts-*.whl": "missing",
        "notes.txt": "unexpected",
        ARTIFACT: "verified",
    }
    code, report = verify(fake, tmp_path, allow_extra=True)
    assert code == 0 and {a["status"] for a in report["assets"]} == {"unexpected", "verified"}


def test_a_starter_asset_and_a_digest_mismatch_fail(fake: FakeGitHub, tmp_path: Path) -> None:
    asset = fake.assets_of("v1.0.0")[ARTIFACT]
    asset["digest"] = "sha256:" + "0" * 64
    code, report = verify(fake, tmp_path)
    assert code == 1 and "differs from the downloaded bytes" in report["assets"][0]["reasons"][0]
    asset["state"] = "starter"
    code, report = verify(fake, tmp_path)
    assert code == 1 and "state is 'starter'" in report["assets"][0]["reasons"][0]


def test_only_a_draft_is_not_a_release(tmp_path: Path) -> None:
    fake = FakeGitHub(owner="malancas", repo="attest-demo")
    fake.add_release("v1.0.0", draft=True)
    code, report = verify(fake, tmp_path)
    assert code == 1 and report["assets"][0]["status"] == "missing"
    assert "only a draft" in report["assets"][0]["reasons"][0]


def test_offline_bundles_need_no_token_and_no_attestation_api(fake: FakeGitHub, tmp_path: Path) -> None:
    folder = tmp_path / "bundles"
    folder.mkdir()
    shutil.copy(ATTESTATIONS / "reusable-workflow-attestation.sigstore.json", folder / f"{ARTIFACT}.sigstore.json")
    code, report = verify(fake, tmp_path, offline_bundles=folder)
    assert code == 0 and report["assets"][0]["status"] == "verified"
    assert not any("/attestations/" in r.url.path for r in fake.requests)


def test_a_private_instance_bundle_is_unverifiable_never_verified(tmp_path: Path) -> None:
    fake = FakeGitHub(owner="bdehamer", repo="github-provenance-demo")
    release = fake.add_release("v0.0.12", draft=False)
    wheel = "github_provenance_demo-0.0.12-py3-none-any.whl"
    data = (ATTESTATIONS / wheel).read_bytes()
    fake.add_asset(release, wheel, data)
    line = (ATTESTATIONS / "github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl").read_text().splitlines()[0]
    fake.attest_bundle(hashlib.sha256(data).hexdigest(), json.loads(line), by_url=True)
    code, report = verify(fake, tmp_path, tag="v0.0.12", expect=[wheel], signer_workflow=None, source_ref="any")
    assert code == 1
    assert report["assets"][0]["status"] == "unverifiable" and report["assets"][0]["verified"] is False
    (check,) = report["assets"][0]["attestations"]
    assert check["instance"] == "github" and "cannot be reached" in check["reasons"][0]
    assert "nothing is cached" in check["reasons"][0] and "nothing is cached" in report["trust"][0]


def test_every_page_of_attestations_is_read(fake: FakeGitHub, tmp_path: Path) -> None:
    sha = hashlib.sha256((ATTESTATIONS / ARTIFACT).read_bytes()).hexdigest()
    good = fake.attestations[sha].pop()  # move the good one behind 100 others
    for _ in range(100):
        fake.attest_bundle(sha, bundle("custom-issuer.sigstore.json"), by_url=False)
    fake.attestations[sha].append(good)
    code, report = verify(fake, tmp_path)
    assert code == 0 and len(report["assets"][0]["attestations"]) == 102


def test_the_action_way_over_http(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    from release_kit.cli import run_cli
    from tests.fakes.github import serve
    from tests.test_gha import parse_outputs

    fake = FakeGitHub(owner="malancas", repo="attest-demo")
    release = fake.add_release("v1.0.0", draft=False)
    data = (ATTESTATIONS / ARTIFACT).read_bytes()
    fake.add_asset(release, ARTIFACT, data)
    fake.attest_bundle(
        hashlib.sha256(data).hexdigest(), bundle("reusable-workflow-attestation.sigstore.json"), by_url=False
    )
    root = Path(__file__).resolve().parents[2]
    action = yaml.safe_load((root / "verify-release/action.yml").read_text())
    with serve(fake) as url:
        env = {
            "GITHUB_API_URL": url, "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "out"),
            "RK_REPO": fake.full_name, "RK_TAG": "v1.0.0", "RK_EXPECT": ARTIFACT, "RK_SIGNER_WORKFLOW": SIGNER,
            "RK_SOURCE_REF": "refs/heads/main", "RK_OIDC_ISSUER": "", "RK_ALLOW_SELF_HOSTED": "false",
            "RK_ALLOW_EXTRA": "false", "RK_TOKEN": "ghs_verifyToken0042", "RK_REPORT": str(tmp_path / "r.json"),
        }  # fmt: skip
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        assert run_cli(["verify-release"]) == 0
    outputs = parse_outputs((tmp_path / "out").read_text())
    assert set(outputs) == set(action["outputs"]) and outputs["passed"] == "true"
    assert "ghs_verifyToken0042" not in capsys.readouterr().out.replace("::add-mask::ghs_verifyToken0042", "")
