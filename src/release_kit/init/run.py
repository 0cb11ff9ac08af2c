"""``release-kit init``: write the runbook into a repository, never over a file that exists unless forced."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click

from release_kit import gha
from release_kit.errors import InputError
from release_kit.init import detect, existing, pin, render, setup


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


@dataclass(frozen=True)
class Plan:
    """Everything init would write, and what it found: computed before anything is written (a check
    of a repository against what init would write compares ``files`` with the files there)."""

    root: Path
    choices: render.Choices
    files: dict[str, str]
    found: list[detect.Workflow]
    matches: list[detect.GateMatch]
    image_workflows: list[existing.ImageWorkflow]
    warnings: list[str]


def repository_root(given: Path) -> Path:
    """The top of the git repository ``given`` is in: init writes into its .github/ from any folder."""
    if not given.is_dir():
        raise InputError(f"--dir {given}: no such folder (expected the repository to set up)")
    root = detect.git_root(given)
    if root is None:
        raise InputError(
            f"--dir {given}: not inside a git repository",
            hint="run init in the repository (any folder of it), or `git init` first",
        )
    return root


def plan(*, registry: str, platform: str, repo: Path, owner: str | None = None, ref: str | None = None) -> Plan:
    root = repository_root(repo)
    pinned, warnings = pin.resolve(owner, ref, pin.installed())
    found = detect.workflows(root)
    matches = detect.match_gates(found)
    images = existing.image_workflows(root, [w.path for w in found])
    layout = detect.scan(root, [hint for wf in images for hint in wf.hints])
    scanner = next((wf for wf in images if wf.trivy.any()), None)
    choices = render.Choices(
        registry=registry,
        platform=platform,
        pin=pinned,
        layout=layout,
        repository=detect.github_repository(root),
        trivy=scanner.trivy if scanner else render.NO_TRIVY,
        trivy_from=scanner.path if scanner else None,
    )
    files = {**render.files(choices, matches), setup.SETUP_FILE: setup.setup_markdown(choices)}
    return Plan(root, choices, files, found, matches, images, warnings)


def run(
    *, registry: str, platform: str, repo: Path, force: bool, owner: str | None = None, ref: str | None = None
) -> int:
    made = plan(registry=registry, platform=platform, repo=repo, owner=owner, ref=ref)
    root, planned = made.root, made.files
    if root != repo.resolve():
        click.echo(f"The repository is {root}: writing into its .github/")
    existing_files = [rel for rel in planned if (root / rel).exists() or (root / rel).is_symlink()]
    _print_replaced(root, existing_files)
    if existing_files and not force:
        raise InputError(
            f"init would overwrite {', '.join(existing_files)}",
            hint="nothing was written; pass --force to overwrite them, or move them aside",
        )
    for folder in (root / ".github", root / ".github" / "workflows"):  # checked before anything is written
        if folder.exists() and not folder.is_dir():
            raise InputError(f"--dir {root}: {folder.relative_to(root)} is not a folder; nothing was written")
    for rel in planned:
        if (root / rel).is_dir() and not (root / rel).is_symlink():
            raise InputError(f"--dir {root}: {rel} is a folder, not a file; nothing was written")
    for rel, text in planned.items():
        path = _target(root, rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()  # --force: replace the link itself, never the file it points at
        try:
            _write(path, text)
        except OSError as exc:
            raise InputError(f"--dir {root}: cannot write {rel} ({exc.strerror or exc})") from None
        click.echo(f"wrote {rel}" + (" (overwritten)" if rel in existing_files else ""))
    click.echo(f"\nThe workflows call {made.choices.pin.uses('.github/workflows/runbook-*.yml')}")
    sys.stdout.flush()
    for warning in made.warnings:
        gha.annotate("warning", warning, title="release-kit init")
    _print_layout(made.choices)
    _print_one_build(made, replaced=set(existing_files) if force else set())
    _print_findings(made.matches, made.found)
    _print_setup(made.choices)
    return 0


RELEASE_YML = ".github/workflows/release.yml"


def _print_replaced(root: Path, existing_files: list[str]) -> None:
    """What an existing release.yml does that the runbook's does not: said before it is replaced."""
    if RELEASE_YML not in existing_files:
        return
    dropped = existing.dropped_steps(root, RELEASE_YML)
    if existing.is_runbook(root, RELEASE_YML):
        gha.echo(f"{RELEASE_YML} exists: the runbook's, written by init before.")
        return
    if not dropped:
        gha.echo(f"{RELEASE_YML} exists; the runbook's release does everything its steps do.")
        return
    gha.echo(f"{RELEASE_YML} exists; replacing it drops these steps the runbook's release does not run:")
    for step in dropped:
        gha.echo(f"  - {step.kind}: {step.what}")
    gha.echo("  (keep them in a workflow of their own, e.g. a gate in .github/release-kit.yml, before --force)")
    sys.stdout.flush()


def _print_layout(choices: render.Choices) -> None:
    layout = choices.layout
    fill = render.FILL
    click.echo()
    gha.echo("Found in this repository (written into release.yml and .github/release-kit.yml):")
    for role in detect.ROLES:
        image = layout.images.get(role)
        if image is not None:
            gha.echo(f"  {role} image: {image.dockerfile}, context {image.context} ({image.source})")
        elif role != "worker":
            gha.echo(f"  {role} image: {fill} (no Dockerfile found for it)")
    names = ", ".join(f"{p.name} ({p.folder})" for p in layout.packages)
    gha.echo(f"  Python packages: {names or 'none (no wheels are released)'}")
    front = layout.frontend
    if front is None:
        gha.echo("  frontend: none found (no frontend SBOM)")
    else:
        gha.echo(f"  frontend: {front.folder}, lockfile {front.lockfile or fill} ({front.manager or 'no manager'})")
    for label, pinned in (
        ("Python", layout.python),
        ("Node", layout.node),
        ("package manager", layout.package_manager),
    ):
        gha.echo(f"  {label}: " + (f"{pinned.value} (from {pinned.source})" if pinned else "not pinned"))
    migration = layout.migration
    gha.echo(
        "  migrations: "
        + (f"{migration.command} (from {migration.source})" if migration else f"{fill} (no migration command found)")
    )
    gha.echo(f"  release.expect: {', '.join(render.expected_assets(layout)) or fill}")


def _print_one_build(made: Plan, replaced: set[str]) -> None:
    """One image build per tag: release.yml is it; an image workflow that also builds on v* tags is named."""
    others = [wf for wf in made.image_workflows if wf.path not in replaced]
    click.echo()
    gha.echo(
        "One image build per tag: release.yml builds, scans and pushes the images; the deploy takes those digests."
    )
    for wf in made.image_workflows:
        if wf.path in replaced:
            gha.echo(f"  {wf.path} ({wf.name}) built the images on v* tags before; it is replaced.")
    for wf in others:
        gha.echo(
            f"  {wf.path} ({wf.name}) also builds and pushes images on v* tags: remove the tag trigger from its"
            " on.push (keep its branch builds) so each tag's images are built and pushed once."
        )
        if wf.hints:
            gha.echo("    its Dockerfiles and contexts were read: " + ", ".join(h.dockerfile for h in wf.hints))
    if made.choices.trivy_from:
        trivy = made.choices.trivy
        settings = [
            f"severity {trivy.severity}" if trivy.severity else "",
            f"ignore-unfixed {str(trivy.ignore_unfixed).lower()}" if trivy.ignore_unfixed is not None else "",
            f"vuln-type {trivy.vuln_type}" if trivy.vuln_type else "",
        ]
        gha.echo(f"  its Trivy settings carry over into release.yml (trivy_*): {', '.join(x for x in settings if x)}")


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
    """The whole set-up, as written to .github/release-kit-setup.md (one text, printed and kept)."""
    click.echo(f"\nTo set up (also in {setup.SETUP_FILE}):\n")
    click.echo(setup.setup_markdown(choices), nl=False)
    sys.stdout.flush()
