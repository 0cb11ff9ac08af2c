"""ECR: repositories and the registry token through moto's server, the bytes to a local registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from release_kit.cli import run_cli
from tests.images.images import oci_layout, random_layer
from tests.images.server import moto_ecr, registry
from tests.images.test_push import skopeo_digest

ECR_HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
ECR_PASSWORD = "123456789012-auth-token"  # what moto's GetAuthorizationToken answers


@pytest.fixture
def ecr(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto_ecr(monkeypatch):
        yield boto3.client("ecr", region_name="eu-west-1")


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[str]:
    # the registry only accepts the ECR token as Basic auth, user AWS
    with registry(tmp_path / "reg", auth="htpasswd", user="AWS", password=ECR_PASSWORD) as url:
        yield url


def args(endpoint: str, tmp_path: Path, *extra: str, tag: str = "1.4.0") -> list[str]:
    api = (
        oci_layout(tmp_path / "api.oci", [random_layer(1000)])
        if not (tmp_path / "api.oci").exists()
        else tmp_path / "api.oci"
    )
    return [
        "publish-images", "--registry", ECR_HOST, "--registry-endpoint", endpoint,
        "--image-prefix", "agent-saas", f"--image=api={api}", "--tag", tag, "--format", "json", *extra,
    ]  # fmt: skip


def test_creates_repositories_in_the_host_region_and_pushes(
    ecr: Any, endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(args(endpoint, tmp_path)) == 0
    out = capsys.readouterr().out
    report = json.loads(out)
    assert report["kind"] == "ecr"
    repo = ecr.describe_repositories(repositoryNames=["agent-saas/api"])["repositories"][0]
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True
    assert skopeo_digest(endpoint, "agent-saas/api:1.4.0", creds=f"AWS:{ECR_PASSWORD}") == report["images"][0]["digest"]
    assert ECR_PASSWORD not in out
    west = boto3.client("ecr", region_name="us-west-2")
    assert west.describe_repositories()["repositories"] == []


def test_missing_repositories_without_create_exit_2_naming_them(
    ecr: Any, endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(args(endpoint, tmp_path, "--no-create-repositories")) == 2
    assert "ECR repositories missing in eu-west-1: agent-saas/api" in capsys.readouterr().err


def test_immutable_tag_clash_is_refused_up_front_and_identical_repush_is_fine(
    ecr: Any, endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ecr.create_repository(repositoryName="agent-saas/api", imageTagMutability="IMMUTABLE")
    other = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": {}, "layers": []}
    ecr.put_image(repositoryName="agent-saas/api", imageManifest=json.dumps(other), imageTag="1.4.0")
    assert run_cli(args(endpoint, tmp_path)) == 2
    assert "has immutable tags and 1.4.0 already name another image" in capsys.readouterr().err
    assert run_cli(args(endpoint, tmp_path, tag="1.4.1")) == 0  # a new tag is fine


def test_in_actions_the_ecr_token_is_masked(
    ecr: Any, endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert run_cli(args(endpoint, tmp_path)) == 0
    out = capsys.readouterr().out
    assert f"::add-mask::{ECR_PASSWORD}" in out
    assert ECR_PASSWORD not in out.replace(f"::add-mask::{ECR_PASSWORD}", "")


def test_immutable_repository_accepts_the_same_image_again(
    ecr: Any, endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from release_kit.images.layout import read_image

    cli_args = args(endpoint, tmp_path)
    image = read_image(tmp_path / "api.oci")
    ecr.create_repository(repositoryName="agent-saas/api", imageTagMutability="IMMUTABLE")
    ecr.put_image(
        repositoryName="agent-saas/api", imageManifest=image.data.decode(), imageTag="1.4.0", imageDigest=image.digest
    )
    stored = ecr.describe_images(repositoryName="agent-saas/api")["imageDetails"][0]["imageDigest"]
    assert stored == image.digest
    assert run_cli(cli_args) == 0
    assert json.loads(capsys.readouterr().out)["images"][0]["digest"] == image.digest
