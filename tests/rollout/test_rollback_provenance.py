"""A deployment record is a hint, never proof: rollback and deploy use only images of the allowed
repositories (deploy.images, else what each service runs now) whose digests exist there.

ECS through moto's server (rollouts played by EcsSimulator), GitHub by the fake, digests looked up in
moto's ECR and in a real OCI registry (Debian's docker-registry) on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from release_kit.cli import run_cli
from release_kit.errors import ExitCode, RemoteGaveUp
from release_kit.github.client import GitHubClient
from release_kit.http import RetryPolicy
from release_kit.records.models import NoGoodRecord
from release_kit.records.provenance import DigestCheck
from release_kit.rollout.rollback import run_rollback
from tests.fakes.aws import ACCOUNT, backend
from tests.fakes.clock import FakeClock
from tests.fakes.ecs_rollout import OLD, EcsSimulator
from tests.fakes.github import FakeGitHub, serve, sha_of
from tests.images.server import free_port, registry
from tests.records.conftest import REPO, TOKEN, deploy
from tests.rollout.digests import KnownDigests, every_digest_exists
from tests.rollout.test_rollback_ecs import CONFIG, GOOD, completes, running_image, settings


@pytest.fixture
def fake() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
def client(fake: FakeGitHub) -> Iterator[GitHubClient]:
    gh = GitHubClient(token=TOKEN, transport=fake.transport(), policy=RetryPolicy(clock=FakeClock()))
    yield gh
    gh.close()


EVIL = {
    "api": "evil.example.net/pwn/api@sha256:" + "6" * 64,
    "web": "evil.example.net/pwn/web@sha256:" + "6" * 64,
}
ECR = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ROLES = ("api", "web")
KINDS = {"config": "application/vnd.oci.image.config.v1+json", "layer": "application/vnd.oci.image.layer.v1.tar"}


def forged_history(fake: FakeGitHub, *, good: bool = True) -> dict[str, int]:
    """v1.2.0 good (ours, by alice); v1.3.9 written by someone with deployments: write, images on
    evil.example.net, state success, every check passed; v1.4.0 the newest (running now)."""
    ids = {}
    if good:
        ids["v1.2.0"] = deploy(fake, "v1.2.0", "success", image_set=GOOD, creator="alice")
    ids["forged"] = deploy(fake, "v1.3.9", "success", image_set=EVIL, creator="mallory")
    ids["v1.4.0"] = deploy(fake, "v1.4.0", "success", image_set=OLD, creator="alice")
    fake.add_ref("tags/v1.2.0", sha_of("v1.2.0"))
    return ids


def no_new_revision() -> bool:
    return (
        2 not in backend("ecs").task_definitions["agent-api"] and 2 not in backend("ecs").task_definitions["agent-web"]
    )


# -- the forged record -------------------------------------------------------------------------------


def test_a_forged_record_on_another_registry_is_skipped_and_the_good_one_before_it_is_deployed(
    sim: EcsSimulator, fake: FakeGitHub, client: GitHubClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = forged_history(fake)
    completes(sim, monkeypatch, "api", "web")
    digests = KnownDigests()

    report, record_error = run_rollback(settings(), client, REPO, "production", digests=digests)

    assert record_error is None and report.passed
    assert report.good.deployment_id == ids["v1.2.0"] and report.good.creator == "alice"
    assert running_image("agent-api") == GOOD["api"] and running_image("agent-web") == GOOD["web"]
    skipped = {s.deployment_id: s for s in report.skipped}
    forged = skipped[ids["forged"]]
    assert forged.creator == "mallory"
    assert EVIL["api"] in forged.reason and "registry.example.com/app/api" in forged.reason
    assert not any("evil.example.net" in seen for seen in digests.looked_up)  # judged before any registry is asked


def test_only_a_forged_record_is_exit_1_no_last_good_record_and_nothing_moves(
    sim: EcsSimulator, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    forged_history(fake, good=False)
    before = len(fake.deployments)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rk.yml").write_text(CONFIG)
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        code = run_cli(["rollback", "--repo", "octo-org/app", "--environment", "production", "--config", "rk.yml"])
        to_code = run_cli(
            [
                "rollback",
                "--repo",
                "octo-org/app",
                "--environment",
                "production",
                "--config",
                "rk.yml",
                "--to",
                "v1.3.9",
            ]
        )

    assert code == ExitCode.NOT_OK and to_code == ExitCode.NOT_OK
    err = capsys.readouterr().err
    assert "no last good record" in err and "no newest good record of v1.3.9" in err
    assert len(fake.deployments) == before  # nothing recorded
    assert no_new_revision() and running_image("agent-api") == OLD["api"]


# -- deploy -------------------------------------------------------------------------------------------


def test_deploy_of_an_image_from_another_repository_is_exit_2_and_nothing_changes(
    sim: EcsSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rk.yml").write_text(CONFIG)  # no deploy.images: what each service runs now is the allowed one

    code = run_cli(["deploy", "--config", "rk.yml", "--image", f"api={GOOD['api']}", "--image", f"web={EVIL['web']}"])

    assert code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert f"--image web={EVIL['web']}: not from registry.example.com/app/web" in err
    assert "the image agent-web runs now" in err
    assert no_new_revision() and running_image("agent-api") == OLD["api"]  # api was allowed, yet nothing moved


def test_deploy_images_config_names_the_repository_even_over_what_runs_now(
    sim: EcsSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rk.yml").write_text(CONFIG + "  images: {api: ghcr.io/acme/app/api, web: ghcr.io/acme/app/web}\n")

    code = run_cli(["deploy", "--config", "rk.yml", "--image", f"api={GOOD['api']}"])

    assert code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert f"--image api={GOOD['api']}: not from ghcr.io/acme/app/api" in err and "(deploy.images.api)" in err
    assert no_new_revision()


def test_the_registry_host_compares_case_blind_and_the_path_exactly(
    sim: EcsSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    completes(sim, monkeypatch, "api")
    from release_kit.rollout.deploy import deploy_images
    from release_kit.rollout.images import parse_image

    upper = "REGISTRY.example.com/app/api@sha256:" + "c" * 64
    report = deploy_images(settings(), {"api": parse_image(upper)})
    assert report.passed

    from release_kit.errors import InputError

    with pytest.raises(InputError, match=r"not from registry\.example\.com/app/api,"):
        deploy_images(settings(), {"api": parse_image("registry.example.com/app/api-2@sha256:" + "c" * 64)})


# -- digests that exist --------------------------------------------------------------------------------


def ecr_images(version: str) -> dict[str, str]:
    return {
        role: f"{ECR}/app/{role}@sha256:{hashlib.sha256(f'{role}{version}'.encode()).hexdigest()}"
        for role in ("api", "web")
    }


def test_a_record_whose_digest_is_not_in_ecr_is_skipped_and_the_older_one_deployed(
    sim: EcsSimulator, fake: FakeGitHub, client: GitHubClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ecr = boto3.client("ecr")
    for role in ("api", "web"):
        ecr.create_repository(repositoryName=f"app/{role}")
        manifest = json.dumps(
            {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "role": role}
        )
        ecr.put_image(
            repositoryName=f"app/{role}",
            imageManifest=manifest,
            imageTag="1.2.0",
            imageDigest=ecr_images("v1.2.0")[role].split("@")[1],
        )
    good = deploy(fake, "v1.2.0", "success", image_set=ecr_images("v1.2.0"))
    gone = deploy(fake, "v1.3.0", "success", image_set=ecr_images("v1.3.0"))  # never pushed (or deleted since)
    deploy(fake, "v1.4.0", "success", image_set=OLD)
    fake.add_ref("tags/v1.2.0", sha_of("v1.2.0"))
    completes(sim, monkeypatch, "api", "web")
    allowed = settings().with_overrides(images={"api": f"{ECR}/app/api", "web": f"{ECR}/app/web"})

    report, _ = run_rollback(allowed, client, REPO, "production", digests=DigestCheck())

    assert report.passed and report.good.deployment_id == good
    assert running_image("agent-api") == ecr_images("v1.2.0")["api"]
    reason = next(s.reason for s in report.skipped if s.deployment_id == gone)
    assert reason == f"api image {ecr_images('v1.3.0')['api'].split('@')[1]} does not exist in {ECR}/app/api"


def push(endpoint: str, name: str, seed: str) -> str:
    """One small image (config and one layer) pushed to a registry without auth; its manifest digest."""
    blobs = []
    with httpx.Client(base_url=endpoint) as http:
        for data, kind in ((f'{{"seed": "{seed}"}}'.encode(), "config"), (seed.encode() * 10, "layer")):
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            start = http.post(f"/v2/{name}/blobs/uploads/")
            location = httpx.URL(endpoint).join(start.headers["location"])
            assert http.put(location.copy_merge_params({"digest": digest}), content=data).status_code == 201
            kinds = {
                "config": "application/vnd.oci.image.config.v1+json",
                "layer": "application/vnd.oci.image.layer.v1.tar",
            }
            blobs.append({"mediaType": kinds[kind], "digest": digest, "size": len(data)})
        manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": blobs[0], "layers": blobs[1:]})
        manifest_bytes = manifest.encode()
        answer = http.put(
            f"/v2/{name}/manifests/{seed}",
            content=manifest_bytes,
            headers={"Content-Type": OCI_MANIFEST},
        )
        assert answer.status_code == 201, answer.text
    return "sha256:" + hashlib.sha256(manifest_bytes).hexdigest()


def test_a_record_whose_digest_is_not_in_the_oci_registry_is_skipped(
    sim: EcsSimulator, fake: FakeGitHub, client: GitHubClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with registry(tmp_path / "registry") as endpoint:
        host = endpoint.removeprefix("http://")
        present = {
            role: f"{host}/app/{role}@{push(endpoint, f'app/{role}', f'{role}-1.2.0')}" for role in ("api", "web")
        }
        missing = {role: f"{host}/app/{role}@sha256:{'9' * 64}" for role in ("api", "web")}
        good = deploy(fake, "v1.2.0", "success", image_set=present)
        gone = deploy(fake, "v1.3.0", "success", image_set=missing)
        deploy(fake, "v1.4.0", "success", image_set=OLD)
        fake.add_ref("tags/v1.2.0", sha_of("v1.2.0"))
        completes(sim, monkeypatch, "api", "web")
        allowed = settings().with_overrides(images={"api": f"{host}/app/api", "web": f"{host}/app/web"})
        with DigestCheck(policy=RetryPolicy(clock=FakeClock())) as digests:
            report, _ = run_rollback(allowed, client, REPO, "production", digests=digests)

    assert report.passed and report.good.deployment_id == good
    assert running_image("agent-web") == present["web"]
    reason = next(s.reason for s in report.skipped if s.deployment_id == gone)
    assert reason == f"api image sha256:{'9' * 64} does not exist in {host}/app/api"


def test_a_registry_that_cannot_be_reached_is_exit_3_not_a_skip(
    sim: EcsSimulator, fake: FakeGitHub, client: GitHubClient
) -> None:
    host = f"127.0.0.1:{free_port()}"  # nothing listens there
    images = {role: f"{host}/app/{role}@sha256:{'5' * 64}" for role in ("api", "web")}
    deploy(fake, "v1.2.0", "success", image_set=images)
    deploy(fake, "v1.4.0", "success", image_set=OLD)
    before = len(fake.deployments)
    allowed = settings().with_overrides(images={"api": f"{host}/app/api", "web": f"{host}/app/web"})

    with pytest.raises(RemoteGaveUp) as caught, DigestCheck(policy=RetryPolicy(clock=FakeClock())) as digests:
        run_rollback(allowed, client, REPO, "production", digests=digests)

    assert caught.value.exit_code == ExitCode.REMOTE
    assert no_new_revision() and len(fake.deployments) == before


def test_no_record_left_after_the_skips_is_no_good_record(
    sim: EcsSimulator, fake: FakeGitHub, client: GitHubClient
) -> None:
    deploy(fake, "v1.2.0", "success", image_set=GOOD)
    deploy(fake, "v1.4.0", "success", image_set=OLD)
    with pytest.raises(NoGoodRecord, match="no last good record"):
        run_rollback(settings(), client, REPO, "production", digests=KnownDigests(present=[]))
    assert no_new_revision()


def test_the_rollback_answer_names_the_writer_and_the_records_it_would_not_deploy(
    sim: EcsSimulator, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    every_digest_exists(monkeypatch)
    ids = forged_history(fake)
    completes(sim, monkeypatch, "api", "web")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rk.yml").write_text(CONFIG)
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        code = run_cli(["rollback", "--repo", "octo-org/app", "--environment", "production", "--config", "rk.yml"])

    assert code == 0
    out = capsys.readouterr().out
    assert "good record written by: alice, run: none recorded" in out
    assert f"{ids['forged']} v1.3.9 (by mallory): not our images: api image {EVIL['api']}" in out
    assert running_image("agent-api") == GOOD["api"]
