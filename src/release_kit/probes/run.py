"""health and smoke end to end: inputs checked, probes run, then report, summary, annotations, outputs."""

from __future__ import annotations

import os
import re
import secrets
import ssl
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from release_kit import gha
from release_kit.errors import ExitCode, InputError
from release_kit.http import RetryPolicy
from release_kit.probes import report as render
from release_kit.probes.models import HealthReport, SmokeReport, Verdict
from release_kit.reporting import JsonReport, emit, write_report

if TYPE_CHECKING:
    from release_kit.probes.smoke_spec import SmokeSpec

HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
SENSITIVE = ("authorization", "cookie", "token", "key", "secret", "password")


def check_url(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{what} {gha.redact(url)!r}: expected an http:// or https:// URL with a host")
    if parts.username or parts.password:  # never echoed: the part before @ is a credential
        gha.mask(parts.password)
        raise InputError(
            f"{what}: credentials in the URL (USER:PASSWORD@HOST) are refused",
            hint="give the bare URL and the credential as --header 'Authorization: ...' (masked)",
        )
    return url


def parse_header(item: str) -> tuple[str, str]:
    name, sep, value = item.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not HEADER_NAME.match(name) or "\n" in value or "\r" in value:
        raise InputError(f"--header {name or item!r}: expected 'Name: value'")
    if any(word in name.lower() for word in SENSITIVE):
        mask_credential(value)
    return name, value


def mask_credential(value: str) -> None:
    """Mask a header value and, for ``Bearer x``/``Basic x``, the credential on its own."""
    gha.mask(value)
    scheme, _, credential = value.partition(" ")
    if credential.strip() and scheme.isalpha():
        gha.mask(credential.strip())


def tls_context(ca_bundle: Path | None) -> bool | ssl.SSLContext:
    """Certificates are always verified; ``--ca-bundle`` adds a private CA."""
    if ca_bundle is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(ca_bundle))
    except FileNotFoundError:
        raise InputError(f"--ca-bundle {ca_bundle}: no such file") from None
    except (OSError, ssl.SSLError) as exc:
        raise InputError(f"--ca-bundle {ca_bundle}: not a PEM CA bundle ({exc})") from None


def _publish(result: JsonReport, text: str, markdown: str, report_path: Path | None, name: str, fmt: str) -> None:
    if report_path is None and gha.in_actions() and os.environ.get("RUNNER_TEMP"):
        report_path = Path(os.environ["RUNNER_TEMP"]) / "release-kit" / f"{name}.json"
    if report_path is not None:
        write_report(result, report_path)
    emit(result, text, fmt)
    gha.add_summary(markdown)
    passed = bool(getattr(result, "passed", False))
    gha.set_outputs({"passed": "true" if passed else "false", "report": str(report_path or "")})


# -- health ---------------------------------------------------------------------


def run_health(
    *,
    api_url: str | None,
    web_url: str | None,
    urls: Sequence[str],
    deadline: float,
    attempt_timeout: float,
    interval: float,
    consecutive: int,
    expect_status: Sequence[int],
    expect_json: Sequence[str],
    expect_version: str | None,
    version_field: str,
    headers: Sequence[str],
    ca_bundle: Path | None,
    report_path: Path | None,
    fmt: str,
    config_path: Path | None = None,
    policy: RetryPolicy | None = None,
    started: float | None = None,
) -> ExitCode:
    """``started``: the ``time.monotonic()`` the command began at; the deadline counts from it."""
    from release_kit.probes.health import HealthOptions, endpoints, poll
    from release_kit.probes.readiness import per_service
    from release_kit.probes.verdicts import Expectations, compile_expr, parse_expect_json

    parsed_headers = tuple(parse_header(h) for h in headers)
    for what, base in (("--api-url", api_url), ("--web-url", web_url)):
        if base:
            check_url(base, what)
    for url in urls:
        check_url(url, "--url")
    expect = Expectations(
        statuses=frozenset(expect_status or (200,)),
        json=tuple(parse_expect_json(item) for item in expect_json),
        version=expect_version,
        version_field=version_field,
        version_expr=compile_expr(version_field, "--version-field"),
    )
    bases = {role: base for role, base in (("api", api_url), ("web", web_url)) if base}
    paths, per_url = per_service(config_path, bases, expect)
    targets = endpoints(api_url, web_url, urls, paths)
    if not targets:
        raise InputError("no endpoint to check: give --api-url, --web-url or --url")
    spent = time.monotonic() - started if started is not None else 0.0
    options = HealthOptions(
        urls=targets,
        deadline=max(0.0, deadline - spent),
        attempt_timeout=attempt_timeout,
        interval=interval,
        consecutive=consecutive,
        expect=expect,
        per_url=per_url,
        headers=parsed_headers,
        verify=tls_context(ca_bundle),
    )
    result: HealthReport = poll(options, policy=policy)
    _publish(result, render.health_text(result), render.health_markdown(result), report_path, "health", fmt)
    for endpoint in result.endpoints if gha.in_actions() else []:
        if endpoint.verdict is not Verdict.PASS:
            gha.error(endpoint.reason, title=f"health {endpoint.url}: not ready")
    return verdict_code(result.passed)


# -- smoke ------------------------------------------------------------------------


def _parse_vars(items: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name.strip()):
            raise InputError(f"--var {item.partition('=')[0]!r}: expected NAME=VALUE")
        found[name.strip()] = value
    return found


def run_smoke(
    *,
    spec_path: Path | None,
    flows: Sequence[str],
    variables: Sequence[str],
    api_url: str | None,
    web_url: str | None,
    ca_bundle: Path | None,
    report_path: Path | None,
    fmt: str,
) -> ExitCode:
    from release_kit.http import make_client
    from release_kit.probes import smoke_spec
    from release_kit.probes.jwt_checks import JwksVerifier
    from release_kit.probes.smoke import SmokeRunner
    from release_kit.probes.smoke_spec import expand

    overrides = _parse_vars(variables)
    spec = smoke_spec.load(spec_path, set(overrides))
    names = {f.name for f in spec.flows}
    unknown = [f for f in flows if f not in names]
    if unknown:
        raise InputError(f"--flow {unknown[0]!r}: not in the spec (flows: {', '.join(sorted(names))})")

    values: dict[str, str] = {"run_id": f"{int(time.time())}-{secrets.token_hex(4)}"}
    for what, base, key in (("--api-url", api_url, "api_url"), ("--web-url", web_url, "web_url")):
        if base:
            values[key] = check_url(base, what).rstrip("/")
    for name, variable in spec.secrets.items():
        secret = os.environ.get(variable)
        if not secret:
            raise InputError(f"secret {name!r}: environment variable {variable} is not set (or empty)")
        gha.mask(secret)  # the moment it exists
        values[name] = secret
    for name, value in spec.vars.items():
        values[name] = expand(value, values)
    values.update(overrides)
    needed = {n for n in ("api_url", "web_url") if n not in values}
    used = _used_names(spec)
    for name in sorted(needed & used):
        flag = "--" + name.replace("_", "-")
        raise InputError(f"{flag} is required: the spec uses {{{name}}}")

    verify = tls_context(ca_bundle)
    with (
        make_client(verify=verify, retrying=False, follow_redirects=False) as client,
        make_client(
            verify=verify, policy=RetryPolicy(budget=min(RetryPolicy().budget, 60.0)), follow_redirects=False
        ) as jwks_client,  # keys come from the jwks_url's own origin: a redirect is never followed
    ):
        verifier = None
        if spec.jwks_url:
            verifier = JwksVerifier(check_url(expand(spec.jwks_url, values), "jwks_url"), jwks_client)
        runner = SmokeRunner(spec, values, client, verifier=verifier)
        result: SmokeReport = runner.run(set(flows) if flows else None)

    _publish(result, render.smoke_text(result), render.smoke_markdown(result), report_path, "smoke", fmt)
    failed = [(f, s) for f in result.flows for s in f.steps if s.verdict is Verdict.FAIL]
    for flow, step in failed if gha.in_actions() else []:
        gha.error(render.step_said(step), title=f"smoke {flow.name}/{step.name}: fail")
    return verdict_code(result.passed)


def verdict_code(passed: bool) -> ExitCode:
    """health's and smoke's exit code: the app under test not answering (refused, reset, timed out) is a
    failed check like a wrong answer, exit 1; exit 3 is kept for the services release-kit depends on."""
    return ExitCode.OK if passed else ExitCode.NOT_OK


def _used_names(spec: SmokeSpec) -> set[str]:
    from release_kit.probes.smoke_spec import placeholders, step_needs

    used = set(placeholders(spec.jwks_url or "")) | {n for v in spec.vars.values() for n in placeholders(v)}
    for flow in spec.flows:
        for step in flow.steps:
            used |= step_needs(step)
    return used
