"""Every lockfile kind, written by the real package manager, gives the frontend the same packages
cdxgen lists from it (tests/fixtures/lockfiles/README.md says how each was made), less what is
deliberately not a component of apps/web-app, with the same development marks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from release_kit.release.frontend_sbom import EXCLUDED_PROPERTY, FORMAT_PROPERTY, LOCKFILE_PROPERTY, frontend_sbom
from release_kit.release.lockfiles import find_lockfile, read_components, read_lockfile
from release_kit.release.lockfiles.identity import purl
from release_kit.release.sbom import NPM_DEVELOPMENT, validate

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lockfiles"
KINDS = {
    "pnpm9": ("pnpm-lock.yaml", "pnpm-lock.yaml 9.0"),
    "pnpm6": ("pnpm-lock.yaml", "pnpm-lock.yaml 6.0"),
    "yarn1": ("yarn.lock", "yarn.lock v1"),
    "yarn4": ("yarn.lock", "yarn.lock berry (metadata version 10)"),
    "npm3": ("package-lock.json", "package-lock.json v3"),
    "npm2": ("package-lock.json", "package-lock.json v2"),
    "npm1": ("package-lock.json", "package-lock.json v1"),
    "bun": ("bun.lock", "bun.lock v2"),
}
# cdxgen reads the whole workspace; apps/web-app does not reach the root's devDependency is-number
NOT_REACHED = {"pkg:npm/is-number@7.0.0"}
# workspace packages and the file: folder, which cdxgen lists (with made-up versions) and we set aside
LOCAL_NAMES = {"ui", "web-app", "local-lib"}
DEVELOPMENT = {"ansi-styles", "chalk", "color-convert", "color-name", "has-flag", "supports-color"}


def reference(kind: str, name: str = "cdxgen-purls.txt") -> set[str]:
    return {line.strip() for line in (FIXTURES / kind / name).read_text().splitlines() if line.strip()}


def local(ref: str) -> bool:
    return ref.split("/")[-1].split("@")[0].split("?")[0] in LOCAL_NAMES


def copied(tmp_path: Path, kind: str) -> Path:
    """A copy of the fixture, so nothing above it (this repository) can be picked up."""
    target = tmp_path / "repo"
    shutil.copytree(FIXTURES / kind, target)
    return target


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_frontend_gets_the_reference_set_of_packages(tmp_path: Path, kind: str) -> None:
    repo = copied(tmp_path, kind)
    lockfile = find_lockfile(repo / "apps" / "web-app", repo)
    assert lockfile.path == (repo / KINDS[kind][0]).resolve()
    reading = read_lockfile(lockfile, repo / "apps" / "web-app")
    ours = {c.purl for c in reading.components}
    expected = {ref for ref in reference(kind) if not local(ref)} - NOT_REACHED
    assert ours == expected
    assert len(reading.components) == len(ours)  # every package once (ms is there at three versions)
    assert {c.name for c in reading.components if c.dev} == DEVELOPMENT
    assert [(e.name, e.reason.split()[0]) for e in reading.excluded] == [("local-lib", "local"), ("ui", "workspace")]
    assert reading.format == KINDS[kind][1]
    if kind in ("pnpm9", "pnpm6", "npm3", "npm2", "npm1"):  # cdxgen marks the same development packages
        assert {c.purl for c in reading.components if c.dev} == reference(kind, "cdxgen-dev-purls.txt") - NOT_REACHED
    hashed = {c.purl for c in reading.components if c.hashes}
    assert hashed == (set() if kind == "yarn4" else ours)  # berry's checksum is of yarn's cache, not npm's tarball
    assert read_components(lockfile, repo / "apps" / "web-app") == list(reading.components)


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_sbom_validates_and_names_the_lockfile_and_what_it_set_aside(tmp_path: Path, kind: str) -> None:
    repo = copied(tmp_path, kind)
    text = frontend_sbom(repo / "apps" / "web-app", repo)
    assert validate(text) is None
    bom = json.loads(text)
    assert bom["metadata"]["component"]["name"] == "web-app" and bom["metadata"]["component"]["version"] == "1.2.0"
    properties = [(p["name"], p["value"]) for p in bom["metadata"]["properties"]]
    assert (LOCKFILE_PROPERTY, KINDS[kind][0]) in properties
    assert (FORMAT_PROPERTY, KINDS[kind][1]) in properties
    excluded = sorted(value for name, value in properties if name == EXCLUDED_PROPERTY)
    assert excluded == ["local-lib (local folder vendor/local-lib (file:))", "ui (workspace package packages/ui)"]
    found = {c["purl"]: c for c in bom["components"]}
    chalk, react = found["pkg:npm/chalk@4.1.2"], found["pkg:npm/react@18.3.1"]
    assert chalk["properties"] == [{"name": NPM_DEVELOPMENT, "value": "true"}] and "scope" not in chalk
    assert react["scope"] == "required" and "properties" not in react
    scoped = found["pkg:npm/%40isaacs/string-locale-compare@1.1.0"]
    assert scoped["group"] == "@isaacs" and scoped["name"] == "string-locale-compare"
    assert bom["dependencies"][0]["ref"] == "npm-root:web-app@1.2.0"


@pytest.mark.parametrize("kind", ["pnpm9", "npm3", "yarn1", "bun"])
def test_the_workspace_root_as_frontend_gets_its_own_dependencies(tmp_path: Path, kind: str) -> None:
    repo = copied(tmp_path, kind)
    reading = read_lockfile(find_lockfile(repo, repo), repo)
    ours = {c.purl for c in reading.components}
    if (repo / "package-lock.json").exists():  # npm: the root's lockfile lists everything it installs
        assert ours == {ref for ref in reference("npm3") if not local(ref)}
    else:
        assert ours == NOT_REACHED and all(c.dev for c in reading.components)


def test_one_frontend_gets_one_serial_and_another_app_another(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    repo = copied(tmp_path, "pnpm9")
    first = frontend_sbom(repo / "apps" / "web-app", repo)
    assert frontend_sbom(repo / "apps" / "web-app", repo) == first
    other = json.loads(frontend_sbom(repo / "packages" / "ui", repo))
    assert other["serialNumber"] != json.loads(first)["serialNumber"]
    assert [c["purl"] for c in other["components"]] == ["pkg:npm/clsx@2.1.1"]


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("@isaacs/string-locale-compare", "1.1.0"),
        ("JSONStream", "1.3.5"),
        ("a", "1.0.0+build.1"),
        ("b", "1.0.0-rc.1"),
        ("@Scope/x~y", "2.0.0"),
        ("n", "git+https://github.com/a/b.git#abc"),
        ("x", "a/b@c?d#e%f:g"),
    ],
)
def test_purls_are_written_as_packageurl_writes_them(name: str, version: str) -> None:
    from packageurl import PackageURL

    namespace, _, short = name.rpartition("/") if name.startswith("@") else ("", "", name)
    expected = PackageURL(type="npm", namespace=namespace or None, name=short, version=version).to_string()
    assert purl(name, version) == expected


def test_a_large_pnpm_workspace_gives_cdxgens_set_over_its_three_importers(tmp_path: Path) -> None:
    """scripts/bench/data: 1,418 packages pnpm 10 wrote for a Next.js app, a UI package and the
    root's tooling; the three importers together are cdxgen's whole-workspace set. cdxgen keeps a
    legacy name's capitals in the purl (JSONStream); the purl specification lowercases npm names."""
    import gzip

    data = Path(__file__).resolve().parents[3] / "scripts" / "bench" / "data"
    repo = tmp_path / "repo"
    for name, text in json.loads((data / "pnpm-large.manifests.json").read_text()).items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    (repo / "pnpm-lock.yaml").write_bytes(gzip.decompress((data / "pnpm-large.yaml.gz").read_bytes()))
    expected = {
        line.lower()
        for line in gzip.decompress((data / "pnpm-large.cdxgen-purls.txt.gz").read_bytes()).decode().split()
    }
    found: dict[str, set[str]] = {}
    for folder in ("apps/web-app", "packages/ui", "."):
        reading = read_lockfile(find_lockfile(repo / folder, repo), repo / folder)
        found[folder] = {c.purl for c in reading.components}
        assert len(found[folder]) == len(reading.components)
    assert set().union(*found.values()) == expected
    assert len(found["apps/web-app"]) == 1360 and "pkg:npm/next@15.1.3" in found["apps/web-app"]
    assert "pkg:npm/turbo@2.3.3" not in found["apps/web-app"]  # the root's tooling is not the app's


@pytest.mark.parametrize("kind", ["pnpm", "yarn1", "yarn4", "npm", "bun"])
def test_a_tarball_url_dependency_is_the_package_at_its_version(tmp_path: Path, kind: str) -> None:
    """ "is-odd": "https://registry.npmjs.org/is-odd/-/is-odd-3.0.1.tgz" in each package manager's
    lockfile. bun records no version for it: it is read from the registry tarball's file name
    (cdxgen puts the URL in the purl's version instead)."""
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "tarball" / kind, repo)
    components = read_lockfile(find_lockfile(repo, repo), repo).components
    assert [c.purl for c in components] == ["pkg:npm/is-number@6.0.0", "pkg:npm/is-odd@3.0.1"]
    if kind != "bun":
        assert {c.purl for c in components} == reference(f"tarball/{kind}")
    assert all(len(c.hashes) == (0 if kind == "yarn4" else 1) for c in components)
