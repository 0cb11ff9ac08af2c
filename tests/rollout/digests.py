"""A digest look-up that answers from a set, for rollback tests about something else (the searches,
the rollout, the record). The look-ups themselves are tested against moto's ECR and a real registry
in test_rollback_provenance.py."""

from __future__ import annotations

from collections.abc import Iterable

from release_kit.image_refs import ImageRef, parse_image
from release_kit.records.provenance import DigestCheck


class KnownDigests(DigestCheck):
    """Every image in ``present`` exists (all images when ``present`` is None); records each look-up."""

    def __init__(self, present: Iterable[str] | None = None) -> None:
        super().__init__()
        self.present = None if present is None else {str(parse_image(p)) for p in present}

    def exists(self, image: ImageRef) -> bool:
        self.looked_up.append(str(image))
        return self.present is None or str(image) in self.present


def every_digest_exists(monkeypatch: object) -> None:
    """rollback's default look-up answers "exists" for every digest (the registries of these tests are names only)."""
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr("release_kit.rollout.rollback.DigestCheck", KnownDigests)
