"""Registry hosts, repository names and tags, validated against the OCI distribution grammar."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum

from release_kit.errors import InputError

# distribution-spec: <name> components are [a-z0-9]+ joined by one '.', one or two '_' or '-'s
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
NAME_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}\Z")
_HOST_RE = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
ECR_RE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\Z")
ACR_RE = re.compile(r"^(?P<name>[a-z0-9]{5,50})\.azurecr\.(?:io|cn|us)\Z")


class RegistryKind(StrEnum):
    GHCR = "ghcr"
    ECR = "ecr"
    ECR_PUBLIC = "ecr-public"
    ACR = "acr"
    GENERIC = "generic"


@dataclass(frozen=True)
class Registry:
    host: str  # as in image references, with :port when given
    kind: RegistryKind
    region: str | None = None  # ECR

    @property
    def hostname(self) -> str:
        return split_port(self.host)[0]

    @property
    def loopback(self) -> bool:
        return is_loopback(self.hostname)

    @property
    def default_endpoint(self) -> str:
        """Docker's rule: plain HTTP for loopback registries, HTTPS everywhere else."""
        return f"{'http' if self.loopback else 'https'}://{self.host}"


def split_port(host: str) -> tuple[str, int | None]:
    if host.startswith("["):
        inner, _, rest = host[1:].partition("]")
        return inner, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        return name, int(port)
    return host, None


def is_loopback(hostname: str) -> bool:
    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def parse_registry(value: str | None) -> Registry:
    """``ghcr.io``, ``<account>.dkr.ecr.<region>.amazonaws.com``, ``<name>.azurecr.io``, or any host[:port]."""
    raw = (value or "").strip()
    if not raw:
        raise InputError("--registry is required: expected a host such as ghcr.io")
    if "@" in raw:  # never echo it: the part before @ is a credential
        raise InputError(
            "--registry: credentials in the host (USER:PASSWORD@HOST) are refused",
            hint="give the bare host and set REGISTRY_USERNAME / REGISTRY_PASSWORD (or the username/password inputs)",
        )
    if "://" in raw or "/" in raw:
        raise InputError(f"--registry {raw!r}: expected a bare host[:port] (no scheme, no path)")
    hostname, port = split_port(raw)
    valid_ip = True
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        valid_ip = False
    if not (valid_ip or _HOST_RE.match(hostname)) or (port is not None and not 0 < port < 65536):
        raise InputError(f"--registry {raw!r}: not a valid host[:port]")
    host = hostname.lower() if not valid_ip else hostname
    shown = (
        f"[{host}]:{port}"
        if port and ":" in host
        else (f"{host}:{port}" if port else (f"[{host}]" if ":" in host else host))
    )
    if host == "ghcr.io":
        return Registry(shown, RegistryKind.GHCR)
    if host == "public.ecr.aws":
        return Registry(shown, RegistryKind.ECR_PUBLIC, region="us-east-1")
    if match := ECR_RE.match(host):
        return Registry(shown, RegistryKind.ECR, region=match.group("region"))
    if ".amazonaws.com" in host and ".ecr." in host:
        raise InputError(
            f"--registry {raw!r}: not an ECR host; expected <12-digit account>.dkr.ecr.<region>.amazonaws.com"
        )
    if ACR_RE.match(host):
        return Registry(shown, RegistryKind.ACR)
    if re.search(r"\.azurecr\.(io|cn|us)$", host):
        raise InputError(f"--registry {raw!r}: not an ACR host; the registry name is 5-50 lower-case letters or digits")
    return Registry(shown, RegistryKind.GENERIC)


def repository_name(prefix: str | None, image: str) -> str:
    """``<image_prefix>/<image>``, checked against the distribution name grammar."""
    prefix = (prefix or "").strip().strip("/")
    if prefix and not NAME_RE.match(prefix):
        hint = " (upper-case letters are not allowed)" if prefix.lower() != prefix else ""
        raise InputError(
            f"--image-prefix {prefix!r}: not a valid repository path{hint}; expected lower-case "
            "components of letters and digits separated by '.', '_', '__' or '-', joined by '/'"
        )
    if not NAME_RE.match(image) or "/" in image:
        raise InputError(f"--image {image!r}: the image name must be one lower-case path component, e.g. api")
    name = f"{prefix}/{image}" if prefix else image
    if len(name) > 255:
        raise InputError(f"repository {name!r}: longer than 255 characters")
    return name


def check_tag(tag: str) -> str:
    if not TAG_RE.match(tag):
        raise InputError(f"--tag {tag!r}: expected up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'")
    return tag


def tag_from_name(name: str) -> str:
    """A git tag as an OCI tag: every character outside ``[A-Za-z0-9_.-]`` becomes ``-``, leading
    ``.``/``-`` go, and the rest is cut to 128 characters (as docker/metadata-action does)."""
    tag = re.sub(r"[^A-Za-z0-9_.-]", "-", name).lstrip(".-")[:128]
    if not tag:
        raise InputError(f"--tag-from-ref {name!r}: nothing of the tag is usable as an image tag")
    return check_tag(tag)


def tags_from_ref(ref: str | None, sha: str | None) -> list[str]:
    """``v1.4.0`` -> ``1.4.0``, ``1.4``, ``1``, ``latest`` (no ``latest`` or short forms for a
    pre-release); any other tag (``release-2024.06``, ``v2-beta``) is used itself, sanitised;
    plus ``sha-<7>`` from the commit SHA."""
    from packaging.version import InvalidVersion, Version  # only when tags come from a ref

    tags: list[str] = []
    if ref:
        name = ref.removeprefix("refs/tags/")
        try:
            version = Version(name[1:]) if re.match(r"^v\d", name) else None
        except InvalidVersion:
            version = None
        if version is None:
            tags.append(tag_from_name(name))
        elif version.is_prerelease or version.is_devrelease or version.local:
            tags.append(tag_from_name(name[1:]))
        else:
            parts = [str(p) for p in version.release]
            tags += [check_tag(".".join(parts[:n])) for n in range(len(parts), 0, -1) if n == len(parts) or n <= 2]
            tags.append("latest")
    if sha:
        if not re.fullmatch(r"[0-9a-f]{7,40}", sha):
            raise InputError(f"GITHUB_SHA {sha!r}: expected a hex commit SHA")
        tags.append(f"sha-{sha[:7]}")
    return tags
