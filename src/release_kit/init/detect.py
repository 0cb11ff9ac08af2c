"""What a repository has: its layout (images, packages, frontend, pinned versions, migrations) and its
workflows (name and path), matched against the runbook's gates. Pure reads of the tree: nothing runs."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

RUNBOOK_GATES = (
    "Backend CI",
    "Frontend CI",
    "Starter Console CI",
    "Contracts CI",
    "Providers CI",
    "Dependency Review",
    "CodeQL",
    "Secrets Scan",
    "build-images",
)
MAX_WORKFLOW_BYTES = 1 << 20


@dataclass(frozen=True)
class Workflow:
    name: str  # the workflow's `name:`, or its path when it has none (as GitHub shows it)
    path: str  # .github/workflows/<file>


@dataclass(frozen=True)
class GateMatch:
    gate: str
    workflow: Workflow | None  # None: the repository has no workflow for this gate


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def workflows(repo: Path) -> list[Workflow]:
    """The repository's workflows; unreadable or malformed files are skipped (they are not ours to judge)."""
    folder = repo / ".github" / "workflows"
    if not folder.is_dir():
        return []
    found: list[Workflow] = []
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_WORKFLOW_BYTES:
            continue
        rel = f".github/workflows/{path.name}"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError, UnicodeDecodeError, RecursionError):
            continue
        name = data.get("name") if isinstance(data, dict) else None
        found.append(Workflow(name=str(name) if isinstance(name, str) and name.strip() else rel, path=rel))
    return found


def match_gates(found: list[Workflow]) -> list[GateMatch]:
    """Each runbook gate with the workflow that provides it: same name, else a file named after it.

    Names compare without case, spaces or punctuation ("backend-ci" is "Backend CI"); nothing is
    guessed beyond that, since a wrong guess would gate releases on an unrelated workflow.
    """
    by_name = {_key(w.name): w for w in found}
    by_stem = {_key(Path(w.path).stem): w for w in found}
    return [GateMatch(gate, by_name.get(_key(gate)) or by_stem.get(_key(gate))) for gate in RUNBOOK_GATES]


# -- the repository's layout ---------------------------------------------------------------------

Role = str  # api | web | worker
ROLES: tuple[Role, ...] = ("api", "web", "worker")
SKIP_DIRS = frozenset(
    {".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", ".tox", ".next", "target", "vendor"}
)
MAX_DEPTH = 5  # folders below the root a file is looked for in
MAX_FILES = 20_000  # files looked at, at most: a huge tree is read in part, never for minutes
MAX_TEXT = 256 * 1024  # a hint file read beyond this size is not read
APP_FOLDERS = ("apps", "services", "app", "src", "docker", "deploy", "containers")
LOCKFILES = (("pnpm-lock.yaml", "pnpm"), ("yarn.lock", "yarn"), ("package-lock.json", "npm"), ("bun.lock", "bun"))
_ROLE_WORDS: dict[Role, frozenset[str]] = {
    "api": frozenset({"api", "backend", "server", "fastapi", "django", "flask"}),
    "web": frozenset({"web", "frontend", "ui", "site", "next", "nextjs", "webapp", "client", "www", "dashboard"}),
    "worker": frozenset({"worker", "workers", "jobs", "queue", "celery", "billing-worker"}),
}


@dataclass(frozen=True)
class Image:
    role: Role
    dockerfile: str  # relative to the repository root
    context: str  # the build context, relative to the root ("." for the root)
    source: str  # how it was found, said in init's output


@dataclass(frozen=True)
class Package:
    folder: str
    name: str


@dataclass(frozen=True)
class Frontend:
    folder: str
    lockfile: str | None  # relative to the root; None: none found
    manager: str | None  # pnpm | yarn | npm | bun


@dataclass(frozen=True)
class Pinned:
    value: str
    source: str  # the file (and key) it was read from


@dataclass(frozen=True)
class Migration:
    command: str
    source: str
    note: str  # where it runs, said in a comment


@dataclass(frozen=True)
class Layout:
    images: dict[Role, Image]
    packages: list[Package]
    frontend: Frontend | None
    python: Pinned | None
    node: Pinned | None
    package_manager: Pinned | None
    migration: Migration | None
    dockerfiles: list[str]  # every Dockerfile seen, for the FILL-IN comments


def _tokens(text: str) -> set[str]:
    words = set(re.split(r"[^a-z0-9]+", text.lower())) - {""}
    return words | {text.lower()}


def role_of(name: str) -> Role | None:
    """The role a folder, file or compose service name says, when exactly one fits."""
    words = _tokens(name)
    fits = [role for role in ROLES if words & _ROLE_WORDS[role]]
    return fits[0] if len(fits) == 1 else None


def _read(path: Path) -> str | None:
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_TEXT:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def walk(repo: Path) -> list[str]:
    """Every file of the repository (relative, '/'-separated), skipping dependencies and build output,
    at most MAX_DEPTH folders down and MAX_FILES files; links are never followed."""
    found: list[str] = []
    stack: list[tuple[Path, int]] = [(repo, 0)]
    while stack and len(found) < MAX_FILES:
        folder, depth = stack.pop()
        try:
            entries = sorted(folder.iterdir(), key=lambda p: p.name, reverse=True)
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir():
                if depth < MAX_DEPTH and entry.name not in SKIP_DIRS and not entry.name.startswith("."):
                    stack.append((entry, depth + 1))
            elif entry.is_file():
                found.append(entry.relative_to(repo).as_posix())
    return sorted(found)


def is_dockerfile(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1].lower()
    return name == "dockerfile" or name.startswith("dockerfile.") or name.endswith(".dockerfile")


def _parent(rel: str) -> str:
    return rel.rsplit("/", 1)[0] if "/" in rel else "."


def join_path(folder: str, rel: str) -> str:
    joined = (Path(folder) / rel).as_posix() if folder != "." else rel
    parts: list[str] = []
    for part in joined.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return ""  # outside the repository
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts) or "."


def _copy_sources(text: str) -> list[str]:
    """The local sources of a Dockerfile's COPY and ADD instructions (not those --from another stage)."""
    sources: list[str] = []
    for line in re.sub(r"\\\n", " ", text).splitlines():
        words = line.strip().split()
        if len(words) < 3 or words[0].upper() not in ("COPY", "ADD"):
            continue
        args = [w for w in words[1:] if not w.startswith("--")]
        if any(w.startswith("--from") for w in words[1:]) or line.strip().endswith("]"):
            continue
        sources += [a for a in args[:-1] if not re.match(r"^[a-z]+://", a)]
    return sources


def dockerfile_context(repo: Path, dockerfile: str) -> str:
    """The build context a Dockerfile expects: its own folder, unless what it copies exists only from
    the repository root (a monorepo's `COPY apps/api/ ...`, `COPY pnpm-lock.yaml ...`)."""
    folder = _parent(dockerfile)
    text = _read(repo / dockerfile) or ""
    here = root = 0
    for source in _copy_sources(text):
        clean = source.rstrip("/").split("*", 1)[0].rstrip("/")
        if clean in ("", "."):
            continue
        in_folder = bool(join_path(folder, clean)) and (repo / join_path(folder, clean)).exists()
        in_root = (repo / clean).exists()
        here += in_folder
        root += in_root and not in_folder
    return "." if root > here else folder


_DEV_WORDS = frozenset({"dev", "develop", "development", "test", "tests", "local", "debug", "ci", "devcontainer"})


def _is_dev(rel: str) -> bool:
    return bool(set(re.split(r"[^a-z0-9]+", rel.lower())) & _DEV_WORDS)


def _hint_role(text: str) -> Role | None:
    """A Dockerfile's EXPOSE and entrypoint, when they say what it runs."""
    lowered = text.lower()
    command = " ".join(
        line for line in lowered.splitlines() if line.strip().startswith(("cmd", "entrypoint", "run ")) and line
    )
    if re.search(r"\b(celery|rq worker|arq|dramatiq|worker)\b", command):
        return "worker"
    if re.search(r"\b(next start|next build|npm run start|pnpm start|node server)", command) or re.search(
        r"^\s*expose\s+3000\b", lowered, re.M
    ):
        return "web"
    if re.search(r"\b(uvicorn|gunicorn|hypercorn|granian|manage\.py runserver)\b", command) or re.search(
        r"^\s*expose\s+(8000|8080|5000)\b", lowered, re.M
    ):
        return "api"
    return None


COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")


def _compose_images(repo: Path) -> list[Image]:
    images: list[Image] = []
    for name in COMPOSE_FILES:
        text = _read(repo / name)
        if text is None:
            continue
        try:
            data = yaml.safe_load(text)
        except (yaml.YAMLError, RecursionError):
            continue
        services = data.get("services") if isinstance(data, dict) else None
        for service, spec in (services or {}).items() if isinstance(services, dict) else []:
            build = spec.get("build") if isinstance(spec, dict) else None
            if isinstance(build, str):
                context, dockerfile = build, "Dockerfile"
            elif isinstance(build, dict) and isinstance(build.get("context", "."), str):
                context = str(build.get("context", "."))
                dockerfile = str(build.get("dockerfile") or "Dockerfile")
            else:
                continue
            context = join_path(".", context)
            role = role_of(str(service))
            path = join_path(context, dockerfile)
            if role and context and path and (repo / path).is_file():
                images.append(Image(role, path, context, f"{name}: service {service}"))
    return images


def find_images(repo: Path, files: list[str], hints: Sequence[Image] = ()) -> dict[Role, Image]:
    """Each role's Dockerfile and context: from an image workflow's build steps (``hints``), the
    compose file, the folder names under apps/ or services/ (or the Dockerfile's own name), then
    the Dockerfile's EXPOSE and entrypoint."""
    chosen: dict[Role, Image] = {}
    for image in [*hints, *_compose_images(repo)]:
        if (repo / image.dockerfile).is_file() and (repo / image.context).is_dir():  # a workflow may be stale
            chosen.setdefault(image.role, image)
    # a development or test Dockerfile is never a role's image while a production one is there
    dockerfiles = sorted((f for f in files if is_dockerfile(f)), key=lambda f: (_is_dev(f), f))
    taken = {image.dockerfile for image in chosen.values()}
    unplaced: list[str] = []
    for dockerfile in dockerfiles:
        if dockerfile in taken:
            continue
        folder = _parent(dockerfile)
        name = dockerfile.rsplit("/", 1)[-1]
        stem = re.sub(r"(?i)(^dockerfile\.?|\.?dockerfile$)", "", name)
        role = role_of(stem) if stem else None
        how = f"named {name}"
        if role is None and folder != ".":
            role = role_of(folder.rsplit("/", 1)[-1])
            how = f"folder {folder}"
        if role is None or role in chosen:
            unplaced.append(dockerfile)
            continue
        chosen[role] = Image(role, dockerfile, dockerfile_context(repo, dockerfile), how)
    for dockerfile in unplaced:
        role = _hint_role(_read(repo / dockerfile) or "")
        if role is not None and role not in chosen:
            chosen[role] = Image(role, dockerfile, dockerfile_context(repo, dockerfile), "its EXPOSE / entrypoint")
    return {role: chosen[role] for role in ROLES if role in chosen}


def _toml(path: Path) -> dict[str, object] | None:
    text = _read(path)
    if text is None:
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _is_test_path(rel: str) -> bool:
    return any(part in ("tests", "test", "testing", "examples", "docs", "fixtures") for part in rel.split("/"))


def find_packages(repo: Path, files: list[str], images: dict[Role, Image]) -> list[Package]:
    """Every pyproject.toml with a [project] name, but those of the apps (a folder an image is built
    from, below the root) and of tests, examples and docs."""
    app_folders = {_parent(image.dockerfile) for image in images.values()} | {
        image.context for image in images.values()
    }
    app_folders.discard(".")
    packages: list[Package] = []
    for rel in files:
        if not rel.endswith("pyproject.toml"):
            continue
        folder = _parent(rel)
        if rel.rsplit("/", 1)[-1] != "pyproject.toml" or _is_test_path(folder):
            continue
        if any(folder == app or folder.startswith(app + "/") for app in app_folders):
            continue
        if folder.split("/", 1)[0] in ("apps", "services") and folder != "apps":
            continue  # an application, not a library to release
        data = _toml(repo / rel) or {}
        project = data.get("project")
        name = project.get("name") if isinstance(project, dict) else None
        if isinstance(name, str) and name.strip():
            packages.append(Package(folder, name.strip()))
    if len(packages) > 1:  # a root project beside others is the workspace's, not a library to release
        packages = [p for p in packages if p.folder != "."]
    return packages


def _json(path: Path) -> dict[str, object] | None:
    text = _read(path)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _has_frontend_deps(data: dict[str, object]) -> bool:
    deps: dict[str, object] = {}
    for key in ("dependencies", "devDependencies"):
        value = data.get(key)
        if isinstance(value, dict):
            deps.update(value)
    return any(name in deps for name in ("next", "react", "vue", "svelte", "@angular/core", "vite", "nuxt", "astro"))


def _has_app_framework(data: dict[str, object]) -> bool:
    deps = data.get("dependencies")
    return isinstance(deps, dict) and any(
        n in deps for n in ("next", "nuxt", "@remix-run/react", "astro", "@sveltejs/kit")
    )


def find_lockfile(repo: Path, folder: str) -> tuple[str | None, str | None]:
    """The lockfile of a frontend folder: in it, else in the nearest folder above that has one (a
    workspace root), never above the repository."""
    current = folder
    while True:
        for name, manager in LOCKFILES:
            rel = name if current == "." else f"{current}/{name}"
            if (repo / rel).is_file():
                return rel, manager
        if current == ".":
            return None, None
        current = _parent(current)


def find_frontend(repo: Path, files: list[str], images: dict[Role, Image]) -> Frontend | None:
    """The folder of the web app: the package.json with a frontend framework, preferring the web
    image's folder, then folders named for the web role."""
    candidates: list[str] = []
    apps: set[str] = set()
    for rel in files:
        if rel.rsplit("/", 1)[-1] != "package.json" or _is_test_path(rel):
            continue
        data = _json(repo / rel)
        if data is not None and _has_frontend_deps(data):
            candidates.append(_parent(rel))
            if _has_app_framework(data):
                apps.add(_parent(rel))
    if not candidates:
        return None
    web = images.get("web")
    web_folder = _parent(web.dockerfile) if web else None

    def rank(folder: str) -> tuple[int, int, int, int, str]:
        return (
            0 if folder == web_folder else 1,
            0 if folder in apps else 1,  # an app (Next.js, Nuxt, ...) before a component library
            0 if role_of(folder.rsplit("/", 1)[-1]) == "web" else 1,
            folder.count("/"),
            folder,
        )

    folder = min(candidates, key=rank)
    lockfile, manager = find_lockfile(repo, folder)
    return Frontend(folder, lockfile, manager)


_VERSION_RE = re.compile(r"\d+(?:\.\d+){0,2}")


def python_version(repo: Path, packages: list[Package]) -> Pinned | None:
    """``.python-version`` (its first line), else the lowest minor version ``requires-python`` allows."""
    text = _read(repo / ".python-version")
    if text is not None:
        line = next((ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")), "")
        match = _VERSION_RE.match(line)
        if match:
            version = ".".join(match.group(0).split(".")[:2])
            return Pinned(version, ".python-version")
    for rel in ["pyproject.toml", *(f"{p.folder}/pyproject.toml" for p in packages)]:
        project = (_toml(repo / rel) or {}).get("project")
        spec = project.get("requires-python") if isinstance(project, dict) else None
        if isinstance(spec, str):
            match = re.search(r">=?\s*(\d+\.\d+)", spec) or re.search(r"~=\s*(\d+\.\d+)", spec)
            if match:
                return Pinned(match.group(1), f"{rel} requires-python {spec.strip()!r}")
    return None


def node_version(repo: Path, frontend: Frontend | None) -> Pinned | None:
    """``.nvmrc`` / ``.node-version`` (frontend folder, then root), else ``engines.node``."""
    folders = [frontend.folder, "."] if frontend and frontend.folder != "." else ["."]
    for folder in folders:
        for name in (".nvmrc", ".node-version"):
            rel = name if folder == "." else f"{folder}/{name}"
            text = _read(repo / rel)
            match = _VERSION_RE.search(text or "")
            if match:
                return Pinned(match.group(0), rel)
    for folder in folders:
        rel = "package.json" if folder == "." else f"{folder}/package.json"
        engines = (_json(repo / rel) or {}).get("engines")
        spec = engines.get("node") if isinstance(engines, dict) else None
        match = _VERSION_RE.search(spec) if isinstance(spec, str) else None
        if match and isinstance(spec, str):
            return Pinned(match.group(0), f"{rel} engines.node {spec.strip()!r}")
    return None


def package_manager(repo: Path, frontend: Frontend | None) -> Pinned | None:
    """``packageManager`` (corepack: ``pnpm@9.12.0``) of the frontend or its workspace root."""
    folders = [frontend.folder] if frontend else []
    if frontend and frontend.lockfile:
        folders.append(_parent(frontend.lockfile))
    folders.append(".")
    for folder in dict.fromkeys(folders):
        rel = "package.json" if folder == "." else f"{folder}/package.json"
        value = (_json(repo / rel) or {}).get("packageManager")
        if isinstance(value, str) and re.match(r"^[a-z]+@\d", value):
            return Pinned(value.split("+", 1)[0], f"{rel} packageManager")
    return None


def _relative(path: str, base: str) -> str:
    if base == ".":
        return path
    return path[len(base) + 1 :] if path.startswith(base + "/") else path


def _make_target(text: str) -> bool:
    return re.search(r"^migrate\s*:(?!=)", text, re.M) is not None


def find_migration(repo: Path, files: list[str], images: dict[Role, Image]) -> Migration | None:
    """The migration command, run from the api image's working directory: alembic (``alembic -c
    <ini> upgrade head`` unless the ini is at the api's context root), Django's manage.py, else a
    Justfile or Makefile ``migrate`` target."""
    api = images.get("api")
    base = api.context if api else "."

    def within(rel: str) -> bool:
        return base == "." or rel.startswith(base + "/")

    def pick(name: str) -> str | None:
        hits = sorted((f for f in files if f.rsplit("/", 1)[-1] == name and not _is_test_path(f)), key=len)
        preferred = [f for f in hits if within(f)]
        return (preferred or hits)[0] if hits else None

    where = f"in the api image, from its working directory (the api build context {base} copied there)"
    alembic = pick("alembic.ini")
    if alembic is not None:
        rel = _relative(alembic, base)
        command = "alembic upgrade head" if rel == "alembic.ini" else f"alembic -c {rel} upgrade head"
        return Migration(command, alembic, where)
    manage = pick("manage.py")
    if manage is not None and "django" in (_read(repo / manage) or "").lower():
        rel = _relative(manage, base)
        return Migration(f"python {rel} migrate --noinput", manage, where)
    for name, tool in (("justfile", "just"), ("Justfile", "just"), (".justfile", "just"), ("Makefile", "make")):
        for folder in [base, "."]:
            rel = name if folder == "." else f"{folder}/{name}"
            if _make_target(_read(repo / rel) or ""):
                return Migration(f"{tool} migrate", f"{rel} target migrate", where + f"; the image needs {tool}")
    return None


def scan(repo: Path, hints: Sequence[Image] = ()) -> Layout:
    """What init writes explicitly: read from the repository's files, never guessed beyond them."""
    files = walk(repo)
    images = find_images(repo, files, list(hints))
    packages = find_packages(repo, files, images)
    frontend = find_frontend(repo, files, images)
    return Layout(
        images=images,
        packages=packages,
        frontend=frontend,
        python=python_version(repo, packages),
        node=node_version(repo, frontend),
        package_manager=package_manager(repo, frontend),
        migration=find_migration(repo, files, images),
        dockerfiles=[f for f in files if is_dockerfile(f)],
    )


def git_root(start: Path) -> Path | None:
    """The top of the git work tree ``start`` is in (a ``.git`` folder, or a file as in a worktree)."""
    current = start.resolve()
    for folder in [current, *current.parents]:
        if (folder / ".git").exists():
            return folder
    return None


_REMOTE_RE = re.compile(r"github\.com[:/]+(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def _git_dir(root: Path) -> Path | None:
    dot = root / ".git"
    if dot.is_dir():
        return dot
    text = _read(dot) or ""
    match = re.match(r"gitdir:\s*(.+)", text.strip())
    if not match:
        return None
    gitdir = (root / match.group(1).strip()).resolve()
    common = _read(gitdir / "commondir")
    return (gitdir / common.strip()).resolve() if common else gitdir


def github_repository(root: Path) -> str | None:
    """``owner/name`` of the ``origin`` remote when it is on github.com (the GHCR image prefix)."""
    gitdir = _git_dir(root)
    text = _read(gitdir / "config") if gitdir else None
    section = None
    for line in (text or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
        elif section == '[remote "origin"]' and stripped.startswith("url"):
            match = _REMOTE_RE.search(stripped.split("=", 1)[-1].strip())
            return match.group("repo") if match else None
    return None
