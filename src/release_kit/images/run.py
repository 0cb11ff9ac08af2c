"""publish-images end to end: validate every input, log in, push each image, then report."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from release_kit import gha
from release_kit.errors import AccessError, ExitCode, InputError
from release_kit.images import credentials as creds
from release_kit.images.distribution import DistributionClient
from release_kit.images.layout import Manifest, read_image
from release_kit.images.models import ImageResult, PushReport
from release_kit.images.push import MountSources, push_image
from release_kit.images.reference import (
    Registry,
    RegistryKind,
    check_tag,
    parse_registry,
    repository_name,
    tags_from_ref,
)
from release_kit.reporting import emit, md_code, table, write_report


@dataclass(frozen=True)
class ImageInput:
    name: str
    path: Path
    repository: str  # path inside the registry: <prefix>/<name>
    manifest: Manifest


def parse_images(values: list[str], prefix: str) -> list[ImageInput]:
    if not values:
        raise InputError("--image is required: expected NAME=PATH, e.g. api=build/api.oci")
    images: list[ImageInput] = []
    for value in values:
        for item in value.split():  # the action passes "api=a.oci web=b.oci" in one input
            name, sep, path = item.partition("=")
            if not sep or not name or not path:
                raise InputError(f"--image {item!r}: expected NAME=PATH, e.g. api=build/api.oci")
            if any(i.name == name for i in images):
                raise InputError(f"--image {name}: given twice")
            repo = repository_name(prefix, name)
            images.append(ImageInput(name, Path(path), repo, read_image(Path(path))))
    return images


def resolve_tags(tags: list[str], from_ref: bool) -> list[str]:
    out = [check_tag(t) for value in tags for t in value.split()]
    if from_ref:
        ref = os.environ.get("GITHUB_REF", "")
        out += tags_from_ref(ref if ref.startswith("refs/tags/") else None, os.environ.get("GITHUB_SHA") or None)
    out = list(dict.fromkeys(out))
    if not out:
        raise InputError("no tag: give --tag TAG or --tag-from-ref (with GITHUB_REF / GITHUB_SHA set)")
    return out


def credential_env(env: Mapping[str, str]) -> dict[str, str]:
    """The action's ``username``/``password`` inputs (``RK_USERNAME``/``RK_PASSWORD``), when given, stand
    for ``REGISTRY_USERNAME``/``REGISTRY_PASSWORD``, as docker/login-action's inputs do. The password
    is masked before anything else happens."""
    user = gha.read_input("username", env)
    password = env.get(gha.input_env("password")) or None
    gha.mask(password)
    if not user and not password:
        return dict(env)
    if not (user and password):
        missing = "password" if user else "username"
        raise InputError(f"the {missing} input is empty: give both username and password, or neither")
    return {**env, "REGISTRY_USERNAME": user, "REGISTRY_PASSWORD": password}


def lower_prefix(prefix: str) -> str:
    """Repository names are lower case: ``My-Org/App`` (say ``${{ github.repository }}``) becomes
    ``my-org/app``, with a notice, as docker/metadata-action does."""
    lowered = prefix.lower()
    if lowered != prefix:
        gha.annotate(
            "notice",
            f"--image-prefix {prefix!r} lower-cased to {lowered!r}: registry repository names are lower case",
            title="release-kit publish-images",
        )
    return lowered


def endpoint_for(registry: Registry, override: str | None) -> str:
    if not override:
        return registry.default_endpoint
    try:
        url = httpx.URL(override)
    except httpx.InvalidURL:
        raise InputError("--registry-endpoint: expected an http(s) URL such as https://mirror.example.com") from None
    if url.userinfo:  # never echoed: the password would land in the log
        gha.mask(url.password or None)
        shown = f"{url.scheme}://{url.netloc.decode().rpartition('@')[2]}"
        raise InputError(
            f"--registry-endpoint {shown}: credentials in the URL are not accepted",
            hint="set REGISTRY_USERNAME and REGISTRY_PASSWORD instead",
        )
    if url.scheme not in ("http", "https") or not url.host:
        raise InputError(f"--registry-endpoint {override!r}: expected an http(s) URL")
    if url.scheme == "http" and not parse_registry(url.netloc.decode()).loopback:
        raise InputError(f"--registry-endpoint {override!r}: plain HTTP is only allowed to a loopback registry")
    return override.rstrip("/")


MAX_ATTESTED = 4  # attestation steps in the publish-images action


def require_registry_login(host: str) -> None:
    """The attestation steps push each attestation to ``host`` with the runner's Docker credentials
    (actions/attest-build-provenance reads the Docker config): refuse, before anything is pushed, a
    runner that is not logged in to it. Reads only which registries have an entry, never a credential."""
    import json as json_module

    folder = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    path = folder / "config.json"
    try:
        loaded = json_module.loads(path.read_text(encoding="utf-8")[: 4 * 1024 * 1024])
    except (OSError, ValueError):
        loaded = {}
    config = loaded if isinstance(loaded, dict) else {}
    entries = {**(config.get("auths") or {}), **(config.get("credHelpers") or {})}
    names = {str(k).removeprefix("https://").removeprefix("http://").split("/")[0] for k in entries}
    if host not in names and not config.get("credsStore"):
        raise AccessError(
            f"--attest-push-to-registry: the runner is not logged in to {host} ({path} has no entry for it), so "
            "the attestations could not be pushed there",
            hint="log in before this step, e.g. with docker/login-action",
        )


ATTEST_FIX = "the job needs:\n  permissions:\n    id-token: write\n    attestations: write"


def run(
    *,
    registry: str | None,
    image_prefix: str | None,
    images: list[str],
    tags: list[str],
    tag_from_ref: bool,
    registry_endpoint: str | None,
    create_repositories: bool,
    report_path: Path | None,
    fmt: str,
    lock_tags: bool = False,
    attest: bool = False,
    attest_push_to_registry: bool = False,
    transport: httpx.BaseTransport | None = None,
) -> ExitCode:
    env = credential_env(os.environ)
    target = parse_registry(registry)
    if target.kind is RegistryKind.ECR_PUBLIC:
        raise InputError("--registry public.ecr.aws: ECR Public is not supported yet (private ECR is)")
    prefix = lower_prefix((image_prefix or "").strip())
    if not prefix:
        raise InputError("--image-prefix is required: expected a path such as my-org/agent-saas")
    inputs = parse_images(images, prefix)
    if attest:  # the action attests each pushed digest after this step: refuse now what it could not do
        if len(inputs) > MAX_ATTESTED:
            raise InputError(
                f"--attest: {len(inputs)} images, the action attests up to {MAX_ATTESTED}; attest the rest with "
                "actions/attest-build-provenance in your workflow"
            )
        gha.require_id_token(ATTEST_FIX)
    if attest_push_to_registry:
        if not attest:
            raise InputError("--attest-push-to-registry goes with --attest")
        require_registry_login(target.host)
    all_tags = resolve_tags(tags, tag_from_ref)
    endpoint = endpoint_for(target, registry_endpoint)

    mutability: dict[str, str] = {}
    if target.kind is RegistryKind.ECR:
        from release_kit.images.ecr import Ecr

        ecr = Ecr(target)
        login = ecr.login()
        for repo in ecr.ensure_repositories([i.repository for i in inputs], create=create_repositories):
            mutability[repo.name] = repo.mutability
            if repo.mutability == "IMMUTABLE":
                image = next(i for i in inputs if i.repository == repo.name)
                clashes = ecr.conflicting_tags(repo.name, all_tags, image.manifest.digest)
                if clashes:
                    raise InputError(
                        f"ECR repository {repo.name} has immutable tags and {', '.join(clashes)} already "
                        "name another image: use a new tag"
                    )
    elif target.kind is RegistryKind.ACR and env.get("AZURE_CLIENT_ID") and not env.get("REGISTRY_USERNAME"):
        from release_kit.images.acr import service_principal_login

        login = service_principal_login(target, endpoint, env, transport=transport)
    else:
        login = creds.from_env(target, env)
    if lock_tags and target.kind is not RegistryKind.ACR:
        raise InputError(
            f"--lock-tags works on ACR only; on {target.kind.value} use the registry's own immutability "
            "(for ECR, imageTagMutability: IMMUTABLE, shown in the report)"
        )

    client = DistributionClient(
        endpoint,
        username=login.username,
        password=login.password,
        transport=transport,
        denied_hint=creds.DENIED_HINTS.get(target.kind, creds.DENIED_HINTS[RegistryKind.GENERIC]),
        fallback_chunk_size=creds.CHUNK_SIZES.get(target.kind, creds.DEFAULT_CHUNK_SIZE),
    )
    sources = MountSources()
    results: list[ImageResult] = []
    try:
        for item in inputs:
            with gha.group(f"push {item.name} -> {target.host}/{item.repository}"):
                digest, counts = push_image(client, item.repository, item.manifest, all_tags, sources=sources)
                if lock_tags:
                    from release_kit.images.acr import lock_tags as lock

                    lock(client, item.repository, all_tags)
            full = f"{target.host}/{item.repository}"
            results.append(
                ImageResult(
                    name=item.name,
                    repository=full,
                    digest=digest,
                    tags=all_tags,
                    references=[f"{full}:{t}" for t in all_tags] + [f"{full}@{digest}"],
                    blobs=counts,
                    platforms=max(1, len(item.manifest.children)),
                    tags_locked=lock_tags,
                    tag_mutability=mutability.get(item.repository),
                )
            )
    finally:
        client.close()

    report = PushReport(registry=target.host, kind=target.kind.value, images=results)
    if report_path is not None:
        write_report(report, report_path)
    emit(report, text(report), fmt)
    gha.add_summary(markdown(report))
    outputs = {
        "digests": json.dumps({r.name: r.digest for r in results}),
        "references": json.dumps({r.name: f"{r.repository}@{r.digest}" for r in results}),
        # what the action attests, one image each: [{name: REGISTRY/REPOSITORY, digest}] in push order
        "subjects": json.dumps([{"name": r.repository, "digest": r.digest} for r in results]),
        "count": str(len(results)),
    }
    outputs.update({f"{r.name}-digest": r.digest for r in results})
    gha.set_outputs(outputs)
    return ExitCode.OK


def text(report: PushReport) -> str:
    rows = [
        [
            r.name,
            f"{r.repository}@{r.digest}",
            ",".join(r.tags),
            f"{r.blobs.uploaded}/{r.blobs.mounted}/{r.blobs.skipped}",
        ]
        for r in report.images
    ]
    return table(["IMAGE", "PUSHED", "TAGS", "UPLOADED/MOUNTED/SKIPPED"], rows)


def markdown(report: PushReport) -> str:
    lines = [
        "### release-kit publish-images",
        "",
        f"Registry `{report.registry}` ({report.kind})",
        "",
        "| Image | Digest | Tags | Blobs uploaded / mounted / skipped |",
        "| --- | --- | --- | --- |",
    ]
    for r in report.images:
        tags = ", ".join(f"`{t}`" for t in r.tags)
        counts = f"{r.blobs.uploaded} / {r.blobs.mounted} / {r.blobs.skipped}"
        lines.append(f"| {md_code(r.repository)} | `{r.digest}` | {tags} | {counts} |")
    return "\n".join(lines) + "\n"
