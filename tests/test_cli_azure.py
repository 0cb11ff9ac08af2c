"""No Azure credentials: one line naming the fix, not the SDK's dozens of lines about every credential it tried."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("azure.identity")


def test_no_azure_credentials_is_one_line_exit_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "IDENTITY_", "MSI_", "GITHUB_", "RK_"))}
    env.update(HOME=str(tmp_path), PATH=str(Path(sys.executable).parent), AZURE_CONFIG_DIR=str(tmp_path / "az"))
    args = ["preflight", "--platform", "container-apps", "--subscription", "00000000-0000-0000-0000-000000000000"]
    args += ["--resource-group", "rg", "--service", "api=agent-api", "--service", "web=agent-web"]
    done = subprocess.run(
        [sys.executable, "-m", "release_kit", *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.strip().splitlines() if not line.startswith("== ")]  # progress
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("release-kit: error: no usable Azure credentials to read container app")
    assert "az login" in lines[0] and "AZURE_CLIENT_ID" in lines[0] and "OIDC" in lines[0]
    assert "DefaultAzureCredential" not in done.stdout + done.stderr
