"""The runbook's deploy half as a user runs it: nektos/act (host mode) runs the deploy workflow that
``release-kit init --platform ecs`` writes, which calls our reusable ``runbook-deploy.yml`` and our
actions from this checkout (``--local-repository org/release-kit@v1=<root>``), against moto's ECS,
RDS, Secrets Manager, SSM, Application Auto Scaling and ElastiCache, the GitHub fake, and an API and
a web app that answer health checks and the example smoke spec.

moto starts no ECS deployment and stops no task by itself: while act runs, :class:`Operator` plays
ECS on moto's in-process backend (tests/fakes/ecs_rollout.py), as a thread of the test.

The release half (runbook-release.yml) does not run here: it builds images with docker buildx and
attests them with GitHub's OIDC token; neither exists on this machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fakes.aws import REGION, backend, moto_aws
from tests.fakes.ecs_rollout import EcsSimulator
from tests.fakes.ecs_world import CLUSTER, EcsWorld, build
from tests.fakes.ecs_world import CONFIG as WORLD_CONFIG
from tests.fakes.github import FakeGitHub, serve, sha_of
from tests.probes import auth_app
from tests.selftest.test_act import act_binary

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "ghs_runbookSelftestToken0123456789ab"
SMOKE_PASSWORD = "runbook-Correct-Horse-0xBEEF"
AWS_SECRET = "runbook-aws-secret-marker-9f8e7d"
TAG = "v1.4.0"
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/agent"
GOOD = {"api": f"{ECR}/api@sha256:{'1' * 64}", "web": f"{ECR}/web@sha256:{'2' * 64}"}
NEW = {"api": f"{ECR}/api@sha256:{'a' * 64}", "web": f"{ECR}/web@sha256:{'b' * 64}"}
SERVICES = {"api": "agent-api", "web": "agent-web"}
# the migration command comes from the config alone (the workflows pass none); health checks what
# ready means, the api's version included (the tag deployed, or the good release's after a rollback);
# only these repositories are ever deployed
MIGRATION = "starter-console release db"
CONFIG = WORLD_CONFIG + (
    f"  migrations:\n    command: {MIGRATION}\n"
    "  health:\n"
    "    api: {path: /health/ready, expect_json: {status: ready}, expect_version: true}\n"
    "    web: {path: /api/health/ready, expect_json: {status: ready}}\n"
    f"  images: {{api: {ECR}/api, web: {ECR}/web}}\n"
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


class App(auth_app.AuthApp):
    """The auth app of tests/probes, also answering the readiness endpoints health polls."""

    def __init__(self) -> None:
        super().__init__(users={auth_app.SMOKE_EMAIL: SMOKE_PASSWORD})  # the pre-provisioned smoke user
        self.ready_polls = 0

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes | Iterator[bytes]]:
        if method == "GET" and path in ("/health/ready", "/api/health/ready"):
            with self.lock:
                self.ready_polls += 1
            # the version of the api image that runs now: the good release's after a rollback
            version = "1.3.0" if running_images().get("api") == GOOD["api"] else TAG.removeprefix("v")
            body = json.dumps({"status": "ready", "version": version}).encode()
            return 200, {"content-type": "application/json"}, body
        return super().handle(method, path, headers, body)


# -- the ECS world ------------------------------------------------------------------------------


def fargate_world() -> None:
    """ecs_world's production (preflight passes) with api and web as Fargate services in a VPC, so the
    migration's RunTask can be placed like the api service, each steady on its GOOD image."""
    import boto3

    build(EcsWorld())
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto's RunTask needs it
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    network = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group], "assignPublicIp": "DISABLED"}}
    ecs = boto3.client("ecs")
    for role, name in SERVICES.items():
        [service] = ecs.describe_services(cluster=CLUSTER, services=[name])["services"]
        old = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        containers = [{**c, "image": GOOD[role]} for c in old["containerDefinitions"]]
        td = ecs.register_task_definition(family=old["family"], containerDefinitions=containers)["taskDefinition"]
        ecs.delete_service(cluster=CLUSTER, service=name, force=True)
        ecs.create_service(
            cluster=CLUSTER, serviceName=name, taskDefinition=td["taskDefinitionArn"],
            desiredCount=service["desiredCount"], launchType="FARGATE", networkConfiguration=network,
        )  # fmt: skip
        steady = backend("ecs").services[f"{CLUSTER}:{name}"]
        steady.deployments[0].update(runningCount=steady.desired_count, pendingCount=0, rolloutState="COMPLETED")
        steady.running_count, steady.pending_count = steady.desired_count, 0


def running_images() -> dict[str, str]:
    import boto3

    ecs = boto3.client("ecs")
    found = {}
    for role, name in SERVICES.items():
        [service] = ecs.describe_services(cluster=CLUSTER, services=[name])["services"]
        td = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        found[role] = next(c["image"] for c in td["containerDefinitions"] if c["name"] == role)
    return found


@dataclass(eq=False)
class Operator(threading.Thread):
    """ECS, as far as moto does not play it: migration tasks exit 0; a service whose task definition
    changed rolls out (or, for ``trip`` services the first time, the circuit breaker rolls it back)."""

    sim: EcsSimulator
    trip: set[str] = field(default_factory=set)
    hold: set[str] = field(default_factory=set)  # services whose rollout never ends (the run is cancelled)
    holding: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    events: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(daemon=True)

    def run(self) -> None:
        while not self.done.wait(0.25):
            try:
                self.step()
            except Exception as error:  # reported by the test
                self.errors.append(error)
                return

    def step(self) -> None:
        tasks = self.sim.tasks(CLUSTER)
        if tasks and tasks[-1].last_status == "RUNNING":
            task = self.sim.stop_task(CLUSTER, 0)
            image = self.sim.ecs.describe_task_definition(task.task_definition_arn).container_definitions[0]["image"]
            self.events.append(f"task {task.overrides['containerOverrides'][0]['command']} of {image} exited 0")
        for name in SERVICES.values():
            service = self.sim.service(CLUSTER, name)
            primary = next(d for d in service.deployments if d["status"] == "PRIMARY")
            if "circuit breaker" in primary.get("rolloutStateReason", "") and primary["rolloutState"] == "IN_PROGRESS":
                self.sim.roll_back(CLUSTER, name)
                self.events.append(f"{name} rolled back")
            elif self.sim.arn(service.task_definition) != primary["taskDefinition"]:
                if name in self.hold:
                    self.holding.set()
                elif name in self.trip:
                    self.trip.discard(name)
                    self.sim.fail(CLUSTER, name, "tasks failed to start: the container exited 1")
                    self.events.append(f"{name} failed")
                else:
                    self.sim.complete(CLUSTER, name)
                    self.events.append(f"{name} completed {service.task_definition.rsplit('/', 1)[-1]}")


# -- the user's repository --------------------------------------------------------------------


def user_repository(path: Path) -> str:
    """A repository as ``release-kit init --registry ecr --platform ecs`` leaves it, with the deploy
    section filled in; one commit, tagged; its SHA."""
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)  # init writes into a git repository
    done = subprocess.run(
        [sys.executable, "-m", "release_kit", "init", "--registry", "ecr", "--platform", "ecs", "--dir", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (path / ".github" / "release-kit.yml").write_text(CONFIG)

    def git(*args: str) -> str:
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
        return subprocess.run(["git", *args], cwd=path, env=env, capture_output=True, text=True, check=True).stdout

    git("remote", "add", "origin", "https://github.com/octo-org/app.git")
    git("add", ".")
    git("commit", "-q", "-m", "runbook")
    git("tag", TAG)
    return git("rev-parse", "HEAD").strip()


def pinned_ref(repo: Path) -> str:
    """The ref of release-kit the user's deploy workflow calls, as init wrote it."""
    text = (repo / ".github" / "workflows" / "deploy.yml").read_text()
    match = re.search(r"uses: org/release-kit/\.github/workflows/runbook-deploy\.yml@(\S+)", text)
    assert match, text
    return match.group(1)


def release_kit_for_act(tmp_path: Path, ref: str) -> Path:
    """This checkout's actions, reusable workflows and sources, as act fetches them for ``org/release-kit@<ref>``.

    act does not know GitHub's self-repository ``uses: $/<path>`` (this repository at the running
    commit): in the copy, each becomes ``org/release-kit/<path>@<ref>``, the same code by the name act
    resolves with ``--local-repository``. The shipped files keep ``$/``.
    """
    copy = tmp_path / "release-kit"
    skip = shutil.ignore_patterns(".venv", ".git", "tests", "__pycache__", ".*_cache")
    shutil.copytree(ROOT, copy, ignore=skip)
    for workflow in (copy / ".github" / "workflows").glob("runbook-*.yml"):
        text = workflow.read_text()
        translated = re.sub(r"(uses:\s*)\$/(\S+)", rf"\1org/release-kit/\2@{ref}", text)
        assert not re.search(r"uses:\s*\$/", translated)  # every self-repository call was translated
        workflow.write_text(translated)
    return copy


def stand_ins(tmp_path: Path) -> list[str]:
    """act fetches every action of a job when the job is set up, even those of steps whose ``if:`` is
    false, and nothing can be fetched here: the third-party actions of our reusable workflows (the
    AWS and Azure sign-ins, skipped with no role and no keys) resolve to stand-ins that fail the job
    if they ever run. Their ``--local-repository`` flags."""
    pins = set()
    for workflow in (ROOT / ".github" / "workflows").glob("runbook-*.yml"):
        pins |= set(re.findall(r"uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40})", workflow.read_text()))
    flags = []
    for repo, sha in sorted(pins):
        if repo == "actions/checkout":
            continue  # act copies the repository itself
        folder = tmp_path / "stand-ins" / repo
        folder.mkdir(parents=True)
        (folder / "action.yml").write_text(
            f"name: stand-in for {repo}\nruns:\n  using: composite\n  steps:\n"
            f"    - shell: bash\n      run: echo '{repo} must not run in this test' >&2; exit 1\n"
        )
        flags += ["--local-repository", f"{repo}@{sha}={folder}"]
    return flags


@dataclass
class Run:
    log: str
    code: int


def run_deploy(
    repo: Path,
    tmp_path: Path,
    *,
    github: str,
    moto: str,
    api: str,
    web: str,
    images: str,
    cancel_when: threading.Event | None = None,
) -> Run:
    """Run the user's deploy workflow under act; ``cancel_when`` set, act is interrupted (as a run is
    cancelled) then."""
    ref = pinned_ref(repo)
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {"ref": f"refs/tags/{TAG}", "inputs": {"environment": "production", "images": images, "version": TAG}}
        )
    )
    args = [
        act_binary(), "workflow_dispatch", "-W", ".github/workflows/deploy.yml", "-e", str(event),
        "-P", "ubuntu-24.04=-self-hosted", "--action-offline-mode",
        "--local-repository", f"org/release-kit@{ref}={release_kit_for_act(tmp_path, ref)}",
        "--var", f"API_URL={api}", "--var", f"WEB_URL={web}",
        "-s", f"GITHUB_TOKEN={TOKEN}", "-s", f"SMOKE_PASSWORD={SMOKE_PASSWORD}",
        *stand_ins(tmp_path),
    ]  # fmt: skip
    env = {
        "GITHUB_API_URL": github,
        "AWS_ENDPOINT_URL": moto,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }
    for key, value in env.items():
        args += ["--env", f"{key}={value}"]
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RK_", "RUNNER_", "AWS_"))}
    process = subprocess.Popen(args, cwd=repo, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def cancel() -> None:
        if cancel_when is not None and cancel_when.wait(240) and process.poll() is None:
            process.send_signal(signal.SIGINT)

    threading.Thread(target=cancel, daemon=True).start()
    try:
        log, _ = process.communicate(timeout=280)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    (tmp_path / "act.log").write_text(log)  # kept for a failing test's reader
    return Run(log, process.returncode)


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with moto_aws(monkeypatch) as url:
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
        yield url


@dataclass
class Deployed:
    run: Run
    github: FakeGitHub
    api: App
    web: App
    operator: Operator


def deploy(
    moto: str, tmp_path: Path, *, trip: set[str] | None = None, hold: set[str] | None = None, history: bool = False
) -> Deployed:
    """Run the user's deploy workflow for NEW under act while the operator plays ECS; ``history``
    seeds GitHub with the record of the GOOD deploy that runs now."""
    act_binary()
    repo = tmp_path / "app"
    sha = user_repository(repo)
    fargate_world()
    fake = FakeGitHub()
    fake.add_ref(f"tags/{TAG}", sha)
    if history:
        fake.add_ref("tags/v1.3.0", sha_of("v1.3.0"))
        good = fake.add_deployment(
            "v1.3.0", task="deploy:release-kit",
            payload={"release_kit": 1, "images": GOOD, "checks": {"health": "pass", "smoke": "pass"},
                     "snapshot": None, "rollback_of": None},
        )  # fmt: skip
        fake.add_deployment_status(good, "success")
        import boto3

        ecr = boto3.client("ecr")  # rollback deploys only digests that exist in their repositories
        for role, ref in GOOD.items():
            ecr.create_repository(repositoryName=f"agent/{role}")
            media = "application/vnd.oci.image.manifest.v1+json"
            manifest = json.dumps({"schemaVersion": 2, "mediaType": media, "layers": [], "role": role})
            ecr.put_image(
                repositoryName=f"agent/{role}",
                imageManifest=manifest,
                imageManifestMediaType=media,
                imageDigest=ref.split("@")[1],
            )
    api_app, web_app = App(), App()
    images = " ".join(f"{role}={ref}" for role, ref in NEW.items())
    with EcsSimulator() as sim, serve(fake) as github, auth_app.serve(api_app) as api, auth_app.serve(web_app) as web:
        operator = Operator(sim, trip=set(trip or ()), hold=set(hold or ()))
        operator.start()
        try:
            run = run_deploy(
                repo, tmp_path, github=github, moto=moto, api=api, web=web, images=images,
                cancel_when=operator.holding if hold else None,
            )  # fmt: skip
        finally:
            operator.done.set()
            operator.join()
    assert not operator.errors, operator.errors
    return Deployed(run, fake, api_app, web_app, operator)


def assert_no_secret_in(log: str, app: App) -> None:
    assert TOKEN not in log and SMOKE_PASSWORD not in log and AWS_SECRET not in log
    tokens = set(app.refresh_tokens) | set(app.last_access.values())
    assert tokens and not [token for token in tokens if token in log]


def test_the_deploy_half_runs_under_a_runner_against_moto(moto: str, tmp_path: Path) -> None:
    import boto3

    done = deploy(moto, tmp_path)
    log = done.run.log
    assert done.run.code == 0, log[-8000:]
    # ECS: the migration ran first as a one-off task of the new api image, then api and web rolled out
    assert [event.split(" ", 1)[0] for event in done.operator.events] == ["task", "agent-api", "agent-web"]
    assert done.operator.events[0] == f"task ['starter-console', 'release', 'db'] of {NEW['api']} exited 0"
    assert running_images() == NEW
    # the record: one release-kit deployment of the tag, successful, with what ran and what was checked
    [record] = done.github.deployments
    assert record["task"] == "deploy:release-kit" and record["ref"] == TAG and record["environment"] == "production"
    assert done.github.deployment_statuses[record["id"]][-1]["state"] == "success"
    payload = record["payload"]
    snapshot = payload["snapshot"]
    assert payload == {
        "release_kit": 1,
        "record_id": payload["record_id"],
        "images": NEW,
        "checks": dict.fromkeys(
            ["preflight", "migrate", "deploy-api", "health-api", "deploy-web", "health-web", "smoke"], "pass"
        ),
        "snapshot": snapshot,
        "rollback_of": None,
    }
    # the snapshot was taken of the database of the config, named for the tag
    assert snapshot.startswith("release-kit-v1-4-0-")
    [taken] = boto3.client("rds").describe_db_snapshots(DBSnapshotIdentifier=snapshot)["DBSnapshots"]
    assert taken["DBInstanceIdentifier"] == "agent-pg"
    # health polled each app's readiness endpoint until three answers in a row; smoke ran on the api
    assert done.api.ready_polls >= 3 and done.web.ready_polls >= 3
    assert done.api.posts("/api/v1/auth/register") == 0 and done.api.posts("/api/v1/chat/stream") == 1
    assert done.api.posts("/api/v1/auth/token") == 1  # the smoke user logged in with the secret
    assert done.web.posts("/api/v1/auth/token") == 0
    # no rollback after a good deploy; no secret in the runner's log
    assert "Roll back" not in log
    assert_no_secret_in(log, done.api)


def test_a_failed_web_rollout_ends_in_the_rollback_job(moto: str, tmp_path: Path) -> None:
    """The circuit breaker rolls web back: the deploy job fails after api rolled out and records the
    failure, then the nested runbook-rollback puts the last good images (the seeded v1.3.0 record)
    back, checks health and records the rollback."""
    import boto3

    done = deploy(moto, tmp_path, trip={"agent-web"}, history=True)
    log = done.run.log
    rollback_job = "[Roll back to the last good images/runbook-rollback/Roll back to the last good images]"
    assert (
        done.run.code != 0 and "Error: Job 'Deploy (preflight, migrate, api, web, health, smoke, record)' failed" in log
    )
    assert f"{rollback_job} 🏁  Job succeeded" in log, log[-8000:]
    assert "rolled back by the deployment circuit breaker" in log
    # ECS: api rolled out, web's rollout failed and ECS rolled it back, then the rollback put api back
    assert [" ".join(event.split(" ")[:2]) for event in done.operator.events[1:]] == [
        "agent-api completed", "agent-web failed", "agent-web rolled", "agent-api completed",
    ]  # fmt: skip
    assert running_images() == GOOD
    # the records: the good one seeded, the failed deploy, the rollback to the good one
    good, failed, rollback = done.github.deployments
    statuses = done.github.deployment_statuses
    assert failed["ref"] == TAG and statuses[failed["id"]][-1]["state"] == "failure"
    assert failed["payload"]["images"] == NEW
    assert failed["payload"]["checks"] == {
        "preflight": "pass", "migrate": "pass", "deploy-api": "pass", "health-api": "pass", "deploy-web": "fail",
    }  # fmt: skip
    snapshot = failed["payload"]["snapshot"]
    assert snapshot.startswith("release-kit-v1-4-0-")
    assert rollback["task"] == "deploy:release-kit" and rollback["ref"] == good["ref"] == "v1.3.0"
    assert rollback["payload"]["images"] == GOOD and rollback["payload"]["rollback_of"] == failed["id"]
    assert statuses[rollback["id"]][-1]["state"] == "success"
    # the database keeps its schema: the restore command is printed, never run
    assert f"--db-snapshot-identifier {snapshot}" in log
    instances = boto3.client("rds").describe_db_instances()["DBInstances"]
    assert [db["DBInstanceIdentifier"] for db in instances] == ["agent-pg"]
    # health after the rollback checked both apps (web only then: the deploy stopped before its check);
    # smoke never ran on a failed deploy
    assert done.api.ready_polls >= 6 and done.web.ready_polls >= 3
    assert done.api.posts("/api/v1/auth/token") == 0
    assert TOKEN not in log and SMOKE_PASSWORD not in log and AWS_SECRET not in log


def test_a_deploy_cancelled_during_its_web_rollout_still_writes_its_record(moto: str, tmp_path: Path) -> None:
    """The run is cancelled (act interrupted) while web rolls out: the rollout step stops, the verdict
    names the step, the record step (always()) still records a failure with the checks reached;
    nothing after it runs."""
    done = deploy(moto, tmp_path, hold={"agent-web"})
    log = done.run.log
    assert done.run.code != 0
    assert [" ".join(event.split(" ")[:2]) for event in done.operator.events] == [
        "task ['starter-console',", "agent-api completed",
    ]  # fmt: skip
    assert "::warning title=Deploy cancelled::cancelled during deploy-web; recorded as a failure" in log
    assert "cancelled_during=deploy-web" in log
    assert done.api.posts("/api/v1/auth/token") == 0  # smoke never ran
    assert TOKEN not in log and SMOKE_PASSWORD not in log and AWS_SECRET not in log
    [record] = done.github.deployments
    assert record["ref"] == TAG and record["payload"]["images"] == NEW
    assert done.github.deployment_statuses[record["id"]][-1]["state"] == "failure"
    assert record["payload"]["checks"] == {
        "preflight": "pass", "migrate": "pass", "deploy-api": "pass", "health-api": "pass", "deploy-web": "fail",
    }  # fmt: skip
