"""Does a documented ``uses: org/release-kit/<path>@<ref>`` resolve, with the inputs it is given?

GitHub resolves ``org/release-kit/verify-gates@v1`` to ``verify-gates/action.yml`` at the repository
root, and ``org/release-kit/.github/workflows/X.yml@v1`` to a reusable workflow (``on:
workflow_call``). :func:`check_uses` reads a workflow (YAML text or already parsed) or a markdown
document (its fenced YAML blocks, which may be fragments) and returns one problem per broken call:
a path with no action or workflow, an input the action does not declare, a required input left out.
Whatever generates workflows for users (a later ``release-kit init``) runs its output through it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
OWNER_REPO = "org/release-kit"
# examples/runbook is init's output for a release installed from git at this commit (a stand-in: a
# user's names the commit of the release they installed)
EXAMPLE_COMMIT = "0123456789abcdef0123456789abcdef01234567"
LOCAL_PREFIXES = ("$/", "./")  # this repository at the running commit; the checkout in the workspace
_USES_RE = re.compile(rf"^{re.escape(OWNER_REPO)}/(?P<path>[^@\s]+)@(?P<ref>\S*)$")
_MENTION_RE = re.compile(rf"{re.escape(OWNER_REPO)}/(?P<path>[\w./-]+)@(?P<ref>[\w./-]*)")
_FENCE_RE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<lang>[\w-]*)")
_USES_LINE_RE = re.compile(r"^(?P<lead>\s*(?:-\s+)?)uses:\s*(?P<value>\S+)")


@dataclass(frozen=True)
class Call:
    """One ``uses:`` of ours: where it was written, what it names and the ``with:`` keys given."""

    where: str
    path: str
    ref: str
    given: frozenset[str] | None  # None: only mentioned in prose, inputs unknown
    secrets: frozenset[str] | None = None  # a reusable-workflow call's `secrets:` keys; None: inherit or unknown
    local: bool = False  # `uses: $/<path>` or `./<path>`, as this repository's own workflows call its actions
    prefix: str = "./"  # of a local call: `$/` (the running commit) or `./` (the checkout)

    @property
    def written(self) -> str:
        return f"{self.prefix}{self.path}" if self.local else f"{OWNER_REPO}/{self.path}@{self.ref}"


def user_documents(root: Path = ROOT) -> list[Path]:
    """What users copy `uses:` lines from: the README, every docs page and the examples."""
    return [
        root / "README.md",
        *sorted((root / "docs").rglob("*.md")),
        *sorted(p for p in (root / "examples").rglob("*") if p.suffix in (".yml", ".yaml", ".md") and p.is_file()),
    ]


def check_uses(
    text_or_yaml: str | Mapping[str, Any],
    source: str,
    root: Path = ROOT,
    *,
    local: bool = False,
) -> list[str]:
    """Every problem with the calls of ours in a workflow or a markdown document; [] when all resolve.

    ``source`` names the document in messages; one ending in ``.md`` is read as markdown. With
    ``local``, ``uses: ./<name>`` (this repository's own workflows) is checked the same way.
    """
    calls = find_calls(text_or_yaml, source, local=local)
    return [problem for call in calls for problem in check_call(call, root)]


def find_calls(text_or_yaml: str | Mapping[str, Any], source: str, *, local: bool = False) -> list[Call]:
    if not isinstance(text_or_yaml, str):
        return list(_walk(text_or_yaml, source, local=local))
    if source.endswith(".md"):
        return _markdown_calls(text_or_yaml, source)
    return _yaml_calls(text_or_yaml, source, first_line=1, local=local)


def load_action(name: str, root: Path = ROOT) -> Any:
    """The parsed ``<name>/action.yml`` of this repository; None if it does not exist."""
    candidates = [root / name / file for file in ("action.yml", "action.yaml")]
    action = next((path for path in candidates if path.is_file()), None)
    if action is not None:
        return yaml.safe_load(action.read_text()) or {}
    return None


def load_reusable(path: str, root: Path = ROOT) -> Mapping[str, Any] | None:
    """``on.workflow_call`` of the reusable workflow at ``path`` ({} when it declares nothing); None if none."""
    if not re.fullmatch(r"\.github/workflows/[\w.-]+\.ya?ml", path) or not (root / path).is_file():
        return None
    data = yaml.safe_load((root / path).read_text()) or {}
    triggers = triggers_of(data)
    if "workflow_call" not in triggers:
        return None
    return triggers.get("workflow_call") or {}


def triggers_of(workflow: Mapping[Any, Any]) -> dict[str, Any]:
    """A workflow's ``on:`` as a mapping, whichever of its three forms it is written in."""
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True
    if isinstance(triggers, str):
        return {triggers: None}
    if isinstance(triggers, list):
        return dict.fromkeys(str(t) for t in triggers)
    return dict(triggers) if isinstance(triggers, Mapping) else {}


def check_call(call: Call, root: Path = ROOT) -> list[str]:
    where = f"{call.where}: uses: {call.written}"
    if not call.ref and not call.local:
        return [f"{where}: no ref after '@' (a tag such as v1, or a full commit SHA)"]
    parts = call.path.split("/")
    if ".." in parts or "" in parts or (call.path.startswith(".") and not call.path.startswith(".github/")):
        return [f"{where}: not a path inside the repository"]
    if call.path.startswith(".github/"):
        return _check_workflow(call, where, root)
    action = load_action(call.path, root)
    if action is None:
        return [f"{where}: there is no {call.path}/action.yml in {OWNER_REPO}"]
    return _check_inputs(call, where, action.get("inputs") or {})


def _check_workflow(call: Call, where: str, root: Path) -> list[str]:
    match = re.fullmatch(r"\.github/workflows/[\w.-]+\.ya?ml", call.path)
    if not match or not (root / call.path).is_file():
        return [f"{where}: there is no reusable workflow {call.path} in {OWNER_REPO}"]
    declared = load_reusable(call.path, root)
    if declared is None:
        return [f"{where}: {call.path} is not a reusable workflow (no on: workflow_call)"]
    return _check_inputs(call, where, declared.get("inputs") or {}) + _check_secrets(
        call, where, declared.get("secrets") or {}
    )


def _check_secrets(call: Call, where: str, secrets: Mapping[str, Any]) -> list[str]:
    if call.secrets is None:
        return []
    problems = []
    unknown = sorted(call.secrets - set(secrets))
    if unknown:
        problems.append(
            f"{where}: {call.path} has no secret {', '.join(unknown)} (it has: {', '.join(secrets) or 'none'})"
        )
    missing = sorted(n for n, spec in secrets.items() if (spec or {}).get("required") and n not in call.secrets)
    if missing:
        problems.append(f"{where}: required secret {', '.join(missing)} of {call.path} is not given")
    return problems


def _check_inputs(call: Call, where: str, inputs: Mapping[str, Any]) -> list[str]:
    if call.given is None:
        return []
    problems = []
    unknown = sorted(call.given - set(inputs))
    if unknown:
        problems.append(f"{where}: {call.path} has no input {', '.join(unknown)} (it has: {', '.join(inputs)})")
    required = sorted(
        name for name, spec in inputs.items() if (spec or {}).get("required") and "default" not in (spec or {})
    )
    missing = [name for name in required if name not in call.given]
    if missing:
        problems.append(f"{where}: required input {', '.join(missing)} of {call.path} is not given")
    return problems


# -- finding the calls ----------------------------------------------------------------------


def _keys(node: Mapping[str, Any], key: str) -> frozenset[str]:
    given = node.get(key) or {}
    return frozenset(str(k) for k in given) if isinstance(given, Mapping) else frozenset()


def _walk(node: Any, where: str, *, local: bool = False) -> Iterator[Call]:
    if isinstance(node, Mapping):
        uses = node.get("uses")
        secrets = None if node.get("secrets") == "inherit" else _keys(node, "secrets")
        if isinstance(uses, str) and (match := _USES_RE.match(uses.strip())):
            yield Call(where, match.group("path"), match.group("ref"), _keys(node, "with"), secrets)
        elif isinstance(uses, str) and uses.strip().startswith(f"{OWNER_REPO}/"):
            yield Call(where, uses.strip().removeprefix(f"{OWNER_REPO}/"), "", frozenset())
        elif local and isinstance(uses, str) and uses.strip().startswith(LOCAL_PREFIXES):
            prefix, path = uses.strip()[:2], uses.strip()[2:].rstrip("/")
            yield Call(where, path, "", _keys(node, "with"), secrets, local=True, prefix=prefix)
        for value in node.values():
            yield from _walk(value, where, local=local)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, where, local=local)


def _yaml_calls(text: str, source: str, *, first_line: int, local: bool = False) -> list[Call]:
    """A whole document is parsed; a fragment (a few steps, a step's keys) is read step by step."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError:
        docs = []
    if docs and all(isinstance(d, (Mapping, list)) for d in docs):
        calls = [c for d in docs for c in _walk(d, source, local=local)]
        lines = _uses_line_numbers(text, first_line, local=local)
        if len(calls) == len(lines):
            return [replace(c, where=f"{source}:{n}") for c, n in zip(calls, lines, strict=True)]
        if local:  # written in flow style ({uses: ...}): no line numbers, the calls themselves still count
            return calls
    return _fragment_calls(text, source, first_line)


def _uses_line_numbers(text: str, first_line: int, *, local: bool = False) -> list[int]:
    prefixes = (f"{OWNER_REPO}/", *LOCAL_PREFIXES) if local else (f"{OWNER_REPO}/",)
    return [
        first_line + i
        for i, line in enumerate(text.splitlines())
        if (m := _USES_LINE_RE.match(line)) and m.group("value").strip("\"'").startswith(prefixes)
    ]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _fragment_calls(text: str, source: str, first_line: int) -> list[Call]:
    """Each ``uses:`` line with the keys beside it (same column): parse just that step."""
    lines = text.splitlines()
    calls = []
    for i, line in enumerate(lines):
        match = _USES_LINE_RE.match(line)
        if not match or not match.group("value").startswith(f"{OWNER_REPO}/"):
            continue
        column = len(match.group("lead"))
        start = i
        if "-" not in match.group("lead"):  # keys above it (`- id: x`) belong to the same step
            while start > 0 and lines[start - 1].strip() and _indent(lines[start - 1]) == column:
                start -= 1
            dash = re.match(r"^\s*-\s+", lines[start - 1]) if start > 0 else None
            if dash and len(dash.group(0)) == column:
                start -= 1
        end = i + 1
        while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) >= column):
            if _indent(lines[end]) == column and lines[end].lstrip().startswith("- "):
                break  # the next item of a list at this column
            end += 1
        where = f"{source}:{first_line + i}"
        try:
            step = yaml.safe_load("\n".join(ln[column:] for ln in lines[start:end]))
        except yaml.YAMLError as exc:
            raise AssertionError(f"{where}: the step around this uses: is not valid YAML: {exc}") from None
        calls += list(_walk(step, where))[:1] if isinstance(step, Mapping) else []
    return calls


def fenced_blocks(text: str) -> Iterator[tuple[int, str, str]]:
    """(first line number, language, body) of each fenced block of a markdown document."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = _FENCE_RE.match(lines[i])
        if not fence:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence.group("fence")):
            j += 1
        indent = fence.group("indent")
        body = [ln[len(indent) :] if ln.startswith(indent) else ln for ln in lines[i + 1 : j]]
        yield i + 2, fence.group("lang"), "\n".join(body)
        i = j + 1


def _markdown_calls(text: str, source: str) -> list[Call]:
    """Fenced YAML blocks are read as workflows (or fragments); every other mention must resolve too."""
    calls: list[Call] = []
    in_yaml: set[int] = set()
    for first, lang, body in fenced_blocks(text):
        if lang in ("yaml", "yml") or any(_USES_LINE_RE.match(ln) for ln in body.splitlines()):
            calls += _yaml_calls(body, source, first_line=first)
            in_yaml.update(range(first - 1, first + len(body.splitlines()) + 1))
    for number, line in enumerate(text.splitlines(), 1):
        if number in in_yaml:
            continue
        for mention in _MENTION_RE.finditer(line):
            calls.append(Call(f"{source}:{number}", mention.group("path").rstrip("."), mention.group("ref"), None))
    return calls
