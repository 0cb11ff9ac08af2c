"""The cloud and GitHub set-up a team does once, as ``release-kit init`` prints it and writes it to
``.github/release-kit-setup.md``: for the chosen registry and platform, with the repository's names.

Pure functions: choices in, text out. The ECS deploy policy is printed from
:data:`release_kit.platforms.ecs.access.ACTIONS`, the list ``preflight --check-access`` checks.
"""

from __future__ import annotations

import json
from typing import Any

from release_kit.init.render import FILL, Choices, registry_host

SETUP_FILE = ".github/release-kit-setup.md"
OIDC_HOST = "token.actions.githubusercontent.com"
AWS_AUDIENCE = "sts.amazonaws.com"
AZURE_AUDIENCE = "api://AzureADTokenExchange"
ENVIRONMENT = "production"  # the environment release.yml deploys to (deploy.yml and rollback.yml default to it)
ACCOUNT = f"{FILL}-account-id"
DEPLOY_ROLE = "release-kit-deploy"
RELEASE_ROLE = "release-kit-release"  # the ECR push, on v* tags, outside the environment
ECR_PUSH = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
]


def repository(choices: Choices) -> str:
    """OWNER/NAME from the origin remote, else the marker (a trust policy must name the repository)."""
    return choices.repository or f"{FILL}-owner/{FILL}-repo"


def subject(choices: Choices, environment: str = ENVIRONMENT) -> str:
    """The OIDC token's ``sub`` for a job that runs in ``environment`` (the deploy and rollback jobs)."""
    return f"repo:{repository(choices)}:environment:{environment}"


def tag_subject(choices: Choices) -> str:
    """The ``sub`` of release.yml's jobs outside the environment (the image push), on a v* tag."""
    return f"repo:{repository(choices)}:ref:refs/tags/v*"


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2)


def aws_trust_policy(choices: Choices, *, release: bool = False) -> str:
    """Who may assume a role: the deploy role, this repository's jobs in the production environment
    only (its protection rules apply); the release role (``release``), release.yml's image push on a
    v* tag only."""
    condition: dict[str, dict[str, Any]] = {"StringEquals": {f"{OIDC_HOST}:aud": AWS_AUDIENCE}}
    if release:
        condition["StringLike"] = {f"{OIDC_HOST}:sub": tag_subject(choices)}
    else:
        condition["StringEquals"][f"{OIDC_HOST}:sub"] = subject(choices)
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC_HOST}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": condition,
    }
    return _json({"Version": "2012-10-17", "Statement": [statement]})


def iam_policy(choices: Choices | None = None) -> str:
    """The deploy role's permissions: preflight reads, migrate/deploy/rollback writes, PassRole on the
    task roles only, the policy simulator on itself (preflight --check-access). The ECR push is the
    release role's (:func:`aws_section`), never the deploy role's."""
    from release_kit.platforms.ecs.access import ACTIONS as ECS_ACTIONS  # the list --check-access checks

    statements: list[dict[str, Any]] = [
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
                f"arn:aws:iam::{ACCOUNT}:role/{FILL}-task-role",
                f"arn:aws:iam::{ACCOUNT}:role/{FILL}-execution-role",
            ],
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        },
        {
            "Sid": "ReleaseKitCheckAccess",
            "Effect": "Allow",
            "Action": ["iam:SimulatePrincipalPolicy", "iam:GetRole"],
            "Resource": f"arn:aws:iam::{ACCOUNT}:role/{DEPLOY_ROLE}",
        },
    ]
    return _json({"Version": "2012-10-17", "Statement": statements})


def ecr_push_statements() -> list[dict[str, Any]]:
    """Push to the repositories release.yml names (FILL-IN/app/<role> until the image prefix is chosen)."""
    return [
        {"Sid": "ReleaseKitEcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {
            "Sid": "ReleaseKitEcrPush",
            "Effect": "Allow",
            "Action": ECR_PUSH,
            "Resource": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{FILL}/app/*",
        },
    ]


def azure_roles(choices: Choices | None = None) -> str:
    """``az`` commands: the federated credential of the deploy identity, its roles on the resource group,
    AcrPush/AcrPull when the images live in ACR, Key Vault Reader for deploy.rotation."""
    rg = f"/subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/{FILL}-rg"
    assign = 'az role assignment create --assignee "$AZURE_CLIENT_ID"'
    lines = []
    if choices is not None:
        credential = {
            "name": f"release-kit-{ENVIRONMENT}",
            "issuer": f"https://{OIDC_HOST}",
            "subject": subject(choices),
            "audiences": [AZURE_AUDIENCE],
        }
        lines += [
            "# the deploy identity signs in from the production environment's jobs, without a secret",
            f"az ad app federated-credential create --id \"$AZURE_CLIENT_ID\" --parameters '{json.dumps(credential)}'",
        ]
    lines += ["# deploy, migrate and rollback on the resource group"]
    lines += [f'{assign} --role "{role}" --scope "{rg}"' for role in ("Reader", "Container Apps Contributor")]
    vault = f"{rg}/providers/Microsoft.KeyVault/vaults/{FILL}-vault"
    lines += [
        "# only when deploy.rotation is set: on each Key Vault the apps read",
        f'{assign} --role "Key Vault Reader" --scope "{vault}"',
    ]
    if choices is not None and choices.registry == "acr":
        acr = f"{rg}/providers/Microsoft.ContainerRegistry/registries/{FILL}-registry"
        lines += [
            "# the release's push identity (its app id and secret are REGISTRY_USERNAME / REGISTRY_PASSWORD)",
            f'az role assignment create --assignee "$REGISTRY_USERNAME" --role AcrPush --scope "{acr}"',
            "# the apps' identity pulls (repeat for web, the worker and the migrations job)",
            f'az role assignment create --assignee "$(az containerapp show -n {FILL}-api -g {FILL}-rg '
            f'--query identity.principalId -o tsv)" --role AcrPull --scope "{acr}"',
            f"az containerapp registry set -n {FILL}-api -g {FILL}-rg --server {registry_host('acr')} "
            "--identity system",
        ]
    return "\n".join(lines)


def github_settings(choices: Choices) -> list[str]:
    """The secrets and variables the written workflows read, and the environment they deploy to."""
    secrets = [
        "`RELEASE_KIT_TOKEN`: a fine-grained token that can read this repository's secret-scanning alerts "
        "(the Secrets Scan gate)",
        "`SMOKE_PASSWORD`: the smoke user's password (the smoke spec logs in with it)",
    ]
    if choices.registry == "ecr" and choices.platform != "ecs":
        secrets.append("`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`: the keys of the IAM user that pushes to ECR")
    if choices.registry == "acr":
        secrets.append("`REGISTRY_USERNAME`, `REGISTRY_PASSWORD`: the app id and secret of the push identity (AcrPush)")
    variables = ["`API_URL`, `WEB_URL`: the deployed services' base URLs (health and smoke call them)"]
    if choices.platform == "ecs":
        variables.append(f"`AWS_ROLE_ARN`: `arn:aws:iam::{ACCOUNT}:role/{DEPLOY_ROLE}`, the deploy role below")
        if choices.registry == "ecr":
            variables.append(
                f"`AWS_RELEASE_ROLE_ARN`: `arn:aws:iam::{ACCOUNT}:role/{RELEASE_ROLE}`, "
                "the release role below (ECR push)"
            )
    else:
        variables.append(
            "`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_SUBSCRIPTION_ID`: the deploy identity (OIDC, no secret)"
        )
    lines = ["Repository secrets (Settings > Secrets and variables > Actions):", *(f"- {s}" for s in secrets)]
    lines += ["", "Repository variables:", *(f"- {v}" for v in variables)]
    lines += [
        "",
        f"An environment named `{ENVIRONMENT}` (Settings > Environments): the deploy and rollback jobs run in it, so",
        "its protection rules apply (add required reviewers to make each deploy wait for approval).",
    ]
    return lines


def _aws_way_in(choices: Choices) -> list[str]:
    if choices.registry == "ecr" and choices.platform != "ecs":
        return [
            "One way in for the ECR push: release.yml passes no role on Container Apps, so the push signs in with "
            "the repository secrets `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` of an IAM user holding the "
            "ECR push statements below.",
        ]
    if choices.registry != "ecr":
        return [
            "One way in: the role, through OIDC (no AWS secret is stored in GitHub). deploy.yml and rollback.yml "
            "pass no access keys.",
        ]
    return [
        "One way in: **the role** (recommended). Set the variable `AWS_ROLE_ARN` and leave the secrets "
        "`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` unset. Never set both: with keys present, "
        "configure-aws-credentials signs in with the keys and assumes the role with them, which this trust "
        "policy refuses.",
        "The alternative, only where OIDC cannot be used: an IAM user's access keys as those two secrets for the "
        "ECR push, with `AWS_RELEASE_ROLE_ARN` left unset. deploy.yml and rollback.yml pass no keys: on ECS they "
        "sign in through the deploy role only.",
        "Two roles: the release role pushes the images on a v* tag (outside the environment, so it can push and "
        "nothing else); the deploy role trusts only jobs in the environment, so its protection rules (reviewers) "
        "guard every deploy. Protect v* tags too (a tag ruleset), so only maintainers can start a release.",
    ]


def aws_section(choices: Choices) -> list[str]:
    repo = repository(choices)
    if choices.platform != "ecs":  # ECR only: an IAM user's keys push the images; nothing deploys on AWS
        policy = _json({"Version": "2012-10-17", "Statement": ecr_push_statements()})
        return ["## AWS", "", *_aws_way_in(choices), "", "```json", policy, "```"]
    lines = [
        "## AWS",
        "",
        *_aws_way_in(choices),
        "",
        f"1. The OIDC provider (once per account): GitHub's `{OIDC_HOST}`, audience `{AWS_AUDIENCE}`.",
        "",
        "```sh",
        f"aws iam create-open-id-connect-provider --url https://{OIDC_HOST} --client-id-list {AWS_AUDIENCE}",
        "```",
        "",
        f"2. The deploy role `{DEPLOY_ROLE}`, assumable by {repo}'s jobs in the `{ENVIRONMENT}` environment only. "
        "Its trust policy (`trust.json`):",
        "",
        "```json",
        aws_trust_policy(choices),
        "```",
        "",
        "3. Its permissions (`deploy-policy.json`): what preflight reads, what migrate, deploy and rollback do "
        "(snapshots are created with tags: `rds:AddTagsToResource`), `iam:PassRole` on the task and execution "
        "roles only, the policy simulator on itself for `preflight --check-access`:",
        "",
        "```json",
        iam_policy(choices),
        "```",
        "",
        "```sh",
        f"aws iam create-role --role-name {DEPLOY_ROLE} --assume-role-policy-document file://trust.json",
        f"aws iam put-role-policy --role-name {DEPLOY_ROLE} --policy-name release-kit "
        "--policy-document file://deploy-policy.json",
        "```",
    ]
    if choices.registry == "ecr":
        push = _json({"Version": "2012-10-17", "Statement": ecr_push_statements()})
        lines += [
            "",
            f"4. The release role `{RELEASE_ROLE}`, assumable by {repo}'s release.yml runs on v* tags only, with "
            "the ECR push and nothing else. Its trust policy (`release-trust.json`):",
            "",
            "```json",
            aws_trust_policy(choices, release=True),
            "```",
            "",
            "Its permissions (`release-policy.json`):",
            "",
            "```json",
            push,
            "```",
            "",
            "```sh",
            f"aws iam create-role --role-name {RELEASE_ROLE} --assume-role-policy-document file://release-trust.json",
            f"aws iam put-role-policy --role-name {RELEASE_ROLE} --policy-name release-kit-push "
            "--policy-document file://release-policy.json",
            "```",
        ]
    return lines


def check_access_lines(choices: Choices) -> list[str]:
    if choices.platform != "ecs":
        return [
            "Before the first deploy, ask Azure whether the identity can do what migrate, deploy and rollback will "
            "do on the resource group (Azure's permissions API; it changes nothing), signed in as it (azure/login "
            "in a job, or `az login` as the service principal):",
            "",
            "```sh",
            "release-kit preflight --check-access --config .github/release-kit.yml",
            "```",
            "",
            "Each missing action is named with the role assignment to add (exit 1 while any is missing).",
        ]
    return [
        "Before the first deploy, ask AWS whether the role can do what migrate, deploy and rollback will do, on "
        "the resources your config names (IAM's policy simulator; it changes nothing), as the role: in a job of "
        f"the `{ENVIRONMENT}` environment after configure-aws-credentials, or on a laptop with a profile that "
        "assumes it:",
        "",
        "```sh",
        "release-kit preflight --check-access --config .github/release-kit.yml",
        "```",
        "",
        "Each missing permission is named with the statement to add (exit 1 while any is missing).",
    ]


def pull_credentials(choices: Choices) -> list[str]:
    """What the platform needs to pull images from a registry it does not sign in to by itself."""
    host = registry_host(choices.registry)
    if choices.platform == "ecs" and choices.registry == "ecr":
        return [
            "ECS pulls from ECR with the task execution role (`AmazonECSTaskExecutionRolePolicy`): nothing more.",
        ]
    if choices.platform == "container-apps" and choices.registry == "acr":
        return ["The AcrPull assignment and `az containerapp registry set --identity system` above: nothing more."]
    if choices.platform == "ecs":
        what = (
            "a token with `read:packages` (a classic PAT)" if choices.registry == "ghcr" else "a token of the registry"
        )
        return [
            f"The images on {host} are private: ECS pulls them with `repositoryCredentials`. Store the user name and "
            f"{what} in a Secrets Manager secret, name it in each container definition (api, web, worker, and the "
            "migration's task), and let the task execution role read it:",
            "",
            "```sh",
            '# pull.json holds {"username": "...", "password": "..."}: a file, never the token on the command line',
            "aws secretsmanager create-secret --name release-kit/registry-pull --secret-string file://pull.json",
            "```",
            "",
            "```json",
            _json(
                {
                    "repositoryCredentials": {
                        "credentialsParameter": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:"
                        "secret:release-kit/registry-pull"
                    }
                }
            ),
            "```",
            "",
            "The execution role needs `secretsmanager:GetSecretValue` on that secret (and `kms:Decrypt` on its key "
            "when it is a customer-managed one).",
        ]
    if choices.registry == "ghcr":
        return [
            f"The images on {host} are private: each container app (api, web, worker) and the migrations job pull "
            "with a token that has `read:packages`:",
            "",
            "```sh",
            f"az containerapp registry set -n {FILL}-api -g {FILL}-rg --server ghcr.io --username {FILL}-user "
            '--password "$GHCR_READ_TOKEN"',
            f"az containerapp job registry set -n {FILL}-migrations-job -g {FILL}-rg --server ghcr.io "
            f'--username {FILL}-user --password "$GHCR_READ_TOKEN"',
            "```",
        ]
    return [
        "Container Apps pulling from ECR needs `az containerapp registry set --username AWS --password "
        '"$(aws ecr get-login-password)"`, and that password expires after 12 hours: prefer GHCR or ACR for '
        "Container Apps.",
    ]


def setup_markdown(choices: Choices) -> str:
    """The whole set-up, as .github/release-kit-setup.md holds it and init prints it."""
    repo = repository(choices)
    lines = [
        f"# Setting up release-kit for {repo}",
        "",
        f"Written by release-kit init for `--registry {choices.registry} --platform {choices.platform}`. Every "
        f"`{FILL}` here is a name only you know (your account, your resources); the repository's own names are "
        "filled in. Do this once, before the first release.",
        "",
        "## GitHub",
        "",
        *github_settings(choices),
        "",
    ]
    if choices.platform == "ecs" or choices.registry == "ecr":
        lines += [*aws_section(choices), ""]
    if choices.platform == "container-apps":
        lines += [
            "## Azure",
            "",
            "The deploy identity (an app registration, its id in `AZURE_CLIENT_ID`): a federated credential for "
            f"this repository's `{ENVIRONMENT}` environment, then its roles:",
            "",
            "```sh",
            azure_roles(choices),
            "```",
            "",
        ]
    lines += ["## Pulling the images", "", *pull_credentials(choices), ""]
    lines += ["## Check it", "", *check_access_lines(choices), ""]
    lines += [
        f"Then fill in every `{FILL}` of `.github/release-kit.yml` and the workflows (`release-kit init --check` "
        "lists them, exit 0 once none is left) and push a v* tag.",
    ]
    return "\n".join(lines) + "\n"
