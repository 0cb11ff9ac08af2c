"""Azure Resource Manager in the preflight and rollout tests: the SDKs' real requests answered by ``responses``,
signed by a fake credential (a module may define its own ``azure`` fixture, which then wins)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from release_kit.clouds import arm
from tests.fakes.container_apps import FakeCredential


class PreflightCredential(FakeCredential):
    TOKEN = "fake-arm-token-for-tests"


@pytest.fixture
def credential(monkeypatch: pytest.MonkeyPatch) -> FakeCredential:
    fake = PreflightCredential()
    monkeypatch.setattr(arm, "default_credential", lambda: fake)
    monkeypatch.delenv("AZURE_ARM_ENDPOINT", raising=False)
    return fake


@pytest.fixture
def azure(credential: FakeCredential) -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
