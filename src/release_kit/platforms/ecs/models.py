"""What ECS answers, typed only as far as the judge reads it."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from release_kit.rollout.models import Facts


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
