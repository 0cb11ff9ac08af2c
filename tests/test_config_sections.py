"""The config as a command reads it: FILL-IN markers refused before any request, "did you mean" for a
near key, errors in line order, and only the section a command needs is read (and imported)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from release_kit import config
from release_kit.cli import run_cli
from release_kit.errors import ConfigError
from tests.fakes.github import FakeGitHub, green_runbook, serve

TOKEN = "ghp_ThisIsAFakeTokenForTests0123456789"


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    green_runbook(fake)
    with serve(fake) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        yield fake


GATES_WITH_MARKER = """\
# .github/release-kit.yml, written by release-kit init.
# Every value marked FILL-IN is yours to set before the first deploy.
gates:
  gates:
    - name: Backend CI   # FILL-IN: no workflow found for this gate; add it, or delete the gate
    - name: Deploy
      workflow: "FILL-IN.yml"
"""


def test_a_fill_in_value_is_exit_2_naming_key_file_and_line_before_any_request(
    github: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "release-kit.yml"
    path.write_text(GATES_WITH_MARKER)
    assert run_cli(["verify-gates", "--repo", "octo-org/app", "--ref", "v1.4.0", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"release-kit: error: {path}:7: gates.gates.1.workflow: still holds the FILL-IN marker release-kit init "
        "left where it could not detect a value: set it"
    )  # the comment on line 5 is not a value
    assert github.requests == []


def test_every_marker_of_the_section_is_listed_in_line_order(tmp_path: Path) -> None:
    text = (
        "deploy:\n"
        "  platform: ecs\n"
        "  cluster: FILL-IN-cluster\n"
        "  services: {api: FILL-IN-api, web: FILL-IN-web}\n"
        "  backups:\n"
        "    database: {rds_instance: FILL-IN-db}\n"
    )
    path = tmp_path / "rk.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        config.load(path, section="deploy")
    message = info.value.one_line()
    assert message.startswith(f"{path}: 4 errors: ")
    assert [int(n) for n in re.findall(re.escape(str(path)) + r":(\d+):", message)] == [3, 4, 4, 6]
    for key in ("deploy.cluster", "deploy.services.api", "deploy.services.web", "deploy.backups.database.rds_instance"):
        assert f": {key}: still holds the FILL-IN marker" in message


def test_a_marker_in_another_section_does_not_stop_verify_gates(
    github: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "release-kit.yml"
    path.write_text("gates:\n  gates:\n    - name: Backend CI\ndeploy:\n  platform: ecs\n  cluster: FILL-IN-cluster\n")
    code = run_cli(["verify-gates", "--repo", "octo-org/app", "--ref", "v1.4.0", "--config", str(path)])
    assert code == 0, capsys.readouterr().err


def test_the_deploy_commands_refuse_a_marker_before_asking_the_cloud(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "release-kit.yml"
    path.write_text("deploy:\n  platform: ecs\n  region: us-east-1\n  cluster: FILL-IN-cluster\n")
    assert run_cli(["preflight", "--config", str(path)]) == 2  # no AWS credentials here: it never got that far
    err = capsys.readouterr().err
    assert f"{path}:4: deploy.cluster: still holds the FILL-IN marker" in err


def test_init_output_still_parses_as_a_valid_shape() -> None:
    assert config.parse(GATES_WITH_MARKER, "x.yml").gates is not None  # the schema's view: markers are strings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gate:\n  gates: []\n", "x.yml:1: unknown key 'gate' (did you mean 'gates'?)"),
        (
            "gates:\n  gates:\n    - name: A\n      workfow: a.yml\n",
            "unknown key 'gates.gates.0.workfow' (did you mean 'workflow'?)",
        ),
        ("deploy:\n  platfrom: ecs\n", "x.yml:2: unknown key 'deploy.platfrom' (did you mean 'platform'?)"),
        ("release:\n  expects: ['*.whl']\n", "x.yml:2: unknown key 'release.expects' (did you mean 'expect'?)"),
        ("gates:\n  gates:\n    - name: A\n      zebra: 1\n", "x.yml:4: unknown key 'gates.gates.0.zebra'"),
    ],
)
def test_an_unknown_key_near_a_known_one_says_did_you_mean(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        config.parse(text, "x.yml")
    message = info.value.one_line()
    assert message.endswith(expected) if "zebra" not in text else message == expected


def test_errors_of_several_sections_come_in_line_order() -> None:
    text = "deploy:\n  platfrom: ecs\ngates:\n  gates:\n    - name: A\n      bogus: 1\nrelease:\n  expect: x\n"
    with pytest.raises(ConfigError) as info:
        config.parse(text, "x.yml")
    message = info.value.one_line()
    assert message.startswith("x.yml: 3 errors: ")
    assert re.findall(r"x\.yml:(\d+):", message) == ["2", "6", "8"]


def test_verify_gates_reads_only_its_section_and_imports_no_other_capability_models(tmp_path: Path) -> None:
    path = tmp_path / "release-kit.yml"
    path.write_text("gates:\n  gates:\n    - name: Backend CI\ndeploy:\n  platform: ecs\n  cluster: c\n")
    code = (
        "import sys\nfrom release_kit import config\nfrom release_kit.gates import run\n"
        f"policy, source = run.load_policy(__import__('pathlib').Path({str(path)!r}))\n"
        "print(__import__('json').dumps(sorted(m for m in sys.modules if m.startswith('release_kit'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout))
    assert "release_kit.gates.policy" in loaded
    for name in ("target", "platforms", "release", "probes", "rollout", "records", "verify_release", "images"):
        other = f"release_kit.{name}"
        assert not {m for m in loaded if m == other or m.startswith(other + ".")}, other


def test_the_verify_gates_process_imports_no_deploy_release_or_probes_models(
    github: FakeGitHub, tmp_path: Path
) -> None:
    path = tmp_path / "release-kit.yml"
    path.write_text("gates:\n  gates:\n    - name: Backend CI\ndeploy:\n  platform: ecs\n  cluster: c\n")
    code = (
        "import sys\nfrom release_kit.cli import run_cli\n"
        f"code = run_cli(['verify-gates', '--repo', 'octo-org/app', '--ref', 'v1.4.0', '--config', {str(path)!r}])\n"
        "print(code, sorted(m for m in sys.modules if m.startswith('release_kit')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("0 ") and "release_kit.gates.policy" in last, done.stdout + done.stderr
    for other in ("target", "release", "probes", "rollout", "records", "preflight", "platforms", "verify_release"):
        assert f"'release_kit.{other}" not in last, other
