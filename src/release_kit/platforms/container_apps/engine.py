"""Azure Container Apps (azure-mgmt-appcontainers): update an app's container image and wait for
*the revision Azure creates for it*; run a migration as an execution of the configured job.

Every call goes through :meth:`release_kit.clouds.arm.Arm.call`, named for people with the least role.

The job start (``POST .../jobs/NAME/start``) has no idempotency token, so it is sent once: azure-core's
retry policy, which re-sends a POST answered 500/503/504, is off for that one request. After an
ambiguous failure (5xx, a timeout, a reset connection) the job's executions are listed and ours is
found by a variable unique to this run (:data:`MARKER`) in its template; found, it is followed; not
found after :data:`LOOKUPS` looks, migrate exits 3 saying the start may or may not have happened and
how to check. It is never started a second time. See docs/idempotency.md.
"""

from __future__ import annotations

import itertools
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from release_kit import gha
from release_kit.clouds.arm import Arm
from release_kit.errors import InputError, ReleaseKitError, RemoteGaveUp
from release_kit.http import Clock
from release_kit.image_refs import ImageRef
from release_kit.platforms.container_apps.judge import is_our_execution, judge_execution, judge_revision
from release_kit.platforms.container_apps.models import CaApp, CaExecution, CaRevision
from release_kit.rollout.models import Finding, RoleResult, Verdict
from release_kit.rollout.waiting import POLL_INTERVAL, Deadline, wait_for
from release_kit.target.settings import Role, pick_container

ROLE = "Container Apps Contributor"
MARKER = "RELEASE_KIT_MIGRATION_ID"  # a variable set on the migration's container: unique to one migrate
LOOKUPS = 3  # looks for our execution after an ambiguous start (the list may lag the start)
LISTED_MAX = 500  # executions read per look, at most (the newest come first)
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

    def current_image(self, role: Role, name: str, wanted_container: str | None) -> str | None:
        """The image ``role``'s container runs now (the app's template)."""
        raw = self.app(name)
        template = (raw.get("properties") or raw).get("template") or {}
        containers = [dict(c) for c in template.get("containers") or []]
        return (
            str(pick_container(containers, wanted_container, role, f"container app {name}").get("image") or "") or None
        )

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
        from azure.mgmt.core.polling.arm_polling import ARMPolling

        raw = _dict(
            self.arm.call(
                f"read job {job}", "Reader", self.client.jobs.get, resource_group_name=self.group, job_name=job
            )
        )
        containers = list(((raw.get("properties") or {}).get("template") or {}).get("containers") or [])
        container: str = pick_container(containers, wanted_container, "api", f"container apps job {job}")["name"]
        marker = uuid.uuid4().hex
        overridden = []
        for c in containers:
            entry = {k: c[k] for k in ("name", "image", "command", "args", "env", "resources") if c.get(k) is not None}
            if c.get("name") == container:
                entry["command"] = command
                entry.pop("args", None)
                env = [e for e in entry.get("env") or [] if not (isinstance(e, dict) and e.get("name") == MARKER)]
                entry["env"] = [*env, {"name": MARKER, "value": marker}]
                if image is not None:
                    entry["image"] = str(image)
            overridden.append(entry)
        template = models.JobExecutionTemplate({"containers": overridden})
        sent_at = datetime.now(UTC)  # compared with Azure's clock, not the injectable one
        recovered = ""
        try:
            poller = self.arm.call(
                f"start job {job}",
                ROLE,
                self.client.jobs.begin_start,
                resource_group_name=self.group,
                job_name=job,
                template=template,
                polling=ARMPolling(self.lro["polling_interval"]),  # the status polls keep the retry budget
                retry_total=0,  # the POST itself is never re-sent: it has no idempotency token
            )
            result = self.arm.call(f"start job {job}", ROLE, poller.result, timeout=max(1.0, deadline.left()))
            if not poller.done():
                return {"verdict": Verdict.FAIL, "reason": f"Azure did not start job {job} within the timeout"}
            started = _dict(result)
        except RemoteGaveUp as lost:  # the start may have happened all the same: look before giving up
            used_image = next((str(e["image"]) for e in overridden if e.get("name") == container), None)
            started = self.find_started(job, container, (MARKER, marker), command, used_image, sent_at, lost, deadline)
            recovered = f" (found by its {MARKER} after Azure's answer to the start was lost)"
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
        return {
            "task": execution,
            "image": used,
            "log_url": link,
            "verdict": finding.verdict,
            "reason": finding.reason + recovered,
        }

    def executions(self, job: str) -> list[CaExecution]:
        """The job's executions (at most :data:`LISTED_MAX`), as the judge reads them."""

        def listed() -> list[dict[str, Any]]:
            pages = self.client.jobs_executions.list(resource_group_name=self.group, job_name=job)
            return [_dict(e) for e in itertools.islice(pages, LISTED_MAX)]

        raw = self.arm.call(f"list the executions of job {job}", "Reader", listed)
        return [CaExecution.model_validate({**_flat(e), "id": e.get("id")}) for e in raw if e.get("name")]

    def find_started(
        self,
        job: str,
        container: str,
        marker: tuple[str, str],
        command: list[str],
        image: str | None,
        sent_at: datetime,
        lost: RemoteGaveUp,
        deadline: Deadline,
    ) -> dict[str, Any]:
        """The execution this migrate started, after an ambiguous answer to the start: found in the
        job's executions by our marker variable, up to :data:`LOOKUPS` looks. Not found, or not
        listed: exit 3 saying the start may or may not have happened. Never a second start."""
        check = f"az containerapp job execution list --name {job} --resource-group {self.group} --output table"
        unsure = f"{lost.message}; the start may or may not have happened and release-kit did not send it again"
        for look in range(1, LOOKUPS + 1):
            try:
                seen = self.executions(job)
            except ReleaseKitError as again:  # gave up, denied (a missing read permission), refused
                raise RemoteGaveUp(
                    f"{unsure}; listing the job's executions failed too ({again.one_line()})",
                    hint=f"check with `{check}` (ours has {marker[0]}={marker[1]}) before running migrate again",
                ) from None
            ours = [e for e in seen if is_our_execution(e, container, marker, command, image, sent_at)]
            if ours:
                gha.annotate(
                    "warning",
                    f"{lost.message}, but execution {ours[0].name} of job {job} carries this run's "
                    f"{marker[0]}: following it, not starting another",
                    title="migration execution found after a lost answer",
                    stream=sys.stderr,
                )
                return {"name": ours[0].name, "id": ours[0].id}
            left = deadline.left()
            if look == LOOKUPS or left <= 0:
                break
            sys.stderr.write(
                gha.redact(
                    f"waiting for job {job} to list this run's execution: not listed yet (look {look} of {LOOKUPS})"
                )
                + "\n"
            )
            self.clock.sleep(min(self.interval, left))
        raise RemoteGaveUp(
            f"{unsure}; no execution of job {job} with this run's {marker[0]} is listed after {LOOKUPS} looks",
            hint=f"check with `{check}` (ours would have {marker[0]}={marker[1]}) before running migrate again",
        )
