"""What tests/release/test_frontend_sbom.py asserts of today's package-lock.json SBOM, kept by the
new frontend_sbom(frontend, repo_root) for a frontend with its own package-lock.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from release_kit.errors import InputError
from release_kit.release.frontend_sbom import frontend_sbom
from release_kit.release.sbom import NPM_DEVELOPMENT, validate
from tests.release.projects import _integrity, npm_frontend


def components(frontend: Path) -> dict[str, dict[str, Any]]:
    text = frontend_sbom(frontend, frontend)
    assert validate(text) is None  # CycloneDX 1.6, strict schema
    return {c["name"]: c for c in json.loads(text)["components"]}


def dev_flag(component: dict[str, Any]) -> str | None:
    return next((p["value"] for p in component.get("properties", []) if p["name"] == NPM_DEVELOPMENT), None)


@pytest.mark.parametrize("version", [1, 2, 3])
def test_development_packages_are_listed_and_marked(tmp_path: Path, version: int) -> None:
    root = npm_frontend(tmp_path / "web", lockfile_version=version if version != 1 else 3)
    if version == 1:  # the same packages in v1's nested shape
        lock = json.loads((root / "package-lock.json").read_text())
        deps: dict[str, Any] = {}
        for key, entry in lock["packages"].items():
            if not key:
                continue
            parts = key.split("node_modules/")[1:]
            where = deps
            for part in parts[:-1]:
                where = where[part.rstrip("/")].setdefault("dependencies", {})
            where[parts[-1]] = entry
        (root / "package-lock.json").write_text(json.dumps({"lockfileVersion": 1, "dependencies": deps}))
    found = components(root)
    assert set(found) == {"pkg-0", "pkg-1", "pkg-2", "ui", "nested", "vitest"}
    assert found["ui"]["group"] == "@scope"
    assert dev_flag(found["vitest"]) == "true" and "scope" not in found["vitest"]
    assert found["vitest"]["hashes"][0]["alg"] == "SHA-512"
    for runtime in ("pkg-0", "ui", "nested"):
        assert dev_flag(found[runtime]) is None and found[runtime]["scope"] == "required"


def lockfile(root: Path, **packages: dict[str, Any] | str) -> Path:
    root.mkdir()
    body = {"": {"name": "web", "version": "1.0.0"}, **{f"node_modules/{k}": v for k, v in packages.items()}}
    lock = {"name": "web", "lockfileVersion": 3, "packages": body}
    (root / "package-lock.json").write_text(json.dumps(lock))
    return root


def test_a_package_both_dev_and_runtime_is_runtime_and_optional_ones_are_optional(tmp_path: Path) -> None:
    root = lockfile(
        tmp_path / "web",
        **{
            "a": {"version": "1.0.0", "integrity": _integrity("a")},
            "b/node_modules/a": {"version": "1.0.0", "dev": True, "integrity": _integrity("a")},
            "fsevents": {"version": "2.3.3", "optional": True},
        },
    )
    found = components(root)
    assert dev_flag(found["a"]) is None and found["a"]["scope"] == "required"
    assert found["fsevents"]["scope"] == "optional"


def test_the_root_component_is_named_from_the_lockfile_without_a_package_json(tmp_path: Path) -> None:
    root = npm_frontend(tmp_path / "web")
    bom = json.loads(frontend_sbom(root, root))
    assert bom["metadata"]["component"]["name"] == "web" and bom["metadata"]["component"]["version"] == "1.2.3"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"version": "1.0.0", "integrity": "sha512-not*base64"}, "integrity 'sha512-not*base64' is not a sha512"),
        ({"version": "1.0.0", "integrity": "sha512-AAAA"}, "integrity 'sha512-AAAA' is not a sha512"),
        ({"version": "1.0.0", "integrity": "md5-" + _integrity("x")[7:]}, "is not a sha512, sha384, sha256 or sha1"),
        ({"version": "1.0.0", "integrity": 42}, "integrity must be a string such as sha512-<base64>, got 42"),
        ({"version": 1}, "version must be a string, got 1"),
        ({"version": "1.0.0", "dev": "yes"}, "dev must be true or false, got 'yes'"),
        ("1.0.0", "expected an object, got '1.0.0'"),
    ],
)
def test_a_malformed_lockfile_is_exit_2_naming_the_file_and_package(tmp_path: Path, entry: Any, expected: str) -> None:
    root = lockfile(tmp_path / "web", **{"left-pad": entry})
    with pytest.raises(InputError) as info:
        frontend_sbom(root, root)
    message = info.value.one_line()
    assert (
        message.startswith(f"{(root / 'package-lock.json').resolve()}: package 'node_modules/left-pad': ")
        and expected in message
    )


def test_packages_that_are_not_an_object_are_exit_2(tmp_path: Path) -> None:
    root = tmp_path / "web"
    root.mkdir()
    (root / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "packages": ["a"]}))
    with pytest.raises(InputError, match="'packages' must be an object"):
        frontend_sbom(root, root)
