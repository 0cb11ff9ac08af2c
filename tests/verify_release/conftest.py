"""No test reaches GitHub's TUF repository: it points at a closed local port, with a private cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from release_kit.attestations.verify import default_trust


@pytest.fixture(autouse=True)
def no_tuf_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("RELEASE_KIT_GITHUB_TUF_URL", "http://127.0.0.1:9/tuf")
    monkeypatch.setenv("RELEASE_KIT_TUF_CACHE", str(tmp_path / "tuf-cache"))
    monkeypatch.setenv("RELEASE_KIT_RETRY_BUDGET", "0")
    default_trust.cache_clear()
    yield
    default_trust.cache_clear()
