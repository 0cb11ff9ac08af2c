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


# -- through the CLI: deploy on a registered platform, nothing moves unless every digest is ours ----------


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    from release_kit import platforms
    from tests.platforms.test_toy_platform import Toy

    platform = Toy()
    monkeypatch.setitem(platforms.ALL_PLATFORMS, platform.name, platform)
    return platform


def deploy_config(tmp_path: Path, github: FakeGitHub) -> Path:
    config = tmp_path / "release-kit.yml"
    config.write_text(
        "deploy:\n  platform: toy\n  services: {api: toy-api, web: toy-web}\n"
        "  images: {api: ghcr.io/acme/api, web: ghcr.io/acme/web}\n  require_attestations: true\n"
        f"  signer_workflow: {github.full_name}/.github/workflows/release.yml\n"
    )
    return config


def test_deploy_moves_nothing_when_a_digest_is_not_attested_and_everything_when_all_are(
    toy: Any, instance: LocalInstance, github: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import time

    from release_kit.cli import run_cli

    root = instance.write_root(tmp_path / "trusted_root.json")
    config = deploy_config(tmp_path, github)
    refs = {}
    for name in ("api", "web"):
        digest, ref = image(name)
        refs[name] = (digest, ref)
    attest(instance, github, refs["api"][0], "api", Signer.workflow_run(github.full_name))
    args = ["deploy", "--config", str(config), "--custom-trusted-root", str(root)]
    args += [f"--image={name}={ref}" for name, (_, ref) in refs.items()]
    assert run_cli(args) == 1
    assert toy.engine_made.deployed == []  # nothing moved
    assert f"web {refs['web'][1]}: unverified: no attestation found" in capsys.readouterr().err
    attest(instance, github, refs["web"][0], "web", Signer.workflow_run(github.full_name))
    started = time.perf_counter()
    assert run_cli(args) == 0
    assert time.perf_counter() - started < 5  # verification of two images: well under the deploy's own time
    assert [name for name, _ in toy.engine_made.deployed] == ["toy-api", "toy-web"]
    assert "api sha256:" in capsys.readouterr().err


def test_the_attested_deploy_benchmark_runs() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(root / "scripts/bench/attested_deploy.py"), "--latency", "0", "--rollout", "0.01",
         "--repeat", "1"],
        capture_output=True, text=True, timeout=120, check=False, cwd=root,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "attestation check (ours)" in done.stdout and "ratio ours/peer" in done.stdout
