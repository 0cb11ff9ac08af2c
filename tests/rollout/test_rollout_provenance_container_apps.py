"""deploy on Container Apps takes only images of the repository each app runs now (or of deploy.images):
the app's template is read, nothing is patched for a foreign image."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from release_kit.clouds.arm import Arm
from release_kit.errors import InputError
from release_kit.platforms.container_apps.engine import ContainerAppsRollout
from release_kit.rollout.deploy import deploy_images
from release_kit.rollout.images import parse_image
from release_kit.target.settings import DeploySettings
from tests.fakes.container_apps import GROUP, SUB, FakeContainerApps, FakeCredential
from tests.fakes.ecs_rollout import ScriptedClock

NOW = "myreg.azurecr.io/app/api@sha256:" + "1" * 64
SETTINGS = DeploySettings.model_validate(
    {"platform": "container-apps", "subscription": SUB, "resource_group": GROUP, "services": {"api": "agent-api"}}
)


@pytest.fixture
def azure() -> Iterator[FakeContainerApps]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeContainerApps(rsps)
        fake.add_app("agent-api", "api", NOW)
        yield fake


def engine() -> tuple[ContainerAppsRollout, Arm]:
    arm = Arm(SUB, credential=FakeCredential())
    return ContainerAppsRollout(arm, GROUP, clock=ScriptedClock()), arm


@pytest.mark.parametrize(
    ("settings", "allowed"),
    [
        (SETTINGS, "myreg.azurecr.io/app/api, the repository api may deploy from (the image agent-api runs now"),
        (
            SETTINGS.with_overrides(images={"api": "otherreg.azurecr.io/app/api"}),
            "otherreg.azurecr.io/app/api, the repository api may deploy from (deploy.images.api)",
        ),
    ],
    ids=["what-runs-now", "deploy-images"],
)
def test_a_foreign_image_is_refused_before_the_app_is_patched(
    azure: FakeContainerApps, settings: DeploySettings, allowed: str
) -> None:
    foreign = parse_image("evil.example.net/pwn/api@sha256:" + "6" * 64)
    with pytest.raises(InputError) as caught:
        deploy_images(settings, {"api": foreign}, 60, engine=engine())
    assert f"--image api={foreign}: not from {allowed}" in caught.value.message
    assert azure.patches == []
