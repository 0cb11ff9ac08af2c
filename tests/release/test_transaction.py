"""release upload / publish against a fake GitHub releases API built from the recorded payloads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from release_kit.errors import AccessError, InputError
from release_kit.github.client import GitHubClient, parse_repo
from release_kit.http import RetryPolicy
from release_kit.release.models import Asset, ReleasePlan, Role
from release_kit.release.remote import NotPublishable
from release_kit.release.transaction import publish, upload
from tests.fakes.clock import FakeClock
from tests.fakes.github import FakeGitHub

REPO = parse_repo("octo-org/app")


@pytest.fixture
def fake() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
def gh(fake: FakeGitHub) -> GitHubClient:
    return GitHubClient(token="ghs_test", transport=fake.transport(), policy=RetryPolicy(clock=FakeClock()))


@pytest.fixture
def plan(tmp_path: Path) -> ReleasePlan:
    files = {
        "starter_contracts-1.2.3-py3-none-any.whl": (b"wheel-bytes-1" * 100, Role.WHEEL),
        "starter_contracts-sbom.json": (b'{"bomFormat": "CycloneDX"}', Role.SBOM),
        "frontend-sbom.json": (b'{"bomFormat": "CycloneDX", "x": 1}', Role.SBOM),
    }
    assets = []
    for name, (data, role) in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        assets.append(Asset(name=name, path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest(), role=role))
    sums = tmp_path / "SHA256SUMS"
    sums.write_text("".join(f"{a.sha256}  {a.name}\n" for a in assets))
    data = sums.read_bytes()
    assets.append(Asset(name="SHA256SUMS", path=sums, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                        role=Role.CHECKSUMS))  # fmt: skip
    return ReleasePlan(repository="octo-org/app", tag="v1.2.3", version="1.2.3", prerelease=False, assets=assets)


def remote_state(fake: FakeGitHub, plan: ReleasePlan) -> dict[str, str | None]:
    return {name: a["digest"] for name, a in fake.assets_of(plan.tag).items()}


def expected(plan: ReleasePlan) -> dict[str, str | None]:
    return {a.name: f"sha256:{a.sha256}" for a in plan.assets}


def test_fresh_upload_creates_one_draft_with_notes_and_provenance(
    fake: FakeGitHub, gh: GitHubClient, plan: ReleasePlan
) -> None:
    report = upload(gh, REPO, plan)
    assert [r["draft"] for r in fake.releases] == [True]
    assert remote_state(fake, plan) == expected(plan)
    assert {a.action for a in report.assets} == {"uploaded"}
    body = fake.releases[0]["body"]
    assert "## What's Changed" in body and "## Provenance" in body and plan.assets[0].sha256 in body


def test_rerunning_upload_makes_no_second_upload(fake: FakeGitHub, gh: GitHubClient, plan: ReleasePlan) -> None:
    upload(gh, REPO, plan)
    uploads = list(fake.uploads)
    report = upload(gh, REPO, plan)
    assert fake.uploads == uploads and len(fake.releases) == 1
    assert {a.action for a in report.assets} == {"skipped"}


def test_a_502_on_an_upload_that_landed_is_not_uploaded_twice(
    fake: FakeGitHub, gh: GitHubClient, plan: ReleasePlan
) -> None:
    fake.land_then_fail.add("starter_contracts-sbom.json")
    upload(gh, REPO, plan)
    assert fake.uploads.count("starter_contracts-sbom.json") == 1
    assert remote_state(fake, plan) == expected(plan)


def test_422_already_exists_is_resolved_by_re_reading(fake: FakeGitHub, gh: GitHubClient, plan: ReleasePlan) -> None:
    fake.exists_then_422.add("SHA256SUMS")
    report = upload(gh, REPO, plan)
    assert fake.uploads.count("SHA256SUMS") == 1
    assert remote_state(fake, plan) == expected(plan)
    assert {a.name: a.action for a in report.assets}["SHA256SUMS"] == "uploaded"  # found on re-reading: it landed


def test_a_reset_midway_leaves_a_starter_asset_that_is_replaced(
    fake: FakeGitHub, gh: GitHubClient, plan: ReleasePlan
) -> None:
    wheel = plan.assets[0].name
    fake.reset_midway.add(wheel)
    upload(gh, REPO, plan)
    assert fake.uploads.count(wheel) == 2
    assert remote_state(fake, plan) == expected(plan)


def test_already_exists_starter_and_stray_assets_on_an_existing_draft(
    fake: FakeGitHub, gh: GitHubClient, plan: ReleasePlan
) -> None:
    draft = fake.add_release("v1.2.3", draft=True)
    fake.add_asset(draft, "starter_contracts-sbom.json", b"old bytes")  # a different digest: replaced
    fake.add_asset(draft, "frontend-sbom.json", b"half", state="starter")  # half-uploaded: replaced
    fake.add_asset(draft, "SHA256SUMS", plan.assets[3].path.read_bytes())  # identical: skipped
    fake.add_asset(draft, "notes.txt", b"not planned")  # not in the plan: deleted
    report = upload(gh, REPO, plan)
    assert len(fake.releases) == 1  # the existing draft is reused, never a second one
    assert remote_state(fake, plan) == expected(plan)
    actions = {a.name: a.action for a in report.assets}
    assert actions == {
        "starter_contracts-1.2.3-py3-none-any.whl": "uploaded",
        "starter_contracts-sbom.json": "replaced",
        "frontend-sbom.json": "replaced",
        "SHA256SUMS": "skipped",
        "notes.txt": "deleted",
    }


def test_a_published_release_that_differs_is_never_changed(
    fake: FakeGitHub, gh: GitHubClient, plan: ReleasePlan
) -> None:
    published = fake.add_release("v1.2.3", draft=False, immutable=True)
    fake.add_asset(published, plan.assets[0].name, b"other wheel")
    with pytest.raises(InputError, match=r"already published and differs.*cut a new version"):
        upload(gh, REPO, plan)
    assert fake.uploads == [] and [a["name"] for a in fake.release_assets[published["id"]]] == [plan.assets[0].name]


def test_a_published_release_that_matches_is_left_alone(fake: FakeGitHub, gh: GitHubClient, plan: ReleasePlan) -> None:
    published = fake.add_release("v1.2.3", draft=False, immutable=True)
    for asset in plan.assets:
        fake.add_asset(published, asset.name, asset.path.read_bytes())
    assert {a.action for a in upload(gh, REPO, plan).assets} == {"skipped"}
    assert fake.uploads == []


def test_publish_verifies_every_asset_with_the_verify_release_code(
    fake: FakeGitHub, gh: GitHubClient, tmp_path: Path
) -> None:
    """A real artifact and its real bundle: publish checks the signature, identity and subject digest."""
    import json

    from release_kit.attestations.identity import IdentityPolicy
    from tests.fakes.fixtures import ATTESTATIONS

    artifact = tmp_path / "reusable-workflow-artifact"
    artifact.write_bytes((ATTESTATIONS / "reusable-workflow-artifact").read_bytes())
    sha = hashlib.sha256(artifact.read_bytes()).hexdigest()
    asset = Asset(name=artifact.name, path=artifact, size=artifact.stat().st_size, sha256=sha, role=Role.WHEEL)
    plan = ReleasePlan(
        repository="malancas/attest-demo", tag="v1.0.0", version="1.0.0", prerelease=False, assets=[asset]
    )
    repo = parse_repo("malancas/attest-demo")
    fake.owner, fake.repo = "malancas", "attest-demo"
    upload(gh, repo, plan)
    with pytest.raises(
        NotPublishable,
        match=r"reusable-workflow-artifact: no valid https://slsa\.dev/provenance/v1 attestation \(none found\)",
    ):
        publish(gh, repo, plan, require_attestations=True)
    fake.attest_bundle(
        sha, json.loads((ATTESTATIONS / "reusable-workflow-attestation.sigstore.json").read_text()), by_url=True
    )
    with pytest.raises(NotPublishable, match="signer workflow is"):  # signed by a reusable workflow elsewhere
        publish(gh, repo, plan, require_attestations=True)
    assert fake.release_by_tag("v1.0.0")["draft"] is True
    policy = IdentityPolicy(
        repository="malancas/attest-demo",
        source_ref="refs/heads/main",
        signer_workflow="github/artifact-attestations-workflows/.github/workflows/attest.yml",
    )
    report = publish(gh, repo, plan, require_attestations=True, policy=policy)
    assert fake.release_by_tag("v1.0.0")["draft"] is False
    assert report.attestations == {"reusable-workflow-artifact": "verified"}


def test_publish_refuses_a_draft_that_differs(fake: FakeGitHub, gh: GitHubClient, plan: ReleasePlan) -> None:
    upload(gh, REPO, plan)
    asset = fake.assets_of("v1.2.3")["frontend-sbom.json"]
    asset["digest"] = "sha256:" + "0" * 64
    with pytest.raises(NotPublishable, match=r"frontend-sbom\.json is uploaded with sha256:0000"):
        publish(gh, REPO, plan, require_attestations=False)


def test_publish_without_a_draft_is_not_ok(gh: GitHubClient, plan: ReleasePlan) -> None:
    with pytest.raises(NotPublishable, match=r"run .release-kit release upload. first"):
        publish(gh, REPO, plan, require_attestations=False)


def test_a_token_that_cannot_write_gets_the_permissions_block(
    fake: FakeGitHub, gh: GitHubClient, plan: ReleasePlan
) -> None:
    fake.fail("POST", r"/releases$", 403, body={"message": "Resource not accessible by integration"})
    with pytest.raises(AccessError) as info:
        upload(gh, REPO, plan)
    assert "contents: write" in info.value.one_line() and "id-token: write" in info.value.one_line()
