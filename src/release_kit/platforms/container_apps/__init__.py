"""Azure Container Apps: apps, revisions, jobs. Needs the extra ``azure``.

``facts.py`` turns Resource Manager answers (or app files) into preflight's facts, with
``key_vault.py`` reading secret versions' properties (never values); ``engine.py`` rolls an app to a
new revision and starts the migration job; ``judge.py`` judges what they saw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from release_kit import gha
from release_kit.errors import InputError
from release_kit.platforms.protocols import Words

if TYPE_CHECKING:
    from release_kit.http import Clock
    from release_kit.platforms.protocols import Engine
    from release_kit.preflight.facts import Facts
    from release_kit.preflight.models import Check
    from release_kit.target.settings import DeploySettings, Role


class ContainerApps:
    name = "container-apps"
    file_metavar = "ROLE=FILE"
    file_option = "--app-file"

    @property
    def words(self) -> Words:
        return Words(
            store="Key Vault",
            reference_form="an app secret with keyVaultUrl and env secretRef",
            service_where="app {name}",
            dangling_fix=(
                "define app secret {reference!r} as a Key Vault reference, or point secretRef at a defined one"
            ),
            min_replicas_hint=" (scale.minReplicas 1)",
            max_replicas_hint=" (scale.maxReplicas 1)",
            redeploy_hint="az containerapp revision restart, or a new revision",
        )

    def check_settings(self, settings: DeploySettings) -> None:
        settings.azure_subscription()
        settings.require_resource_group()

    def gather(
        self,
        settings: DeploySettings,
        files: dict[Role, str],
        *,
        workers: int | None = None,
        credential: Any = None,
        endpoint: str | None = None,
    ) -> tuple[Facts, int]:
        from release_kit.clouds.arm import Arm
        from release_kit.platforms.container_apps import facts

        arm = (
            Arm(settings.azure_subscription(), credential=credential, endpoint=endpoint)
            if settings.resource_group
            else None
        )
        where = f"resource group {settings.resource_group}" if arm else "the files given"
        extra = {"workers": workers} if workers else {}
        with gha.group(f"preflight: reading Container Apps, their secrets' definitions and backups ({where})"):
            found = facts.gather(settings, files, arm=arm, **extra)
        return found, arm.calls if arm else 0

    def engine(
        self,
        settings: DeploySettings,
        *,
        clock: Clock,
        interval: float,
        credential: Any = None,
        endpoint: str | None = None,
        lro_interval: float | None = None,
    ) -> tuple[Engine, Any]:
        from release_kit.clouds.arm import Arm
        from release_kit.platforms.container_apps.engine import ContainerAppsRollout

        arm = Arm(settings.azure_subscription(), credential=credential, endpoint=endpoint)
        engine = ContainerAppsRollout(
            arm, settings.require_resource_group(), clock=clock, interval=interval, lro_interval=lro_interval
        )
        return engine, arm

    def migration_target(self, settings: DeploySettings) -> str:
        if not settings.migrations.job:
            raise InputError(
                "no migration job: set deploy.migrations.job in .github/release-kit.yml or pass --job NAME"
            )
        return settings.migrations.job

    def check_access(
        self, settings: DeploySettings, *, credential: Any = None, endpoint: str | None = None
    ) -> tuple[list[Check], int]:
        from release_kit.clouds.arm import Arm
        from release_kit.platforms.container_apps import access

        self.check_settings(settings)
        arm = Arm(settings.azure_subscription(), credential=credential, endpoint=endpoint)
        with gha.group("preflight: asking Azure what the deploy identity may do on the resource group"):
            rows = access.check(settings, arm)
        return rows, arm.calls


PLATFORM = ContainerApps()
