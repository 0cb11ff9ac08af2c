"""``.github/release-kit.yml``: loaded into pydantic models; errors name the key and its line.

Each section's model belongs to its capability and is imported only when that section is read:
``load(path, section="gates")`` validates the ``gates:`` section (and the file's top-level keys)
and imports nothing of release, deploy or the probes, so a command pays for what it uses. A value
still holding ``FILL-IN`` (what ``release-kit init`` writes where it could not detect a value) is a
configuration error naming the key, file and line, raised when its section is read: before any request.
"""

from __future__ import annotations

import difflib
import importlib
import json
import re
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from release_kit.errors import ConfigError

if TYPE_CHECKING:
    from release_kit.gates.policy import GatesPolicy
    from release_kit.target.settings import DeploySettings

DEFAULT_PATH = Path(".github/release-kit.yml")
MAX_BYTES = 1024 * 1024  # the file is refused above this size, before it is read
MAX_DEPTH = 64  # nesting levels; the schema needs five
MAX_NODES = 100_000  # values once aliases are expanded
FILL = "FILL-IN"  # the marker release-kit init writes where it could not detect a value

Section = Literal["gates", "images", "release", "deploy"]


class ReservedSection(BaseModel):
    """A section for a capability that takes no settings yet: any key is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ReleaseSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    expect: list[str] | None = Field(
        None,
        description="Assets a release must hold (glob patterns), for verify-release; default: the runbook's seven.",
    )


# each section: its model ("module:Class", imported when the section is read) and its description
SECTIONS: dict[str, tuple[str, str]] = {
    "gates": ("release_kit.gates.policy:GatesPolicy", "verify-gates: the gates a release needs."),
    "images": ("release_kit.config:ReservedSection", "publish-images (reserved)."),
    "release": ("release_kit.config:ReleaseSection", "release and verify-release."),
    "deploy": (
        "release_kit.target.settings:DeploySettings",
        "preflight, migrate, deploy, rollback: where the services run and what they need.",
    ),
}


def section_model(name: str) -> type[BaseModel]:
    module, _, attr = SECTIONS[name][0].partition(":")
    model: type[BaseModel] = getattr(importlib.import_module(module), attr)
    return model


def _validation_context(name: str) -> dict[str, Any] | None:
    if name != "deploy":
        return None
    from release_kit.platforms import ALL_PLATFORMS  # deploy.platform takes the registry's names

    return {"platforms": list(ALL_PLATFORMS)}


class Config:
    """The configuration file: each section validated the first time it is read (then kept)."""

    def __init__(self, data: dict[str, Any], node: yaml.Node | None, source: str, *, markers: bool = True) -> None:
        self._data = data
        self._node = node
        self.source = source
        self._markers = markers  # FILL-IN values are errors (a command's view; parse() checks the shape only)
        self._validated: dict[str, Any] = {}

    def section(self, name: str) -> Any:
        """The section's model, or None when the file has no such section (or leaves it empty)."""
        if name not in self._validated:
            self._validated[name] = self._validate([name])[name]
        return self._validated[name]

    def validate_all(self) -> Config:
        """Every section at once: all errors in one message, in line order."""
        todo = [name for name in SECTIONS if name not in self._validated]
        self._validated.update(self._validate(todo))
        return self

    def _validate(self, names: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        problems: list[tuple[int, str]] = []
        for name in names:
            value = self._data.get(name)
            if value is None:
                found[name] = None
                continue
            node = _child(self._node, name)
            markers = fill_markers(node, (name,)) if self._markers else []
            problems += [(line, f"{self.source}:{line}: {path}: {FILL_MESSAGE}") for line, path in markers]
            model = section_model(name)
            try:
                found[name] = model.model_validate(value, context=_validation_context(name))
            except ValidationError as exc:
                marked = {line for line, _ in markers}
                problems += [p for p in located(exc, self._node, self.source, (name,), model) if p[0] not in marked]
        if problems:
            raise _combined(problems, self.source)
        return found

    @property
    def gates(self) -> GatesPolicy | None:
        return self.section("gates")  # type: ignore[no-any-return]

    @property
    def images(self) -> ReservedSection | None:
        return self.section("images")  # type: ignore[no-any-return]

    @property
    def release(self) -> ReleaseSection | None:
        return self.section("release")  # type: ignore[no-any-return]

    @property
    def deploy(self) -> DeploySettings | None:
        return self.section("deploy")  # type: ignore[no-any-return]


FILL_MESSAGE = f"still holds the {FILL} marker release-kit init left where it could not detect a value: set it"


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v  # type: ignore[no-any-return]
    return None


def fill_markers(node: yaml.Node | None, path: tuple[int | str, ...]) -> list[tuple[int, str]]:
    """Every scalar value under ``node`` still holding the FILL-IN marker: (line, key path), in line order.
    Comments are not values: init's ``# FILL-IN: ...`` notes beside a key are not reported."""
    found: list[tuple[int, str]] = []
    todo: list[tuple[yaml.Node | None, tuple[int | str, ...]]] = [(node, path)]
    seen: set[int] = set()
    while todo:
        current, where = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.ScalarNode) and FILL in str(current.value):
            found.append((current.start_mark.line + 1, ".".join(str(p) for p in where)))
        elif isinstance(current, yaml.MappingNode):
            todo += [(v, (*where, k.value)) for k, v in current.value if isinstance(k, yaml.ScalarNode)]
        elif isinstance(current, yaml.SequenceNode):
            todo += [(v, (*where, i)) for i, v in enumerate(current.value)]
    return sorted(found)


def _config_model() -> type[BaseModel]:
    """The whole file as one pydantic model, for ``release-kit schema`` (imports every section)."""
    fields: dict[str, Any] = {
        name: (section_model(name) | None, Field(None, description=description))
        for name, (_, description) in SECTIONS.items()
    }
    from pydantic import create_model

    return create_model(
        "Config", __config__=ConfigDict(extra="forbid", frozen=True, title="release-kit configuration"), **fields
    )


def json_schema() -> dict[str, Any]:
    from release_kit.platforms import ALL_PLATFORMS

    schema = _config_model().model_json_schema()
    platform = schema["$defs"]["DeploySettings"]["properties"]["platform"]
    platform["anyOf"] = [{"enum": list(ALL_PLATFORMS), "type": "string"}, {"type": "null"}]  # the registry's names
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def line_of(node: yaml.Node | None, loc: tuple[int | str, ...], *, key_line: bool = False) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (or of its nearest existing parent).

    With ``key_line`` the last part of ``loc`` is a key and its own line is wanted (an unknown
    key whose value starts on a later line is reported where the key is written)."""
    line = node.start_mark.line + 1 if node is not None else None
    for index, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            pair = next(
                ((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part),
                None,
            )
            if pair is None:
                return line
            if key_line and index == len(loc) - 1:
                return int(pair[0].start_mark.line) + 1
            node = pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line


_EXPECTED = {
    "model_type": "expected a mapping of keys",
    "dict_type": "expected a mapping of keys",
    "list_type": "expected a list",
    "string_type": "expected a string",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "float_parsing": "expected a number",
}


_CLASS_RE = re.compile(r" or (?:an )?instance of \w+")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def describe_error(err: dict[str, Any]) -> str:
    """One error in the user's terms: the key path, what was expected, what was given."""
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))  # validator wrappers
    path = ".".join(str(p) for p in loc) or "(top level)"
    kind = err["type"]
    given = err.get("input")
    got = f", got {_shown(given)}" if isinstance(given, str | int | float | bool) else ""
    if kind == "extra_forbidden":
        return f"unknown key {path!r}"
    if kind == "missing":
        return f"{path}: required key missing"
    if kind == "enum":
        return f"{path}: expected one of {err.get('ctx', {}).get('expected', '')}{got}"
    if kind == "value_error":
        return f"{path}: {err.get('ctx', {}).get('error', err['msg'])}{got}"
    if kind in _EXPECTED:
        return f"{path}: {_EXPECTED[kind]}{got}"
    message = _CLASS_RE.sub("", str(err["msg"]).replace("Input should be", "expected"))  # never a class name
    return f"{path}: {message}{got}"


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with bounded nesting: a deep document is refused at the line it gets
    too deep, before the parser's recursion can overflow."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _TooDeep(mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """How many nodes the document has once aliases are expanded (shared nodes are counted once each time used)."""
    key = id(node)
    if key not in memo:
        memo[key] = 1  # a cycle counts once (the safe loader builds it as a self-reference)
        if isinstance(node, yaml.MappingNode):
            memo[key] += sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            memo[key] += sum(_expanded_size(v, memo) for v in node.value)
    return memo[key]


def load_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """One parse: the node tree (for line numbers) and the data constructed from it."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None and _expanded_size(node, {}) > MAX_NODES:
            raise ConfigError(f"{source}: its aliases expand to more than {MAX_NODES} values: refusing to load it")
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: not valid YAML ({problem})") from None
    except _TooDeep as exc:
        raise ConfigError(f"{source}:{exc.line}: nested deeper than {MAX_DEPTH} levels") from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to read") from None
    finally:
        loader.dispose()
    return node, data


def _unwrap(tp: Any) -> Any:
    """The type inside Optional / Annotated / X | None."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def keys_at(model: Any, loc: tuple[int | str, ...]) -> list[str]:
    """The keys the mapping at ``loc`` (relative to ``model``) accepts: for "did you mean"."""
    tp = model
    for part in loc:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            field = next((f for n, f in tp.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return []
            tp = field.annotation
        elif origin in (list, tuple, set, frozenset) and isinstance(part, int):
            tp = typing.get_args(tp)[0]
        elif origin is dict:
            tp = typing.get_args(tp)[1]
        else:
            return []
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or n for n, f in tp.model_fields.items()]
    return []


def suggestion(key: object, allowed: list[str]) -> str:
    """`` (did you mean 'x'?)`` for a near key, else nothing."""
    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def located(
    exc: ValidationError, node: yaml.Node | None, source: str, prefix: tuple[int | str, ...] = (), model: Any = None
) -> list[tuple[int, str]]:
    """Each validation error as (line, ``source:line: key: what was expected``), ``prefix`` being where the
    validated value sits in the file; an unknown key gets the nearest known one of ``model``'s as a hint."""
    found = []
    for err in exc.errors():
        loc = (*prefix, *err["loc"])
        line = line_of(node, loc, key_line=err["type"] == "extra_forbidden")
        where = f"{source}:{line}" if line else source
        text = describe_error({**err, "loc": loc})
        if err["type"] == "extra_forbidden" and model is not None:
            inner = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            text += suggestion(inner[-1] if inner else "", keys_at(model, inner[:-1]))
        found.append((line or 0, f"{where}: {text}"))
    return found


def _combined(problems: list[tuple[int, str]], source: str) -> ConfigError:
    ordered = [text for _, text in sorted(problems, key=lambda p: p[0])]  # line order; stable within a line
    if len(ordered) == 1:
        return ConfigError(ordered[0])
    return ConfigError(f"{source}: {len(ordered)} errors: " + "; ".join(ordered))


def located_error(exc: ValidationError, node: yaml.Node | None, source: str) -> ConfigError:
    """Every validation error as ``source:line: key: what was expected`` (its line from ``node``), in line order."""
    return _combined(located(exc, node, source), source)


def read(text: str, source: str, *, markers: bool = True) -> Config:
    """The file parsed and its top-level keys checked; sections are validated when read (with ``markers``,
    a FILL-IN value is an error)."""
    node, data = load_yaml(text, source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with sections {', '.join(SECTIONS)}")
    unknown = [
        (line_of(node, (key,), key_line=True) or 0, key)
        for key in data
        if not isinstance(key, str) or key not in SECTIONS
    ]
    if unknown:
        problems = [
            (line, f"{source}:{line}: unknown key {str(key)!r}{suggestion(key, list(SECTIONS))}")
            for line, key in unknown
        ]
        raise _combined(problems, source)
    return Config(data, node, source, markers=markers)


def parse(text: str, source: str) -> Config:
    """The whole file, every section validated against the schema (what init writes, FILL-IN markers
    and all, parses); a command reads its file with :func:`load`, which refuses the markers."""
    return read(text, source, markers=False).validate_all()


def load(path: Path | None, section: Section | None = None) -> Config | None:
    """The explicit ``path``, else ``.github/release-kit.yml`` if present, else None. With ``section``,
    that section is validated now (its errors and FILL-IN markers raised before any request); the
    others only if read."""
    if path is None:
        if not DEFAULT_PATH.is_file():
            return None
        path = DEFAULT_PATH
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)  # never more: a larger file is refused unread
        if len(raw) > MAX_BYTES:
            raise ConfigError(
                f"--config {path}: larger than {MAX_BYTES // 1024 // 1024} MiB; a configuration is far smaller"
            )
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"--config {path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"--config {path}: is a folder, expected a YAML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--config {path}: cannot read it ({exc})") from None
    loaded = read(text, str(path))
    if section is not None:
        loaded.section(section)
    return loaded


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2) + "\n"
