"""The files ``release-kit init`` writes, as text (comments kept, every value to fill in marked).

Pure functions: choices in, file contents out. The generated workflows call this repository's
reusable runbook workflows, so a team's own YAML stays a few dozen lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from release_kit.init.detect import GateMatch
from release_kit.init.pin import DEFAULT_OWNER, Pin

FILL = "FILL-IN"  # every value the team must set carries this marker
TAG_PIN = Pin(owner=DEFAULT_OWNER, ref="v1", version="v1")  # the major tag, when no release is named
REGISTRIES = ("ghcr", "ecr", "acr")
PLATFORMS = ("ecs", "container-apps")

_GATE_SETTINGS: dict[str, list[str]] = {
    "Dependency Review": [
        "events: [pull_request, pull_request_target]",
        "pull_request: true          # judged on the pull request's head commit",
    ],
    "CodeQL": [
        "events: [push, workflow_dispatch, schedule, dynamic]",
        "schedule_max_age: 7d",
        "code_scanning_tool: CodeQL",
    ],
    "Secrets Scan": [
        "schedule_max_age: 7d",
        "no_open_secret_alerts: true  # needs a token that can read secret-scanning alerts: RELEASE_KIT_TOKEN",
    ],
    "build-images": ["code_scanning_tool: Trivy"],
}


@dataclass(frozen=True)
class Choices:
    registry: str  # ghcr | ecr | acr
    platform: str  # ecs | container-apps
    pin: Pin = TAG_PIN  # the release-kit the workflows call


def _reusable(choices: Choices, name: str) -> str:
    return choices.pin.uses(f".github/workflows/{name}.yml")


# One run at a time per environment: the whole run (a deploy and its automatic rollback) waits for the
# one before it. The reusable workflows' jobs hold the group release-kit-deploy-<environment> inside
# it; a group of the same name here would deadlock (GitHub cancels a run waiting on its own group).
def _concurrency(environment: str) -> str:
    group = f"release-kit-{environment}"
    return f'concurrency: {{group: "{group}", cancel-in-progress: false}}  # one run per environment, queued'


def registry_host(registry: str) -> str:
    return {
        "ghcr": "ghcr.io",
        "ecr": f"{FILL}-account-id.dkr.ecr.us-east-1.amazonaws.com",
        "acr": f"{FILL}-registry.azurecr.io",
    }[registry]


def _gates(matches: list[GateMatch]) -> list[str]:
    lines = ["gates:", "  gates:"]
    for match in matches:
        if match.gate == "build-images" and match.workflow is None:
            continue  # the release workflow builds and scans the images itself, after the gates
        lines.append(f"    - name: {match.gate}")
        if match.workflow is None:
            lines[-1] += f"   # {FILL}: no workflow found for this gate; add it, or delete the gate"
        elif match.workflow.name != match.gate:
            lines.append(f"      workflow: {json.dumps(match.workflow.path)}")
        lines += [f"      {setting}" for setting in _GATE_SETTINGS.get(match.gate, [])]
    return lines


def _deploy(platform: str) -> list[str]:
    common_tail = [
        "  services: {api: " + FILL + "-api, web: " + FILL + "-web, worker: " + FILL + "-billing-worker}",
        "  secret_refs: [DATABASE_URL, REDIS_URL]    # must be secret references on api and worker",
        '  env: {api: {AUTO_RUN_MIGRATIONS: "false"}}',
        "  billing_topology: true",
    ]
    if platform == "ecs":
        return [
            "deploy:",
            "  platform: ecs",
            f"  region: us-east-1                 # {FILL}: the services' region",
            f"  cluster: {FILL}-cluster",
            *common_tail,
            "  backups:",
            f"    database: {{rds_instance: {FILL}-db}}          # or rds_cluster: ID (Aurora)",
            f"    redis: {{elasticache_replication_group: {FILL}-redis}}",
            "  migrations: {command: starter-console release db}",
        ]
    return [
        "deploy:",
        "  platform: container-apps",
        f"  resource_group: {FILL}-rg             # subscription: AZURE_SUBSCRIPTION_ID",
        *common_tail,
        "  backups:",
        f"    database: {{azure_postgres: {FILL}-pg}}",
        f"    redis: {{azure_redis: {FILL}-redis}}             # or azure_managed_redis: NAME",
        f"  migrations: {{job: {FILL}-migrations-job, command: starter-console release db}}",
    ]


def config_file(choices: Choices, matches: list[GateMatch]) -> str:
    head = [
        "# .github/release-kit.yml, written by release-kit init. `release-kit schema` prints its JSON Schema.",
        f"# Every value marked {FILL} is yours to set before the first deploy.",
    ]
    return "\n".join([*head, *_gates(matches), "", *_deploy(choices.platform)]) + "\n"


def _cloud_with(choices: Choices) -> str:
    if choices.platform == "ecs":
        return 'aws_role_arn: "${{ vars.AWS_ROLE_ARN }}"'
    return (
        'azure_client_id: "${{ vars.AZURE_CLIENT_ID }}", azure_tenant_id: "${{ vars.AZURE_TENANT_ID }}", '
        'azure_subscription_id: "${{ vars.AZURE_SUBSCRIPTION_ID }}"'
    )


def _deploy_with(choices: Choices) -> str:
    urls = 'api_url: "${{ vars.API_URL }}", web_url: "${{ vars.WEB_URL }}"'
    return f"platform: {choices.platform}, {urls}, {_cloud_with(choices)}"


def _release_secrets(registry: str) -> str:
    names = {
        "ghcr": [],
        "ecr": ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
        "acr": ["REGISTRY_USERNAME", "REGISTRY_PASSWORD"],
    }[registry]
    pairs = [f'{n}: "${{{{ secrets.{n} }}}}"' for n in ["RELEASE_KIT_TOKEN", *names, "SMOKE_PASSWORD"]]
    return "{" + ", ".join(pairs) + "}"


DEPLOY_PERMISSIONS = "{contents: read, deployments: write, id-token: write}  # checkout; the record; cloud OIDC"
RELEASE_PERMISSIONS = (
    "{actions: read, attestations: write, contents: write, deployments: write, id-token: write, packages: write, "
    "pull-requests: read, security-events: write}  # gates; attest; release; record; sign + cloud; GHCR; PR gate; SARIF"
)


def release_workflow(choices: Choices) -> str:
    host = registry_host(choices.registry)
    if choices.registry == "ghcr":  # default: the repository's own name (publish-images lower-cases it)
        prefix_input = '{description: "Path under the registry (default: this repository)", required: false}'
        prefix_value = "${{ inputs.image_prefix || github.repository }}"
    else:
        prefix_input = f'{{description: Path under the registry, required: true, default: "{FILL}/app"}}'
        prefix_value = f"${{{{ inputs.image_prefix || '{FILL}/app' }}}}"
    with_release = (
        f'registry: "${{{{ inputs.registry || \'{host}\' }}}}", image_prefix: "{prefix_value}", '
        f"environment: production, {_deploy_with(choices)}"
    )
    return f"""\
# The runbook's release: gates, images, wheels + SBOMs + attestations, verification; on a v* tag the
# same images (by digest) are then deployed to `environment`. Written by release-kit init.
name: release
on:
  push: {{tags: ["v*"]}}
  workflow_dispatch:
    inputs:
      registry: {{description: Registry host, required: true, default: "{host}"}}
      image_prefix: {prefix_input}
permissions: {{}}
jobs:
  release:
    uses: {_reusable(choices, "runbook-release")}
    {_concurrency("production")}
    permissions: {RELEASE_PERMISSIONS}
    with: {{{with_release}}}
    secrets: {_release_secrets(choices.registry)}
"""


def deploy_workflow(choices: Choices) -> str:
    return f"""\
# Deploy given images (by digest) through the runbook: preflight, migrate, api, web, health, smoke,
# record; a failure after the first rollout rolls back to the last good images. Written by release-kit init.
name: deploy
on:
  workflow_dispatch:
    inputs:
      environment: {{description: GitHub environment, required: true, default: production}}
      images: {{description: "api=REPO@sha256:... web=REPO@sha256:...", required: true}}
permissions: {{}}
jobs:
  deploy:
    uses: {_reusable(choices, "runbook-deploy")}
    {_concurrency("${{ inputs.environment }}")}
    permissions: {DEPLOY_PERMISSIONS}
    with: {{environment: "${{{{ inputs.environment }}}}", images: "${{{{ inputs.images }}}}", {_deploy_with(choices)}}}
    secrets: {{SMOKE_PASSWORD: "${{{{ secrets.SMOKE_PASSWORD }}}}"}}
"""


def rollback_workflow(choices: Choices) -> str:
    return f"""\
# Roll api and web back to the last known good images (or those of the release `to`); the database
# keeps its schema. Written by release-kit init.
name: rollback
on:
  workflow_dispatch:
    inputs:
      environment: {{description: GitHub environment, required: true, default: production}}
      to: {{description: "Ref of a good release (default: the last good one)", required: false, default: ""}}
permissions: {{}}
jobs:
  rollback:
    uses: {_reusable(choices, "runbook-rollback")}
    {_concurrency("${{ inputs.environment }}")}
    permissions: {DEPLOY_PERMISSIONS}
    with: {{environment: "${{{{ inputs.environment }}}}", to: "${{{{ inputs.to }}}}", {_deploy_with(choices)}}}
"""


def smoke_spec() -> str:
    return resources.files("release_kit.init").joinpath("smoke.yml").read_text(encoding="utf-8")


def files(choices: Choices, matches: list[GateMatch]) -> dict[str, str]:
    """Every file init writes, by path relative to the repository."""
    return {
        ".github/release-kit.yml": config_file(choices, matches),
        ".github/release-kit-smoke.yml": smoke_spec(),
        ".github/workflows/release.yml": release_workflow(choices),
        ".github/workflows/deploy.yml": deploy_workflow(choices),
        ".github/workflows/rollback.yml": rollback_workflow(choices),
    }


ECS_ACTIONS = {
    "preflight (read-only)": [
        "ecs:DescribeServices",
        "ecs:DescribeTaskDefinition",
        "application-autoscaling:DescribeScalableTargets",
        "secretsmanager:DescribeSecret",
        "ssm:DescribeParameters",
        "rds:DescribeDBInstances",
        "rds:DescribeDBClusters",
        "elasticache:DescribeReplicationGroups",
        "elasticache:DescribeCacheClusters",
        "elasticache:DescribeServerlessCaches",
    ],
    "migrate, deploy, rollback": [
        "ecs:RegisterTaskDefinition",
        "ecs:UpdateService",
        "ecs:RunTask",
        "ecs:DescribeTasks",
        "ecs:TagResource",
        "rds:CreateDBSnapshot",
        "rds:CreateDBClusterSnapshot",
        "rds:DescribeDBSnapshots",
        "rds:DescribeDBClusterSnapshots",
        "iam:PassRole",
    ],
}


def iam_policy() -> str:
    statements = [
        {"Sid": "ReleaseKitRead", "Effect": "Allow", "Action": ECS_ACTIONS["preflight (read-only)"], "Resource": "*"},
        {
            "Sid": "ReleaseKitDeploy",
            "Effect": "Allow",
            "Action": [a for a in ECS_ACTIONS["migrate, deploy, rollback"] if a != "iam:PassRole"],
            "Resource": "*",
        },
        {
            "Sid": "ReleaseKitPassTaskRoles",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": [
                f"arn:aws:iam::{FILL}-account-id:role/{FILL}-task-role",
                f"arn:aws:iam::{FILL}-account-id:role/{FILL}-execution-role",
            ],
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


def azure_roles() -> str:
    scope = f"/subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/{FILL}-rg"
    assign = 'az role assignment create --assignee "$AZURE_CLIENT_ID"'
    lines = [f'{assign} --role "{role}" --scope "{scope}"' for role in ("Reader", "Container Apps Contributor")]
    vault = f"/subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/{FILL}-rg/providers/Microsoft.KeyVault/vaults/{FILL}"
    reader = f'{assign} --role "Key Vault Reader" --scope "{vault}"'
    lines.append(f"# with deploy.rotation set, on each Key Vault the apps read: {reader}")
    return "\n".join(lines)


def setup_notes(choices: Choices) -> list[str]:
    """What the team must set up in GitHub and the cloud, printed after the files."""
    secrets = ["RELEASE_KIT_TOKEN (reads secret-scanning alerts for the Secrets Scan gate)", "SMOKE_PASSWORD"]
    if choices.registry == "ecr":
        secrets.append("AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (ECR push)")
    if choices.registry == "acr":
        secrets.append("REGISTRY_USERNAME, REGISTRY_PASSWORD (ACR admin user or service principal)")
    variables = ["API_URL, WEB_URL (the deployed services' base URLs)"]
    if choices.platform == "ecs":
        variables.append("AWS_ROLE_ARN (the role the deploy jobs assume through OIDC)")
    else:
        variables.append("AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_SUBSCRIPTION_ID (OIDC sign-in of the deploy jobs)")
    return [
        "Repository secrets: " + "; ".join(secrets),
        "Repository variables: " + "; ".join(variables),
        "A GitHub environment named production (add reviewers to make deploys wait for approval)",
    ]
