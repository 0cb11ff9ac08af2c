"""``.github/release-kit.yml``: loaded into pydantic models; errors name the key and its line."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from release_kit.errors import ConfigError
from release_kit.gates.policy import GatesPolicy
from release_kit.target.settings import DeploySettings

DEFAULT_PATH = Path(".github/release-kit.yml")
MAX_BYTES = 1024 * 1024  # the file is refused above this size, before it is read
MAX_DEPTH = 64  # nesting levels; the schema needs five
MAX_NODES = 100_000  # values once aliases are expanded


class ReservedSection(BaseModel):
    """A section for a capability that takes no settings yet: any key is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ReleaseSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    expect: list[str] | None = Field(
        None,
        description="Assets a release must hold (glob patterns), for verify-release; default: the runbook's seven.",
    )


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, title="release-kit configuration")

    gates: GatesPolicy | None = Field(None, description="verify-gates: the gates a release needs.")
    images: ReservedSection | None = Field(None, description="publish-images (reserved).")
    release: ReleaseSection | None = Field(None, description="release and verify-release.")
    deploy: DeploySettings | None = Field(
        None, description="preflight, migrate, deploy, rollback: where the services run and what they need."
    )


def json_schema() -> dict[str, Any]:
    from release_kit.platforms import ALL_PLATFORMS

    schema = Config.model_json_schema()
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


def located_error(exc: ValidationError, node: yaml.Node | None, source: str) -> ConfigError:
    """Every validation error as ``source:line: key: what was expected``, the line of each from ``node``."""
    found = []
    for err in exc.errors():
        line = line_of(node, tuple(err["loc"]), key_line=err["type"] == "extra_forbidden")
        where = f"{source}:{line}" if line else source
        found.append(f"{where}: {describe_error(dict(err))}")
    if len(found) == 1:
        return ConfigError(found[0])
    return ConfigError(f"{source}: {len(found)} errors: " + "; ".join(found))


def parse(text: str, source: str) -> Config:
    node, data = load_yaml(text, source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with sections gates, images, release, deploy")
    from release_kit.platforms import ALL_PLATFORMS

    try:
        return Config.model_validate(data, context={"platforms": list(ALL_PLATFORMS)})
    except ValidationError as exc:
        raise located_error(exc, node, source) from None


def load(path: Path | None) -> Config | None:
    """The explicit ``path``, else ``.github/release-kit.yml`` if present, else None."""
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
    return parse(text, str(path))


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2) + "\n"
