"""Small real projects made on disk for the release tests: Python packages and an npm lockfile."""

from __future__ import annotations

import base64
import hashlib
import json
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
