"""Amazon ECS (Fargate or EC2): services, task definitions, one-off tasks. Needs the extra ``aws``.

``facts.py`` turns ECS, Secrets Manager, SSM, Application Auto Scaling, RDS and ElastiCache answers
(or task definition files) into preflight's facts; ``engine.py`` rolls a service to a new task
definition revision and runs the migration as a one-off task; ``judge.py`` judges what they saw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from release_kit import gha
from release_kit.platforms.protocols import Words

if TYPE_CHECKING:
    from release_kit.http import Clock
    from release_kit.platforms.protocols import Engine
    from release_kit.preflight.facts import Facts
    from release_kit.preflight.models import Check
    from release_kit.target.settings import DeploySettings, Role


class Ecs:
    name = "ecs"
    file_metavar = "ROLE=FILE|ARN"
    file_option = "--task-definition"

    @property
    def words(self) -> Words:
        return Words(
            store="Secrets Manager or SSM Parameter Store",
            reference_form="a secrets[] entry with valueFrom",
            service_where="task definition {revision}",
            dangling_fix="create it in {store}, or point valueFrom at an existing one",
            min_replicas_hint=" (desiredCount 1)",
            max_replicas_hint=" (desiredCount and autoscaling MaxCapacity 1)",
            redeploy_hint="aws ecs update-service --force-new-deployment",
        )

    def check_settings(self, settings: DeploySettings) -> None:
        settings.aws_region()
        settings.require_cluster()

    def gather(
        self,
        settings: DeploySettings,
        files: dict[Role, str],
        *,
        workers: int | None = None,
        credential: Any = None,
        endpoint: str | None = None,
    ) -> tuple[Facts, int]:
        from release_kit.clouds.aws import Aws
        from release_kit.platforms.ecs import facts

        needs_cloud = bool(settings.cluster) or any(v.startswith("arn:") for v in files.values())
        aws = Aws(settings.aws_region()) if needs_cloud else None
        where = f"cluster {settings.cluster} in {aws.region}" if aws and settings.cluster else "the files given"
        extra = {"workers": workers} if workers else {}
        with gha.group(f"preflight: reading ECS services, task definitions, secrets' metadata and backups ({where})"):
            found = facts.gather(settings, files, aws=aws, **extra)
        return found, aws.calls if aws else 0

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
        from release_kit.clouds.aws import Aws
        from release_kit.platforms.ecs.engine import EcsRollout

        aws = Aws(settings.aws_region())
        return EcsRollout(aws, settings.require_cluster(), clock=clock, interval=interval), aws

    def migration_target(self, settings: DeploySettings) -> str:
        return settings.require_service("api")  # the migration runs as a one-off task of the API's service

    def check_access(
        self, settings: DeploySettings, *, credential: Any = None, endpoint: str | None = None
    ) -> tuple[list[Check], int]:
        from release_kit.clouds.aws import Aws
        from release_kit.platforms.ecs import access

        self.check_settings(settings)
        aws = Aws(settings.aws_region())
        with gha.group("preflight: asking IAM's policy simulator what the deploy role may do"):
            rows = access.check(settings, aws)
        return rows, aws.calls


PLATFORM = Ecs()
__all__ = ["PLATFORM"]
