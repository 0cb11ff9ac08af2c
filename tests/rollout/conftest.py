"""The Azure fixtures shared with the other deploy-half tests (one definition, in tests/fakes)."""

from tests.fakes.arm_fixtures import azure, credential

__all__ = ["azure", "credential"]
