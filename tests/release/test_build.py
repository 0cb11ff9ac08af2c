"""release build and plan with real wheels (python -m build) and real CycloneDX validation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from release_kit.cli import run_cli
from release_kit.release import sbom
from release_kit.release.frontend_sbom import frontend_sbom
from tests.release.projects import npm_frontend, python_package

NAMES = ("starter-contracts", "starter-console", "starter-providers")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path], Path, dict]:  # type: ignore[type-arg]
    root = tmp_path_factory.mktemp("release")
    packages = [python_package(root / name, name, "1.2.3rc1") for name in NAMES]
    frontend = npm_frontend(root / "web")
    assets = root / "release-assets"
    report = root / "report.json"
    args = ["release", "build", "--tag", "v1.2.3-rc.1", "--assets-dir", str(assets), "--report", str(report)]
    args += [f"--package={p}" for p in packages] + ["--frontend", str(frontend)]
    assert run_cli(args) == 0
    return assets, packages, frontend, json.loads(report.read_text())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_assets_are_wheels_sboms_and_checksums(built) -> None:  # type: ignore[no-untyped-def]
    assets, _, _, report = built
    names = sorted(p.name for p in assets.iterdir())
    assert names == sorted(
        [
            *(f"{n.replace('-', '_')}-1.2.3rc1-py3-none-any.whl" for n in NAMES),
            *(f"{n.replace('-', '_')}-sbom.json" for n in NAMES),
            "frontend-sbom.json",
            "SHA256SUMS",
            "release-kit-build.json",  # what build decided, for plan/upload/publish; not an asset
        ]
    )
    assert report["version"] == "1.2.3rc1" and report["prerelease"] is True
    sums = dict(reversed(line.split("  ")) for line in (assets / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == set(names) - {"SHA256SUMS", "release-kit-build.json"}
    assert all(sums[name] == sha256(assets / name) for name in sums)
    assert not (Path.cwd() / "dist").exists()


def test_each_wheel_sbom_describes_its_wheel_and_resolved_dependencies(built) -> None:  # type: ignore[no-untyped-def]
    assets, _, _, _ = built
    wheel = next(assets.glob("starter_contracts-*.whl"))
    text = (assets / "starter_contracts-sbom.json").read_text()
    assert sbom.validate(text) is None
    doc = json.loads(text)
    assert doc["specVersion"] == "1.6"
    root = doc["metadata"]["component"]
    assert root["purl"].startswith("pkg:pypi/starter-contracts@1.2.3rc1")
    assert root["hashes"] == [{"alg": "SHA-256", "content": sha256(wheel)}]
    click = next(c for c in doc["components"] if c["name"] == "click")
    assert click["purl"] == f"pkg:pypi/click@{click['version']}" and click["version"][0].isdigit()
    assert doc["serialNumber"].startswith("urn:uuid:")


def test_frontend_sbom_from_the_lockfile(built) -> None:  # type: ignore[no-untyped-def]
    assets, _, _, _ = built
    doc = json.loads((assets / "frontend-sbom.json").read_text())
    purls = sorted(c["purl"] for c in doc["components"])
    assert purls == ["pkg:npm/%40scope/ui@2.0.0", "pkg:npm/nested@0.1.0", "pkg:npm/pkg-0@1.0.0",
                     "pkg:npm/pkg-1@1.0.1", "pkg:npm/pkg-2@1.0.2", "pkg:npm/vitest@3.0.0"]  # fmt: skip
    ui = next(c for c in doc["components"] if c["name"] == "ui")
    assert ui["group"] == "@scope"
    assert ui["hashes"][0]["alg"] == "SHA-512" and ui["hashes"][0]["content"] == hashlib.sha512(b"ui").hexdigest()


def test_rebuilding_an_sbom_gives_the_same_bytes(built, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    assets, _, frontend, _ = built
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    wheel = next(assets.glob("starter_console-*.whl"))
    first, second = sbom.wheel_sbom(wheel, sha256(wheel)), sbom.wheel_sbom(wheel, sha256(wheel))
    assert first == second and '"timestamp": "2023-11-14T22:13:20+00:00"' in first
    assert frontend_sbom(frontend, frontend) == frontend_sbom(frontend, frontend)


def test_the_schema_rejects_a_broken_sbom(built) -> None:  # type: ignore[no-untyped-def]
    assets, _, _, _ = built
    doc = json.loads((assets / "starter_contracts-sbom.json").read_text())
    doc["components"][0]["type"] = "banana"
    assert sbom.validate(json.dumps(doc)) is not None


def test_plan_checks_the_assets_against_the_checksums(built, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    assets, packages, frontend, _ = built
    args = ["release", "plan", "--tag", "v1.2.3-rc.1", "--assets-dir", str(assets), "--frontend", str(frontend)]
    args += [f"--package={p}" for p in packages] + ["--format", "json"]
    assert run_cli(args) == 0
    plan = json.loads(capsys.readouterr().out)
    assert len(plan["assets"]) == 8
    assert {a["subject"] for a in plan["assets"] if a["role"] == "sbom"} >= {
        f"{n.replace('-', '_')}-1.2.3rc1-py3-none-any.whl" for n in NAMES
    }
    sbom_file = assets / "starter_console-sbom.json"
    saved = sbom_file.read_bytes()
    try:
        sbom_file.write_bytes(saved + b" ")
        assert run_cli(args) == 2
        assert "starter_console-sbom.json: its sha256 does not match SHA256SUMS" in capsys.readouterr().err
    finally:
        sbom_file.write_bytes(saved)


def test_tag_and_version_mismatch_stops_before_anything(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    package = python_package(tmp_path / "starter-contracts", "starter-contracts", "1.2.2")
    assets = tmp_path / "release-assets"
    (assets).mkdir()
    (assets / "keep.txt").write_text("previous assets")
    assert run_cli(["release", "build", "--tag", "v1.2.3", f"--package={package}", "--assets-dir", str(assets)]) == 2
    err = capsys.readouterr().err
    assert "--tag v1.2.3 means version 1.2.3, but starter-contracts is 1.2.2" in err
    assert [p.name for p in assets.iterdir()] == ["keep.txt"]  # the user's files are as they were


def test_a_lockfile_v1_that_keeps_packages_where_v2_does_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frontend = npm_frontend(tmp_path / "web", lockfile_version=1)  # a v1 header over a v2 body: no npm wrote it
    assert run_cli(["release", "build", "--tag", "v1.0.0", "--frontend", str(frontend),
                    "--assets-dir", str(tmp_path / "a")]) == 2  # fmt: skip
    assert "lockfileVersion 1 keeps its packages in 'dependencies'" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


def test_plan_needs_no_flags_again_it_reads_what_build_recorded(  # type: ignore[no-untyped-def]
    built, capsys: pytest.CaptureFixture[str]
) -> None:
    assets, packages, frontend, _ = built
    record = json.loads((assets / "release-kit-build.json").read_text())
    assert record == {
        "tag": "v1.2.3-rc.1",
        "repository": None,
        "packages": [str(p) for p in packages],
        "frontend": str(frontend),
        "sdist": False,
        "builds": [
            {"package": str(p), "name": n, "version": "1.2.3rc1", "versioning": "static"}
            for p, n in zip(packages, NAMES, strict=True)
        ],
    }
    assert run_cli(["release", "plan", "--assets-dir", str(assets), "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["tag"] == "v1.2.3-rc.1" and len(plan["assets"]) == 8


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--tag", "v1.2.3rc1"], "--tag v1.2.3rc1: the assets were built with --tag v1.2.3-rc.1"),
        (["--frontend", "elsewhere"], "--frontend elsewhere: the assets were built with --frontend "),
        (["--repo", "octo-org/other"], None),  # nothing recorded: any repository is fine
    ],
)
def test_a_flag_that_differs_from_the_record_exits_2_naming_it(  # type: ignore[no-untyped-def]
    built, capsys: pytest.CaptureFixture[str], flags: list[str], message: str | None
) -> None:
    assets, _, _, _ = built
    code = run_cli(["release", "plan", "--assets-dir", str(assets), *flags])
    err = capsys.readouterr().err
    if message is None:
        assert code == 0
        return
    assert code == 2 and message in err and "give the same, or leave" in err
    assert len(err.strip().splitlines()) == 1


def test_a_package_left_out_or_added_is_a_difference(built, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assets, packages, _, _ = built
    assert run_cli(["release", "plan", "--assets-dir", str(assets), f"--package={packages[0]}"]) == 2
    err = capsys.readouterr().err
    assert f"--package {packages[0].as_posix()}: the assets were built with --package {packages[0]} --package" in err


def test_more_wheels_than_the_action_attests_are_refused_before_building(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packages = [python_package(tmp_path / f"pkg{i}", f"starter-pkg{i}", "1.0.0") for i in range(5)]
    assets = tmp_path / "release-assets"
    args = ["release", "build", "--tag", "v1.0.0", "--assets-dir", str(assets), "--max-wheels", "4"]
    assert run_cli([*args, *(f"--package={p}" for p in packages)]) == 2
    err = capsys.readouterr().err
    assert "--package: 5 packages make at least as many wheels, but at most 4 can be released here" in err
    assert "the release action has 4 SBOM attestation steps" in err
    assert not assets.exists() and not list(tmp_path.glob(".release-assets.*"))  # nothing was built
