"""deploy.require_attestations: every digest deploy or rollback would run must carry a build-provenance
attestation from this repository's release workflow. Bundles are signed in the tests through a local
Sigstore instance shaped like GitHub's (a test CA and TSA, their trusted root) and served by the
GitHub fake's attestations API."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from release_kit.image_refs import ImageRef
from release_kit.rollout.attested import NotAttested, require_attested
from release_kit.target.settings import DeploySettings
from tests.attestations.local_instance import LocalInstance, Signer, statement
from tests.fakes.github import FakeGitHub, serve

PROVENANCE = "https://slsa.dev/provenance/v1"
SETTINGS = DeploySettings.model_validate({"require_attestations": True})


@pytest.fixture(scope="module")
def instance() -> LocalInstance:
    return LocalInstance()


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GITHUB_TOKEN", "ghs_deployToken1234567890")
        monkeypatch.setenv("GITHUB_REPOSITORY", fake.full_name)
        yield fake


def image(name: str) -> tuple[str, ImageRef]:
    digest = secrets.token_hex(32)
    return digest, ImageRef(repository=f"ghcr.io/acme/{name}", digest=f"sha256:{digest}", tag="1.4.0")


def attest(instance: LocalInstance, github: FakeGitHub, digest: str, name: str, signer: Signer) -> dict[str, Any]:
    subject = [{"name": f"ghcr.io/acme/{name}", "digest": {"sha256": digest}}]
    bundle = instance.bundle(statement(subject, PROVENANCE, {"buildDefinition": {}}), signer)
    github.attest_bundle(digest, bundle, by_url=False)
    return bundle


def test_attested_images_pass_with_evidence(instance: LocalInstance, github: FakeGitHub, tmp_path: Path) -> None:
    root = instance.write_root(tmp_path / "trusted_root.json")
    images = {}
    for name in ("api", "web"):
        digest, ref = image(name)
        attest(instance, github, digest, name, Signer.workflow_run(github.full_name, ref="refs/tags/v1.4.0"))
        images[name] = ref
    evidence = require_attested(SETTINGS, images, repository=github.full_name, custom_trusted_root=root)
    assert [line.split(" ")[0] for line in evidence] == ["api", "web"]


@pytest.mark.parametrize("case", ["other repository", "other workflow", "tampered", "none"])
def test_a_digest_that_is_not_ours_is_named_and_refused(
    case: str, instance: LocalInstance, github: FakeGitHub, tmp_path: Path
) -> None:
    root = instance.write_root(tmp_path / "trusted_root.json")
    settings = SETTINGS.model_copy(update={"signer_workflow": f"{github.full_name}/.github/workflows/release.yml"})
    good_digest, good = image("api")
    attest(instance, github, good_digest, "api", Signer.workflow_run(github.full_name))
    digest, bad = image("web")
    if case == "other repository":
        attest(instance, github, digest, "web", Signer.workflow_run("evil/fork"))
    elif case == "other workflow":
        attest(instance, github, digest, "web", Signer.workflow_run(github.full_name, ".github/workflows/ci.yml"))
    elif case == "tampered":
        bundle = attest(instance, github, digest, "web", Signer.workflow_run(github.full_name))
        forged = copy.deepcopy(bundle)
        forged["dsseEnvelope"]["signatures"][0]["sig"] = bundle["dsseEnvelope"]["signatures"][0]["sig"][::-1]
        github.attestations[digest] = [{"repository_id": 1, "bundle": forged, "initiator": "user"}]
    with pytest.raises(NotAttested) as raised:
        require_attested(settings, {"api": good, "web": bad}, repository=github.full_name, custom_trusted_root=root)
    message = raised.value.one_line()
    assert "nothing was deployed" in message and f"web {bad}" in message
    assert "api " not in message.split("nothing was deployed")[1]  # the good one is not blamed
    assert raised.value.exit_code == 1


def test_without_the_setting_nothing_is_asked(github: FakeGitHub) -> None:
    _, ref = image("api")
    assert require_attested(DeploySettings(), {"api": ref}, repository=github.full_name) == []
    assert github.requests == []
