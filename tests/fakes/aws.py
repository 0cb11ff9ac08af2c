"""moto's server mode in the test process: boto3 talks real HTTP to 127.0.0.1, and the test can reach
moto's in-process backends (``backend("ecs")``) to do what moto does not simulate (see
the rollout tests for deployments and task exits).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"


@contextmanager
def moto_aws(monkeypatch: pytest.MonkeyPatch, *, region: str = REGION) -> Iterator[str]:
    """Start moto on a free 127.0.0.1 port, point boto3 at it, and wipe every backend afterwards."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.server import ThreadedMotoServer

    assert DEFAULT_ACCOUNT_ID == ACCOUNT
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret-marker")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    try:
        yield url
    finally:
        server.stop()
        reset()


def reset() -> None:
    """Forget every resource moto holds (its backends are process-wide)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def backend(service: str, *, region: str = REGION) -> Any:
    """moto's in-process backend for ``service`` (e.g. ``ecs``) in the default account and ``region``."""
    from moto.backends import get_backend

    return get_backend(service)[ACCOUNT][region]  # type: ignore[index]
