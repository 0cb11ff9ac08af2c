"""The app under test not answering (refused, or silent until the timeout) is a failed check, exit 1, for
health and smoke alike: exit 3 is for the services release-kit depends on."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from release_kit.cli import run_cli
from tests.probes.fault_server import free_port


@pytest.fixture
def silent() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture
def refused() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_health_of_an_app_that_does_not_answer_is_exit_1(
    request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    url = request.getfixturevalue(kind)
    args = ["health", "--api-url", url, "--deadline", "1", "--attempt-timeout", "0.3", "--interval", "0.2"]
    assert run_cli(args) == 1
    out = capsys.readouterr().out
    assert "no answer" in out


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_smoke_of_an_app_that_does_not_answer_is_exit_1(
    request: pytest.FixtureRequest, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    url = request.getfixturevalue(kind)
    spec = tmp_path / "smoke.yml"
    step = {"name": "up", "url": "{api_url}/health", "timeout": 0.3}
    spec.write_text(yaml.safe_dump({"flows": [{"name": "a", "steps": [step]}]}))
    assert run_cli(["smoke", "--spec", str(spec), "--api-url", url]) == 1
    assert "a/up: fail (no answer" in capsys.readouterr().err
