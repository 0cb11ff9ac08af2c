"""release build on a monorepo as teams lay them out: packages whose versions come from the git tag
(setuptools_scm, hatch-vcs, built with the real backends) and that depend on each other."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from release_kit.cli import run_cli
from release_kit.errors import InputError
from release_kit.release import preflight, sbom
from release_kit.release.build import dependency_order
from tests.release.projects import (
    PREFIX,
    fallback_package,
    git_tag,
    monorepo,
    python_package,
    scm_package,
    uv_dynamic_package,
)

CONTRACTS, CORE, SDK = (f"{PREFIX}{n}" for n in ("contracts", "core", "sdk"))


def wheel_file(name: str, version: str) -> str:
    return f"{name.replace('-', '_')}-{version}-py3-none-any.whl"


def metadata_version(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return next(
            line.split(":", 1)[1].strip()
            for line in archive.read(meta).decode().splitlines()
            if line.startswith("Version:")
        )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path], dict]:  # type: ignore[type-arg]
    repo = tmp_path_factory.mktemp("monorepo")
    packages = monorepo(repo, "v1.4.0-rc.1")  # given as sdk, core, contracts: the wrong order
    assets = repo / "release-assets"
    report = repo / "report.json"
    args = ["release", "build", "--tag", "v1.4.0-rc.1", "--assets-dir", str(assets), "--report", str(report)]
    assert run_cli([*args, *(f"--package={p}" for p in packages)]) == 0
    return assets, packages, json.loads(report.read_text())


def test_packages_are_built_in_dependency_order_at_the_tags_version(built) -> None:  # type: ignore[no-untyped-def]
    assets, packages, report = built
    assert [b["name"] for b in report["builds"]] == [CONTRACTS, CORE, SDK]
    assert [b["package"] for b in report["builds"]] == [p.as_posix() for p in reversed(packages)]
    for name in (CONTRACTS, CORE, SDK):
        wheel = next(assets.glob(f"{name.replace('-', '_')}-*.whl"))
        assert wheel.name.split("-")[1] == "1.4.0rc1"  # v1.4.0-rc.1, PEP 440-normalised
        assert metadata_version(wheel) == "1.4.0rc1"  # read from the wheel itself
    by_name = {b["name"]: b for b in report["builds"]}
    assert by_name[CONTRACTS]["versioning"] == "setuptools_scm"
    assert by_name[CONTRACTS]["pretend"] == {
        "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_RELEASEKIT_FIXTURE_CONTRACTS": "1.4.0rc1"
    }
    assert by_name[CORE]["versioning"] == "hatch-vcs"
    assert by_name[CORE]["pretend"]["SETUPTOOLS_SCM_PRETEND_VERSION"] == "1.4.0rc1"
    assert by_name[SDK]["siblings"] == [f"{CONTRACTS}==1.4.0rc1", f"{CORE}==1.4.0rc1"]
    assert by_name[CORE]["siblings"] == [f"{CONTRACTS}==1.4.0rc1"]
    record = json.loads((assets / "release-kit-build.json").read_text())
    assert record["packages"] == [p.as_posix() for p in reversed(packages)]  # as built


def test_sibling_components_carry_the_built_wheels_hashes(built) -> None:  # type: ignore[no-untyped-def]
    assets, _, _ = built
    doc = json.loads((assets / f"{SDK.replace('-', '_')}-sbom.json").read_text())
    components = {c["name"]: c for c in doc["components"]}
    for name in (CONTRACTS, CORE):
        wheel = assets / wheel_file(name, "1.4.0rc1")
        assert components[name]["version"] == "1.4.0rc1"
        assert components[name]["hashes"] == [{"alg": "SHA-256", "content": sha256(wheel)}]
        assert components[name]["purl"] == f"pkg:pypi/{name}@1.4.0rc1?file_name={wheel.name}"
    assert "click" in components  # contracts' own requirement, reached through it, from the index
    assert not components["click"].get("hashes")
    core = json.loads((assets / f"{CORE.replace('-', '_')}-sbom.json").read_text())
    assert {c["name"] for c in core["components"]} == {CONTRACTS, "click"}
    root = doc["metadata"]["component"]
    assert root["hashes"] == [{"alg": "SHA-256", "content": sha256(assets / wheel_file(SDK, "1.4.0rc1"))}]
    assert sbom.validate(json.dumps(doc)) is None


def test_a_sibling_sbom_is_reproducible(built, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    assets, _, _ = built
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the index cut-off applies, the siblings are files
    wheels = {w.name: w for w in (sbom.built_wheel(p, sha256(p)) for p in assets.glob("*.whl"))}
    sdk = wheels[SDK]
    first, second = (sbom.wheel_sbom(sdk.path, sdk.sha256, wheels) for _ in range(2))
    assert first == second
    assert {c["name"]: c.get("hashes") for c in json.loads(first)["components"]}[CORE] == [
        {"alg": "SHA-256", "content": wheels[CORE].sha256}
    ]


def test_uv_dynamic_versioning_builds_at_the_tag(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    package = uv_dynamic_package(repo / "packages" / "tools", "tools")
    git_tag(repo, "v0.9.0")  # an older tag: dunamai alone would say 0.9.0 (or a post-release of it)
    assets = repo / "release-assets"
    report = repo / "report.json"
    args = ["release", "build", "--tag", "v2.0.0", "--assets-dir", str(assets), "--report", str(report), "--sdist"]
    assert run_cli([*args, f"--package={package}"]) == 0
    build = json.loads(report.read_text())["builds"][0]
    assert build["versioning"] == "uv-dynamic-versioning"
    assert build["pretend"] == {"UV_DYNAMIC_VERSIONING_BYPASS": "2.0.0"}
    assert metadata_version(next(assets.glob("*.whl"))) == "2.0.0"
    assert [p.name for p in assets.glob("*.tar.gz")] == [f"{PREFIX.replace('-', '_')}tools-2.0.0.tar.gz"]


def test_a_setup_py_package_is_built_and_planned_by_the_name_its_wheel_carries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = tmp_path / "legacy"
    (package / "acme_legacy").mkdir(parents=True)
    (package / "acme_legacy" / "__init__.py").write_text("")
    (package / "setup.py").write_text(
        f'from setuptools import setup\nsetup(name="{PREFIX}setup-py", version="1.4.0", packages=["acme_legacy"])\n'
    )
    assets = tmp_path / "release-assets"
    assert run_cli(["release", "build", "--tag", "v1.4.0", "--assets-dir", str(assets), f"--package={package}"]) == 0
    assert [p.name for p in assets.glob("*.whl")] == [wheel_file(f"{PREFIX}setup-py", "1.4.0")]
    capsys.readouterr()
    assert run_cli(["release", "plan", "--assets-dir", str(assets), "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["assets"]) == 3  # wheel, SBOM, SHA256SUMS


def test_plan_finds_the_dynamic_version_wheels(built, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    assets, _, _ = built
    assert run_cli(["release", "plan", "--assets-dir", str(assets), "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["version"] == "1.4.0rc1"
    assert sorted(a["name"] for a in plan["assets"] if a["role"] == "wheel") == sorted(
        wheel_file(n, "1.4.0rc1") for n in (CONTRACTS, CORE, SDK)
    )


def test_a_setuptools_scm_root_that_falls_back_is_refused_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    contracts = scm_package(repo / "packages" / "contracts", "contracts", "setuptools_scm")
    legacy = fallback_package(repo / "packages" / "legacy", "legacy")
    (repo / ".gitignore").write_text("build/\n*.egg-info/\n")
    git_tag(repo, "v1.4.0")
    assets = repo / "release-assets"
    assets.mkdir()
    (assets / "keep.txt").write_text("the previous release's assets")
    args = ["release", "build", "--tag", "v1.4.0", "--assets-dir", str(assets)]
    assert run_cli([*args, f"--package={contracts}", f"--package={legacy}"]) == 2
    err = capsys.readouterr().err
    message = err.strip().splitlines()[-1]
    assert f"--package {legacy}: {PREFIX}legacy was built as version 0.0.0, but the tag means 1.4.0" in message
    assert "finding no tag and falling back" in message
    assert "root = '../..'" in message and f"dist_name='{PREFIX}legacy'" in message
    assert "drop fallback_version" in message and "Nothing was released" in message
    assert [p.name for p in assets.iterdir()] == ["keep.txt"]  # not even the good contracts wheel
    assert not list(repo.glob(".release-assets.*"))


def test_the_message_says_where_a_wrong_root_points(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    package = repo / "packages" / "core"
    package.mkdir(parents=True)
    (package / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools", "setuptools-scm"]\n[project]\nname = "acme-core"\n'
        'dynamic = ["version"]\n[tool.setuptools_scm]\nroot = "."\nfallback_version = "0.0.0"\n'
    )
    git_tag(repo, "v1.4.0")
    project = preflight.read_project(package)
    assert project.versioning == "setuptools_scm" and project.scm_root == "."
    message = str(preflight.version_mismatch(project, "acme-core", "0.0.0", preflight.tag_version("v1.4.0"), {}))
    assert f"its setuptools_scm root '.' is {package.resolve()}, not the repository top {repo.resolve()}" in message
    assert "root = '../..' in [tool.setuptools_scm]" in message


def test_a_static_version_that_disagrees_with_the_tag_is_refused_before_building(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    core = scm_package(repo / "packages" / "core", "core", "hatch-vcs")
    old = python_package(repo / "packages" / "old", f"{PREFIX}old", "1.3.9", dependencies=())
    assets = repo / "release-assets"
    args = ["release", "build", "--tag", "v1.4.0", "--assets-dir", str(assets), f"--package={core}"]
    assert run_cli([*args, f"--package={old}"]) == 2
    assert f"--tag v1.4.0 means version 1.4.0, but {PREFIX}old is 1.3.9" in capsys.readouterr().err
    assert not assets.exists() and not list(repo.glob(".release-assets.*"))


def test_a_dependency_cycle_is_refused_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = python_package(tmp_path / "a", "cyc-a", "1.0.0", dependencies=("cyc-b",))
    b = python_package(tmp_path / "b", "cyc-b", "1.0.0", dependencies=("cyc-c>=1",))
    c = python_package(tmp_path / "c", "cyc-c", "1.0.0", dependencies=("Cyc_A",))
    assets = tmp_path / "release-assets"
    args = ["release", "build", "--tag", "v1.0.0", "--assets-dir", str(assets)]
    assert run_cli([*args, *(f"--package={p}" for p in (a, b, c))]) == 2
    err = capsys.readouterr().err
    assert "the packages depend on each other in a cycle (cyc-a -> cyc-b -> cyc-c -> cyc-a)" in err
    assert not assets.exists()


def test_the_same_package_twice_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = python_package(tmp_path / "a", "dup-pkg", "1.0.0", dependencies=())
    args = ["release", "build", "--tag", "v1.0.0", "--assets-dir", str(tmp_path / "assets")]
    assert run_cli([*args, f"--package={a}", f"--package={a}"]) == 2
    assert "are the same package (dup-pkg); give it once" in capsys.readouterr().err


def test_dependency_order_keeps_the_given_order_where_it_is_free() -> None:
    edges = {"sdk": {"core"}, "core": {"contracts"}, "tools": set()}
    assert dependency_order(["sdk", "tools", "core", "contracts"], edges, "x") == ["tools", "contracts", "core", "sdk"]
    with pytest.raises(InputError, match=r"cycle \(a -> b -> a\)"):
        dependency_order(["c", "a", "b"], {"a": {"b"}, "b": {"a"}, "c": {"a"}}, "x")


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("acme-core", "ACME_CORE"),
        ("Acme.Core_SDK", "ACME_CORE_SDK"),
        ("acme__core", "ACME_CORE"),
    ],
)
def test_the_pretend_variable_is_named_as_setuptools_scm_reads_it(name: str, variable: str) -> None:
    assert preflight.env_dist_name(name) == variable


def test_each_plugin_gets_its_own_variable(tmp_path: Path) -> None:
    def project(text: str) -> preflight.Project:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        (folder / "pyproject.toml").write_text(text)
        return preflight.read_project(folder)

    dynamic = '[project]\nname = "acme-core"\ndynamic = ["version"]\n'
    version = preflight.tag_version("v2.0.0")
    uv_dyn = project(
        '[build-system]\nrequires = ["hatchling", "uv-dynamic-versioning"]\nbuild-backend = "hatchling.build"\n'
        + dynamic
        + '[tool.hatch.version]\nsource = "uv-dynamic-versioning"\n'
    )
    assert uv_dyn.versioning == "uv-dynamic-versioning"
    assert preflight.pretend_env(uv_dyn, version) == {"UV_DYNAMIC_VERSIONING_BYPASS": "2.0.0"}
    scm = project('[build-system]\nrequires = ["setuptools", "setuptools_scm[toml]"]\n' + dynamic)
    assert preflight.pretend_env(scm, version) == {"SETUPTOOLS_SCM_PRETEND_VERSION_FOR_ACME_CORE": "2.0.0"}
    dotted = project(
        '[build-system]\nrequires = ["setuptools_scm"]\n[project]\nname = "acme.core"\ndynamic = ["version"]\n'
    )
    assert preflight.pretend_env(dotted, version) == {
        "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_ACME_CORE": "2.0.0",  # setuptools_scm 8 and later
        "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_ACME.CORE": "2.0.0",  # as setuptools_scm 6 and 7 read it
    }
    pdm = project(dynamic + '[tool.pdm.version]\nsource = "scm"\n')
    assert preflight.pretend_env(pdm, version) == {"PDM_BUILD_SCM_VERSION": "2.0.0"}
    attr = project(dynamic + '[tool.setuptools.dynamic]\nversion = {attr = "acme.__version__"}\n')
    assert attr.versioning == "dynamic" and preflight.pretend_env(attr, version) == {}
    error = preflight.version_mismatch(attr, "acme-core", "1.9.0", version, {})
    assert "the version comes from [tool.setuptools.dynamic] version = {attr = 'acme.__version__'}" in str(error)
    with pytest.raises(InputError, match="neither a version nor dynamic"):
        project('[project]\nname = "acme-core"\n')


def test_a_sibling_requirement_the_built_version_does_not_meet_is_refused(tmp_path: Path) -> None:
    from packaging.requirements import Requirement

    contracts = sbom.BuiltWheel("acme-contracts", "1.4.0", tmp_path / "c.whl", "0" * 64, ())
    with pytest.raises(InputError, match=r"requires acme-contracts<1\.0, but this run builds acme-contracts 1\.4\.0"):
        sbom.resolve([Requirement("acme-contracts<1.0")], None, {"acme-contracts": contracts})


def test_release_build_benchmark_smoke() -> None:
    import re
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[2] / "scripts" / "bench" / "release_build.py"
    done = subprocess.run(
        [sys.executable, str(script), "--repeat", "1", "--peers", "build", "--no-warm"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    ours = float(re.search(r"release build \(wheels \+ SBOMs\):\s+([\d.]+) s", done.stdout).group(1))  # type: ignore[union-attr]
    ratio = float(re.search(r"python -m build x3:\s+[\d.]+ s\s+ratio ours / peer: ([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    assert ours > 0 and 0 < ratio < 10
