"""Every `uses: org/release-kit/<path>@...` a user can copy resolves to an action with the inputs given."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.wiring import ROOT, check_uses, find_calls, user_documents

DOCUMENTS = user_documents()  # the README, docs/**/*.md and the examples


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_documented_call_resolves(path: Path) -> None:
    source = str(path.relative_to(ROOT))
    assert check_uses(path.read_text(), source) == []


def test_the_docs_and_the_examples_call_every_action() -> None:
    called = {c.path for p in DOCUMENTS for c in find_calls(p.read_text(), str(p.relative_to(ROOT)))}
    actions = {p.parent.name for p in ROOT.glob("*/action.yml")}
    assert actions <= called, f"never shown to users: {actions - called}"


def test_doc_fragments_are_read_with_their_with_keys() -> None:
    pages = [ROOT / "docs" / "commands" / "publish-images.md", ROOT / "docs" / "commands" / "release.md"]
    calls = [c for page in pages for c in find_calls(page.read_text(), str(page.relative_to(ROOT)))]
    given = {c.path: c.given for c in calls if c.given}
    assert {"registry", "image-prefix", "images"} <= given["publish-images"]
    assert "packages" in given["release"]


MARKDOWN = """\
Users write `uses: org/release-kit/verify-gate@v1` in prose.

```yaml
      - id: gates
        uses: org/release-kit/verify-gates@v1
        with:
          wait: "900"
          colour: blue
      - uses: org/release-kit/publish-images@v1
        with: { registry: ghcr.io, images: "api=a.oci" }
```

```yaml
jobs:
  ci:
    uses: org/release-kit/.github/workflows/runbook.yml@v1
```
"""


def test_broken_calls_are_each_named_with_their_line(tmp_path: Path) -> None:
    problems = check_uses(MARKDOWN, "doc.md")
    assert problems == [
        "doc.md:5: uses: org/release-kit/verify-gates@v1: verify-gates has no input colour "
        "(it has: repo, ref, config, wait, token)",
        "doc.md:9: uses: org/release-kit/publish-images@v1: required input image-prefix of publish-images is not given",
        "doc.md:16: uses: org/release-kit/.github/workflows/runbook.yml@v1: there is no reusable workflow "
        ".github/workflows/runbook.yml in org/release-kit",
        "doc.md:1: uses: org/release-kit/verify-gate@v1: there is no verify-gate/action.yml in org/release-kit",
    ]


def test_a_reusable_workflow_must_exist_and_declare_the_inputs(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "runbook.yml").write_text(
        "on:\n  workflow_call:\n    inputs:\n      env: {type: string, required: true}\njobs: {}\n"
    )
    (workflows / "ci.yml").write_text("on: push\njobs: {}\n")
    calls = {
        "jobs": {
            "a": {"uses": "org/release-kit/.github/workflows/runbook.yml@v1", "with": {"env": "prod"}},
            "b": {"uses": "org/release-kit/.github/workflows/runbook.yml@v1"},
            "c": {"uses": "org/release-kit/.github/workflows/ci.yml@v1"},
        }
    }
    assert check_uses(calls, "gen.yml", root=tmp_path) == [
        "gen.yml: uses: org/release-kit/.github/workflows/runbook.yml@v1: required input env of "
        ".github/workflows/runbook.yml is not given",
        "gen.yml: uses: org/release-kit/.github/workflows/ci.yml@v1: .github/workflows/ci.yml is not a "
        "reusable workflow (no on: workflow_call)",
    ]


def test_a_generated_workflow_is_checked_from_its_text() -> None:
    """What `release-kit init` will write goes through the same check, as YAML text."""
    workflow = {
        "on": {"push": {"tags": ["v*"]}},
        "jobs": {
            "gates": {
                "runs-on": "ubuntu-24.04",
                "steps": [
                    {"uses": "org/release-kit/verify-gates@0123456789abcdef0123456789abcdef01234567"},
                    {"uses": "org/release-kit/release@v1", "with": {"package": "packages/api"}},
                    {"uses": "org/release-kit/promote@v1"},
                ],
            }
        },
    }
    assert check_uses(yaml.safe_dump(workflow, sort_keys=False), "release.yml") == [
        "release.yml:10: uses: org/release-kit/release@v1: release has no input package "
        "(it has: packages, frontend, tag, assets-dir, sdist, custom-trusted-root, token)",
        "release.yml:13: uses: org/release-kit/promote@v1: there is no promote/action.yml in org/release-kit",
    ]


def test_a_fragment_that_is_not_a_whole_document_is_read_step_by_step() -> None:
    text = """\
```yaml
    steps:
      - name: gates
        id: gates
        uses: org/release-kit/verify-gates@v1
        with:
          wait: "900"
          token: ${{ secrets.RELEASE_KIT_TOKEN }}
  verify:   # a fragment cut out of a longer workflow: not one YAML document
      - uses: org/release-kit/verify-release@v1
        with: {expect: "*.whl", tagg: v1}
```
"""
    assert check_uses(text, "frag.md") == [
        "frag.md:10: uses: org/release-kit/verify-release@v1: verify-release has no input tagg "
        "(it has: repo, tag, expect, signer-workflow, source-ref, oidc-issuer, allow-self-hosted, allow-extra, "
        "custom-trusted-root, require-immutable, token)"
    ]
    assert next((c.path, c.given) for c in find_calls(text, "frag.md")) == (
        "verify-gates",
        frozenset({"wait", "token"}),
    )
