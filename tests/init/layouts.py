"""Repositories laid out as teams lay them out, made on disk for init's tests (and examples/runbook)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.release.projects import HATCH_VCS, SETUPTOOLS_SCM

PREFIX = "acme-agent-"  # the example's package names (examples/runbook)

PNPM_LOCK = (Path(__file__).parent / "fixtures" / "pnpm-lock.yaml").read_text()  # written by pnpm 10.34.9

API_DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /app
COPY pyproject.toml alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
"""

WEB_DOCKERFILE = """\
FROM node:20-slim AS build
WORKDIR /repo
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY apps/web-app ./apps/web-app
RUN corepack enable && pnpm install --frozen-lockfile && pnpm --filter web-app build
FROM node:20-slim
COPY --from=build /repo/apps/web-app/.next ./.next
EXPOSE 3000
CMD ["node", "server.js"]
"""


def scm_package(root: Path, short: str, backend: str, dependencies: tuple[str, ...] = ()) -> Path:
    """``packages/<short>``, versioned from the git tag by setuptools_scm or hatch-vcs."""
    name = PREFIX + short
    module = name.replace("-", "_")
    (root / "src" / module).mkdir(parents=True)
    (root / "src" / module / "__init__.py").write_text('"""A package of the monorepo."""\n')
    deps = ", ".join(f'"{d}"' for d in dependencies)
    project = (
        f'\n[project]\nname = "{name}"\ndynamic = ["version"]\nrequires-python = ">=3.9"\ndependencies = [{deps}]\n'
    )
    if backend == "setuptools_scm":
        text = SETUPTOOLS_SCM + project + '\n[tool.setuptools_scm]\nroot = "../.."\n'
    else:
        text = HATCH_VCS + project + '\n[tool.hatch.version]\nsource = "vcs"\nraw-options = { root = "../.." }\n'
        text += f'\n[tool.hatch.build.targets.wheel]\npackages = ["src/{module}"]\n'
    (root / "pyproject.toml").write_text(text)
    return root


def git(repo: Path, *args: str) -> str:
    env = ["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false"]
    done = subprocess.run(["git", "-C", str(repo), *env, *args], check=True, capture_output=True, text=True)
    return done.stdout


def saas_monorepo(repo: Path, tag: str | None = "v1.4.0") -> Path:
    """Three packages under packages/ (setuptools_scm and hatch-vcs, depending on each other), a Next.js
    app in a pnpm workspace under apps/web-app (pnpm-lock.yaml at the root), apps/api-service with its
    Dockerfile and alembic.ini; a git repository whose origin is on GitHub, committed and tagged."""
    repo.mkdir(parents=True, exist_ok=True)
    scm_package(repo / "packages" / "contracts", "contracts", "setuptools_scm", ("click>=8",))
    scm_package(repo / "packages" / "core", "core", "hatch-vcs", (f"{PREFIX}contracts>=1.0",))
    scm_package(repo / "packages" / "sdk", "sdk", "setuptools_scm", (f"{PREFIX}core>=1.3", f"{PREFIX}contracts"))
    api = repo / "apps" / "api-service"
    (api / "app").mkdir(parents=True)
    (api / "app" / "main.py").write_text("app = None\n")
    (api / "migrations").mkdir()
    (api / "migrations" / "env.py").write_text("")
    (api / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    (api / "pyproject.toml").write_text('[project]\nname = "api-service"\nversion = "0.0.0"\n')
    (api / "Dockerfile").write_text(API_DOCKERFILE)
    web = repo / "apps" / "web-app"
    web.mkdir(parents=True)
    (web / "package.json").write_text(
        json.dumps(
            {
                "name": "web-app",
                "private": True,
                "dependencies": {"next": "15.0.3", "react": "19.0.0", "react-dom": "19.0.0"},
            }
        )
    )
    (web / "Dockerfile").write_text(WEB_DOCKERFILE)
    (repo / "package.json").write_text(
        json.dumps(
            {"name": "agent-saas", "private": True, "packageManager": "pnpm@10.34.9", "engines": {"node": ">=20"}}
        )
    )
    (repo / "pnpm-workspace.yaml").write_text("packages:\n  - apps/*\n")
    (repo / "pnpm-lock.yaml").write_text(PNPM_LOCK)
    (repo / ".python-version").write_text("3.12\n")
    (repo / ".nvmrc").write_text("20.18.0\n")
    (repo / ".gitignore").write_text("build/\n*.egg-info/\ndist/\nrelease-assets/\nnode_modules/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "https://github.com/Acme/agent-saas.git")
    if tag is not None:
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "the app")
        git(repo, "tag", tag)
    return repo


def regenerate_example(scratch: Path) -> None:
    """Rewrite examples/runbook/ as init writes it for :func:`saas_monorepo` (ghcr, ecs)."""
    import shutil

    from release_kit.cli import run_cli
    from tests.wiring import EXAMPLE_COMMIT

    repo = saas_monorepo(scratch / "repo", tag=None)
    assert (
        run_cli(["init", "--dir", str(repo), "--registry", "ghcr", "--platform", "ecs", "--ref", EXAMPLE_COMMIT]) == 0
    )
    example = Path(__file__).resolve().parents[2] / "examples" / "runbook"
    shutil.rmtree(example / ".github", ignore_errors=True)
    (repo / ".github" / "release-kit-setup.md").unlink()  # the team's set-up notes, not part of the runbook
    shutil.copytree(repo / ".github", example / ".github")


if __name__ == "__main__":  # python -m tests.init.layouts
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        regenerate_example(Path(scratch))
