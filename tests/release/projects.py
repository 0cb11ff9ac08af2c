"""Small real projects made on disk for the release tests: Python packages and an npm lockfile."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path


def python_package(root: Path, name: str, version: str, dependencies: tuple[str, ...] = ("click>=8",)) -> Path:
    module = name.replace("-", "_")
    (root / "src" / module).mkdir(parents=True)
    (root / "src" / module / "__init__.py").write_text(f'__version__ = "{version}"\n')
    deps = ", ".join(f'"{d}"' for d in dependencies)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\nrequires-python = ">=3.9"\ndependencies = [{deps}]\n\n'
        f'[tool.hatch.build.targets.wheel]\npackages = ["src/{module}"]\n'
    )
    return root


def _integrity(text: str) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(text.encode()).digest()).decode()


def npm_frontend(root: Path, count: int = 3, lockfile_version: int = 3) -> Path:
    root.mkdir(parents=True)
    packages: dict[str, dict[str, object]] = {"": {"name": "web", "version": "1.2.3"}}
    for i in range(count):
        packages[f"node_modules/pkg-{i}"] = {"version": f"1.0.{i}", "integrity": _integrity(f"pkg-{i}")}
    packages["node_modules/@scope/ui"] = {"version": "2.0.0", "integrity": _integrity("ui")}
    packages["node_modules/pkg-0/node_modules/nested"] = {"version": "0.1.0", "integrity": _integrity("nested")}
    packages["node_modules/vitest"] = {"version": "3.0.0", "dev": True, "integrity": _integrity("vitest")}
    lock = {"name": "web", "version": "1.2.3", "lockfileVersion": lockfile_version, "packages": packages}
    (root / "package-lock.json").write_text(json.dumps(lock, indent=2))
    return root


# A monorepo as teams lay them out: packages/<name> whose versions come from the git tag, depending on
# each other. Each is built with its real backend (downloaded once into the uv cache by the isolated build).
PREFIX = "releasekit-fixture-"  # names nobody publishes, so an index look-up for a sibling would fail

SETUPTOOLS_SCM = (
    '[build-system]\nrequires = ["setuptools>=64", "setuptools-scm>=8"]\nbuild-backend = "setuptools.build_meta"\n'
)
HATCH_VCS = '[build-system]\nrequires = ["hatchling", "hatch-vcs"]\nbuild-backend = "hatchling.build"\n'


def _project(name: str, dependencies: tuple[str, ...]) -> str:
    deps = ", ".join(f'"{d}"' for d in dependencies)
    return f'\n[project]\nname = "{name}"\ndynamic = ["version"]\nrequires-python = ">=3.9"\ndependencies = [{deps}]\n'


def scm_package(root: Path, short: str, backend: str, dependencies: tuple[str, ...] = ()) -> Path:
    """``packages/<short>`` with a tag-derived version: ``backend`` is "setuptools_scm" or "hatch-vcs"."""
    name = PREFIX + short
    module = name.replace("-", "_")
    (root / "src" / module).mkdir(parents=True)
    (root / "src" / module / "__init__.py").write_text('"""A package of the fixture monorepo."""\n')
    if backend == "setuptools_scm":
        text = SETUPTOOLS_SCM + _project(name, dependencies) + '\n[tool.setuptools_scm]\nroot = "../.."\n'
    else:
        text = HATCH_VCS + _project(name, dependencies)
        text += '\n[tool.hatch.version]\nsource = "vcs"\nraw-options = { root = "../.." }\n'
        text += f'\n[tool.hatch.build.targets.wheel]\npackages = ["src/{module}"]\n'
    (root / "pyproject.toml").write_text(text)
    return root


def fallback_package(root: Path, short: str) -> Path:
    """A package whose setup.py asks setuptools_scm for the version at the wrong root (its own folder,
    not the repository top) and without its dist name: it finds no tag and falls back to 0.0.0."""
    name = PREFIX + short
    module = name.replace("-", "_")
    (root / module).mkdir(parents=True)
    (root / module / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(SETUPTOOLS_SCM + _project(name, ()))
    (root / "setup.py").write_text(
        "from setuptools import setup\nfrom setuptools_scm import get_version\n\n"
        f'setup(version=get_version(root=".", fallback_version="0.0.0"), packages=["{module}"])\n'
    )
    return root


def git_tag(repo: Path, tag: str) -> None:
    """Commit everything under ``repo`` (a fresh git repository) and tag it."""
    env = ["-c", "user.email=release@example.com", "-c", "user.name=release", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], [*env, "commit", "-q", "-m", "release"],
                 [*env, "tag", tag]):  # fmt: skip
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def monorepo(repo: Path, tag: str = "v1.4.0", *, checkout_has_tags: bool = False) -> list[Path]:
    """contracts (setuptools_scm), core (hatch-vcs, needs contracts), sdk (setuptools_scm, needs both),
    committed and tagged; the package folders in the wrong order for building (sdk, core, contracts).

    Unless ``checkout_has_tags``, the tag is then deleted locally, as in a CI checkout that fetched
    no tags (actions/checkout's default): git alone would give a 0.1.devN version."""
    contracts = scm_package(repo / "packages" / "contracts", "contracts", "setuptools_scm", ("click>=8",))
    core = scm_package(repo / "packages" / "core", "core", "hatch-vcs", (f"{PREFIX}contracts>=1.0",))
    sdk = scm_package(repo / "packages" / "sdk", "sdk", "setuptools_scm", (f"{PREFIX}core>=1.3", f"{PREFIX}contracts"))
    (repo / ".gitignore").write_text("build/\n*.egg-info/\ndist/\n")
    git_tag(repo, tag)
    if not checkout_has_tags:
        subprocess.run(["git", "-C", str(repo), "tag", "-d", tag], check=True, capture_output=True)
    return [sdk, core, contracts]


def uv_dynamic_package(root: Path, short: str) -> Path:
    """A hatchling package versioned by uv-dynamic-versioning (dunamai reading git)."""
    name = PREFIX + short
    module = name.replace("-", "_")
    (root / "src" / module).mkdir(parents=True)
    (root / "src" / module / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling", "uv-dynamic-versioning"]\nbuild-backend = "hatchling.build"\n'
        + _project(name, ())
        + '\n[tool.hatch.version]\nsource = "uv-dynamic-versioning"\n'
        + f'\n[tool.hatch.build.targets.wheel]\npackages = ["src/{module}"]\n'
    )
    return root
