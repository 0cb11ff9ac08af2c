"""The files ``release-kit init`` writes, as text (comments kept, every value to fill in marked).

Pure functions: choices in, file contents out. The generated workflows call this repository's
reusable runbook workflows, so a team's own YAML stays a few dozen lines.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources

from release_kit.init.detect import ROLES, GateMatch, Layout
from release_kit.init.existing import Trivy
from release_kit.init.pin import DEFAULT_OWNER, Pin
from release_kit.install import REPOSITORY
from release_kit.target.settings import DEFAULT_APP_DEFAULTS

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


EMPTY_LAYOUT = Layout(
    images={}, packages=[], frontend=None, python=None, node=None, package_manager=None, migration=None, dockerfiles=[]
)
NO_TRIVY = Trivy()
SAFE_PATH = re.compile(r"^[A-Za-z0-9_@+][A-Za-z0-9._/@+-]*$")  # written into YAML and workflow inputs as is


@dataclass(frozen=True)
class Choices:
    registry: str  # ghcr | ecr | acr
    platform: str  # ecs | container-apps
    pin: Pin = TAG_PIN  # the release-kit the workflows call
    layout: Layout = EMPTY_LAYOUT  # what was found in the repository
    repository: str | None = None  # owner/name on GitHub, from the origin remote (the GHCR image prefix)
    trivy: Trivy = NO_TRIVY  # carried over from the repository's own image workflow
    trivy_from: str | None = None  # that workflow


def safe(path: str | None) -> str | None:
    """A path init writes as found: plain characters only (never `${{`, quotes or spaces), else None."""
    if path == ".":
        return path
    return path if path is not None and SAFE_PATH.match(path) and ".." not in path.split("/") else None


def wheel_stem(name: str) -> str:
    """A distribution's name as its wheel file spells it: ``acme.core-sdk`` -> ``acme_core_sdk``."""
    return re.sub(r"[-_.]+", "_", name).lower()


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


def image_repository(choices: Choices, role: str) -> str:
    """Where release.yml publishes a role's image: REGISTRY/PREFIX/ROLE (publish-images' naming)."""
    if choices.registry == "ghcr":
        prefix = (choices.repository or f"{FILL}-owner/{FILL}-repo").lower()
    else:
        prefix = f"{FILL}/app"
    return f"{registry_host(choices.registry)}/{prefix}/{role}"


def _migration_line(choices: Choices) -> list[str]:
    found = choices.layout.migration
    job = f"job: {FILL}-migrations-job, " if choices.platform == "container-apps" else ""
    if found is None:
        return [
            f"  migrations: {{{job}command: {FILL}}}",
            f"  # {FILL}: no alembic.ini, Django manage.py or migrate target found: the command that migrates the",
            "  # database, run once in the api image before the new images roll out (e.g. alembic upgrade head)",
        ]
    return [
        f"  migrations: {{{job}command: {json.dumps(found.command)}}}",
        f"  # from {found.source}; run {found.note}",
    ]


def _images_lines(choices: Choices) -> list[str]:
    roles = [r for r in ROLES if r in choices.layout.images] or ["api", "web"]
    pairs = ", ".join(f"{role}: {image_repository(choices, role)}" for role in roles)
    signer = f"{choices.pin.owner}/{REPOSITORY}/.github/workflows/runbook-release.yml"
    return [
        f"  images: {{{pairs}}}",
        "  # each role's repository, as release.yml publishes it: deploy, last-good and rollback use no other",
        "  require_attestations: true  # and only digests release.yml attested (its images job signs each one)",
        f"  signer_workflow: {signer}",
    ]


def _deploy(choices: Choices) -> list[str]:
    platform = choices.platform
    defaults = ", ".join(f"{k}: {json.dumps(v)}" for k, v in DEFAULT_APP_DEFAULTS.items())
    common_tail = [
        "  services: {api: " + FILL + "-api, web: " + FILL + "-web, worker: " + FILL + "-billing-worker}",
        *_images_lines(choices),
        "  secret_refs: [DATABASE_URL, REDIS_URL]    # must be secret references on api and worker",
        '  env: {api: {AUTO_RUN_MIGRATIONS: "false"}}',
        "  # How your app reads these variables when they are unset: preflight judges the value the app will",
        "  # use. These are the runbook app's defaults: correct them to how your app's settings read them.",
        f"  app_defaults: {{{defaults}}}",
        "  billing_topology: true",
        "  health:  # what ready means; the deploy workflow passes the tag it deploys for expect_version",
        "    api: {path: /health/ready, expect_json: {status: ready}, expect_version: true}",
        "    web: {path: /api/health/ready}",
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
            *_migration_line(choices),
        ]
    return [
        "deploy:",
        "  platform: container-apps",
        f"  resource_group: {FILL}-rg             # subscription: AZURE_SUBSCRIPTION_ID",
        *common_tail,
        "  backups:",
        f"    database: {{azure_postgres: {FILL}-pg}}",
        f"    redis: {{azure_redis: {FILL}-redis}}             # or azure_managed_redis: NAME",
        *_migration_line(choices),
    ]


def expected_assets(layout: Layout) -> list[str]:
    """What verify-release expects on a release of this repository: each package's wheel and SBOM, the
    frontend SBOM."""
    stems = [wheel_stem(p.name) for p in layout.packages if safe(p.folder)]
    assets = [f"{stem}-*.whl" for stem in stems] + [f"{stem}-sbom.json" for stem in stems]
    if layout.frontend is not None and safe(layout.frontend.folder):
        assets.append("frontend-sbom.json")
    return assets


def _release(choices: Choices) -> list[str]:
    assets = expected_assets(choices.layout)
    lines = ["release:", "  # what verify-release expects on each release: the wheels and SBOMs release.yml builds"]
    if not assets:
        return [*lines, f"  expect: [{FILL}-*.whl]   # {FILL}: no package or frontend found; the assets to expect"]
    return [*lines, "  expect:", *(f"    - {json.dumps(a)}" for a in assets)]


def config_file(choices: Choices, matches: list[GateMatch]) -> str:
    head = [
        "# .github/release-kit.yml, written by release-kit init. `release-kit schema` prints its JSON Schema.",
        f"# Every value marked {FILL} is yours to set before the first deploy.",
    ]
    return "\n".join([*head, *_gates(matches), "", *_release(choices), "", *_deploy(choices)]) + "\n"


def _cloud_with(choices: Choices) -> str:
    if choices.platform == "ecs":
        return 'aws_role_arn: "${{ vars.AWS_ROLE_ARN }}"'
    return (
        'azure_client_id: "${{ vars.AZURE_CLIENT_ID }}", azure_tenant_id: "${{ vars.AZURE_TENANT_ID }}", '
        'azure_subscription_id: "${{ vars.AZURE_SUBSCRIPTION_ID }}"'
    )


def _deploy_pairs(choices: Choices) -> list[str]:
    pairs = [f"platform: {choices.platform}", 'api_url: "${{ vars.API_URL }}"', 'web_url: "${{ vars.WEB_URL }}"']
    if choices.platform == "ecs":
        return [*pairs, 'aws_role_arn: "${{ vars.AWS_ROLE_ARN }}"']
    return [
        *pairs,
        *(f'azure_{n}: "${{{{ vars.AZURE_{n.upper()} }}}}"' for n in ("client_id", "tenant_id", "subscription_id")),
    ]


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


DEPLOY_PERMISSIONS = (
    "{attestations: read, contents: read, deployments: write, id-token: write}"
    "  # the digests' provenance; checkout; the record; cloud OIDC"
)
RELEASE_PERMISSIONS = (
    "{actions: read, attestations: write, contents: write, deployments: write, id-token: write, packages: write, "
    "pull-requests: read, security-events: write}  # gates; attest; release; record; sign + cloud; GHCR; PR gate; SARIF"
)


def _path_input(name: str, value: str | None, missing: str, note: str = "") -> str:
    shown = safe(value)
    if shown is None:
        return f"      {name}: {FILL}   # {FILL}: {missing}"
    return f"      {name}: {json.dumps(shown)}" + (f"   # {note}" if note else "")


def _build_inputs(choices: Choices) -> list[str]:
    layout = choices.layout
    found = ", ".join([f for f in layout.dockerfiles if safe(f)][:4]) or "none"
    lines: list[str] = []
    for role in ROLES:
        image = layout.images.get(role)
        if image is None and role == "worker":
            continue
        missing = f"no Dockerfile found for the {role} image (Dockerfiles here: {found}); its path from the root"
        lines.append(
            _path_input(
                f"{role}_dockerfile", image.dockerfile if image else None, missing, image.source if image else ""
            )
        )
        lines.append(
            _path_input(f"{role}_context", image.context if image else None, f"the {role} image's build context")
        )
    return lines


def _package_inputs(choices: Choices) -> list[str]:
    layout = choices.layout
    folders = [p.folder for p in layout.packages if safe(p.folder)]
    if folders:
        lines = [f"      packages: {json.dumps(' '.join(folders))}   # " + ", ".join(p.name for p in layout.packages)]
    else:
        lines = ['      packages: ""   # no pyproject.toml with a [project] name outside the apps: no wheels']
    front = layout.frontend
    if front is not None and safe(front.folder):
        lock = f"lockfile {front.lockfile} ({front.manager})" if front.lockfile else f"{FILL}: no lockfile found"
        lines.append(f"      frontend: {json.dumps(front.folder)}   # {lock}")
        pins = [
            f"{label}{p.value} (from {p.source})"
            for label, p in (("Node ", layout.node), ("", layout.package_manager))
            if p is not None and safe(p.value)
        ]
        if pins:
            lines.append(f"      # pinned: {', '.join(pins)}; the images build with them, the SBOM reads the lockfile")
    else:
        lines.append('      frontend: ""   # no package.json with a frontend framework found: no frontend SBOM')
    if folders:
        python = layout.python
        if python is not None and re.fullmatch(r"\d+\.\d+(\.\d+)?", python.value):
            lines.append(f"      python_version: {json.dumps(python.value)}   # from {python.source}")
        else:
            lines.append(f"      python_version: {FILL}   # {FILL}: no .python-version or requires-python found")
    if choices.trivy.any():
        where = f"carried over from {choices.trivy_from}"
        if choices.trivy.severity is not None and safe(choices.trivy.severity.replace(",", "-")):
            lines.append(f"      trivy_severity: {json.dumps(choices.trivy.severity)}   # {where}")
        if choices.trivy.ignore_unfixed is not None:
            lines.append(f'      trivy_ignore_unfixed: "{str(choices.trivy.ignore_unfixed).lower()}"   # {where}')
        if choices.trivy.vuln_type is not None and safe(choices.trivy.vuln_type.replace(",", "-")):
            lines.append(f"      trivy_vuln_type: {json.dumps(choices.trivy.vuln_type)}   # {where}")
    return lines


def release_workflow(choices: Choices) -> str:
    host = registry_host(choices.registry)
    if choices.registry == "ghcr":  # default: the repository's own name (publish-images lower-cases it)
        prefix_input = '{description: "Path under the registry (default: this repository)", required: false}'
        prefix_value = "${{ inputs.image_prefix || github.repository }}"
    else:
        prefix_input = f'{{description: Path under the registry, required: true, default: "{FILL}/app"}}'
        prefix_value = f"${{{{ inputs.image_prefix || '{FILL}/app' }}}}"
    with_lines = [
        f"      registry: \"${{{{ inputs.registry || '{host}' }}}}\"",
        f'      image_prefix: "{prefix_value}"',
        *_build_inputs(choices),
        *_package_inputs(choices),
        "      environment: production",
    ]
    with_lines += [f"      {pair}" for pair in _deploy_pairs(choices)]
    if choices.registry == "ecr" and choices.platform == "ecs":  # the push: its own role, trusted on v* tags only
        with_lines.append('      aws_release_role_arn: "${{ vars.AWS_RELEASE_ROLE_ARN }}"')
    body = "\n".join(with_lines)
    return f"""\
# The runbook's release: gates, images, wheels + SBOMs + attestations, verification; on a v* tag the
# same images (by digest) are then deployed to `environment`. Written by release-kit init from what it
# found in this repository: re-run it (with --force) after moving a Dockerfile or a package.
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
    with:
{body}
    secrets: {_release_secrets(choices.registry)}
"""


_DISPATCH_DEPLOY = (
    'environment: "${{ inputs.environment }}", images: "${{ inputs.images }}", version: "${{ inputs.version }}"'
)


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
      version: {{description: "Tag of the release deployed (health checks the api reports it)", required: true}}
permissions: {{}}
jobs:
  deploy:
    uses: {_reusable(choices, "runbook-deploy")}
    {_concurrency("${{ inputs.environment }}")}
    permissions: {DEPLOY_PERMISSIONS}
    with: {{{_DISPATCH_DEPLOY}, {_deploy_with(choices)}}}
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
