"""The set-up init prints and writes to .github/release-kit-setup.md: every piece of cloud and GitHub
set-up for the registry and platform, with the repository's names, one way into AWS."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from release_kit.cli import run_cli
from release_kit.init import render
from release_kit.init.setup import SETUP_FILE
from release_kit.platforms.ecs.access import ACTIONS

COMBOS = list(itertools.product(render.REGISTRIES, render.PLATFORMS))
JSON_BLOCK = re.compile(r"```json\n(.*?)\n```", re.S)


def _repo(path: Path, remote: str | None = "https://github.com/Acme/Shop.git") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    if remote:
        subprocess.run(["git", "-C", str(path), "remote", "add", "origin", remote], check=True)
    return path


def _init(repo: Path, registry: str, platform: str, *more: str) -> int:
    args = ["init", "--dir", str(repo), "--registry", registry, "--platform", platform, "--ref", "0" * 40]
    return run_cli([*args, *more])


def _blocks(text: str) -> list[Any]:
    return [json.loads(block) for block in JSON_BLOCK.findall(text)]


@pytest.mark.parametrize(("registry", "platform"), COMBOS)
def test_the_setup_is_written_and_printed_and_names_what_the_workflows_read(
    registry: str, platform: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path / "shop")
    assert _init(repo, registry, platform) == 0
    out = capsys.readouterr().out
    text = (repo / SETUP_FILE).read_text()
    assert f"wrote {SETUP_FILE}" in out and text in out  # printed whole, as written
    assert text.startswith("# Setting up release-kit for Acme/Shop\n")
    names = ("release", "deploy", "rollback")
    workflows = "".join((repo / ".github/workflows" / f"{n}.yml").read_text() for n in names)
    read = set(re.findall(r"\$\{\{ (?:secrets|vars)\.([A-Z_]+) \}\}", workflows))
    for name in read:  # every secret and variable the written workflows read is explained
        assert f"`{name}`" in text, name
    assert "`production`" in text  # the environment the deploy jobs run in
    _blocks(text)  # every JSON block is valid JSON


def test_ecs_trust_and_deploy_policies_name_the_repository_and_every_action(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path / "shop")
    assert _init(repo, "ghcr", "ecs") == 0
    text = (repo / SETUP_FILE).read_text()
    assert "aws iam create-open-id-connect-provider --url https://token.actions.githubusercontent.com" in text
    assert "--client-id-list sts.amazonaws.com" in text
    trust, policy, credentials = _blocks(text)
    (statement,) = trust["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"]["Federated"].endswith(":oidc-provider/token.actions.githubusercontent.com")
    assert statement["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": "repo:Acme/Shop:environment:production",
    }
    granted = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {a for actions in ACTIONS.values() for a in actions} <= granted  # the list --check-access checks
    assert {"rds:AddTagsToResource", "ecs:ListTasks", "iam:SimulatePrincipalPolicy"} <= granted
    (passrole,) = [s for s in policy["Statement"] if s["Action"] == "iam:PassRole"]
    assert passrole["Resource"] != "*" and passrole["Condition"]  # the task roles only, to ECS tasks only
    # private GHCR images on ECS: repositoryCredentials from a Secrets Manager secret, a read:packages token
    assert "credentialsParameter" in credentials["repositoryCredentials"] and "read:packages" in text
    assert "file://pull.json" in text  # the token never on a command line
    # one way in: the role; no access keys suggested beside it
    assert "AWS_ROLE_ARN" in text and "AWS_ACCESS_KEY_ID" not in text
    assert "release-kit preflight --check-access" in text


def test_ecr_on_ecs_is_the_role_or_the_keys_never_both(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _repo(tmp_path / "shop")
    assert _init(repo, "ecr", "ecs") == 0
    out = capsys.readouterr().out
    text = (repo / SETUP_FILE).read_text()
    assert "Never set both" in text and "leave the secrets `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` unset" in text
    secrets_line = text.split("Repository variables:")[0]
    assert "AWS_ACCESS_KEY_ID" not in secrets_line  # not listed as a secret to set beside the role
    trust, policy, release_trust, release_policy = _blocks(text)[:4]

    def granted(doc: dict) -> set[str]:  # type: ignore[type-arg]
        return {a for s in doc["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}

    # two roles: the deploy role trusts only jobs in the environment (its reviewers guard every deploy) ...
    condition = trust["Statement"][0]["Condition"]
    assert (
        condition["StringEquals"]["token.actions.githubusercontent.com:sub"] == "repo:Acme/Shop:environment:production"
    )
    assert "StringLike" not in condition
    assert not {a for a in granted(policy) if a.startswith("ecr:") and a != "ecr:DescribeImages"}  # no push
    # ... the release role, only release.yml's runs on v* tags, and can push and nothing else
    tag_condition = release_trust["Statement"][0]["Condition"]["StringLike"]
    assert tag_condition["token.actions.githubusercontent.com:sub"] == "repo:Acme/Shop:ref:refs/tags/v*"
    assert {"ecr:GetAuthorizationToken", "ecr:PutImage", "ecr:UploadLayerPart"} <= granted(release_policy)
    assert {a.split(":")[0] for a in granted(release_policy)} == {"ecr"}
    assert "AWS_RELEASE_ROLE_ARN" in text
    release_yml = (repo / ".github/workflows/release.yml").read_text()
    assert 'aws_release_role_arn: "${{ vars.AWS_RELEASE_ROLE_ARN }}"' in release_yml
    assert "To set up" in out


def test_container_apps_federated_credential_and_roles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _repo(tmp_path / "shop")
    assert _init(repo, "acr", "container-apps") == 0
    text = (repo / SETUP_FILE).read_text()
    (line,) = [x for x in text.splitlines() if x.startswith("az ad app federated-credential create")]
    credential = json.loads(line.split("--parameters '", 1)[1].rstrip("'"))
    assert credential["subject"] == "repo:Acme/Shop:environment:production"
    assert credential["issuer"] == "https://token.actions.githubusercontent.com"
    assert credential["audiences"] == ["api://AzureADTokenExchange"]
    for role in ('"Reader"', '"Container Apps Contributor"', '"Key Vault Reader"', "AcrPush", "AcrPull"):
        assert f"--role {role}" in text, role
    assert "deploy.rotation" in text  # Key Vault Reader only when rotation is checked
    assert "## AWS" not in text  # nothing on AWS for ACR and Container Apps


def test_private_ghcr_on_container_apps_and_an_unknown_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path / "shop", remote=None)
    assert _init(repo, "ghcr", "container-apps") == 0
    text = (repo / SETUP_FILE).read_text()
    assert "az containerapp registry set" in text and "--server ghcr.io" in text and "read:packages" in text
    assert "repo:FILL-IN-owner/FILL-IN-repo:environment:production" in text  # never a made-up name


def test_an_existing_setup_file_is_kept_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _repo(tmp_path / "shop")
    (repo / ".github").mkdir()
    (repo / SETUP_FILE).write_text("our notes\n")
    assert _init(repo, "ghcr", "ecs") == 2
    assert SETUP_FILE in capsys.readouterr().err
    assert (repo / SETUP_FILE).read_text() == "our notes\n"
    assert _init(repo, "ghcr", "ecs", "--force") == 0
    assert (repo / SETUP_FILE).read_text().startswith("# Setting up release-kit")
