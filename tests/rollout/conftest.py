"""Fixtures the deploy-half tests share: the Azure ones (one definition, in tests/fakes) and moto's
server with ECS's rollouts played by :class:`EcsSimulator` (a module may define its own ``sim``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.arm_fixtures import azure, credential
from tests.fakes.ecs_rollout import EcsSimulator, fresh_ecs, moto_session

__all__ = ["azure", "credential", "moto", "sim"]


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with moto_session() as url:
        yield url


@pytest.fixture
def sim(moto: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[EcsSimulator]:
    for name in ("GITHUB_SERVER_URL", "GITHUB_RUN_ID"):  # a record's run URL would come from them
        monkeypatch.delenv(name, raising=False)
    with fresh_ecs() as simulator:
        yield simulator
