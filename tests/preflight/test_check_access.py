"""preflight --check-access on ECS: IAM's policy simulator asked for the role the job runs as, on the
resources the config names; each denied permission is a fail naming the statement to add.

moto serves ECS (the services and their task definitions); moto has no policy simulator, so STS and
IAM are a small local server with the real Query-protocol shapes (``AWS_ENDPOINT_URL_STS`` and
``AWS_ENDPOINT_URL_IAM``), evaluating a test's allow-list the way IAM evaluates Allow statements.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import pytest

from release_kit.cli import run_cli
from tests.fakes.aws import ACCOUNT, REGION, moto_aws

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ci/deploy"  # the role has a path: the assumed-role ARN leaves it out
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
TASK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/agent-api-task"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecs-execution"


class Iam(ThreadingHTTPServer):
    def __init__(self, allowed: list[tuple[str, str]], *, simulator: bool = True) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.allowed = allowed  # (action, resource glob)
        self.simulator = simulator
        self.sources: list[str] = []
        self.contexts: list[dict[str, list[str]]] = []


class Handler(BaseHTTPRequestHandler):
    server: Iam

    def log_message(self, *args: Any) -> None:
        pass

    def reply(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
        action = form["Action"]
        if action == "GetCallerIdentity":
            arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/GitHubActions"
            self.reply(
                200,
                f'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
                f"<Arn>{arn}</Arn><UserId>AROAEXAMPLE:GitHubActions</UserId><Account>{ACCOUNT}</Account>"
                "</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
                "</GetCallerIdentityResponse>",
            )
        elif action == "GetRole":
            self.reply(
                200,
                f'<GetRoleResponse xmlns="{IAM_NS}"><GetRoleResult><Role><Path>/ci/</Path>'
                f"<RoleName>{form['RoleName']}</RoleName><RoleId>AROAEXAMPLE1234567890</RoleId><Arn>{ROLE_ARN}</Arn>"
                "<CreateDate>2026-01-01T00:00:00Z</CreateDate><AssumeRolePolicyDocument>%7B%7D"
                "</AssumeRolePolicyDocument></Role></GetRoleResult>"
                "<ResponseMetadata><RequestId>2</RequestId></ResponseMetadata></GetRoleResponse>",
            )
        elif action == "SimulatePrincipalPolicy" and self.server.simulator:
            self.simulate(form)
        else:
            self.reply(
                403,
                f'<ErrorResponse xmlns="{IAM_NS}"><Error><Type>Sender</Type><Code>AccessDenied</Code>'
                f"<Message>not authorized to perform iam:{escape(action)}</Message></Error>"
                "<RequestId>3</RequestId></ErrorResponse>",
            )

    def simulate(self, form: dict[str, str]) -> None:
        self.server.sources.append(form["PolicySourceArn"])
        actions = [v for k, v in sorted(form.items()) if k.startswith("ActionNames.member.")]
        resources = [v for k, v in form.items() if k.startswith("ResourceArns.member.")] or ["*"]
        context = {
            form[k]: [form[k.replace("ContextKeyName", "ContextKeyValues.member.1")]]
            for k in form
            if k.endswith(".ContextKeyName")
        }
        self.server.contexts.append(context)
        members = []
        for action in actions:
            for resource in resources:
                allowed = any(a == action and fnmatch.fnmatchcase(resource, r) for a, r in self.server.allowed)
                if action == "iam:PassRole" and context.get("iam:PassedToService") != ["ecs-tasks.amazonaws.com"]:
                    allowed = False  # the deploy policy's condition
                members.append(
                    f"<member><EvalActionName>{action}</EvalActionName><EvalResourceName>{escape(resource)}"
                    f"</EvalResourceName><EvalDecision>{'allowed' if allowed else 'implicitDeny'}</EvalDecision>"
                    "<MatchedStatements/><MissingContextValues/></member>"
                )
        self.reply(
            200,
            f'<SimulatePrincipalPolicyResponse xmlns="{IAM_NS}"><SimulatePrincipalPolicyResult>'
            f"<IsTruncated>false</IsTruncated><EvaluationResults>{''.join(members)}</EvaluationResults>"
            "</SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>4</RequestId></ResponseMetadata>"
            "</SimulatePrincipalPolicyResponse>",
        )


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with moto_aws(monkeypatch):
        import boto3

        ecs = boto3.client("ecs", region_name=REGION)
        ecs.create_cluster(clusterName="prod")
        for name, roles in (("agent-api", True), ("agent-web", False)):
            extra = {"taskRoleArn": TASK_ROLE, "executionRoleArn": EXECUTION_ROLE} if roles else {}
            td = ecs.register_task_definition(
                family=name, containerDefinitions=[{"name": name, "image": f"ghcr.io/acme/{name}:1", "memory": 256}],
                **extra,
            )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
            ecs.create_service(cluster="prod", serviceName=name, taskDefinition=td, desiredCount=1)
        yield "prod"


def serve_iam(monkeypatch: pytest.MonkeyPatch, server: Iam) -> None:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", url)


def config(tmp_path: Path) -> Path:
    path = tmp_path / "release-kit.yml"
    path.write_text(
        "deploy:\n  platform: ecs\n  region: us-east-1\n  cluster: prod\n"
        "  services: {api: agent-api, web: agent-web}\n  backups:\n    database: {rds_instance: agent-pg}\n"
    )
    return path


FULL = [
    ("ecs:DescribeServices", f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/*"),
    ("ecs:UpdateService", f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/*"),
    *[
        (a, "*")
        for a in (
            "ecs:DescribeTaskDefinition",
            "ecs:RegisterTaskDefinition",
            "ecs:TagResource",
            "ecs:RunTask",
            "ecs:ListTasks",
            "ecs:DescribeTasks",
        )
    ],
    ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/*"),
    ("rds:CreateDBSnapshot", f"arn:aws:rds:{REGION}:{ACCOUNT}:*"),
    ("rds:AddTagsToResource", f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:*"),
    ("rds:DescribeDBSnapshots", f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:*"),
]


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    report = tmp_path / "access.json"
    code = run_cli(["preflight", "--check-access", "--config", str(config(tmp_path)), "--report", str(report)])
    return code, json.loads(report.read_text()) if report.exists() else {}, capsys.readouterr().err


def test_a_role_allowed_everything_the_rollout_does_passes(
    cloud: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    iam = Iam(FULL)
    serve_iam(monkeypatch, iam)
    code, report, _ = check(tmp_path, capsys)
    assert code == 0, report
    subjects = {c["subject"] for c in report["checks"]}
    assert f"ecs:UpdateService on arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/agent-api" in subjects
    assert f"iam:PassRole on {TASK_ROLE}" in subjects and f"iam:PassRole on {EXECUTION_ROLE}" in subjects
    assert f"rds:AddTagsToResource on arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:release-kit-*" in subjects
    assert set(iam.sources) == {ROLE_ARN}  # the role's own ARN, path included, not the assumed-role session
    assert {"iam:PassedToService": ["ecs-tasks.amazonaws.com"]} in iam.contexts
    iam.shutdown()


def test_each_missing_permission_fails_with_the_statement_to_add(
    cloud: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = {"rds:AddTagsToResource", "ecs:UpdateService"}
    iam = Iam([(a, r) for a, r in FULL if a not in missing])
    serve_iam(monkeypatch, iam)
    code, report, _ = check(tmp_path, capsys)
    assert code == 1
    failed = {c["subject"]: c for c in report["checks"] if c["verdict"] == "fail"}
    assert {s.split(" on ")[0] for s in failed} == missing
    tags = failed[f"rds:AddTagsToResource on arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:release-kit-*"]
    assert "no statement allows it" in tags["reason"] and ROLE_ARN in tags["reason"]
    statement = json.loads(tags["fix"].split(": ", 1)[1])
    assert statement == {
        "Effect": "Allow",
        "Action": "rds:AddTagsToResource",
        "Resource": f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:release-kit-*",
    }
    assert len([s for s in failed if s.startswith("ecs:UpdateService")]) == 2  # api and web
    iam.shutdown()


def test_a_role_that_may_not_ask_the_simulator_is_unknown_never_a_pass(
    cloud: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    iam = Iam(FULL, simulator=False)
    serve_iam(monkeypatch, iam)
    code, report, _ = check(tmp_path, capsys)
    assert code == 1
    [row] = report["checks"]
    assert row["verdict"] == "unknown" and "iam:SimulatePrincipalPolicy" in row["fix"]
    iam.shutdown()


# -- Container Apps: Azure's permissions API on the resource group, through the SDK's pipeline --------

SUB = "00000000-0000-0000-0000-0000000000aa"
SCOPE = f"/subscriptions/{SUB}/resourceGroups/rg-prod"
PERMISSIONS = f"https://management.azure.com{SCOPE}/providers/Microsoft.Authorization/permissions"


def container_apps_config(tmp_path: Path) -> Path:
    path = tmp_path / "release-kit.yml"
    path.write_text(
        f"deploy:\n  platform: container-apps\n  subscription: {SUB}\n  resource_group: rg-prod\n"
        "  services: {api: agent-api, web: agent-web}\n  migrations: {job: agent-migrate}\n"
    )
    return path


@pytest.mark.parametrize(
    ("grants", "missing"),
    [
        # Container Apps Contributor's own wildcards (no jobs/start) plus Reader's
        ([{"actions": ["*/read"], "notActions": []},
          {"actions": ["Microsoft.App/containerApps/*/write", "Microsoft.App/containerApps/write"], "notActions": []}],
         {"Microsoft.App/jobs/start/action"}),
        ([{"actions": ["*"], "notActions": ["Microsoft.App/containerApps/write"]}],
         {"Microsoft.App/containerApps/write"}),
        ([{"actions": ["Microsoft.App/*"], "notActions": []}], set()),
    ],
)  # fmt: skip
def test_container_apps_access_matches_the_actions_azure_says_the_identity_holds(
    grants: list[dict[str, Any]],
    missing: set[str],
    azure: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import responses

    page_two = PERMISSIONS + "?api-version=2022-04-01&page=2"
    azure.add(
        responses.GET,
        re.compile(re.escape(PERMISSIONS) + r"\?api-version=2022-04-01\Z"),
        json={"value": grants[:1], "nextLink": page_two},
    )
    azure.add(responses.GET, page_two, json={"value": grants[1:]})  # fmt: skip
    report = tmp_path / "access.json"
    code = run_cli(
        ["preflight", "--check-access", "--config", str(container_apps_config(tmp_path)), "--report", str(report)]
    )
    data = json.loads(report.read_text())
    failed = {c["subject"]: c for c in data["checks"] if c["verdict"] == "fail"}
    assert set(failed) == missing
    assert code == (1 if missing else 0)
    for row in failed.values():
        assert row["fix"].startswith('az role assignment create --assignee "$AZURE_CLIENT_ID" --role ')
        assert SCOPE in row["fix"]
    assert len(data["checks"]) == 6


def test_container_apps_access_without_permission_to_list_it_is_exit_2_naming_the_role(
    azure: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import responses

    azure.add(responses.GET, re.compile(re.escape(PERMISSIONS)), status=403,
              json={"error": {"code": "AuthorizationFailed", "message": "no"}})  # fmt: skip
    assert run_cli(["preflight", "--check-access", "--config", str(container_apps_config(tmp_path))]) == 2
    assert "Reader" in capsys.readouterr().err
