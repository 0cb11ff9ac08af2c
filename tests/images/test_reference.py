from __future__ import annotations

import pytest

from release_kit.errors import InputError
from release_kit.images.reference import RegistryKind, parse_registry, repository_name, tags_from_ref


@pytest.mark.parametrize(
    ("host", "kind", "region", "endpoint"),
    [
        ("ghcr.io", RegistryKind.GHCR, None, "https://ghcr.io"),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", RegistryKind.ECR, "eu-west-1", None),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", RegistryKind.ECR, "cn-north-1", None),
        ("public.ecr.aws", RegistryKind.ECR_PUBLIC, "us-east-1", None),
        ("myregistry.azurecr.io", RegistryKind.ACR, None, None),
        ("myregistry.azurecr.cn", RegistryKind.ACR, None, None),
        ("myregistry.azurecr.us", RegistryKind.ACR, None, None),
        ("registry.example.com:5000", RegistryKind.GENERIC, None, "https://registry.example.com:5000"),
        ("localhost:5000", RegistryKind.GENERIC, None, "http://localhost:5000"),
        ("127.0.0.1:5000", RegistryKind.GENERIC, None, "http://127.0.0.1:5000"),
        ("127.8.9.10", RegistryKind.GENERIC, None, "http://127.8.9.10"),
        ("[::1]:5000", RegistryKind.GENERIC, None, "http://[::1]:5000"),
        ("10.0.0.5:5000", RegistryKind.GENERIC, None, "https://10.0.0.5:5000"),
    ],
)
def test_registry_kind_and_endpoint(host: str, kind: RegistryKind, region: str | None, endpoint: str | None) -> None:
    registry = parse_registry(host)
    assert registry.kind is kind and registry.region == region
    if endpoint:
        assert registry.default_endpoint == endpoint


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("https://ghcr.io", "no scheme"),
        ("ghcr.io/org", "no scheme, no path"),
        ("12345.dkr.ecr.us-east-1.amazonaws.com", "not an ECR host"),
        ("ab.azurecr.io", "not an ACR host"),
        ("bad_host!", "not a valid host"),
        ("", "--registry is required"),
    ],
)
def test_bad_registry_hosts(host: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_registry(host)


def test_repository_names_follow_the_distribution_grammar() -> None:
    assert repository_name("my-org/agent-saas", "api") == "my-org/agent-saas/api"
    assert repository_name("agent_saas", "web") == "agent_saas/web"
    assert repository_name("", "api") == "api"
    with pytest.raises(InputError, match=r"--image-prefix 'My-Org/app'.*upper-case"):
        repository_name("My-Org/app", "api")
    for bad in ("org//app", "org/-app", "org/app.", "org/a...b"):
        with pytest.raises(InputError, match="--image-prefix"):
            repository_name(bad, "api")
    with pytest.raises(InputError, match="--image 'API'"):
        repository_name("org", "API")


@pytest.mark.parametrize(
    ("ref", "sha", "tags"),
    [
        ("refs/tags/v1.4.0", None, ["1.4.0", "1.4", "1", "latest"]),
        ("v2.0", "abcdef1234567890", ["2.0", "2", "latest", "sha-abcdef1"]),
        ("v1.4.0-rc.1", None, ["1.4.0-rc.1"]),
        (None, "0123456789abcdef0123456789abcdef01234567", ["sha-0123456"]),
    ],
)
def test_tags_from_ref(ref: str | None, sha: str | None, tags: list[str]) -> None:
    assert tags_from_ref(ref, sha) == tags


@pytest.mark.parametrize(
    ("ref", "tags"),
    [
        ("refs/tags/release-2024.06", ["release-2024.06"]),
        ("refs/tags/vNext", ["vNext"]),
        ("refs/tags/1.2.3", ["1.2.3"]),
        ("refs/tags/v2-beta+build.5", ["2-beta-build.5"]),
        ("refs/tags/.hidden/feature@x", ["hidden-feature-x"]),
        ("refs/tags/" + "r" * 200, ["r" * 128]),
    ],
)
def test_any_other_tag_is_used_itself_sanitised_to_the_oci_grammar(ref: str, tags: list[str]) -> None:
    """As docker/metadata-action's type=ref,event=tag: never a failure for a tag that is not v<semver>."""
    assert tags_from_ref(ref, None) == tags


def test_a_tag_with_nothing_usable_is_refused() -> None:
    with pytest.raises(InputError, match=r"--tag-from-ref '\.\.\.': nothing of the tag is usable"):
        tags_from_ref("refs/tags/...", None)


def test_credentials_in_the_registry_host_are_refused_without_echo() -> None:
    from release_kit.errors import InputError
    from release_kit.images.reference import parse_registry

    with pytest.raises(InputError) as caught:
        parse_registry("pusher:s3cretValue@registry.example.com")
    assert "s3cretValue" not in caught.value.one_line() and "REGISTRY_PASSWORD" in caught.value.one_line()
