"""The pure Container Apps judges: revisions and job executions."""

from __future__ import annotations

from typing import Any

import pytest

from release_kit.platforms.container_apps.judge import judge_execution, judge_revision
from release_kit.platforms.container_apps.models import CaApp, CaExecution, CaRevision
from release_kit.rollout.models import Verdict


def app(latest: str, ready: str = "app--v1", state: str = "Succeeded") -> CaApp:
    return CaApp.model_validate(
        {"name": "app", "provisioningState": state, "latestRevisionName": latest, "latestReadyRevisionName": ready}
    )


def rev(name: str = "app--new", **props: Any) -> CaRevision:
    base = {"provisioningState": "Provisioned", "runningState": "Running", "healthState": "Healthy", "active": True,
            "trafficWeight": 100}  # fmt: skip
    return CaRevision.model_validate({"name": name, **(base | props)})


@pytest.mark.parametrize(
    ("the_app", "revision", "verdict", "reason"),
    [
        (app("app--v1", state="InProgress"), None, Verdict.WAIT, "has not created the new revision yet"),
        (app("app--v1", state="Failed"), None, Verdict.FAIL, "Azure failed to update app app"),
        (app("app--new"), None, Verdict.WAIT, "not visible yet"),
        (app("app--new"), rev(provisioningState="Provisioning"), Verdict.WAIT, "is Provisioning; app--v1 still serves"),
        (app("app--new"), rev(provisioningState="Failed", provisioningError="ImagePullBackOff"), Verdict.FAIL,
         "revision app--new failed to provision: ImagePullBackOff"),
        (app("app--new"), rev(runningState="Failed", runningStateDetails="CrashLoopBackOff"), Verdict.FAIL,
         "failed to run: CrashLoopBackOff"),
        (app("app--new"), rev(runningState="Activating"), Verdict.WAIT, "is Activating"),
        (app("app--new"), rev(healthState="Unhealthy"), Verdict.WAIT, "is Unhealthy; app--v1 still serves"),
        (app("app--new"), rev(trafficWeight=0), Verdict.WAIT, "gets no traffic"),
        (app("app--new"), rev(active=False), Verdict.WAIT, "gets no traffic"),
        (app("app--new", ready="app--v1"), rev(), Verdict.WAIT, "latest ready revision is app--v1"),
        (app("app--new", ready="app--new"), rev(runningState="RunningAtMaxScale"), Verdict.PASS, "serves 100%"),
        (app("app--new", ready="app--new"), rev(), Verdict.PASS, "Provisioned, Running, Healthy"),
    ],
)  # fmt: skip
def test_the_revision_judge(the_app: CaApp, revision: CaRevision | None, verdict: Verdict, reason: str) -> None:
    finding = judge_revision("app--v1", the_app, revision, expect_new=True)
    assert finding.verdict is verdict, finding
    assert reason in finding.reason


def test_an_unchanged_image_judges_the_current_revision() -> None:
    finding = judge_revision("app--v1", app("app--v1", ready="app--v1"), rev("app--v1"), expect_new=False)
    assert finding.verdict is Verdict.PASS


@pytest.mark.parametrize(
    ("status", "verdict"),
    [("Running", Verdict.WAIT), ("Processing", Verdict.WAIT), ("Unknown", Verdict.WAIT), ("Succeeded", Verdict.PASS),
     ("Failed", Verdict.FAIL), ("Stopped", Verdict.FAIL), ("Degraded", Verdict.FAIL)],
)  # fmt: skip
def test_the_execution_judge(status: str, verdict: Verdict) -> None:
    assert judge_execution(CaExecution.model_validate({"name": "m-1", "status": status})).verdict is verdict
    assert judge_execution(None).verdict is Verdict.WAIT


def test_a_revision_running_another_image_is_a_fail_not_a_pass() -> None:
    """A concurrent update can make the latest revision someone else's: it must not pass as ours."""
    ours, theirs = "r.example/app/api@sha256:" + "a" * 64, "r.example/app/api@sha256:" + "b" * 64
    other = rev(template={"containers": [{"name": "api", "image": theirs}]})
    finding = judge_revision("app--v1", app("app--new", ready="app--new"), other, expect_new=True, image=ours)
    assert finding.verdict is Verdict.FAIL and "another update replaced ours" in finding.reason
    mine = rev(template={"containers": [{"name": "api", "image": ours}]})
    finding = judge_revision("app--v1", app("app--new", ready="app--new"), mine, expect_new=True, image=ours)
    assert finding.verdict is Verdict.PASS
