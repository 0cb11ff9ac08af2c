"""deploy on Azure Container Apps: the SDK's real requests answered by `responses`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from release_kit.clouds.arm import Arm
from release_kit.platforms.container_apps.engine import ContainerAppsRollout
from release_kit.rollout.deploy import deploy_images
from release_kit.rollout.images import parse_image
from release_kit.rollout.models import Verdict
from release_kit.target.settings import DeploySettings
from tests.fakes.container_apps import GROUP, SUB, FakeContainerApps, FakeCredential
from tests.fakes.ecs_rollout import ScriptedClock

OLD = "myreg.azurecr.io/app/api@sha256:" + "1" * 64
NEW = {"api": "myreg.azurecr.io/app/api@sha256:" + "a" * 64, "web": "myreg.azurecr.io/app/web@sha256:" + "b" * 64}
SETTINGS = DeploySettings.model_validate(
    {
        "platform": "container-apps",
        "subscription": SUB,
        "resource_group": GROUP,
        "services": {"api": "agent-api", "web": "agent-web"},
    }
)
IMAGES = {role: parse_image(ref) for role, ref in NEW.items()}


@pytest.fixture
def azure() -> Iterator[FakeContainerApps]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeContainerApps(rsps)
        fake.add_app("agent-api", "api", OLD)
        fake.add_app("agent-web", "web", OLD.replace("/api@", "/web@"))
        yield fake


def deploy(fake: FakeContainerApps, clock: ScriptedClock, images: dict = IMAGES, timeout: float = 600):  # type: ignore[no-untyped-def, type-arg]
    arm = Arm(SUB, credential=FakeCredential())
    engine = ContainerAppsRollout(arm, GROUP, clock=clock)
    return deploy_images(SETTINGS, images, timeout, clock=clock, engine=(engine, arm))


def test_the_new_revision_goes_from_provisioning_to_healthy_and_serving(
    azure: FakeContainerApps, capsys: pytest.CaptureFixture[str]
) -> None:
    rev: list[str] = []
    clock = ScriptedClock(
        lambda: rev.append(azure.new_revision("agent-api")),
        lambda: azure.revision("agent-api", rev[0], provisioningState="Provisioned", runningState="Activating"),
        lambda: azure.promote("agent-api", rev[0]),
        lambda: rev.append(azure.new_revision("agent-web", "w1")),
        lambda: azure.promote("agent-web", rev[1]),
    )
    report = deploy(azure, clock)

    assert report.passed, report
    api = report.roles[0]
    assert (api.previous, api.new) == ("agent-api--v1", "agent-api--x7k2p9q")
    assert api.previous_image == OLD and api.image == NEW["api"]
    assert "Provisioned, Running, Healthy and serves 100%" in api.reason
    patch = azure.patches[0]["properties"]["template"]
    assert patch["containers"][0]["image"] == NEW["api"]
    assert patch["containers"][0]["env"] == [{"name": "DATABASE_URL", "secretRef": "database-url"}]  # kept
    assert patch["revisionSuffix"] is None  # Azure names the revision
    assert patch["scale"] == {"minReplicas": 1, "maxReplicas": 3}
    assert all(t == f"Bearer {FakeCredential.TOKEN}" for t in azure.tokens)
    err = capsys.readouterr().err
    assert "Azure has not created the new revision yet" in err
    assert "revision agent-api--x7k2p9q is Provisioning; agent-api--v1 still serves" in err
    assert FakeCredential.TOKEN not in err


def test_a_failed_revision_fails_with_its_provisioning_error(azure: FakeContainerApps) -> None:
    error = "Container 'api' was terminated with exit code '1': ImagePullBackOff"

    def fails() -> None:
        rev = azure.new_revision("agent-api")
        azure.revision("agent-api", rev, provisioningState="Failed", runningState="Failed", provisioningError=error)

    report = deploy(azure, ScriptedClock(fails))
    api, web = report.roles
    assert api.verdict is Verdict.FAIL
    assert api.reason == f"revision agent-api--x7k2p9q failed to provision: {error}"
    assert web.verdict is Verdict.SKIPPED and not any("agent-web" in str(p) for p in azure.patches)
    assert len(azure.patches) == 1


def test_an_old_revision_still_serving_is_not_a_pass(azure: FakeContainerApps) -> None:
    rev: list[str] = []
    clock = ScriptedClock(
        lambda: rev.append(azure.new_revision("agent-api")),
        lambda: azure.revision(
            "agent-api", rev[0], provisioningState="Provisioned", runningState="Running", healthState="Unhealthy"
        ),
    )
    report = deploy(azure, clock, {"api": IMAGES["api"]}, timeout=60)
    api = report.roles[0]
    assert api.verdict is Verdict.FAIL
    assert api.reason == (
        "not done within 60s (--timeout): revision agent-api--x7k2p9q is Unhealthy; agent-api--v1 still serves"
    )


def test_healthy_but_without_traffic_is_not_a_pass(azure: FakeContainerApps) -> None:
    rev: list[str] = []
    clock = ScriptedClock(
        lambda: rev.append(azure.new_revision("agent-api")),
        lambda: azure.revision(
            "agent-api", rev[0], provisioningState="Provisioned", runningState="Running", healthState="Healthy"
        ),
    )
    report = deploy(azure, clock, {"api": IMAGES["api"]}, timeout=30)
    assert report.roles[0].verdict is Verdict.FAIL
    assert "gets no traffic (active True, weight 0); agent-api--v1 still serves" in report.roles[0].reason


def test_the_same_image_again_makes_no_revision_and_passes(azure: FakeContainerApps) -> None:
    report = deploy(azure, ScriptedClock(), {"api": parse_image(OLD)})
    assert report.passed and azure.patches == []
    assert report.roles[0].reason.startswith("already running this image")


def test_a_multiple_revision_app_is_refused_before_anything_changes(azure: FakeContainerApps) -> None:
    from release_kit.errors import InputError

    azure.apps["agent-api"].mode = "Multiple"
    with pytest.raises(InputError, match="multiple-revision mode"):
        deploy(azure, ScriptedClock(), {"api": IMAGES["api"]})
    assert azure.patches == []
