"""``release-kit init``: write the runbook into a repository, never over a file that exists unless forced."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from release_kit import gha
from release_kit.errors import InputError
from release_kit.init import detect, pin, render


def _target(repo: Path, rel: str) -> Path:
    path = repo / rel
    # the folders we write into must be plain folders of this repository, not links out of it
    for parent in [repo / ".github", repo / ".github" / "workflows"]:
        if parent.is_symlink():
            raise InputError(
                f"--dir {repo}: {parent.relative_to(repo)} is a symbolic link; refusing to write through it"
            )
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write(path: Path, text: str) -> None:
    """Replace ``path`` at once with ``text``: written to a new file of a random name beside it (created
    exclusively, so nothing planted there, a link least of all, is written through), then renamed."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".release-kit-tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        tmp.chmod(0o666 & ~_umask())  # mkstemp makes it 0600: give it the mode a new file gets
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def run(
    *, registry: str, platform: str, repo: Path, force: bool, owner: str | None = None, ref: str | None = None
) -> int:
    if not repo.is_dir():
        raise InputError(f"--dir {repo}: no such folder (expected the repository to set up)")
    pinned, warnings = pin.resolve(owner, ref, pin.installed())
    choices = render.Choices(registry=registry, platform=platform, pin=pinned)
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
        try:
            _write(path, text)
        except OSError as exc:
            raise InputError(f"--dir {repo}: cannot write {rel} ({exc.strerror or exc})") from None
        click.echo(f"wrote {rel}" + (" (overwritten)" if rel in existing else ""))
    click.echo(f"\nThe workflows call {pinned.uses('.github/workflows/runbook-*.yml')}")
    sys.stdout.flush()
    for warning in warnings:
        gha.annotate("warning", warning, title="release-kit init")
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
