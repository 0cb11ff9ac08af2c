"""Azure Container Apps (azure-mgmt-appcontainers): update an app's container image and wait for
*the revision Azure creates for it*; run a migration as an execution of the configured job.

Every call goes through :meth:`release_kit.clouds.arm.Arm.call`, named for people with the least role.
"""

from __future__ import annotations

import re
from typing import Any

from release_kit.clouds.arm import Arm
from release_kit.errors import InputError
from release_kit.http import Clock
from release_kit.image_refs import ImageRef
from release_kit.platforms.container_apps.judge import judge_execution, judge_revision
from release_kit.platforms.container_apps.models import CaApp, CaExecution, CaRevision
from release_kit.rollout.models import Finding, RoleResult, Verdict
from release_kit.rollout.waiting import POLL_INTERVAL, Deadline, wait_for
from release_kit.target.settings import Role, pick_container

ROLE = "Container Apps Contributor"
RESOURCE_ID = re.compile(
    r"^/subscriptions/[\w-]+/resourceGroups/[\w.()-]+/providers/Microsoft\.App/jobs/[\w-]+/executions/[\w-]+$"
)


def _dict(model: Any) -> dict[str, Any]:
    """An SDK model (MutableMapping-compatible) as its REST JSON shape."""
    if model is None:
        return {}
    if hasattr(model, "as_dict"):
        return dict(model.as_dict())
    return dict(model)


def _flat(raw: dict[str, Any]) -> dict[str, Any]:
    """``name`` and ``properties`` on one level, as the facts models read them."""
    return {**(raw.get("properties") or {}), "name": raw.get("name", "")}


class ContainerAppsRollout:
    def __init__(
        self,
        arm: Arm,
        resource_group: str,
        *,
        clock: Clock,
        interval: float = POLL_INTERVAL,
        lro_interval: float | None = None,
    ) -> None:
        from azure.mgmt.appcontainers import ContainerAppsAPIClient

        self.arm = arm
        self.group = resource_group
        self.clock = clock
        self.interval = interval
        # a long-running start is polled as often as everything else (Azure's Retry-After still wins)
        self.lro: dict[str, Any] = {"polling_interval": interval if lro_interval is None else lro_interval}
        self.client = arm.client(ContainerAppsAPIClient)

    def app(self, name: str) -> dict[str, Any]:
        got = self.arm.call(
            f"read container app {name}",
            "Reader",
            self.client.container_apps.get,
            resource_group_name=self.group,
            container_app_name=name,
        )
        return _dict(got)

    def revision(self, app: str, revision: str) -> CaRevision | None:
        got = self.arm.call(
            f"read revision {revision} of {app}",
            "Reader",
            self.client.container_apps_revisions.get_revision,
            missing_ok=True,
            resource_group_name=self.group,
            container_app_name=app,
            revision_name=revision,
        )
        return CaRevision.model_validate(_flat(_dict(got))) if got is not None else None

    # -- deploy --------------------------------------------------------------------------

    def deploy(
        self, role: Role, name: str, wanted_container: str | None, image: ImageRef, timeout: float
    ) -> RoleResult:
        start = self.clock.now()
        raw = self.app(name)
        before = CaApp.model_validate(_flat(raw))
        mode = ((raw.get("properties") or {}).get("configuration") or {}).get("activeRevisionsMode") or "Single"
        if str(mode).lower() == "multiple":
            raise InputError(
                f"container app {name} is in multiple-revision mode; release-kit deploys single-revision apps "
                "(set activeRevisionsMode to Single), where the new revision takes the traffic once healthy"
            )
        template = dict((raw.get("properties") or {}).get("template") or {})
        containers = [dict(c) for c in template.get("containers") or []]
        container: str = pick_container(containers, wanted_container, role, f"container app {name}")["name"]
        images = {str(c.get("name")): str(c.get("image")) for c in containers}
        expect_new = images.get(container) != str(image)
        for c in containers:
            if c.get("name") == container:
                c["image"] = str(image)
        template["containers"] = containers
        template["revisionSuffix"] = None  # Azure names the new revision
        if expect_new:
            self.arm.call(
                f"update container app {name}",
                ROLE,
                self.client.container_apps.begin_update,
                resource_group_name=self.group,
                container_app_name=name,
                container_app_envelope={"properties": {"template": template}},
                polling=False,
            )
        previous = before.latest_revision_name
        seen: list[CaApp] = [before]

        def observe() -> Finding:
            app = CaApp.model_validate(_flat(self.app(name)))
            seen[0] = app
            target = app.latest_revision_name
            rev = self.revision(name, target) if target and (target != previous or not expect_new) else None
            return judge_revision(previous, app, rev, expect_new, str(image))

        finding = wait_for(
            f"{role} ({name}) to serve {image.digest[:19]}",
            observe,
            Deadline.after(self.clock, timeout),
            interval=self.interval,
        )
        return RoleResult(
            role=role,
            service=name,
            container=container,
            image=str(image),
            previous_image=images.get(container),
            previous_images=images,
            previous=previous,
            new=seen[0].latest_revision_name,
            verdict=finding.verdict,
            reason=finding.reason
            if expect_new or finding.verdict is not Verdict.PASS
            else f"already running this image; {finding.reason}",
            seconds=round(self.clock.now() - start, 2),
        )

    # -- migrate -------------------------------------------------------------------------

    def migrate(
        self, job: str, wanted_container: str | None, command: list[str], image: ImageRef | None, deadline: Deadline
    ) -> dict[str, Any]:
        """Start ``job`` with the command (and image) overridden; wait for the execution's status."""
        from azure.mgmt.appcontainers import models

        raw = _dict(
            self.arm.call(
                f"read job {job}", "Reader", self.client.jobs.get, resource_group_name=self.group, job_name=job
            )
        )
        containers = list(((raw.get("properties") or {}).get("template") or {}).get("containers") or [])
        container: str = pick_container(containers, wanted_container, "api", f"container apps job {job}")["name"]
        overridden = []
        for c in containers:
            entry = {k: c[k] for k in ("name", "image", "command", "args", "env", "resources") if c.get(k) is not None}
            if c.get("name") == container:
                entry["command"] = command
                entry.pop("args", None)
                if image is not None:
                    entry["image"] = str(image)
            overridden.append(entry)
        template = models.JobExecutionTemplate({"containers": overridden})
        poller = self.arm.call(
            f"start job {job}",
            ROLE,
            self.client.jobs.begin_start,
            resource_group_name=self.group,
            job_name=job,
            template=template,
            **self.lro,
        )
        result = self.arm.call(f"start job {job}", ROLE, poller.result, timeout=max(1.0, deadline.left()))
        if not poller.done():
            return {"verdict": Verdict.FAIL, "reason": f"Azure did not start job {job} within the timeout"}
        started = _dict(result)
        execution = str(started.get("name") or "")
        if not execution:
            return {"verdict": Verdict.FAIL, "reason": f"Azure started job {job} but named no execution"}
        used = next((e.get("image") for e in overridden if e.get("name") == container), None)

        def observe() -> Finding:
            got = self.arm.call(
                f"read execution {execution} of job {job}",
                "Reader",
                self.client.job_execution,
                missing_ok=True,
                resource_group_name=self.group,
                job_name=job,
                job_execution_name=execution,
            )
            return judge_execution(CaExecution.model_validate(_flat(_dict(got))) if got is not None else None)

        finding = wait_for(f"job execution {execution}", observe, deadline, interval=self.interval)
        ident = str(started.get("id") or "")
        link = f"https://portal.azure.com/#resource{ident}" if RESOURCE_ID.match(ident) else None
        return {"task": execution, "image": used, "log_url": link, "verdict": finding.verdict, "reason": finding.reason}
