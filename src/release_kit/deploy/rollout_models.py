"""Facts the rollout judges read (typed only as far as they are read) and the deploy/migrate reports."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from release_kit.deploy.settings import Platform, Role

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def clean(text: object, limit: int = 500) -> str:
    """Remote text made safe to print: one line, no control characters, bounded."""
    return " ".join(_CONTROL.sub(" ", str(text)).split())[:limit]


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    WAIT = "wait"
    SKIPPED = "skipped"


class Facts(BaseModel):
    """A remote answer: camelCase keys, unknown fields ignored, immutable."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


# -- ECS --------------------------------------------------------------------------


class EcsDeployment(Facts):
    id: str
    status: str = ""  # PRIMARY, ACTIVE, INACTIVE
    task_definition: str = ""
    desired_count: int = 0
    running_count: int = 0
    pending_count: int = 0
    failed_tasks: int = 0
    rollout_state: str | None = None  # IN_PROGRESS, COMPLETED, FAILED
    rollout_state_reason: str | None = None


class EcsService(Facts):
    service_name: str = ""
    status: str = ""
    task_definition: str = ""
    desired_count: int = 0
    running_count: int = 0
    deployments: list[EcsDeployment] = Field(default_factory=list)
    deployment_controller: dict[str, Any] = Field(default_factory=dict)
    launch_type: str | None = None
    capacity_provider_strategy: list[dict[str, Any]] = Field(default_factory=list)
    network_configuration: dict[str, Any] | None = None
    platform_version: str | None = None

    @property
    def primary(self) -> EcsDeployment | None:
        return next((d for d in self.deployments if d.status == "PRIMARY"), None)


class EcsContainer(Facts):
    name: str = ""
    last_status: str | None = None
    exit_code: int | None = None
    reason: str | None = None


class EcsTask(Facts):
    task_arn: str
    last_status: str = ""
    stopped_reason: str | None = None
    stop_code: str | None = None
    containers: list[EcsContainer] = Field(default_factory=list)


# -- Container Apps -------------------------------------------------------------------


class CaRevision(Facts):
    name: str
    provisioning_state: str | None = None  # Provisioning, Provisioned, Failed, Deprovisioning, Deprovisioned
    running_state: str | None = None  # Running, RunningAtMaxScale, Processing, Activating, Degraded, Failed, ...
    running_state_details: str | None = None
    health_state: str | None = None  # Healthy, Unhealthy, None
    active: bool = False
    traffic_weight: int = 0
    provisioning_error: str | None = None
    template: dict[str, Any] | None = None  # what the revision runs

    @property
    def images(self) -> list[str] | None:
        """The revision's container images; None when the answer did not say."""
        if not isinstance(self.template, dict) or not isinstance(self.template.get("containers"), list):
            return None
        return [str(c.get("image")) for c in self.template["containers"] if isinstance(c, dict)]


class CaApp(Facts):
    name: str = ""
    provisioning_state: str | None = None  # InProgress, Succeeded, Failed, Canceled
    latest_revision_name: str | None = None
    latest_ready_revision_name: str | None = None


class CaExecution(Facts):
    name: str
    status: str | None = None  # Running, Processing, Succeeded, Failed, Stopped, Degraded, Unknown
    reason: str | None = Field(None, validation_alias=AliasChoices("reason", "detailedStatus"))
    message: str | None = None


# -- what a judge decides ---------------------------------------------------------------


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    reason: str


# -- reports ------------------------------------------------------------------------


class RoleResult(BaseModel):
    role: Role
    service: str
    container: str | None = None
    image: str
    previous_image: str | None = None
    previous_images: dict[str, str] = Field(default_factory=dict, description="Container name to image, before.")
    previous: str | None = Field(None, description="Task definition ARN (ecs) or revision (container-apps) before.")
    new: str | None = Field(None, description="Task definition ARN or revision deployed.")
    deployment_id: str | None = None
    verdict: Verdict
    reason: str
    seconds: float = 0.0


class DeployReport(BaseModel):
    platform: Platform
    passed: bool
    roles: list[RoleResult]
    not_deployed: list[str] = Field(default_factory=list, description="Images of the publish report that are no role.")
    calls: int = 0

    @property
    def deployed_images(self) -> dict[str, str]:
        return {r.role: r.image for r in self.roles if r.verdict is Verdict.PASS}


class MigrationReport(BaseModel):
    platform: Platform
    passed: bool
    verdict: Verdict
    reason: str
    command: list[str]
    image: str | None = None
    task_definition: str | None = Field(None, description="ecs: the task definition the task ran.")
    task: str | None = Field(None, description="ECS task ARN or Container Apps job execution name.")
    exit_code: int | None = None
    log_url: str | None = None
    snapshot: str | None = Field(None, description="The snapshot taken first (--snapshot).")
    seconds: float = 0.0
    calls: int = 0
