"""The docs users read: the command reference matches --help, every page is in the site, the README
stays a short first page whose links lead somewhere, and links to repository files leave the site right."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import click
import pytest
import yaml

from release_kit.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
REPO_URL = "https://github.com/org/release-kit"


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


reference = _script("docs_reference")
hooks = _script("mkdocs_hooks")


def _nav_pages(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [page for item in node for page in _nav_pages(item)]
    if isinstance(node, dict):
        return [page for value in node.values() for page in _nav_pages(value)]
    return []


def test_the_committed_command_reference_is_what_the_cli_says_now() -> None:
    """A help text or option changed without regenerating the pages fails here, naming the fix."""
    problems = reference.differences(cli)
    assert problems == [], "run `uv run --frozen python scripts/docs_reference.py`:\n" + "\n".join(problems)


def test_a_changed_help_text_makes_its_page_differ(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = cli.make_context("release-kit", ["--help"], resilient_parsing=True)
    command = cli.get_command(ctx, "verify-gates")
    assert command is not None
    monkeypatch.setattr(command, "help", "Prove something else entirely.")
    assert reference.differences(cli) == [
        "docs/reference/index.md: differs from the CLI's help",  # its one-line summary
        "docs/reference/verify-gates.md: differs from the CLI's help",
    ]


def test_a_new_command_needs_its_page_and_its_nav_line(monkeypatch: pytest.MonkeyPatch) -> None:
    @click.command("promote")
    def promote() -> None:
        """Promote a release."""

    from release_kit import cli as root

    monkeypatch.setitem(root.COMMANDS, "Test", [("promote", "tests.test_docs:PROMOTE", "")])
    monkeypatch.setattr(sys.modules[__name__], "PROMOTE", promote, raising=False)
    assert reference.differences(cli) == [
        "docs/reference/index.md: differs from the CLI's help",
        "docs/reference/promote.md: missing, made by the CLI's help",
        "mkdocs.yml: the command reference nav differs from the commands",
    ]


def test_a_page_shows_usage_help_options_and_subcommands() -> None:
    @click.group("tool")
    def tool() -> None:
        """Do things.

        \b
        tool go --fast
        tool go --slow
        """

    @tool.command("go")
    @click.option("--speed", type=click.Choice(["fast", "slow"]), default="fast", show_default=True, help="How *fast*.")
    @click.option("--target", required=True, help="Where to go: <host>.")
    @click.argument("what", type=click.Choice(["a", "b"]), required=False)
    def go(speed: str, target: str, what: str | None) -> None:
        """Go somewhere."""

    root = click.Group("release-kit", commands={"tool": tool})
    index, page = reference.pages(root)
    assert index.name == "index.md"
    assert "| [tool](tool.md) | Do things. |" in index.text
    assert page.name == "tool.md"
    text = page.text
    assert text.startswith("# release-kit tool\n")
    assert "```text\ntool go --fast\ntool go --slow\n```" in text  # a \b block is kept as it is
    assert "## release-kit tool go\n\n```text\nrelease-kit tool go [OPTIONS] [a|b]\n```\n\nGo somewhere." in text
    assert "a&#124;b" not in text  # an argument is in the usage line only, as --help shows it
    assert "| <code>--speed [fast&#124;slow]</code> | How \\*fast\\*. \\[default: fast\\] |" in text
    assert "| <code>--target TEXT</code> | Where to go: &lt;host&gt;. \\[required\\] |" in text


def test_every_docs_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    nav = _nav_pages(config["nav"])
    pages = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert sorted(set(nav)) == pages
    assert len(nav) == len(set(nav)), "a page is listed twice"


def test_the_readme_is_a_short_first_page() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= 250
    assert lines[2:6] == [
        "```sh",
        "python3 -m pip install uv && python3 -m uv run --frozen release-kit verify-gates --repo OWNER/NAME --ref TAG"
        "  # install + main job",
        "python3 -m pip install uv && python3 -m uv run --frozen --extra dev pytest"
        "                                   # the tests",
        "```",
    ]
    text = "\n".join(lines)
    assert "Python 3.11 or newer" in text
    assert "externally-managed-environment" in text
    assert text.rstrip().endswith("```")  # the contributor commands come last


def test_every_link_of_the_readme_leads_to_a_file() -> None:
    """The README is not part of the site, so MkDocs does not check its links: this does."""
    targets = re.findall(r"\]\(([^)\s]+)\)", README.read_text())
    local = [t.split("#", 1)[0] for t in targets if not re.match(r"^[a-z]+:", t) and not t.startswith("#")]
    assert local, "the README links its docs pages"
    assert [t for t in local if not (ROOT / t).exists()] == []


def test_every_action_has_a_line_in_the_readme() -> None:
    text = README.read_text()
    for action in sorted(p.parent.name for p in ROOT.glob("*/action.yml")):
        assert f"[{action}](docs/commands/" in text, f"the README does not list the {action} action"


@pytest.mark.parametrize(
    ("target", "page", "expected"),
    [
        ("../examples/smoke.yml", "smoke.md", f"{REPO_URL}/blob/main/examples/smoke.yml"),
        ("../../examples/runbook/", "commands/init.md", f"{REPO_URL}/tree/main/examples/runbook"),
        ("../README.md#the-five-minute-path", "index.md", f"{REPO_URL}/blob/main/README.md#the-five-minute-path"),
        ("smoke.md", "commands/x.md", None),  # inside docs/: MkDocs checks it
        ("../smoke.md#what-is-masked", "commands/x.md", None),
        ("https://example.com/a", "index.md", None),
        ("#anchor", "index.md", None),
    ],
)
def test_links_that_leave_docs_go_to_the_repository(target: str, page: str, expected: str | None) -> None:
    assert hooks.repository_url(target, page, REPO_URL) == expected


def test_links_in_fenced_code_are_left_alone() -> None:
    markdown = "See [x](../examples/a.yml).\n\n```md\n[y](../examples/b.yml)\n```\n[z]: ../examples/c.yml\n"
    assert hooks.rewrite(markdown, "page.md", REPO_URL) == (
        f"See [x]({REPO_URL}/blob/main/examples/a.yml).\n\n```md\n[y](../examples/b.yml)\n```\n"
        f"[z]: {REPO_URL}/blob/main/examples/c.yml\n"
    )
