"""AWS ECR: the registry token and the repositories, through boto3 (extra ``aws``, imported lazily).

Honours ``AWS_ENDPOINT_URL`` (boto3 reads it); the region is always the one in the registry host.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from release_kit import gha
from release_kit.errors import AccessError, InputError, MissingExtra, RemoteGaveUp
from release_kit.images.credentials import Credentials
from release_kit.images.reference import Registry


@dataclass(frozen=True)
class EcrRepository:
    name: str
    created: bool
    mutability: str


def _client(registry: Registry) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise MissingExtra("aws", "pushing to ECR") from None
    config = Config(retries={"max_attempts": 5, "mode": "adaptive"}, connect_timeout=10, read_timeout=30)
    return boto3.client("ecr", region_name=registry.region, config=config)


def _call(what: str, fn: Any, **kwargs: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        return fn(**kwargs)
    except NoCredentialsError:
        raise InputError("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") from None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException"):
            raise AccessError(
                f"ECR refused {what}: {code}", hint="check the AWS credentials and their ECR permissions"
            ) from None
        raise
    except BotoCoreError as exc:
        raise RemoteGaveUp(f"ECR did not answer {what}: {exc}") from None


class Ecr:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.client = _client(registry)

    def login(self) -> Credentials:
        data = _call("GetAuthorizationToken", self.client.get_authorization_token)["authorizationData"][0]
        token = str(data["authorizationToken"])
        gha.mask(token)
        user, _, password = base64.b64decode(token).decode().partition(":")
        gha.mask(password)
        return Credentials(user, password)

    def ensure_repositories(self, names: list[str], *, create: bool) -> list[EcrRepository]:
        from botocore.exceptions import ClientError

        found: list[EcrRepository] = []
        missing: list[str] = []
        for name in names:
            try:
                repo = _call("DescribeRepositories", self.client.describe_repositories, repositoryNames=[name])
                found.append(EcrRepository(name, False, repo["repositories"][0].get("imageTagMutability", "MUTABLE")))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "RepositoryNotFoundException":
                    raise
                missing.append(name)
        if missing and not create:
            raise InputError(
                f"ECR repositories missing in {self.registry.region}: {', '.join(missing)} "
                "(create them, or drop --no-create-repositories)"
            )
        for name in missing:
            made = _call(
                "CreateRepository",
                self.client.create_repository,
                repositoryName=name,
                imageScanningConfiguration={"scanOnPush": True},
            )["repository"]
            found.append(EcrRepository(name, True, made.get("imageTagMutability", "MUTABLE")))
        return found

    def conflicting_tags(self, repository: str, tags: list[str], digest: str) -> list[str]:
        """Tags that already point at another image (refused up front by an IMMUTABLE repository)."""
        from botocore.exceptions import ClientError

        clashes = []
        for tag in tags:
            try:
                images = _call(
                    "DescribeImages",
                    self.client.describe_images,
                    repositoryName=repository,
                    imageIds=[{"imageTag": tag}],
                )["imageDetails"]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in (
                    "ImageNotFoundException",
                    "RepositoryNotFoundException",
                ):
                    continue
                raise
            if any(i.get("imageDigest") != digest for i in images):
                clashes.append(tag)
        return clashes
