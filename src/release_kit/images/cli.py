"""``release-kit publish-images`` options (click only: importing this costs nothing at start-up)."""

from __future__ import annotations

from pathlib import Path

import click

from release_kit.options import env, verdict_options


@click.command("publish-images")
@click.option(
    "--registry",
    envvar=env("registry"),
    help="Required. ghcr.io, <account>.dkr.ecr.<region>.amazonaws.com, <name>.azurecr.io or any host[:port].",
)
@click.option(
    "--image-prefix",
    envvar=env("image-prefix"),
    help="Required. Path under the registry, e.g. my-org/agent-saas (upper case is lower-cased, with a notice).",
)
@click.option(
    "--image",
    "images",
    multiple=True,
    envvar=env("images"),
    metavar="NAME=PATH",
    help="Required. An image to push: an OCI layout folder, a tar of one, or a docker save archive. Repeatable.",
)
@click.option("--tag", "tags", multiple=True, envvar=env("tags"), help="A tag for every image. Repeatable.")
@click.option(
    "--tag-from-ref",
    is_flag=True,
    envvar=env("tag-from-ref"),
    help="Add 1.4.0, 1.4, 1 and latest from a v1.4.0 GITHUB_REF (no latest for a pre-release; any other "
    "tag is used itself, sanitised), and sha-<7> from GITHUB_SHA.",
)
@click.option(
    "--registry-endpoint",
    envvar=env("registry-endpoint"),
    help="Send the distribution API here instead of https://<registry> (a mirror or a local registry).",
)
@click.option(
    "--create-repositories/--no-create-repositories",
    default=True,
    envvar=env("create-repositories"),
    show_default=True,
    help="ECR: create missing repositories (scan on push).",
)
@click.option(
    "--lock-tags", is_flag=True, envvar=env("lock-tags"), help="ACR: make the pushed tags read-only after the push."
)
@click.option(
    "--attest",
    is_flag=True,
    envvar=env("attest"),
    help="Attestations follow this step (the action attests up to 4 images): check up front that the job can "
    "sign them, before anything is pushed.",
)
@click.option(
    "--attest-push-to-registry",
    is_flag=True,
    envvar=env("attest-push-to-registry"),
    help="With --attest: the attestations also go to the registry as OCI referrers; checks up front that the "
    "runner is logged in to it (its Docker config).",
)
@verdict_options
def publish_images(
    registry: str | None,
    image_prefix: str | None,
    images: tuple[str, ...],
    tags: tuple[str, ...],
    tag_from_ref: bool,
    registry_endpoint: str | None,
    create_repositories: bool,
    lock_tags: bool,
    attest: bool,
    attest_push_to_registry: bool,
    report_path: Path | None,
    fmt: str,
) -> int:
    """Push the images to GHCR, ECR or any OCI registry, daemonless; report their digests."""
    from release_kit.images.run import run

    return run(
        registry=registry,
        image_prefix=image_prefix,
        images=list(images),
        tags=list(tags),
        tag_from_ref=tag_from_ref,
        registry_endpoint=registry_endpoint,
        create_repositories=create_repositories,
        lock_tags=lock_tags,
        report_path=report_path,
        fmt=fmt,
        attest=attest,
        attest_push_to_registry=attest_push_to_registry,
    )
