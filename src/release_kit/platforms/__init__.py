"""The platforms release-kit deploys to: two small protocols and one registry.

A platform is one folder here whose ``__init__`` defines ``PLATFORM``, an object satisfying
:class:`Platform`, plus one line in :data:`ALL_PLATFORMS`. Nothing else in the tool switches on a
platform's name: preflight's checks read the neutral facts (:mod:`release_kit.preflight.facts`) and
the platform's :class:`Words`; migrate, deploy and rollback drive its :class:`Engine` and read the
neutral results (:mod:`release_kit.rollout.models`). A platform imports its cloud SDK only inside
these methods, so importing the registry costs nothing at start-up.
"""

from __future__ import annotations

from release_kit.errors import InputError
from release_kit.platforms import container_apps, ecs
from release_kit.platforms.protocols import Engine, Platform, Words

__all__ = ["ALL_PLATFORMS", "Engine", "Platform", "Words", "get"]


ALL_PLATFORMS: dict[str, Platform] = {
    ecs.PLATFORM.name: ecs.PLATFORM,
    container_apps.PLATFORM.name: container_apps.PLATFORM,
}


def get(name: str) -> Platform:
    """The registered platform called ``name``; exit 2 listing the known ones otherwise."""
    try:
        return ALL_PLATFORMS[name]
    except KeyError:
        known = ", ".join(ALL_PLATFORMS)
        raise InputError(f"deploy.platform {name!r}: not a platform release-kit deploys to ({known})") from None
