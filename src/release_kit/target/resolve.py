"""Where the services run: the config's ``deploy:`` section with the command's flags laid over it.

One resolution for preflight, migrate, deploy and rollback (their flags come from
:func:`release_kit.target.options.where_options`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from release_kit import config
from release_kit.target.settings import DeploySettings, parse_role_pairs


def load_settings(config_path: Path | None, **flags: Any) -> DeploySettings:
    """``deploy:`` of the config file with the flags laid over it."""
    loaded = config.load(config_path)
    base = loaded.deploy if loaded is not None and loaded.deploy is not None else DeploySettings()
    return base.with_overrides(**flags)


def settings_from_flags(
    config_path: Path | None,
    *,
    platform: str | None,
    region: str | None,
    cluster: str | None,
    subscription: str | None,
    resource_group: str | None,
    services: tuple[str, ...],
    containers: tuple[str, ...],
) -> DeploySettings:
    """The config's deploy: section with the flags over it; ``--service``/``--container`` set their
    roles and keep the others the file names."""
    base = load_settings(config_path)
    given_services = parse_role_pairs(services, "--service")
    given_containers = parse_role_pairs(containers, "--container")
    return base.with_overrides(
        platform=platform,
        region=region,
        cluster=cluster,
        subscription=subscription,
        resource_group=resource_group,
        services={**base.services, **given_services} if given_services else None,
        containers={**base.containers, **given_containers} if given_containers else None,
    )
