"""Every workflow this repository ships or `release-kit init` generates is wired right (tests/workflow_wiring.py),
and each rule of that check fails on a small workflow broken that one way."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from release_kit.init import detect, existing, pin, render
from tests.wiring import EXAMPLE_COMMIT, ROOT
from tests.workflow_wiring import OUR_ACTIONS, check_workflow

SHIPPED = sorted(
    [
        *(ROOT / ".github" / "workflows").glob("*.yml"),
        *(ROOT / "examples" / "workflows").glob("*.yml"),
        ROOT / "tests" / "selftest" / "act.yml",
    ]
)
REUSABLE = sorted((ROOT / ".github" / "workflows").glob("runbook-*.yml"))
COMBOS = list(itertools.product(render.REGISTRIES, render.PLATFORMS))


# a repository where init finds everything: three images, packages, a frontend, pinned versions, a
# migration command and an image workflow's Trivy settings (every input release.yml can pass)
FULL_LAYOUT = detect.Layout(
    images={
        role: detect.Image(role, f"apps/{role}/Dockerfile", f"apps/{role}", "test") for role in ("api", "web", "worker")
    },
    packages=[detect.Package("packages/core", "acme-core")],
    frontend=detect.Frontend("apps/web", "pnpm-lock.yaml", "pnpm"),
    python=detect.Pinned("3.12", ".python-version"),
    node=detect.Pinned("20", ".nvmrc"),
    package_manager=detect.Pinned("pnpm@10.34.9", "package.json packageManager"),
    migration=detect.Migration("alembic upgrade head", "apps/api/alembic.ini", "in the api image"),
    dockerfiles=[],
)


def generated() -> list[tuple[str, str]]:
    """(source, text) of each workflow init writes, for every --registry x --platform, into an empty
    repository and into one where everything is found."""
    found = []
    pinned, _ = pin.resolve(None, EXAMPLE_COMMIT, pin.installed())  # as `init --ref <commit>` pins them
    trivy = existing.Trivy(severity="CRITICAL", ignore_unfixed=True, vuln_type="os")
    for registry, platform in COMBOS:
        empty = render.Choices(registry, platform, pinned)
        full = render.Choices(registry, platform, pinned, FULL_LAYOUT, "acme/app", trivy, ".github/workflows/i.yml")
        for label, choices in (("", empty), (" (all found)", full)):
            for rel, text in render.files(choices, detect.match_gates([])).items():
                if rel.startswith(".github/workflows/"):
                    found.append((f"init --registry {registry} --platform {platform}{label}: {rel}", text))
    return found


GENERATED = generated()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_workflow_is_wired_right(path: Path) -> None:
    assert check_workflow(path.read_text(), str(path.relative_to(ROOT))) == []


@pytest.mark.parametrize(("source", "text"), GENERATED, ids=[s for s, _ in GENERATED])
def test_every_generated_workflow_is_wired_right(source: str, text: str) -> None:
    assert check_workflow(text, source) == []


def test_all_three_reusable_workflows_and_six_combinations_are_covered() -> None:
    assert [p.name for p in REUSABLE] == ["runbook-deploy.yml", "runbook-release.yml", "runbook-rollback.yml"]
    assert len(GENERATED) == 3 * 6 * 2


def test_every_action_of_ours_has_its_permissions_in_the_table() -> None:
    actions = {p.parent.name for p in ROOT.glob("*/action.yml")}
    assert actions <= set(OUR_ACTIONS)


def zizmor() -> str:
    found = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("zizmor is not installed (the dev extra installs it)")
    return found


def test_shipped_workflows_pass_zizmor_pedantic() -> None:
    """And our actions; the generated files have the same test in tests/init/test_init.py."""
    files = [str(p.relative_to(ROOT)) for p in [*SHIPPED, *sorted(ROOT.glob("*/action.yml"))]]
    done = subprocess.run(
        [zizmor(), "--offline", "--persona", "pedantic", "--config", ".github/zizmor.yml", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# -- each rule fails on a workflow broken that one way ----------------------------------------

CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"


def wf(body: str) -> str:
    return textwrap.dedent(body)


def problems(body: str, tmp_path: Path | None = None) -> list[str]:
    return check_workflow(wf(body), "w.yml", tmp_path or ROOT)


def test_a_well_wired_workflow_passes() -> None:
    assert (
        problems(f"""\
        on: {{push: {{tags: ["v*"]}}}}
        permissions: {{}}
        jobs:
          gates:
            runs-on: ubuntu-24.04
            permissions: {{actions: read, contents: read, pull-requests: read, security-events: read}}
            outputs: {{sha: "${{{{ steps.gates.outputs.sha }}}}"}}
            steps:
              - uses: {CHECKOUT}
              - id: gates
                uses: org/release-kit/verify-gates@v1
          after:
            needs: gates
            runs-on: ubuntu-24.04
            permissions: {{}}
            steps:
              - id: echo
                env: {{SHA: "${{{{ needs.gates.outputs.sha }}}}"}}
                run: echo "sha=$SHA" >> "$GITHUB_OUTPUT"
              - if: steps.echo.outputs.sha != ''
                run: "true"
        """)
        == []
    )


def test_rule_1_local_actions_and_reusable_secrets_resolve(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "called.yml").write_text(
        "on:\n  workflow_call:\n    secrets:\n      TOKEN: {required: true}\n      OTHER: {required: false}\njobs: {}\n"
    )
    (tmp_path / "health").mkdir()
    (tmp_path / "health" / "action.yml").write_text("inputs: {urls: {required: false}}\noutputs: {passed: {}}\n")
    found = problems(
        """\
        on: push
        permissions: {}
        jobs:
          local:
            runs-on: ubuntu-24.04
            permissions: {}
            steps:
              - uses: ./health
                with: {url: x}
              - uses: ./nowhere
          call:
            uses: ./.github/workflows/called.yml
            permissions: {}
            secrets: {OTHER: x, THIRD: y}
        """,
        tmp_path,
    )
    assert found[:4] == [
        "w.yml:8: uses: ./health: health has no input url (it has: urls)",
        "w.yml:10: uses: ./nowhere: there is no nowhere/action.yml in org/release-kit",
        "w.yml:12: uses: ./.github/workflows/called.yml: .github/workflows/called.yml has no secret THIRD "
        "(it has: TOKEN, OTHER)",
        "w.yml:12: uses: ./.github/workflows/called.yml: required secret TOKEN of .github/workflows/called.yml "
        "is not given",
    ]


def test_rule_2_step_outputs_name_an_earlier_step_and_one_of_its_outputs() -> None:
    found = problems("""\
        on: push
        permissions: {}
        jobs:
          build:
            runs-on: ubuntu-24.04
            permissions: {}
            outputs:
              ok: ${{ steps.health.outputs.passd }}
              gone: ${{ steps.nowhere.outcome }}
            steps:
              - name: too early
                env: {X: "${{ steps.script.outputs.x }}"}
                run: "true"
              - id: health
                uses: org/release-kit/health@v1
              - id: script
                run: echo "x=1" >> "$GITHUB_OUTPUT"
              - if: steps.script.outputs.y == '1'
                run: "true"
              - id: pipe
                run: echo "z=1"
              - env: {Z: "${{ fromJSON(steps.pipe.outputs['z']).a }}"}
                run: "true"
        """)
    assert found == [
        "w.yml: job build: step too early: steps.script: no step with id: script before it in this job "
        "(it comes later)",
        "w.yml: job build: step 4: steps.script.outputs.y: step script sets no output y (it sets: x)",
        "w.yml: job build: step 6: steps.pipe.outputs.z: step pipe sets no output z (it sets: none)",
        "w.yml: job build: outputs: steps.health.outputs.passd: step health sets no output passd "
        "(it sets: passed, report)",
        "w.yml: job build: outputs: steps.nowhere: no step with id: nowhere in this job",
    ]


def test_rule_2_accepts_outputs_of_third_party_actions() -> None:
    assert (
        problems(f"""\
        on: push
        permissions: {{}}
        jobs:
          a:
            runs-on: ubuntu-24.04
            permissions: {{contents: read}}
            outputs: {{ref: "${{{{ steps.co.outputs.ref }}}}"}}
            steps:
              - id: co
                uses: {CHECKOUT}
        """)
        == []
    )


def test_rule_3_needs_outputs_inputs_and_secrets_are_declared() -> None:
    found = problems("""\
        on:
          workflow_call:
            inputs: {env: {type: string, required: true}}
            secrets: {TOKEN: {required: false}}
            outputs:
              url: {value: "${{ jobs.first.outputs.url }}"}
              nope: {value: "${{ jobs.ghost.outputs.url }}"}
        permissions: {}
        jobs:
          first:
            runs-on: ubuntu-24.04
            permissions: {}
            outputs: {sha: "${{ inputs.env }}"}
            steps:
              - run: echo "${ENVIRONMENT}"
                env: {ENVIRONMENT: "${{ inputs.environment }}", T: "${{ secrets.TOKEN }}", U: "${{ secrets.PAT }}"}
          second:
            needs: [first, zeroth]
            if: needs.first.result == 'success' && needs.third.result != ''
            runs-on: ubuntu-24.04
            permissions: {}
            steps:
              - env: {SHA: "${{ needs.first.outputs.shaa }}", T: "${{ secrets.GITHUB_TOKEN }}"}
                run: "true"
          deploy:
            needs: first
            uses: org/release-kit/.github/workflows/runbook-deploy.yml@v1
            permissions: {attestations: read, contents: read, deployments: write, id-token: write}
            with: {environment: x, images: x, platform: ecs, api_url: x, web_url: x}
          after:
            needs: deploy
            runs-on: ubuntu-24.04
            permissions: {}
            steps:
              - env: {OK: "${{ needs.deploy.outputs.passed }}", NO: "${{ needs.deploy.outputs.url }}"}
                run: "true"
        """)
    assert found == [
        "w.yml: job second: needs zeroth: there is no job zeroth",
        "w.yml: job second: needs.third: third is not in this job's needs (first, zeroth)",
        "w.yml: job second: needs.first.outputs.shaa: job first has no output shaa (it has: sha)",
        "w.yml: job after: needs.deploy.outputs.url: job deploy has no output url "
        "(it has: deployment_id, passed, rolled_back)",
        "w.yml: on.workflow_call.outputs.url: jobs.first.outputs.url: job first has no output url (it has: sha)",
        "w.yml: on.workflow_call.outputs.nope: jobs.ghost: there is no job ghost",
        "w.yml: inputs.environment is not an input of this workflow (env)",
        "w.yml: secrets.PAT is not declared in on.workflow_call.secrets",
    ]


def test_rule_3_dispatch_inputs_count_and_secrets_are_free_outside_reusable_workflows() -> None:
    assert (
        problems("""\
        on:
          workflow_dispatch:
            inputs: {to: {required: false}}
        permissions: {}
        jobs:
          a:
            runs-on: ubuntu-24.04
            permissions: {}
            steps:
              - env: {TO: "${{ inputs.to }}", T: "${{ secrets.ANY }}"}
                run: "true"
        """)
        == []
    )


def test_rule_4_permissions_are_exactly_what_the_steps_need() -> None:
    found = problems(f"""\
        on: push
        permissions: read-all
        jobs:
          missing:
            runs-on: ubuntu-24.04
            steps:
              - uses: {CHECKOUT}
          release:
            runs-on: ubuntu-24.04
            permissions: {{contents: read, id-token: write, packages: write}}
            steps:
              - uses: {CHECKOUT}
              - uses: org/release-kit/release@v1
          verify:
            runs-on: ubuntu-24.04
            permissions: {{contents: write, attestations: read}}
            steps:
              - uses: {CHECKOUT}
              - uses: org/release-kit/verify-release@v1
          unknown:
            runs-on: ubuntu-24.04
            permissions: {{}}
            steps:
              - uses: someone/else@0123456789abcdef0123456789abcdef01234567 # v1.0.0
          aws:
            runs-on: ubuntu-24.04
            permissions: {{id-token: write}}
            steps:
              - uses: aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502 # v4.0.2
                with: {{aws-region: us-east-1}}
          call:
            uses: org/release-kit/.github/workflows/runbook-rollback.yml@v1
            permissions: {{contents: read, deployments: write}}
            with: {{environment: x, platform: ecs, api_url: x, web_url: x}}
        """)
    assert found == [
        "w.yml: the top-level permissions must be {} (each job grants its own)",
        "w.yml: job missing: no permissions: mapping (grant exactly what its steps need)",
        "w.yml: job release: permission attestations: write is needed but not granted",
        "w.yml: job release: permission contents: write is needed but read granted",
        "w.yml: job release: permission packages: write is granted but no step needs it",
        "w.yml: job verify: permission contents: write is granted where read is enough",
        "w.yml: job unknown: someone/else is not in THIRD_PARTY (add what it needs)",
        "w.yml: job aws: permission id-token: write is granted but no step needs it",
        "w.yml: job call: permission attestations: read is needed but not granted",
        "w.yml: job call: permission id-token: write is needed but not granted",
    ]


def test_rule_4_verify_gates_needs_follow_its_policy_file(tmp_path: Path) -> None:
    (tmp_path / "gates.yml").write_text("gates:\n  gates:\n    - name: CI\n      events: [push]\n")
    (tmp_path / "verify-gates").mkdir()
    (tmp_path / "verify-gates" / "action.yml").write_text("inputs: {config: {required: false}}\n")
    job = """\
        on: push
        permissions: {{}}
        jobs:
          gates:
            runs-on: ubuntu-24.04
            permissions: {{actions: read, contents: read}}
            steps:
              - uses: ./verify-gates
                {with_}
        """
    assert problems(job.format(with_="with: {config: gates.yml}"), tmp_path) == []
    assert problems(job.format(with_="with: {}"), tmp_path) == [
        "w.yml: job gates: permission pull-requests: read is needed but not granted",
        "w.yml: job gates: permission security-events: read is needed but not granted",
    ]


def test_rule_5_third_party_actions_are_pinned_by_sha_with_a_version() -> None:
    found = problems("""\
        on: push
        permissions: {}
        jobs:
          a:
            runs-on: ubuntu-24.04
            permissions: {contents: read, id-token: write}
            steps:
              - uses: actions/checkout@v4
              - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
              - uses: azure/login@a457da9ea143d694b1b9c7c869ebb04ebe844ef5 # v2.3.0
              - uses: org/release-kit/health@main
              - uses: docker://alpine:3
        """)
    assert found == [
        "w.yml: job a: docker://alpine:3 is not in THIRD_PARTY (add what it needs)",
        "w.yml: uses: actions/checkout@v4: not pinned by a full 40-hex commit SHA",
        "w.yml: uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683: no version comment after "
        "the SHA (# vX.Y.Z)",
        "w.yml: uses: org/release-kit/health@main: ours are called by a tag such as v1 or a full commit SHA",
        "w.yml: uses: docker://alpine:3: an image is pinned by its digest (@sha256:...)",
    ]


def test_generated_workflows_are_read_as_init_writes_them(tmp_path: Path) -> None:
    """The texts checked above are the files `release-kit init` writes."""
    from release_kit.cli import run_cli

    (tmp_path / ".git").mkdir()  # init writes into a git repository's .github/
    args = ["init", "--dir", str(tmp_path), "--registry", "ecr", "--platform", "ecs", "--ref", EXAMPLE_COMMIT]
    assert run_cli(args) == 0
    written = {
        f"init --registry ecr --platform ecs: {p.relative_to(tmp_path)}": p.read_text()
        for p in sorted((tmp_path / ".github" / "workflows").glob("*.yml"))
    }
    assert written == {s: t for s, t in GENERATED if s.startswith("init --registry ecr --platform ecs:")}
    assert all(yaml.safe_load(t) for t in written.values())


def test_an_input_whose_description_splits_in_a_flow_mapping_is_caught() -> None:
    """An unquoted comma ends a plain scalar in ``{...}``: the input gets a key runners refuse."""
    text = """\
name: w
on:
  workflow_call:
    inputs:
      api_url: {description: Deployed API base URL (health, smoke), type: string, required: true}
permissions: {}
jobs:
  j:
    runs-on: ubuntu-24.04
    permissions: {}
    steps:
      - run: echo "$U"
        env:
          U: ${{ inputs.api_url }}
"""
    assert "w.yml: on.workflow_call.inputs.api_url has an unknown key 'smoke)'" in check_workflow(text, "w.yml")


# -- one change to an environment at a time (issue 18, part 3) ---------------------------------

CHANGES = {"deploy", "migrate", "rollback"}  # our actions that change an environment
INNER_GROUP = "release-kit-deploy-${{ inputs.environment }}"


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())  # type: ignore[no-any-return]


def _changing_jobs(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for job_id, job in workflow["jobs"].items():
        used = {str(s.get("uses", "")) for s in job.get("steps") or []}
        if {u.removeprefix("$/") for u in used if u.startswith("$/")} & CHANGES:
            found[job_id] = job
    return found


def test_every_job_that_changes_an_environment_waits_for_the_one_before() -> None:
    seen = {}
    for path in REUSABLE:
        for job_id, job in _changing_jobs(_load(path)).items():
            seen[f"{path.name}:{job_id}"] = job.get("concurrency")
    wanted = {"group": INNER_GROUP, "cancel-in-progress": False}
    assert seen == {"runbook-deploy.yml:deploy": wanted, "runbook-rollback.yml:rollback": wanted}
    # the nested and calling jobs hold no group themselves: the one of the jobs inside does the work
    for path in REUSABLE:
        for job_id, job in _load(path)["jobs"].items():
            if "uses" in job:
                assert "concurrency" not in job, f"{path.name}:{job_id}"
        assert "concurrency" not in _load(path), path.name


@pytest.mark.parametrize(("registry", "platform"), COMBOS)
def test_every_generated_run_of_an_environment_waits_for_the_one_before(registry: str, platform: str) -> None:
    """deploy, rollback and release of one environment share one group (a deploy and its automatic
    rollback stay together), never the reusable workflows' own: GitHub cancels a run that waits on a
    group its caller holds."""
    groups = {}
    for source, text in GENERATED:
        if not source.startswith(f"init --registry {registry} --platform {platform}:"):
            continue
        workflow = yaml.safe_load(text)
        [job] = workflow["jobs"].values()
        assert job["concurrency"]["cancel-in-progress"] is False, source
        environment = job["with"]["environment"]
        groups[source.rsplit("/", 1)[1]] = job["concurrency"]["group"].replace(environment, "<environment>")
        assert job["concurrency"]["group"] != INNER_GROUP.replace("${{ inputs.environment }}", environment)
    assert groups == dict.fromkeys(["release.yml", "deploy.yml", "rollback.yml"], "release-kit-<environment>")


# -- a cancelled deploy writes its record --------------------------------------------------------


def _verdict(outcomes: dict[str, str], job_status: str, tmp_path: Path) -> dict[str, str]:
    """Run the deploy job's Verdict script as the runner would, with the outcomes it is given."""
    [job] = _changing_jobs(_load(ROOT / ".github/workflows/runbook-deploy.yml")).values()
    [step] = [s for s in job["steps"] if s.get("id") == "verdict"]
    ids = {
        "deploy-api": "deploy_api",
        "health-api": "health_api",
        "deploy-web": "deploy_web",
        "health-web": "health_web",
    }
    template = " ".join(step["env"]["OUTCOMES"].split())
    for name in ["preflight", "migrate", *ids, "smoke"]:
        template = template.replace(f"${{{{ steps.{ids.get(name, name)}.outcome }}}}", outcomes.get(name, ""))
    assert "${{" not in template
    out = tmp_path / "output"
    out.write_text("")
    env = {"OUTCOMES": template, "JOB_STATUS": job_status, "GITHUB_OUTPUT": str(out), "PATH": "/usr/bin:/bin"}
    subprocess.run(["bash", "-e", "-c", step["run"]], env=env, check=True)
    return dict(line.split("=", 1) for line in out.read_text().splitlines())


def test_a_deploy_cancelled_during_a_step_is_recorded_as_a_failure_that_says_where(tmp_path: Path) -> None:
    found = _verdict(
        {"preflight": "success", "migrate": "success", "deploy-api": "cancelled", "health-api": "skipped"},
        "cancelled",
        tmp_path,
    )
    assert found == {
        "checks": "preflight=pass migrate=pass deploy-api=fail",
        "passed": "false",
        "cancelled_during": "deploy-api",
        "description": "cancelled during deploy-api",
    }


def test_a_deploy_cancelled_between_steps_names_the_last_one_reached(tmp_path: Path) -> None:
    found = _verdict({"preflight": "success", "migrate": "success", "deploy-api": "success"}, "cancelled", tmp_path)
    assert found["passed"] == "false" and found["description"] == "cancelled during deploy-api"
    passed = _verdict(dict.fromkeys(["preflight", "migrate", "deploy-api", "smoke"], "success"), "success", tmp_path)
    assert passed["passed"] == "true" and passed["description"] == "" and passed["cancelled_during"] == ""


def test_the_record_step_runs_after_a_cancellation_once_the_migration_was_reached() -> None:
    [job] = _changing_jobs(_load(ROOT / ".github/workflows/runbook-deploy.yml")).values()
    [verdict] = [s for s in job["steps"] if s.get("id") == "verdict"]
    [record] = [s for s in job["steps"] if s.get("id") == "record"]
    # always() runs a step of a cancelled job (success() and failure() do not)
    assert verdict["if"].startswith("always()") and record["if"].startswith("always()")
    assert "steps.migrate.outcome != 'skipped'" in record["if"]
    assert record["with"]["state"] == "${{ steps.verdict.outputs.passed == 'true' && 'success' || 'failure' }}"


# -- pinned code (issue 18, part 4) ----------------------------------------------------------------


@pytest.mark.parametrize("path", REUSABLE, ids=lambda p: p.name)
def test_the_reusable_workflows_call_their_own_code_at_the_running_commit(path: Path) -> None:
    """``$/<name>``: this repository at the commit of the workflow that runs, whatever the caller pinned;
    never a tag of its own (which floats), never ``./`` (the caller's checkout)."""
    workflow = _load(path)
    ours = []
    for job in workflow["jobs"].values():
        uses = [job["uses"]] if "uses" in job else [str(s["uses"]) for s in job.get("steps") or [] if "uses" in s]
        for value in uses:
            assert not value.startswith(("./", "org/")), f"{path.name}: uses: {value}"
            if value.startswith("$/"):
                ours.append(value)
    assert ours
    assert "org/release-kit" not in path.read_text()  # a fork changes no line of ours


def test_the_release_is_verified_against_the_repository_that_signed_it() -> None:
    """A fork's release is signed by the fork's runbook-release.yml: the expected signer follows the
    repository the workflow runs from, not a name written in it."""
    workflow = _load(ROOT / ".github/workflows/runbook-release.yml")
    [step] = [s for s in workflow["jobs"]["verify"]["steps"] if str(s.get("uses")) == "$/verify-release"]
    assert step["with"]["signer-workflow"] == "${{ job.workflow_repository }}/.github/workflows/runbook-release.yml"
