"""The images deploy and migrate take, by role: ``--image ROLE=REF`` flags or the publish-images report.

The reference grammar (digest-pinned; a tag alone is refused) lives in :mod:`release_kit.image_refs`.
"""

from __future__ import annotations

from pathlib import Path

from release_kit.errors import InputError
from release_kit.image_refs import ImageRef, parse_image, read_publish_report
from release_kit.target.settings import ROLES, Role

__all__ = ["ImageRef", "images_from_report", "parse_image", "parse_image_pairs"]


def parse_image_pairs(values: tuple[str, ...] | list[str]) -> dict[Role, ImageRef]:
    """``--image ROLE=REF`` flags, in the order given; a role given twice is an error."""
    out: dict[Role, ImageRef] = {}
    for raw in values:
        for item in raw.split():
            role, sep, ref = item.partition("=")
            if not sep or not ref:
                raise InputError(f"--image {item!r}: expected ROLE=REF with ROLE one of {', '.join(ROLES)}")
            if role not in ROLES:
                raise InputError(f"--image {item!r}: unknown role {role!r}; expected {', '.join(ROLES)}")
            if role in out:
                raise InputError(f"--image: role {role!r} is given twice")
            out[role] = parse_image(ref, f"--image {role}")
    return out


def images_from_report(path: Path) -> tuple[dict[Role, ImageRef], list[str]]:
    """The role images in a publish-images report (runbook order: api, web, worker), and the
    names of images in it that are no role (listed, not deployed)."""
    found = dict(read_publish_report(path))
    ordered: dict[Role, ImageRef] = {role: found[role] for role in ROLES if role in found}
    if not ordered:
        raise InputError(f"--images-from {path}: no image named {', '.join(ROLES)}")
    return ordered, [name for name in found if name not in ROLES]
