"""What Resource Manager answers about apps, revisions and job executions, typed only as far as the judge reads it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasChoices, Field

from release_kit.rollout.models import Facts


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
    id: str | None = None
    status: str | None = None  # Running, Processing, Succeeded, Failed, Stopped, Degraded, Unknown
    reason: str | None = Field(None, validation_alias=AliasChoices("reason", "detailedStatus"))
    message: str | None = None
    start_time: datetime | None = None
    template: dict[str, Any] | None = None  # the containers it ran (command, image, env)
