"""The example workflows work when copied: they check out what they read, show the tokens and
credentials they need, and give the build-images gate evidence for a release tag's commit."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.wiring import fenced_blocks

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples" / "workflows").glob("*.yml"))
# our actions that read .github/release-kit.yml from the working directory
READS_CONFIG = ("org/release-kit/verify-gates@", "org/release-kit/verify-release@")
CHECKOUT = re.compile(r"^actions/checkout@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())  # type: ignore[no-any-return]


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    return workflow.get("on", workflow.get(True))  # type: ignore[no-any-return]  # YAML 1.1: `on` is True


def readme_workflows() -> list[tuple[str, dict[str, Any]]]:
    """The whole workflows the README and the docs pages show."""
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for line, lang, body in fenced_blocks(page.read_text()):
            try:
                doc = yaml.safe_load(body) if lang in ("yaml", "yml") else None
            except yaml.YAMLError:  # a fragment cut out of a workflow, not a whole one
                continue
            if isinstance(doc, dict) and isinstance(doc.get("jobs"), dict):
                found.append((f"{page.relative_to(ROOT)}:{line}", doc))
    return found


WORKFLOWS = [(p.name, load(p)) for p in EXAMPLES] + readme_workflows()


def test_the_readme_shows_whole_workflows() -> None:
    assert len(readme_workflows()) >= 4  # the runbook's first gate, verify-gates, publish-images, release


@pytest.mark.parametrize(("where", "workflow"), WORKFLOWS, ids=[w for w, _ in WORKFLOWS])
def test_a_job_that_reads_the_config_checks_the_repository_out_first(where: str, workflow: dict[str, Any]) -> None:
    for name, job in workflow["jobs"].items():
        steps = job.get("steps", [])
        for i, step in enumerate(steps):
            if not str(step.get("uses", "")).startswith(READS_CONFIG):
                continue
            checkouts = [s for s in steps[:i] if CHECKOUT.match(str(s.get("uses", "")))]
            assert checkouts, f"{where}: job {name} runs {step['uses']} without checking the repository out"
            assert checkouts[0].get("with", {}).get("persist-credentials") is False, (
                f"{where}: job {name}: actions/checkout must keep no credentials (persist-credentials: false)"
            )


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_verify_gates_shows_the_token_secret_scanning_needs(path: Path) -> None:
    text = path.read_text()
    for job in load(path)["jobs"].values():
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("org/release-kit/verify-gates@"):
                assert "secrets.RELEASE_KIT_TOKEN" in step["with"]["token"]
    if "org/release-kit/verify-gates@" in text:  # and the comment says why, and how to turn it off
        assert "secret-scanning alerts" in text and "no_open_secret_alerts: false" in text


def test_the_example_config_says_what_the_secret_alert_check_needs() -> None:
    text = (ROOT / "examples" / "release-kit.yml").read_text()
    assert re.search(r"#.*token.*\n(?:\s*#.*\n)*\s*no_open_secret_alerts: true", text)


def test_build_images_runs_for_main_and_tags_and_by_hand() -> None:
    workflow = load(ROOT / "examples" / "workflows" / "build-images.yml")
    on = triggers(workflow)
    assert on["push"] == {"branches": ["main"], "tags": ["v*"]}
    assert set(on["workflow_dispatch"]["inputs"]) == {"registry", "image_prefix"}
    (job,) = workflow["jobs"].values()
    publish = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("org/release-kit/publish-images@"))
    # a push event has no inputs: each falls back to a default
    assert publish["with"]["registry"] == "${{ inputs.registry || 'ghcr.io' }}"
    assert publish["with"]["image-prefix"] == "${{ inputs.image_prefix || github.repository }}"


def test_build_images_carries_every_registrys_credentials_as_the_runbook_names_them() -> None:
    workflow = load(ROOT / "examples" / "workflows" / "build-images.yml")
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    index = next(i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("org/release-kit/publish-images@"))
    publish = steps[index]
    assert publish["with"]["username"] == "${{ secrets.REGISTRY_USERNAME }}"  # GHCR private, ACR admin user
    assert publish["with"]["password"] == "${{ secrets.REGISTRY_PASSWORD }}"
    env = publish["env"]
    assert env["GITHUB_TOKEN"] == "${{ github.token }}"
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        # the secret when set, else what the OIDC step exported (a step's env would hide it)
        assert env[name] == f"${{{{ secrets.{name} || env.{name} }}}}"
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"):
        assert env[name] == f"${{{{ secrets.{name} }}}}"
    oidc = [s for s in steps[:index] if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")]
    assert len(oidc) == 1 and oidc[0]["if"] == "vars.AWS_ROLE_ARN != ''"
    assert job["permissions"]["id-token"] == "write" and job["permissions"]["packages"] == "write"
