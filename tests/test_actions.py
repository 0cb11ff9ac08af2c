"""Every <name>/action.yml at the repository root keeps the conventions users and zizmor rely on."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from release_kit.gha import input_env
from tests.wiring import check_uses, find_calls

ROOT = Path(__file__).resolve().parent.parent
ACTIONS = sorted(ROOT.glob("*/action.yml"))
WORKFLOWS = (
    sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    + sorted((ROOT / "examples" / "workflows").glob("*.yml"))
    + [ROOT / "tests" / "selftest" / "act.yml"]
)
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(path: Path) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(path.read_text())


def steps(action: dict) -> list[dict]:  # type: ignore[type-arg]
    return action["runs"]["steps"]  # type: ignore[no-any-return]


def test_there_are_actions() -> None:
    assert [p.parent.name for p in ACTIONS] == [
        "deploy",
        "health",
        "migrate",
        "preflight",
        "publish-images",
        "record",
        "release",
        "rollback",
        "smoke",
        "summary",
        "verify-gates",
        "verify-release",
    ]


@pytest.mark.parametrize("path", ACTIONS, ids=lambda p: p.parent.name)
def test_every_input_reaches_python_through_env(path: Path) -> None:
    action = load(path)
    mapped: dict[str, str] = {}
    for step in steps(action):
        for key, value in (step.get("env") or {}).items():
            mapped[key] = str(value)
    for name in action.get("inputs", {}):
        assert mapped.get(input_env(name)) == f"${{{{ inputs.{name} }}}}", (
            f"input {name} is not mapped to {input_env(name)}"
        )


@pytest.mark.parametrize("path", ACTIONS + WORKFLOWS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_expression_inside_run(path: Path) -> None:
    data = load(path)
    all_steps = steps(data) if "runs" in data else [s for job in data["jobs"].values() for s in job.get("steps", [])]
    for step in all_steps:
        assert "${{" not in step.get("run", ""), f"{path.name}: step {step.get('name')!r} has an expression in run:"


@pytest.mark.parametrize("path", ACTIONS + WORKFLOWS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_third_party_uses_are_pinned_by_sha_with_a_version_comment(path: Path) -> None:
    text = path.read_text()
    for match in re.finditer(r"uses:\s*(\S+)(.*)", text):
        ref, rest = match.group(1), match.group(2)
        if ref.startswith(("./", "$/", "org/release-kit/")):  # our own code: this commit, or the caller's pin
            continue
        assert SHA_PIN.match(ref), f"{path.name}: {ref} is not pinned by a full commit SHA"
        assert re.search(r"#\s*v\d", rest), f"{path.name}: {ref} has no version comment"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_start_with_no_permissions(path: Path) -> None:
    data = load(path)
    assert data.get("permissions") == {}, f"{path.name}: top-level permissions must be {{}}"
    for name, job in data["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {name} grants no explicit permissions"


@pytest.mark.parametrize("path", ACTIONS, ids=lambda p: p.parent.name)
def test_the_action_calls_bootstrap_and_its_command(path: Path) -> None:
    runs = " ".join(s.get("run", "") for s in steps(load(path)))
    assert '"$GITHUB_ACTION_PATH/../scripts/bootstrap"' in runs
    assert f"release-kit {path.parent.name}" in runs


def test_zizmor_finds_nothing() -> None:
    zizmor = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))
    if zizmor is None:
        pytest.skip("zizmor is not installed (the dev extra installs it)")
    files = [str(p) for p in ACTIONS + WORKFLOWS]
    done = subprocess.run(
        [
            zizmor,
            "--offline",
            "--config",
            str(ROOT / ".github" / "zizmor.yml"),
            "--min-severity",
            "low",
            *files,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


EXAMPLES = sorted((ROOT / "examples" / "workflows").glob("*.yml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_call_our_actions_with_their_declared_inputs(path: Path) -> None:
    """The same check as for README and generated workflows (tests/wiring.py)."""
    assert find_calls(path.read_text(), path.name), f"{path.name} calls none of our actions"
    assert check_uses(path.read_text(), path.name) == []


def test_the_release_action_attests_every_wheel_it_lets_release_build_make() -> None:
    """One `Attest SBOM` step per wheel: release build is told that count, and refuses more wheels
    before anything is built or uploaded, so no release is published that verify-release rejects."""
    action_steps = steps(load(ROOT / "release" / "action.yml"))
    build = next(s for s in action_steps if s.get("id") == "build")
    limit = int(build["env"]["RK_MAX_WHEELS"])
    sbom_steps = [s for s in action_steps if str(s.get("uses", "")).startswith("actions/attest-sbom@")]
    assert len(sbom_steps) == limit
    for index, step in enumerate(sbom_steps):
        assert step["if"] == f"fromJSON(steps.build.outputs.wheel-count) > {index}"
        assert step["with"]["subject-path"] == f"${{{{ fromJSON(steps.build.outputs.wheel-sboms)[{index}].wheel }}}}"
        assert step["with"]["sbom-path"] == f"${{{{ fromJSON(steps.build.outputs.wheel-sboms)[{index}].sbom }}}}"
    later = [s for s in action_steps if s.get("id") in ("upload", "publish")]
    for step in later:  # they read what build recorded, so they cannot disagree with it
        assert set(step["env"]) & {"RK_TAG", "RK_PACKAGES", "RK_FRONTEND"} == set()
