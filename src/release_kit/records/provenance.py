"""Is this image ours, and does it exist? What deploy, last-good and rollback trust instead of a record.

A deployment record is a hint, never proof: anyone with ``deployments: write`` can write one. So:

- **Allowed repositories** (:class:`Allowed`): each role's image repository comes from the
  configuration (``deploy.images``), else from the image the role's service runs now (read through
  the platform). An image from any other repository is never deployed: ``deploy`` refuses it
  (exit 2), ``last-good`` and ``rollback`` skip the record naming it.
- **Digests that exist** (:class:`DigestCheck`): before rollback redeploys a record, each digest is
  looked up in its repository (ECR ``DescribeImages``; any other registry ``HEAD
  /v2/<name>/manifests/<digest>`` with the registry credentials of the job). A missing digest skips
  the record; a registry that cannot be reached is exit 3, never a skip.

Repositories compare exactly: the registry host lower-cased, the path as given (no ``docker.io``
normalisation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from release_kit.errors import ConfigError, InputError
from release_kit.image_refs import REPOSITORY_RE, ImageRef, normal_repository, repository_of
from release_kit.target.settings import ROLES, DeploySettings, Role

#: reads the image a role's service runs now: (role, service name, deploy.containers.<role>) -> image
CurrentImage = Callable[[Role, str, str | None], str | None]

MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)


@dataclass(frozen=True)
class Allowed:
    """Each role's allowed image repository (compared form) and where it comes from."""

    repositories: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def problem(self, images: Mapping[str, str]) -> str | None:
        """Why a record's images are not ours, or None. A role with no allowed repository is one this
        environment does not deploy: its image is never deployed, so it is not judged."""
        for role, ref in images.items():
            allowed = self.repositories.get(role)
            if allowed is None:
                continue
            found = repository_of(ref)
            if found != allowed:
                return f"{role} image {ref} is not from {allowed} (the allowed repository: {self.sources[role]})"
        return None

    def require(self, images: Mapping[Role, ImageRef]) -> None:
        """Exit 2 naming the role, the image and the allowed repository for an image from elsewhere."""
        for role, image in images.items():
            allowed = self.repositories.get(role)
            if allowed is None:
                raise InputError(
                    f"--image {role}={image}: no allowed repository for {role} "
                    f"(set deploy.images.{role} in .github/release-kit.yml)"
                )
            if repository_of(str(image)) != allowed:
                raise InputError(
                    f"--image {role}={image}: not from {allowed}, the repository {role} may deploy from "
                    f"({self.sources[role]})",
                    hint=f"deploy an image of {allowed}, or change deploy.images.{role} if the repository moved",
                )


def configured(settings: DeploySettings) -> dict[str, str]:
    """``deploy.images`` in compared form; exit 2 naming a value that is not REGISTRY/PATH."""
    out: dict[str, str] = {}
    for role, value in settings.images.items():
        repo = value.strip().rstrip("/")
        if not REPOSITORY_RE.match(repo):
            raise ConfigError(
                f"deploy.images.{role} {value!r}: expected an image repository REGISTRY/PATH without tag or digest, "
                "e.g. ghcr.io/acme/app/api"
            )
        out[role] = normal_repository(repo)
    return out


def allowed_repositories(settings: DeploySettings, roles: Iterable[Role], current: CurrentImage | None) -> Allowed:
    """The allowed repository of each of ``roles`` and of every role in ``deploy.images``: the
    configured one, else the repository of the image the role's service runs now (through
    ``current``). Exit 2 when neither can be known."""
    repositories = configured(settings)
    sources = {role: f"deploy.images.{role}" for role in repositories}
    for role in dict.fromkeys(roles):
        if role in repositories:
            continue
        name = settings.require_service(role)
        how = f"set deploy.images.{role} in .github/release-kit.yml (REGISTRY/PATH of {role}'s images)"
        if current is None:
            raise InputError(
                f"no allowed image repository for {role}: deploy.images.{role} is not set and platform "
                f"{settings.platform} cannot name the image {name} runs now",
                hint=how,
            )
        running = current(role, name, settings.containers.get(role))
        repo = repository_of(running) if running else None
        if repo is None:
            raise InputError(
                f"no allowed image repository for {role}: deploy.images.{role} is not set and the image "
                f"{name} runs now ({running or 'none'}) names no repository",
                hint=how,
            )
        repositories[role] = repo
        sources[role] = f"the image {name} runs now; set deploy.images.{role} to choose"
    return Allowed(repositories, sources)


def deployed_roles(settings: DeploySettings) -> list[Role]:
    """The roles this environment runs (``deploy.services``), in the runbook's order."""
    return [role for role in ROLES if settings.services.get(role)]


# -- what each service runs now ------------------------------------------------------------------


def current_image_reader(settings: DeploySettings, engine: Any, client: Any) -> CurrentImage | None:
    """How to read the image a role runs now: the platform engine's ``current_image``."""
    method = getattr(engine, "current_image", None)
    return method if callable(method) else None


# -- digests that exist ------------------------------------------------------------------------------


class DigestCheck:
    """Looks digests up in their repositories; one client per registry, closed by :meth:`close`."""

    def __init__(self, *, policy: Any = None, env: Mapping[str, str] | None = None) -> None:
        self.policy = policy  # the shared retry policy (tests inject a fake clock)
        self.env = env
        self._clients: dict[str, Any] = {}
        self._aws: dict[str, Any] = {}
        self.looked_up: list[str] = []

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def __enter__(self) -> DigestCheck:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def missing(self, images: Mapping[str, str], roles: Iterable[str]) -> str | None:
        """Why one of the images of ``roles`` cannot be deployed (its digest is not in its repository),
        or None when every one exists. Unreachable registries raise (exit 3)."""
        from release_kit.image_refs import parse_image

        for role in roles:
            if role not in images:
                continue
            image = parse_image(images[role], f"record image {role}")
            if not self.exists(image):
                return f"{role} image {image.digest} does not exist in {image.repository}"
        return None

    def exists(self, image: ImageRef) -> bool:
        from release_kit.images.reference import ECR_RE

        self.looked_up.append(str(image))
        host, _, path = image.repository.partition("/")
        if not ("." in host or ":" in host or host.lower() == "localhost"):
            host, path = "docker.io", image.repository if "/" in image.repository else f"library/{image.repository}"
        if match := ECR_RE.match(host.lower()):
            return self._in_ecr(match["account"], match["region"], path, image.digest)
        return self._in_registry(host, path, image.digest)

    def _in_ecr(self, account: str, region: str, path: str, digest: str) -> bool:
        from release_kit.clouds.aws import Aws

        if region not in self._aws:
            self._aws[region] = Aws(region)
        aws = self._aws[region]
        ecr = aws.client("ecr")
        found = aws.call(
            "ecr:DescribeImages",
            ecr.describe_images,
            missing=("ImageNotFoundException", "RepositoryNotFoundException"),
            registryId=account,
            repositoryName=path,
            imageIds=[{"imageDigest": digest}],
        )
        details = (found or {}).get("imageDetails") or []
        return any(d.get("imageDigest") == digest for d in details)

    def _in_registry(self, host: str, path: str, digest: str) -> bool:
        from release_kit.errors import RemoteError

        client = self._client(host)
        response = client.request(
            "HEAD",
            f"/v2/{path}/manifests/{digest}",
            client.scope(path, push=False),
            headers={"Accept": MANIFEST_TYPES},
        )
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise RemoteError(
                f"registry {client.endpoint} answered {response.status_code} to HEAD /v2/{path}/manifests/{digest}"
            )
        answered = response.headers.get("docker-content-digest")
        return answered in (None, digest)

    def _client(self, host: str) -> Any:
        if host in self._clients:
            return self._clients[host]
        from release_kit.images import credentials
        from release_kit.images.distribution import DistributionClient
        from release_kit.images.reference import RegistryKind, parse_registry

        registry = parse_registry("registry-1.docker.io" if host == "docker.io" else host)
        try:
            found = credentials.from_env(registry, self.env)
        except InputError:
            if registry.kind not in (RegistryKind.GHCR, RegistryKind.ACR):
                raise
            found = credentials.Credentials()  # public images answer anonymously; a private one is a 401
        client = DistributionClient(
            registry.default_endpoint,
            username=found.username,
            password=found.password,
            policy=self.policy,
            denied_hint="the registry credentials of this job cannot read (pull) this repository",
        )
        self._clients[host] = client
        return client
