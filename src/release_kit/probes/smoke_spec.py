"""The smoke spec (``.github/release-kit-smoke.yml``): pydantic models, loading, and the checks
that need the whole spec (names used before they exist). Errors name the key and its line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import jmespath
import jmespath.exceptions
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from release_kit.config import line_of, load_yaml, located_error
from release_kit.errors import ConfigError

DEFAULT_PATH = Path(".github/release-kit-smoke.yml")
BUILTINS = ("run_id", "api_url", "web_url")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
UNSAFE_METHODS = frozenset({"POST", "PATCH"})


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _jmespath(expr: str) -> str:
    try:
        jmespath.compile(expr)
    except jmespath.exceptions.JMESPathError as exc:
        raise ValueError(f"{expr!r} is not a JMESPath expression ({exc})") from None
    return expr


class JwtCheck(Strict):
    claims: list[str] | dict[str, Any] = Field(
        default_factory=list,
        description="Claims the token must carry: a list of names, or name -> the value it must have "
        "({name} expands; a list claim such as aud passes when it holds the value).",
    )
    differs_from: str | None = Field(
        None, pattern=NAME, description="A captured token this one must differ from (a refresh gives a new token)."
    )
    header: dict[str, str | int] = Field(
        default_factory=dict, description="Header fields the token must have, e.g. kid."
    )


class Match(Strict):
    """What one server-sent event must look like."""

    json_: dict[str, Any] = Field(
        default_factory=dict, alias="json", description="JMESPath on the event's data read as JSON -> the value."
    )
    event: str | None = Field(None, description="The event's name (its event: field).")
    data_contains: str | None = Field(None, description="Text the event's data must contain.")

    @field_validator("json_")
    @classmethod
    def _exprs(cls, value: dict[str, Any]) -> dict[str, Any]:
        for expr in value:
            _jmespath(expr)
        return value

    @model_validator(mode="after")
    def _something(self) -> Match:
        if not self.json_ and self.event is None and self.data_contains is None:
            raise ValueError("give json, event or data_contains")
        return self


class SseExpect(Strict):
    """Checks on the events of a ``stream: sse`` answer (comments such as ``: heartbeat`` are no events)."""

    min_events: int | None = Field(None, ge=0, description="At least this many events.")
    done: bool = Field(False, description="The stream must end with a [DONE] or done event.")
    last: Match | None = Field(None, description="The last event (a [DONE]/done marker aside) must match.")
    any_: Match | None = Field(None, alias="any", description="At least one event must match.")
    none: Match | None = Field(None, description="No event may match (e.g. {json: {kind: error}}).")


class CookieExpect(Strict):
    """Attributes a cookie set by the answer must have; unset keys are not checked."""

    httponly: bool | None = Field(None, description="HttpOnly is set (true) or not (false).")
    secure: bool | None = Field(None, description="Secure is set (true) or not (false).")
    samesite: Literal["strict", "lax", "none"] | None = Field(None, description="The SameSite value.")
    path: str | None = Field(None, description="The cookie's Path.")

    @field_validator("samesite", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class Not(Strict):
    """What the answer must not hold."""

    json_: dict[str, Any] = Field(
        default_factory=dict, alias="json", description="JMESPath on the JSON body -> a value it must not equal."
    )
    body_contains: str | list[str] | None = Field(None, description="Text the body must not contain.")

    @field_validator("json_")
    @classmethod
    def _exprs(cls, value: dict[str, Any]) -> dict[str, Any]:
        for expr in value:
            _jmespath(expr)
        return value

    @property
    def contains(self) -> list[str]:
        if self.body_contains is None:
            return []
        return [self.body_contains] if isinstance(self.body_contains, str) else self.body_contains


class Expect(Strict):
    status: int | list[int] = Field(200, description="The status, or a list of accepted statuses.")
    json_: dict[str, Any] = Field(
        default_factory=dict, alias="json", description="JMESPath on the JSON body -> the value it must equal."
    )
    jwt: dict[str, JwtCheck] = Field(
        default_factory=dict,
        description="JMESPath -> a JWT that must have exp in the future, iat not ahead, these claims; "
        "its signature is verified when the spec has jwks_url.",
    )
    body_contains: str | list[str] | None = Field(None, description="Text the body must contain.")
    sse_min_events: int | None = Field(None, ge=0, description="stream: sse only: same as sse.min_events.")
    sse_done: bool = Field(False, description="stream: sse only: same as sse.done.")
    sse: SseExpect | None = Field(None, description="stream: sse only: checks on the events.")
    cookies: dict[str, CookieExpect] = Field(
        default_factory=dict, description="Cookie name -> attributes; the answer must set the cookie."
    )
    not_: Not | None = Field(None, alias="not", description="What the answer must not hold.")

    @field_validator("json_", "jwt")
    @classmethod
    def _exprs(cls, value: dict[str, Any]) -> dict[str, Any]:
        for expr in value:
            _jmespath(expr)
        return value

    @property
    def statuses(self) -> list[int]:
        return self.status if isinstance(self.status, list) else [self.status]

    @property
    def contains(self) -> list[str]:
        if self.body_contains is None:
            return []
        return [self.body_contains] if isinstance(self.body_contains, str) else self.body_contains

    @property
    def sse_checks(self) -> SseExpect:
        """The sse checks, the older sse_min_events and sse_done keys folded in."""
        sse = self.sse or SseExpect()
        if self.sse_min_events is not None and sse.min_events is None:
            sse = sse.model_copy(update={"min_events": self.sse_min_events})
        if self.sse_done and not sse.done:
            sse = sse.model_copy(update={"done": True})
        return sse

    @property
    def uses_sse(self) -> bool:
        return self.sse is not None or self.sse_min_events is not None or self.sse_done


class Capture(Strict):
    """Where a captured value comes from: one of json, header or cookie."""

    json_: str | None = Field(None, alias="json", description="JMESPath on the JSON body.")
    header: str | None = Field(None, description="A response header.")
    cookie: str | None = Field(None, description="A cookie the answer set (or the flow's jar holds).")
    secret: bool | None = Field(
        None,
        description="Mask the value (true) or not (false). Default: masked when it is a credential "
        "(a cookie, a token-like header, a JWT, a name like token/secret/password/session).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Capture:
        given = [k for k, v in (("json", self.json_), ("header", self.header), ("cookie", self.cookie)) if v]
        if len(given) != 1:
            raise ValueError("give exactly one of json, header or cookie")
        if self.json_:
            _jmespath(self.json_)
        return self


class Retry(Strict):
    attempts: int = Field(ge=1, le=20, description="Attempts in all, the first included.")
    interval: float = Field(1.0, ge=0, le=300, description="Seconds between attempts.")


class Step(Strict):
    name: str = Field(min_length=1)
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    url: str = Field(min_length=1, description="{name} expands vars, secrets, captures and built-ins.")
    headers: dict[str, str] = Field(default_factory=dict)
    json_: Any = Field(None, alias="json", description="A JSON body; {name} expands in its strings.")
    form: dict[str, str] | None = Field(None, description="A form body (application/x-www-form-urlencoded).")
    body: str | None = Field(None, description="A raw body.")
    stream: Literal["sse"] | None = Field(
        None, description="sse: read server-sent events until a [DONE]/done event, the end, the timeout or 1 MiB."
    )
    expect: Expect = Field(default_factory=Expect)
    capture: dict[str, str | Capture] = Field(
        default_factory=dict,
        description="name -> JMESPath on the JSON body, or {json|header|cookie: ..., secret: true|false}. "
        "Credentials are masked; booleans, numbers and short words never are.",
    )
    always: bool = Field(
        False, description="Run even when an earlier step of the flow failed (teardown); its failure is reported too."
    )

    @field_validator("json_")
    @classmethod
    def _json_body(cls, value: Any) -> Any:
        """YAML can say more than JSON (dates, sets, binary, NaN): a body must be sendable as JSON."""
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not a JSON body ({exc})") from None
        return value

    retry: Retry | None = Field(
        None, description="Retry a failed step. Only for GET, HEAD, PUT, DELETE, OPTIONS, or idempotent: true."
    )
    idempotent: bool = Field(False, description="This POST/PATCH is safe to send again (allows retry).")
    timeout: float | None = Field(None, gt=0, le=600, description="Seconds for the step. Default 30, 60 for sse.")

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("capture")
    @classmethod
    def _captures(cls, value: dict[str, str | Capture]) -> dict[str, str | Capture]:
        for name, source in value.items():
            if not re.match(NAME, name):
                raise ValueError(f"capture name {name!r}: expected letters, digits and _")
            if isinstance(source, str):
                _jmespath(source)
        return value

    def captures(self) -> dict[str, Capture]:
        """Every capture in its long form."""
        return {
            name: Capture(json_=source) if isinstance(source, str) else source for name, source in self.capture.items()
        }

    @model_validator(mode="after")
    def _consistent(self) -> Step:
        bodies = [k for k, v in (("json", self.json_), ("form", self.form), ("body", self.body)) if v is not None]
        if len(bodies) > 1:
            raise ValueError(f"step {self.name!r} has {' and '.join(bodies)}: give at most one body")
        if self.retry is not None and self.method in UNSAFE_METHODS and not self.idempotent:
            raise ValueError(
                f"step {self.name!r}: retry on a {self.method} would send it again; "
                "remove retry, or add idempotent: true if the endpoint is safe to repeat"
            )
        if self.stream is None and self.expect.uses_sse:
            raise ValueError(f"step {self.name!r}: sse, sse_min_events and sse_done need stream: sse")
        return self

    @property
    def timeout_s(self) -> float:
        return self.timeout if self.timeout is not None else (60.0 if self.stream else 30.0)

    @property
    def attempts(self) -> int:
        return self.retry.attempts if self.retry else 1


class Flow(Strict):
    name: str = Field(min_length=1)
    steps: list[Step] = Field(min_length=1)


class SmokeSpec(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, title="release-kit smoke spec")

    vars: dict[str, str] = Field(
        default_factory=dict, description="name -> text; {name} expands. Built-ins: run_id, api_url, web_url."
    )
    secrets: dict[str, str] = Field(
        default_factory=dict, description="name -> environment variable holding it; masked everywhere."
    )
    jwks_url: str | None = Field(None, description="Verify every checked JWT's signature against this JWKS.")
    flows: list[Flow] = Field(min_length=1)

    @field_validator("vars", "secrets")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not re.match(NAME, name):
                raise ValueError(f"{name!r}: expected letters, digits and _")
            if name in BUILTINS:
                raise ValueError(f"{name!r} is a built-in")
        return value


def placeholders(value: Any) -> Iterator[str]:
    """Every ``{name}`` in a string, or in the string values of a JSON-like value (keys stay literal)."""
    if isinstance(value, str):
        yield from PLACEHOLDER.findall(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from placeholders(item)
    elif isinstance(value, list):
        for item in value:
            yield from placeholders(item)


def step_inputs(step: Step) -> Iterator[tuple[str, Any]]:
    """The parts of a step where ``{name}`` expands, by key."""
    yield "url", step.url
    yield "headers", step.headers
    yield "json", step.json_
    yield "form", step.form
    yield "body", step.body
    yield "expect", step.expect.json_
    yield "expect", step.expect.body_contains
    for check in step.expect.jwt.values():
        if isinstance(check.claims, dict):
            yield "expect", check.claims
    if step.expect.not_ is not None:
        yield "expect", step.expect.not_.json_
        yield "expect", step.expect.not_.body_contains
    sse = step.expect.sse
    for match in (sse.last, sse.any_, sse.none) if sse else ():
        if match is not None:
            yield "expect", match.json_
            yield "expect", match.data_contains


def step_needs(step: Step) -> set[str]:
    needs = {name for _, value in step_inputs(step) for name in placeholders(value)}
    needs |= {c.differs_from for c in step.expect.jwt.values() if c.differs_from}
    return needs


def _check_names(spec: SmokeSpec, node: yaml.Node | None, source: str, extra_vars: set[str]) -> None:
    """Every ``{name}`` must be a built-in, a var, a secret, or captured by an earlier step."""

    def fail(loc: tuple[int | str, ...], message: str) -> ConfigError:
        line = line_of(node, loc)
        return ConfigError(f"{source}:{line}: {'.'.join(str(p) for p in loc)}: {message}")

    known = set(BUILTINS) | set(spec.secrets) | extra_vars
    for name, value in spec.vars.items():
        for used in placeholders(value):
            if used not in known and used not in spec.vars:
                raise fail(("vars", name), f"{{{used}}} is not a built-in, a secret or a var")
        known.add(name)
    known |= set(spec.vars)
    for used in placeholders(spec.jwks_url or ""):
        if used not in known:
            raise fail(("jwks_url",), f"{{{used}}} is not a built-in, a secret or a var")
    for f, flow in enumerate(spec.flows):
        for s, step in enumerate(flow.steps):
            for key, value in step_inputs(step):
                for used in placeholders(value):
                    if used not in known:
                        raise fail(
                            ("flows", f, "steps", s, key),
                            f"{{{used}}} is not a built-in, a var, a secret or captured by an earlier step",
                        )
            for expr, check in step.expect.jwt.items():
                if check.differs_from and check.differs_from not in known:
                    raise fail(
                        ("flows", f, "steps", s, "expect", "jwt", expr, "differs_from"),
                        f"{check.differs_from!r} is not captured by an earlier step",
                    )
            known |= set(step.capture)
    names = [flow.name for flow in spec.flows]
    for f, name in enumerate(names):
        if names.index(name) != f:
            raise fail(("flows", f, "name"), f"flow {name!r} is named twice")


def parse(text: str, source: str, extra_vars: set[str] | None = None) -> SmokeSpec:
    node, data = load_yaml(text, source)
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with vars, secrets, jwks_url and flows")
    try:
        spec = SmokeSpec.model_validate(data)
    except ValidationError as exc:
        raise located_error(exc, node, source) from None
    _check_names(spec, node, source, extra_vars or set())
    return spec


def load(path: Path | None, extra_vars: set[str] | None = None) -> SmokeSpec:
    path = path or DEFAULT_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"--spec {path}: no such file (write one like examples/smoke.yml)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--spec {path}: cannot read it ({exc})") from None
    return parse(text, str(path), extra_vars)


def schema_text() -> str:
    schema = SmokeSpec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2) + "\n"


def expand(value: Any, values: Mapping[str, str]) -> Any:
    """``{name}`` replaced in a string, or in every string value of a JSON-like value."""
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {k: expand(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, values) for v in value]
    return value
