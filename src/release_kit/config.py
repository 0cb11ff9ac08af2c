"""``.github/release-kit.yml``: loaded into pydantic models; errors name the key and its line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from release_kit.errors import ConfigError
from release_kit.gates.policy import GatesPolicy

DEFAULT_PATH = Path(".github/release-kit.yml")


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
    deploy: ReservedSection | None = Field(None, description="deploy checks (reserved).")


def json_schema() -> dict[str, Any]:
    schema = Config.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(
                (v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part),
                None,
            )
            if match is None:
                key = next((k for k, _ in node.value if k.value == part), None)
                return key.start_mark.line + 1 if key is not None else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def describe_error(err: dict[str, Any]) -> str:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    path = ".".join(str(p) for p in loc) or "(top level)"
    if err["type"] == "extra_forbidden":
        return f"unknown key {path!r}"
    return f"{path}: {str(err['msg']).removeprefix('Value error, ')}"


def load_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """The YAML node tree (for line numbers) and the plain data; bad YAML is a ConfigError with its line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: not valid YAML ({problem})") from None
    return node, data


def located_error(exc: ValidationError, node: yaml.Node | None, source: str) -> ConfigError:
    """The first validation error as ``source:line: key: message (and N more)``."""
    first = exc.errors()[0]
    line = line_of(node, tuple(first["loc"]))
    where = f"{source}:{line}" if line else source
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return ConfigError(f"{where}: {describe_error(dict(first))}{more}")


def parse(text: str, source: str) -> Config:
    node, data = load_yaml(text, source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with sections gates, images, release, deploy")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise located_error(exc, node, source) from None


def load(path: Path | None) -> Config | None:
    """The explicit ``path``, else ``.github/release-kit.yml`` if present, else None."""
    if path is None:
        if not DEFAULT_PATH.is_file():
            return None
        path = DEFAULT_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"--config {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--config {path}: cannot read it ({exc})") from None
    return parse(text, str(path))


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2) + "\n"
