"""init reads the repository it writes for (issue 19 part 3): detection on scratch repositories."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from release_kit import config
from release_kit.cli import run_cli
from release_kit.init import detect, existing, render
from tests.init.layouts import saas_monorepo

ROOT = Path(__file__).resolve().parents[2]


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / ".git").mkdir(exist_ok=True)
    return root


def release_with(repo: Path) -> dict[str, str]:
    data = yaml.safe_load((repo / ".github/workflows/release.yml").read_text())
    return {k: str(v) for k, v in data["jobs"]["release"]["with"].items()}


@pytest.fixture(scope="module")
def monorepo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return saas_monorepo(tmp_path_factory.mktemp("saas") / "repo", tag=None)


def test_the_monorepo_layout_is_read_from_its_files(monorepo: Path) -> None:
    layout = detect.scan(monorepo)
    api, web = layout.images["api"], layout.images["web"]
    assert (api.dockerfile, api.context) == ("apps/api-service/Dockerfile", "apps/api-service")
    # the web Dockerfile copies pnpm-lock.yaml and apps/web-app from the root: the root is its context
    assert (web.dockerfile, web.context) == ("apps/web-app/Dockerfile", ".")
    assert "worker" not in layout.images
    assert [p.folder for p in layout.packages] == ["packages/contracts", "packages/core", "packages/sdk"]  # no app
    assert layout.frontend == detect.Frontend("apps/web-app", "pnpm-lock.yaml", "pnpm")  # the workspace root's
    assert layout.python is not None and layout.python.value == "3.12"
    assert layout.node is not None and layout.node.value == "20.18.0"
    assert layout.package_manager is not None and layout.package_manager.value == "pnpm@10.34.9"
    assert layout.migration is not None and layout.migration.command == "alembic upgrade head"
    assert layout.migration.source == "apps/api-service/alembic.ini"
    assert detect.github_repository(monorepo) == "Acme/agent-saas"


def test_compose_files_name_the_roles_dockerfiles_and_contexts(tmp_path: Path) -> None:
    compose = {
        "services": {
            "backend": {"build": {"context": "./server", "dockerfile": "deploy/Dockerfile.prod"}},
            "celery-worker": {"build": {"context": "./server", "dockerfile": "deploy/Dockerfile.worker"}},
            "frontend": {"build": "./client"},
            "db": {"image": "postgres:16"},
        }
    }
    repo = write(
        tmp_path,
        {
            "docker-compose.yml": yaml.safe_dump(compose),
            "server/deploy/Dockerfile.prod": "FROM python:3.12\n",
            "server/deploy/Dockerfile.worker": "FROM python:3.12\n",
            "client/Dockerfile": "FROM node:20\n",
        },
    )
    images = detect.scan(repo).images
    assert images["api"] == detect.Image(
        "api", "server/deploy/Dockerfile.prod", "server", "docker-compose.yml: service backend"
    )
    assert (images["worker"].dockerfile, images["worker"].context) == ("server/deploy/Dockerfile.worker", "server")
    assert (images["web"].dockerfile, images["web"].context) == ("client/Dockerfile", "client")


def test_expose_and_entrypoint_say_the_role_when_names_do_not(tmp_path: Path) -> None:
    repo = write(
        tmp_path,
        {
            "Dockerfile": 'FROM python:3.12\nCOPY . .\nEXPOSE 8000\nCMD ["gunicorn", "app:app"]\n',
            "docker/Dockerfile.frontend-build": "FROM node:20\n",  # named for a role: web
            "ops/Dockerfile": 'FROM python:3.12\nCMD ["celery", "-A", "app", "worker"]\n',
        },
    )
    images = detect.scan(repo).images
    assert images["api"].dockerfile == "Dockerfile" and images["api"].source == "its EXPOSE / entrypoint"
    assert images["web"].dockerfile == "docker/Dockerfile.frontend-build"
    assert images["worker"].dockerfile == "ops/Dockerfile"


@pytest.mark.parametrize(
    ("files", "command"),
    [
        (
            {"backend/db/alembic.ini": "", "backend/Dockerfile": "FROM x\nCOPY . .\n"},
            "alembic -c db/alembic.ini upgrade head",
        ),
        (
            {"backend/manage.py": "import django\n", "backend/Dockerfile": "FROM x\n"},
            "python manage.py migrate --noinput",
        ),
        ({"Makefile": "test:\n\tpytest\nmigrate:\n\talembic upgrade head\n"}, "make migrate"),
        ({"justfile": "migrate:\n  alembic upgrade head\n"}, "just migrate"),
    ],
)
def test_the_migration_command_is_read_where_it_lives(tmp_path: Path, files: dict[str, str], command: str) -> None:
    layout = detect.scan(write(tmp_path, files))
    assert layout.migration is not None and layout.migration.command == command


def test_the_lockfile_and_versions_come_from_the_frontend_before_the_root(tmp_path: Path) -> None:
    repo = write(
        tmp_path,
        {
            "web/package.json": json.dumps({"dependencies": {"react": "18"}, "engines": {"node": "^18.17"}}),
            "web/yarn.lock": "# yarn lockfile v1\n",
            "package-lock.json": "{}",
            "lib/pyproject.toml": '[project]\nname = "acme.lib"\nrequires-python = ">=3.11"\n',
            "tests/fixture/pyproject.toml": '[project]\nname = "not-released"\n',
        },
    )
    layout = detect.scan(repo)
    assert layout.frontend == detect.Frontend("web", "web/yarn.lock", "yarn")
    assert layout.node is not None and (layout.node.value, layout.node.source) == (
        "18.17",
        "web/package.json engines.node '^18.17'",
    )
    assert [p.name for p in layout.packages] == ["acme.lib"]
    assert layout.python is not None and layout.python.value == "3.11"
    assert render.expected_assets(layout) == ["acme_lib-*.whl", "acme_lib-sbom.json", "frontend-sbom.json"]


def test_what_cannot_be_found_is_a_fill_in_marker_saying_what_to_put(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".git").mkdir()
    assert run_cli(["init", "--dir", str(tmp_path)]) == 0
    text = (tmp_path / ".github/workflows/release.yml").read_text()
    assert "api_dockerfile: FILL-IN   # FILL-IN: no Dockerfile found for the api image" in text
    assert "web_context: FILL-IN   # FILL-IN: the web image's build context" in text
    conf = (tmp_path / ".github/release-kit.yml").read_text()
    assert "migrations: {command: FILL-IN}" in conf and "no alembic.ini, Django manage.py or migrate target" in conf
    parsed = config.parse(conf, "x")
    assert parsed.release is not None and parsed.release.expect == ["FILL-IN-*.whl"]
    assert "api image: FILL-IN" in capsys.readouterr().out


def test_a_path_with_expression_syntax_is_never_written(tmp_path: Path) -> None:
    repo = write(tmp_path, {"apps/api/${{ secrets.X }}/Dockerfile": "FROM x\n", "apps/web/Dockerfile": "FROM x\n"})
    assert run_cli(["init", "--dir", str(repo)]) == 0
    text = (repo / ".github/workflows/release.yml").read_text()
    assert "secrets.X" not in text and "api_dockerfile: FILL-IN" in text
    assert 'web_dockerfile: "apps/web/Dockerfile"' in text


def test_init_runs_from_any_folder_and_writes_into_the_git_root(
    monorepo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    here = Path.cwd()
    os.chdir(monorepo / "apps" / "web-app")
    try:
        assert run_cli(["init", "--force"]) == 0
    finally:
        os.chdir(here)
    assert (monorepo / ".github/workflows/release.yml").is_file()
    assert not (monorepo / "apps/web-app/.github").exists()
    assert f"The repository is {monorepo.resolve()}" in capsys.readouterr().out


def test_outside_a_repository_init_refuses_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["init", "--dir", str(tmp_path)]) == 2
    assert "not inside a git repository" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


IMAGES_WORKFLOW = """\
name: Build Images
on:
  push:
    branches: [main]
    tags: ["v*.*.*"]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Build api
        uses: docker/build-push-action@v6
        with: {context: backend, file: backend/docker/prod.Dockerfile, push: true, tags: ghcr.io/acme/api:latest}
      - uses: aquasecurity/trivy-action@0.28.0
        with: {image-ref: ghcr.io/acme/api:latest, severity: CRITICAL, ignore-unfixed: true, vuln-type: os}
"""


def test_an_image_workflow_on_tags_is_named_and_its_trivy_settings_carry_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = write(
        tmp_path,
        {
            ".github/workflows/images.yml": IMAGES_WORKFLOW,
            ".github/workflows/ci.yml": "name: CI\non: {push: {branches: [main]}}\njobs: {}\n",
            "backend/docker/prod.Dockerfile": "FROM python:3.12\n",
            "web/Dockerfile": "FROM node:20\n",
        },
    )
    assert run_cli(["init", "--dir", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "One image build per tag: release.yml builds, scans and pushes the images" in out
    assert ".github/workflows/images.yml (Build Images) also builds and pushes images on v* tags" in out
    assert "ci.yml" not in out.split("One image build per tag", 1)[1].split("Gates matched", 1)[0]
    given = release_with(repo)
    assert (given["api_dockerfile"], given["api_context"]) == ("backend/docker/prod.Dockerfile", "backend")
    assert given["trivy_severity"] == "CRITICAL" and given["trivy_ignore_unfixed"] == "true"
    assert given["trivy_vuln_type"] == "os"
    assert "carried over from .github/workflows/images.yml" in (repo / ".github/workflows/release.yml").read_text()


@pytest.mark.parametrize(
    ("on", "tags"),
    [
        ({"push": {"tags": ["v*"]}}, True),
        ({"push": {"branches": ["main"]}}, False),
        ({"push": None}, True),
        ("push", True),
        ({"push": {"tags": ["release-*"]}}, False),
        ({"release": {"types": ["published"]}}, False),
    ],
)
def test_which_triggers_run_on_a_v_tag(on: object, tags: bool) -> None:
    assert existing.runs_on_tags({"on": on}) is tags


OLD_RELEASE = """\
name: Release
on: {push: {tags: ["v*"]}}
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with: {python-version: "3.12", cache: pip}
      - name: Audit dependencies
        run: pip-audit -r requirements.txt
      - uses: anchore/sbom-action@v0
      - uses: actions/cache@v4
        with: {path: ~/.cache, key: x}
      - name: Publish to PyPI
        uses: pypa/gh-action-pypi-publish@release/v1
      - name: Build
        run: python -m build
      - uses: softprops/action-gh-release@v2
"""


def test_replacing_release_yml_says_what_it_would_drop_before_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = write(tmp_path, {".github/workflows/release.yml": OLD_RELEASE})
    assert run_cli(["init", "--dir", str(repo)]) == 2
    captured = capsys.readouterr()
    assert "--force" in captured.err
    dropped = captured.out.split("replacing it drops", 1)[1]
    for line in ("audit: Audit dependencies", "SBOM: anchore/sbom-action@v0", "cache: actions/cache@v4",
                 "publish: Publish to PyPI", "cache: actions/setup-python@v5"):  # fmt: skip
        assert f"  - {line}" in dropped
    assert "Build" not in dropped.replace("Build Images", "") and "softprops" not in dropped
    assert (repo / ".github/workflows/release.yml").read_text() == OLD_RELEASE
    assert run_cli(["init", "--dir", str(repo), "--force"]) == 0
    assert "runbook-release" in (repo / ".github/workflows/release.yml").read_text()


# -- the reusable workflows guess no path ------------------------------------------------------


def test_no_project_default_is_left_in_the_reusable_workflows() -> None:
    for name in ("runbook-release", "runbook-deploy", "runbook-rollback"):
        text = (ROOT / f".github/workflows/{name}.yml").read_text()
        for leftover in (
            "docker/api.Dockerfile",
            "docker/web.Dockerfile",
            "packages/contracts",
            "starter-console",
            "starter_",
        ):
            assert leftover not in text, f"{name}.yml still holds {leftover}"
    release = yaml.safe_load((ROOT / ".github/workflows/runbook-release.yml").read_text())
    inputs = release[True]["workflow_call"]["inputs"]
    for name in ("api_dockerfile", "api_context", "web_dockerfile", "web_context", "packages", "frontend"):
        assert inputs[name].get("required") is True and "default" not in inputs[name]
    assert inputs["migration_command"]["default"] == ""
    deploy = yaml.safe_load((ROOT / ".github/workflows/runbook-deploy.yml").read_text())
    assert deploy[True]["workflow_call"]["inputs"]["migration_command"]["default"] == ""
    health = [s for s in deploy["jobs"]["deploy"]["steps"] if s.get("uses") == "$/health"]
    assert len(health) == 2 and all("inputs.version" in s["with"]["expect-version"] for s in health)
    assert deploy["jobs"]["deploy"]["steps"][0]["uses"].startswith("actions/checkout@")  # the config is there


def _check_inputs_script() -> str:
    release = yaml.safe_load((ROOT / ".github/workflows/runbook-release.yml").read_text())
    step = release["jobs"]["gates"]["steps"][0]
    assert step["name"].startswith("Check the inputs")
    return str(step["run"])


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"api_dockerfile": ""}, "inputs.api_dockerfile is empty"),
        ({"web_context": ""}, "inputs.web_context is empty"),
        ({"web_dockerfile": "FILL-IN"}, "an input is still FILL-IN"),
        ({"PACKAGES": "", "FRONTEND": ""}, "inputs.packages and inputs.frontend are both empty"),
        ({"WORKER_DOCKERFILE": "worker/Dockerfile"}, "inputs.worker_context is empty"),
        ({}, None),
    ],
)
def test_the_first_step_names_the_input_a_caller_left_out(
    tmp_path: Path, given: dict[str, str], message: str | None
) -> None:
    paths = {"api_dockerfile": "a/Dockerfile", "api_context": "a", "web_dockerfile": "w/Dockerfile", "web_context": "."}
    paths.update({k: v for k, v in given.items() if k in paths})
    env = {
        "PATH": os.environ["PATH"],
        "GIVEN": " ".join(f"{k}={v}" for k, v in paths.items()),
        "WORKER_DOCKERFILE": "",
        "WORKER_CONTEXT": "",
        "PACKAGES": "packages/a",
        "FRONTEND": "",
    }
    env.update({k: v for k, v in given.items() if k not in paths})
    done = subprocess.run(
        ["bash", "-e", "-c", _check_inputs_script()], env=env, capture_output=True, text=True, check=False
    )
    if message is None:
        assert done.returncode == 0, done.stdout
    else:
        assert done.returncode == 1 and message in done.stdout and "::error" in done.stdout


def test_a_production_dockerfile_wins_over_a_development_one(tmp_path: Path) -> None:
    repo = write(
        tmp_path,
        {
            "apps/api/Dockerfile.dev": "FROM python:3.12\n",
            "apps/api/Dockerfile": "FROM python:3.12\n",
            "apps/web/dev.Dockerfile": "FROM node:20\n",
            "apps/web/prod.Dockerfile": "FROM node:20\n",
        },
    )
    images = detect.scan(repo).images
    assert images["api"].dockerfile == "apps/api/Dockerfile" and images["web"].dockerfile == "apps/web/prod.Dockerfile"


def test_the_app_is_the_frontend_not_a_component_library(tmp_path: Path) -> None:
    repo = write(
        tmp_path,
        {
            "packages/ui/package.json": json.dumps({"dependencies": {"react": "19"}}),
            "apps/portal/package.json": json.dumps({"dependencies": {"next": "15", "react": "19"}}),
            "apps/portal/package-lock.json": "{}",
        },
    )
    assert detect.scan(repo).frontend == detect.Frontend("apps/portal", "apps/portal/package-lock.json", "npm")


def test_a_workspace_root_project_is_not_released_beside_its_members(tmp_path: Path) -> None:
    repo = write(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "workspace"\n[tool.uv.workspace]\nmembers = ["libs/*"]\n',
            "libs/one/pyproject.toml": '[project]\nname = "one"\n',
        },
    )
    assert [p.name for p in detect.scan(repo).packages] == ["one"]
    alone = write(tmp_path / "alone", {"pyproject.toml": '[project]\nname = "solo"\n'})
    assert [(p.folder, p.name) for p in detect.scan(alone).packages] == [(".", "solo")]


def test_a_name_in_the_tree_cannot_issue_a_runner_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = write(tmp_path, {"apps/##[error]api/Dockerfile": "FROM x\n"})
    assert run_cli(["init", "--dir", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "##[error]" not in out and "#\\x23[error]api" in out  # printed, never obeyed
    assert "##[" not in (repo / ".github/workflows/release.yml").read_text()


def test_a_re_run_says_release_yml_is_the_runbooks_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = write(tmp_path, {"apps/api/Dockerfile": "FROM x\n"})
    assert run_cli(["init", "--dir", str(repo)]) == 0
    capsys.readouterr()
    assert run_cli(["init", "--dir", str(repo), "--force"]) == 0
    assert ".github/workflows/release.yml exists: the runbook's, written by init before." in capsys.readouterr().out


def test_workflows_with_every_input_found_pass_zizmor_with_no_config(tmp_path: Path) -> None:
    """Every registry x platform, written for a repository where everything was found (paths, worker,
    Trivy settings): what zizmor says of a user's repository, unconfigured."""
    import shutil
    import sys

    from release_kit.init import pin
    from tests.test_workflow_wiring import COMBOS, FULL_LAYOUT

    zizmor = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))
    if zizmor is None:
        pytest.skip("zizmor is not installed (the dev extra installs it)")
    pinned, _ = pin.resolve("acme", "4f1c2b7e9d0a8c6b5e3f2a1d0c9b8a7f6e5d4c3b", pin.installed())
    trivy = existing.Trivy(severity="CRITICAL", ignore_unfixed=True, vuln_type="os")
    files = []
    for registry, platform in COMBOS:
        choices = render.Choices(registry, platform, pinned, FULL_LAYOUT, "acme/app", trivy, ".github/workflows/i.yml")
        for rel, text in render.files(choices, detect.match_gates([])).items():
            if rel.startswith(".github/workflows/"):
                path = tmp_path / registry / platform / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                files.append(str(path))
    assert len(files) == 18
    done = subprocess.run([zizmor, "--offline", "--no-config", *files], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
