"""The click commands ``health`` and ``smoke``; this module imports only click (``--help`` stays fast)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from release_kit.options import config_option, env, verdict_options


class Lines(click.ParamType[str]):
    """A text value; from an action input (an env var) one per line, since values hold spaces."""

    name = "text"
    envvar_list_splitter = "\n"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return str(value).strip()


LINES = Lines()
_BASE_REQUIRED = "health: one of --api-url, --web-url, --url is required; smoke: required when the spec uses it."


def _report_options(func: click.decorators.FC) -> click.decorators.FC:
    func = verdict_options(func)
    func = click.option(
        "--ca-bundle",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=env("ca-bundle"),
        help="PEM file of a private CA to trust (certificates are always verified).",
    )(func)
    func = click.option(
        "--web-url", envvar=env("web-url"), metavar="BASE", help=f"The web app's base URL. {_BASE_REQUIRED}"
    )(func)
    func = click.option(
        "--api-url", envvar=env("api-url"), metavar="BASE", help=f"The API's base URL. {_BASE_REQUIRED}"
    )(func)
    return func


@click.command("health")
@click.option(
    "--url",
    "urls",
    multiple=True,
    envvar=env("urls"),
    metavar="URL",
    help="Any URL to poll. Repeatable. health needs at least one of --api-url, --web-url, --url.",
)
@click.option(
    "--deadline",
    type=click.FloatRange(min=0.1, max=6 * 3600),
    default=300.0,
    show_default=True,
    envvar=env("deadline"),
    help="Seconds until the verdict, whatever the servers do.",
)
@click.option(
    "--attempt-timeout",
    type=click.FloatRange(min=0.05, max=600),
    default=5.0,
    show_default=True,
    envvar=env("attempt-timeout"),
    help="Seconds one attempt may take, body included.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0, max=600),
    default=2.0,
    show_default=True,
    envvar=env("interval"),
    help="Seconds between attempts (±20% jitter).",
)
@click.option(
    "--consecutive",
    type=click.IntRange(min=1, max=100),
    default=3,
    show_default=True,
    envvar=env("consecutive"),
    help="Passing answers in a row an endpoint needs.",
)
@click.option(
    "--expect-status",
    multiple=True,
    type=click.IntRange(100, 599),
    envvar=env("expect-status"),
    metavar="CODE",
    help="An accepted status. Repeatable. Default: 200.",
)
@click.option(
    "--expect-json",
    multiple=True,
    type=LINES,
    envvar=env("expect-json"),
    metavar="EXPR=VALUE",
    help="JMESPath on the JSON body must equal VALUE (JSON if it parses, else text). Repeatable.",
)
@click.option("--expect-version", envvar=env("expect-version"), help="The version every answer must report.")
@click.option(
    "--version-field",
    default="version",
    show_default=True,
    envvar=env("version-field"),
    metavar="EXPR",
    help="JMESPath of the version in the JSON body.",
)
@click.option(
    "--header",
    "headers",
    multiple=True,
    type=LINES,
    envvar=env("headers"),
    metavar="'Name: value'",
    help="Sent with every attempt.",
)
@config_option("Config whose deploy.health says what ready means per service. Default: .github/release-kit.yml.")
@_report_options
def health(
    urls: tuple[str, ...],
    deadline: float,
    attempt_timeout: float,
    interval: float,
    consecutive: int,
    expect_status: tuple[int, ...],
    expect_json: tuple[str, ...],
    expect_version: str | None,
    version_field: str,
    headers: tuple[str, ...],
    api_url: str | None,
    web_url: str | None,
    ca_bundle: Path | None,
    config_path: Path | None,
    report_path: Path | None,
    fmt: str,
) -> int:
    """Poll readiness endpoints until each passes N times in a row, or the deadline.

    --api-url BASE checks BASE/health/ready and --web-url BASE checks BASE/api/health/ready, or the
    paths deploy.health.api/web of the config give, with their expect_json and expect_version.
    """
    started = time.monotonic()  # the deadline counts from here, imports included
    from release_kit.probes.run import run_health

    return run_health(
        api_url=api_url or None,
        web_url=web_url or None,
        urls=[u for u in urls if u],
        deadline=deadline,
        attempt_timeout=attempt_timeout,
        interval=interval,
        consecutive=consecutive,
        expect_status=list(expect_status),
        expect_json=[e for e in expect_json if e],
        expect_version=expect_version or None,
        version_field=version_field or "version",
        headers=[h for h in headers if h],
        ca_bundle=ca_bundle,
        config_path=config_path,
        report_path=report_path,
        fmt=fmt,
        started=started,
    )


@click.command("smoke")
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=env("spec"),
    help="The smoke spec. Default: .github/release-kit-smoke.yml.",
)
@click.option(
    "--flow", "flows", multiple=True, envvar=env("flows"), metavar="NAME", help="Run only this flow. Repeatable."
)
@click.option(
    "--var",
    "variables",
    multiple=True,
    type=LINES,
    envvar=env("vars"),
    metavar="NAME=VALUE",
    help="Set a spec var. Repeatable.",
)
@_report_options
def smoke(
    spec_path: Path | None,
    flows: tuple[str, ...],
    variables: tuple[str, ...],
    api_url: str | None,
    web_url: str | None,
    ca_bundle: Path | None,
    report_path: Path | None,
    fmt: str,
) -> int:
    """Run the smoke flows (log in as the smoke user, /me, chat stream, token refresh) against a deploy."""
    from release_kit.probes.run import run_smoke

    return run_smoke(
        spec_path=spec_path,
        flows=[f for f in flows if f],
        variables=[v for v in variables if v],
        api_url=api_url or None,
        web_url=web_url or None,
        ca_bundle=ca_bundle,
        report_path=report_path,
        fmt=fmt,
    )
