"""Pure judgement of a Container Apps revision and a job execution: facts in, a finding out.

No I/O here. A judge says ``pass``, ``fail`` or ``wait`` with a reason a person can act on; the
waiting loop turns a deadline into a fail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from release_kit.platforms.container_apps.models import CaApp, CaExecution, CaRevision
from release_kit.rollout.models import Finding, clean
from release_kit.rollout.models import failed as _fail
from release_kit.rollout.models import passed as _pass
from release_kit.rollout.models import waiting as _wait

RUNNING_STATES = frozenset({"Running", "RunningAtMaxScale"})


def judge_revision(
    previous: str | None, app: CaApp, revision: CaRevision | None, expect_new: bool, image: str | None = None
) -> Finding:
    """Is the revision Azure created for our image Provisioned, Running, Healthy, active and serving?

    ``previous`` is the app's latest revision before the update; ``expect_new`` is False when the
    image did not change (Azure makes no new revision then). With ``image``, a revision that runs
    other images (another update took its place) is never ours to pass.
    """
    if app.provisioning_state == "Failed":
        return _fail(f"Azure failed to update app {app.name}: provisioningState Failed")
    if expect_new and (app.latest_revision_name in (None, previous)):
        return _wait(f"Azure has not created the new revision yet (app {app.provisioning_state or 'updating'})")
    if revision is None:
        return _wait(f"revision {app.latest_revision_name} is not visible yet")
    name = revision.name
    if image is not None and revision.images is not None and image not in revision.images:
        shown = ", ".join(clean(i) for i in revision.images) or "no image"
        return _fail(f"revision {name} runs {shown}, not {image}: another update replaced ours")
    if revision.provisioning_state == "Failed":
        error = clean(revision.provisioning_error or revision.running_state_details or "no error given")
        return _fail(f"revision {name} failed to provision: {error}")
    if revision.running_state == "Failed":
        return _fail(f"revision {name} failed to run: {clean(revision.running_state_details or 'no details given')}")
    serving = app.latest_ready_revision_name
    old = f"; {serving} still serves" if serving and serving != name else ""
    if revision.provisioning_state != "Provisioned":
        return _wait(f"revision {name} is {revision.provisioning_state or 'provisioning'}{old}")
    if revision.running_state not in RUNNING_STATES:
        details = f" ({clean(revision.running_state_details)})" if revision.running_state_details else ""
        return _wait(f"revision {name} is {revision.running_state or 'not running'}{details}{old}")
    if revision.health_state != "Healthy":
        health = "Unhealthy" if revision.health_state == "Unhealthy" else "not healthy yet"
        return _wait(f"revision {name} is {health}{old}")
    if not revision.active or revision.traffic_weight <= 0:
        return _wait(
            f"revision {name} is healthy but gets no traffic "
            f"(active {revision.active}, weight {revision.traffic_weight}){old}"
        )
    if serving and serving != name:
        return _wait(f"revision {name} is healthy but the latest ready revision is {serving}")
    return _pass(f"revision {name} is Provisioned, Running, Healthy and serves {revision.traffic_weight}% of traffic")


def judge_execution(execution: CaExecution | None) -> Finding:
    if execution is None:
        return _wait("the job execution is not visible yet")
    status = execution.status or "Unknown"
    detail = "; ".join(clean(t) for t in (execution.reason, execution.message) if t)
    suffix = f": {detail}" if detail else ""
    if status == "Succeeded":
        return _pass(f"job execution {execution.name} Succeeded")
    if status in ("Failed", "Stopped", "Degraded"):
        return _fail(f"job execution {execution.name} {status}{suffix}")
    return _wait(f"job execution {execution.name} is {status}")


START_SKEW = timedelta(minutes=2)  # our clock against Azure's, when an execution is matched by its start time


def is_our_execution(
    execution: CaExecution,
    container: str,
    marker: tuple[str, str],
    command: list[str],
    image: str | None,
    sent_at: datetime,
) -> bool:
    """Whether ``execution`` is the one this migrate started: its ``container`` carries our marker
    variable (``marker`` is its name and value). When Azure's answer shows no variables, the same
    command and image, started no earlier than ``sent_at`` (less :data:`START_SKEW`), stand in."""
    containers = (execution.template or {}).get("containers")
    entry = (
        next(
            (c for c in containers if isinstance(c, dict) and c.get("name") == container),
            None,
        )
        if isinstance(containers, list)
        else None
    )
    if entry is None:
        return False
    env = entry.get("env")
    if isinstance(env, list) and env:
        return any(isinstance(e, dict) and (e.get("name"), e.get("value")) == marker for e in env)
    if entry.get("command") != command or (image is not None and entry.get("image") != image):
        return False
    start = execution.start_time
    if start is None:
        return False
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    return start >= sent_at - START_SKEW
