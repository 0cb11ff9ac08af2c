"""Checks made before anything is built or changed: tag, versions, asset names and sizes."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from release_kit.errors import InputError

MAX_ASSET = 2 * 1024**3  # GitHub's limit per release asset
MAX_SBOM = 16 * 1024**2
# GitHub renames assets with other characters (spaces, most punctuation) on upload
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*\Z")


def resolve_tag(tag: str | None) -> str:
    tag = tag or os.environ.get("GITHUB_REF", "")
    if not tag:
        raise InputError("--tag is required: expected v1.2.3 (or set GITHUB_REF to refs/tags/v1.2.3)")
    return tag.removeprefix("refs/tags/")


def tag_version(tag: str) -> Version:
    """``v1.2.3-rc.1`` -> ``1.2.3rc1``."""
    name = tag.removeprefix("refs/tags/")
    if not name.startswith("v"):
        raise InputError(f"--tag {tag!r}: a release tag must look like v1.2.3")
    try:
        return Version(name[1:])
    except InvalidVersion:
        raise InputError(f"--tag {tag!r}: {name[1:]!r} is not a PEP 440 version") from None


# How a package's version is decided, and the variables that make each plugin build at the tag.
STATIC = "static"
SETUPTOOLS_SCM = "setuptools_scm"
HATCH_VCS = "hatch-vcs"
UV_DYNAMIC = "uv-dynamic-versioning"
PDM_SCM = "pdm-backend scm"
POETRY_DYNAMIC = "poetry-dynamic-versioning"
DYNAMIC = "dynamic"  # decided by the backend in a way release-kit has no variable for; checked in the wheel


@dataclass(frozen=True)
class Project:
    """What ``pyproject.toml`` says before anything is built."""

    folder: Path
    name: str | None  # None: no [project] name (a setup.py package); the built wheel says it
    version: Version | None  # the static version, None when it is dynamic
    versioning: str
    needs: frozenset[str]  # canonical names of its static runtime and build requirements
    scm_root: str | None  # the setuptools_scm root it configures, for the error hint
    version_from: str | None  # where a non-SCM dynamic version comes from, for the error hint


def _table(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _names(lines: object, where: str) -> set[str]:
    names = set()
    for line in lines if isinstance(lines, list) else []:
        try:
            names.add(str(canonicalize_name(Requirement(str(line)).name)))
        except InvalidRequirement:
            raise InputError(f"{where}: unreadable requirement {line!r}") from None
    return names


def _versioning(data: dict[str, Any], build_names: set[str]) -> tuple[str, str | None, str | None]:
    """(plugin, configured scm root, where a plain dynamic version is read from)."""
    tool = _table(data.get("tool"))
    hatch_version = _table(_table(tool.get("hatch")).get("version"))
    source = hatch_version.get("source")
    raw = _table(hatch_version.get("raw-options"))
    if source == "vcs":
        return HATCH_VCS, raw.get("root") if isinstance(raw.get("root"), str) else None, None
    if source == "uv-dynamic-versioning":
        return UV_DYNAMIC, None, None
    scm = _table(tool.get("setuptools_scm"))
    if "setuptools_scm" in tool or "setuptools-scm" in build_names:
        return SETUPTOOLS_SCM, scm.get("root") if isinstance(scm.get("root"), str) else None, None
    if _table(_table(tool.get("pdm")).get("version")).get("source") == "scm":
        return PDM_SCM, None, None
    if "poetry-dynamic-versioning" in build_names or "poetry-dynamic-versioning" in tool:
        return POETRY_DYNAMIC, None, None
    setuptools_version = _table(_table(_table(tool.get("setuptools")).get("dynamic")).get("version"))
    if setuptools_version:
        attr, file = setuptools_version.get("attr"), setuptools_version.get("file")
        return DYNAMIC, None, f"[tool.setuptools.dynamic] version = {{{'attr' if attr else 'file'} = {attr or file!r}}}"
    if isinstance(hatch_version.get("path"), str):
        return DYNAMIC, None, f"[tool.hatch.version] path = {hatch_version['path']!r}"
    return DYNAMIC, None, None


def read_project(package: Path) -> Project:
    """Name, version rule and sibling-relevant requirements from ``package/pyproject.toml``.

    Any PEP 517 package is accepted: a static version, an SCM plugin, or a package with only a
    setup.py (its name and version are then read from the wheel it builds)."""
    pyproject = package / "pyproject.toml"
    if not pyproject.is_file():
        if (package / "setup.py").is_file():
            return Project(package, None, None, DYNAMIC, frozenset(), None, "setup.py")
        raise InputError(f"--package {package}: no pyproject.toml (or setup.py): not a Python package folder")
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"--package {package}: pyproject.toml is not valid TOML ({exc})") from None
    project = _table(data.get("project"))
    where = f"--package {package}: pyproject.toml"
    build_names = _names(_table(data.get("build-system")).get("requires"), where)
    plugin, root, version_from = _versioning(data, build_names)
    if not project:
        if not (package / "setup.py").is_file() and not (package / "setup.cfg").is_file():
            raise InputError(f"{where} has no [project] table (and no setup.py or setup.cfg)")
        return Project(package, None, None, plugin, frozenset(build_names), root, version_from or "setup.py")
    name = project.get("name")
    if not name or not isinstance(name, str):
        raise InputError(f"{where} has no [project] name")
    dynamic = project.get("dynamic")
    dynamic = dynamic if isinstance(dynamic, list) else []
    if "version" in project:
        try:
            version: Version | None = Version(str(project["version"]))
        except InvalidVersion:
            raise InputError(f"--package {package}: version {project['version']!r} is not PEP 440") from None
        plugin, root, version_from = STATIC, None, None
    elif "version" in dynamic:
        version = None
    else:
        raise InputError(f'{where}: [project] has neither a version nor dynamic = ["version"]')
    needs = build_names | _names(project.get("dependencies"), where)
    return Project(package, name, version, plugin, frozenset(needs), root, version_from)


def package_version(package: Path) -> tuple[str, Version]:
    """The (name, version) declared statically in ``package/pyproject.toml``."""
    project = read_project(package)
    if project.name is None or project.version is None:
        raise InputError(f"--package {package}: the version is not static in [project] (it is decided at build)")
    return project.name, project.version


def env_dist_name(name: str) -> str:
    """``acme.core-sdk`` -> ``ACME_CORE_SDK``, as setuptools_scm names its ``..._FOR_<DIST>`` variables."""
    return re.sub(r"[^A-Za-z0-9]", "_", str(canonicalize_name(name))).upper()


def _scm_for(name: str, version: str) -> dict[str, str]:
    """setuptools_scm 8 reads the normalised name; older releases upper-cased the name as written,
    with only ``-`` made ``_`` (so ``acme.core`` was ``ACME.CORE``): both are set when they differ."""
    names = {env_dist_name(name), name.upper().replace("-", "_")}
    return {f"SETUPTOOLS_SCM_PRETEND_VERSION_FOR_{n}": version for n in sorted(names)}


def pretend_env(project: Project, version: Version) -> dict[str, str]:
    """The variables that make the package's version plugin build at ``version`` (empty: none known).

    setuptools_scm reads ``SETUPTOOLS_SCM_PRETEND_VERSION_FOR_<DIST>`` for its own dist only;
    hatch-vcs calls setuptools_scm without the dist name, so only the plain variable reaches it
    (set for that one build's process, never around the others)."""
    wanted = str(version)
    if project.versioning == SETUPTOOLS_SCM and project.name:
        return _scm_for(project.name, wanted)
    if project.versioning == HATCH_VCS:
        return {"SETUPTOOLS_SCM_PRETEND_VERSION": wanted, **(_scm_for(project.name, wanted) if project.name else {})}
    if project.versioning == UV_DYNAMIC:
        return {"UV_DYNAMIC_VERSIONING_BYPASS": wanted}
    if project.versioning == PDM_SCM:
        return {"PDM_BUILD_SCM_VERSION": wanted}
    if project.versioning == POETRY_DYNAMIC:
        return {"POETRY_DYNAMIC_VERSIONING_BYPASS": wanted}
    return {}


def check_versions(tag: str, packages: list[Path]) -> Version:
    """Every static version equals the tag's, after normalisation (dynamic ones are checked in the wheel)."""
    wanted = tag_version(tag)
    wrong = []
    for package in packages:
        project = read_project(package)
        if project.version is not None and project.version != wanted:
            wrong.append(f"{project.name} is {project.version}")
    if wrong:
        raise InputError(f"--tag {tag} means version {wanted}, but {'; '.join(wrong)}: bump them or fix the tag")
    return wanted


def _git_top(folder: Path) -> Path | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--show-toplevel"],
            capture_output=True, text=True, check=False, timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(done.stdout.strip()).resolve() if done.returncode == 0 and done.stdout.strip() else None


def version_mismatch(project: Project, name: str, built: str, wanted: Version, env: dict[str, str]) -> InputError:
    """Exit 2 for a wheel built at another version than the tag's, naming the likely cause and its fix."""
    head = f"--package {project.folder}: {name} was built as version {built}, but the tag means {wanted}"
    given = ", ".join(f"{k}={v}" for k, v in sorted(env.items()))
    if project.versioning in (SETUPTOOLS_SCM, HATCH_VCS):
        top = _git_top(project.folder)
        rel = os.path.relpath(top, project.folder.resolve()) if top else "../.."
        root_says = ""
        if project.scm_root is not None and top is not None:
            reached = (project.folder / project.scm_root).resolve()
            if reached != top:
                root_says = f"its setuptools_scm root {project.scm_root!r} is {reached}, not the repository top {top}; "
        table = "[tool.hatch.version] raw-options" if project.versioning == HATCH_VCS else "[tool.setuptools_scm]"
        cause = (
            f"{project.versioning} did not take the release's version ({given or 'no variable was set'}) and "
            f"read git itself, finding no tag and falling back. {root_says}Likely cause: a setuptools_scm root "
            f"that does not reach the repository top, or a get_version() call without dist_name={name!r} (in "
            f"setup.py or a version file). Fix it in the project: root = {rel!r} in {table} (or "
            f"get_version(root={rel!r}, relative_to=__file__, dist_name={name!r})), "
            "and drop fallback_version so a missing tag fails the build instead of making a wrong version"
        )
    elif project.versioning == STATIC:
        cause = (
            f"pyproject.toml says {project.version}: the build backend rewrote it; build the package by hand to see why"
        )
    elif project.versioning in (UV_DYNAMIC, PDM_SCM, POETRY_DYNAMIC):
        cause = f"{project.versioning} did not take the release's version ({given}); check the plugin's configuration"
    elif project.version_from:
        cause = (
            f"the version comes from {project.version_from}, not from the tag: set it to {wanted} "
            "or switch to setuptools_scm, hatch-vcs or uv-dynamic-versioning"
        )
    else:
        cause = (
            "the build backend decides the version itself, and release-kit knows no variable to make it build "
            f"at the tag: make it {wanted}, or use setuptools_scm, hatch-vcs or uv-dynamic-versioning"
        )
    return InputError(f"{head}: {cause}. Nothing was released")


def check_asset(name: str, size: int, *, sbom: bool = False) -> None:
    if not _SAFE_NAME.match(name):
        raise InputError(f"asset {name!r}: GitHub would rename it; use letters, digits and . _ + - only")
    if size >= MAX_ASSET:
        raise InputError(f"asset {name}: {size} bytes, GitHub's limit is 2 GiB")
    if sbom and size >= MAX_SBOM:
        raise InputError(f"SBOM {name}: {size} bytes, over the 16 MB that GitHub's SBOM attestations accept")
