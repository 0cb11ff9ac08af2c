"""``release-kit init``: write the runbook into a repository, never over a file that exists unless forced."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from release_kit.errors import InputError
from release_kit.init import detect, render


def _target(repo: Path, rel: str) -> Path:
    path = repo / rel
    # the folders we write into must be plain folders of this repository, not links out of it
    for parent in [repo / ".github", repo / ".github" / "workflows"]:
        if parent.is_symlink():
            raise InputError(
                f"--dir {repo}: {parent.relative_to(repo)} is a symbolic link; refusing to write through it"
            )
    return path


def run(*, registry: str, platform: str, repo: Path, force: bool) -> int:
    if not repo.is_dir():
        raise InputError(f"--dir {repo}: no such folder (expected the repository to set up)")
    choices = render.Choices(registry=registry, platform=platform)
    found = detect.workflows(repo)
    matches = detect.match_gates(found)
    planned = render.files(choices, matches)
    existing = [rel for rel in planned if (repo / rel).exists() or (repo / rel).is_symlink()]
    if existing and not force:
        raise InputError(
            f"init would overwrite {', '.join(existing)}",
            hint="nothing was written; pass --force to overwrite them, or move them aside",
        )
    for folder in (repo / ".github", repo / ".github" / "workflows"):  # checked before anything is written
        if folder.exists() and not folder.is_dir():
            raise InputError(f"--dir {repo}: {folder.relative_to(repo)} is not a folder; nothing was written")
    for rel in planned:
        if (repo / rel).is_dir() and not (repo / rel).is_symlink():
            raise InputError(f"--dir {repo}: {rel} is a folder, not a file; nothing was written")
    for rel, text in planned.items():
        path = _target(repo, rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()  # --force: replace the link itself, never the file it points at
        tmp = path.with_name(f".{path.name}.release-kit-tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise InputError(f"--dir {repo}: cannot write {rel} ({exc.strerror or exc})") from None
        click.echo(f"wrote {rel}" + (" (overwritten)" if rel in existing else ""))
    _print_findings(matches, found)
    _print_setup(choices)
    return 0


def _print_findings(matches: list[detect.GateMatch], found: list[detect.Workflow]) -> None:
    present = [m for m in matches if m.workflow is not None]
    if found:
        click.echo(f"\nGates matched to this repository's {len(found)} workflows:")
        for m in present:
            assert m.workflow is not None
            click.echo(f"  {m.gate}: {m.workflow.path} ({m.workflow.name})")
    missing = [m.gate for m in matches if m.workflow is None]
    if missing:
        click.echo(
            "\nRunbook gates with no workflow here (kept in .github/release-kit.yml, marked "
            f"{render.FILL}; verify-gates reports them missing until they exist): " + ", ".join(missing),
        )
        if "build-images" in missing:
            click.echo("  build-images is left out: release.yml builds and scans the images itself.")


def _print_setup(choices: render.Choices) -> None:
    click.echo("\nTo set up:")
    for line in render.setup_notes(choices):
        click.echo(f"  - {line}")
    if choices.platform == "ecs":
        click.echo("\nIAM policy for the role in AWS_ROLE_ARN (preflight is read-only; deploy writes):")
        click.echo(render.iam_policy())
    else:
        click.echo("\nAzure role assignments for the identity in AZURE_CLIENT_ID:")
        click.echo(render.azure_roles())
    click.echo(f"\nThen fill in every {render.FILL} value and push a v* tag.")
    sys.stdout.flush()
