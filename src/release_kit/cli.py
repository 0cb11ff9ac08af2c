"""The ``release-kit`` command line: the only place that turns errors into exit codes.

Capabilities are imported inside their commands, so ``release-kit --help`` starts fast
and never loads httpx, boto3, azure or cryptography.
"""

from __future__ import annotations

import os
import sys
import traceback

import click

from release_kit import __version__, gha
from release_kit.errors import ExitCode, ReleaseKitError

INTERNAL_ERROR = 70


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="release-kit")
def cli() -> None:
    """Enforced, evidenced release steps for GitHub Actions and laptops.

    Exit codes: 0 success; 1 what was verified is not OK; 2 usage, configuration,
    input or permission error; 3 a remote gave up after retries; 70 internal error
    (a bug: RELEASE_KIT_DEBUG=1 shows the traceback).
    """


def _register() -> None:
    """Capabilities whose options live beside them (click only, so start-up stays fast)."""
    from release_kit.gates.cli import verify_gates
    from release_kit.images.cli import publish_images
    from release_kit.init.cli import init, schema
    from release_kit.preflight.cli import preflight
    from release_kit.probes.cli import health, smoke
    from release_kit.records.cli import last_good, record
    from release_kit.release.cli import release
    from release_kit.rollout.cli import deploy, migrate, rollback
    from release_kit.summary.cli import summary
    from release_kit.verify_release.cli import verify_release

    for command in (
        schema,
        verify_gates,
        publish_images,
        verify_release,
        release,
        preflight,
        migrate,
        deploy,
        health,
        smoke,
        record,
        last_good,
        rollback,
        summary,
        init,
    ):
        cli.add_command(command)


_register()


def _fail(message: str, code: int) -> int:
    message = gha.printable(" ".join(gha.redact(message).split()))  # a remote's terminal escapes stay inert
    if gha.in_actions():
        gha.error(message, title="release-kit")
    else:
        click.echo(f"release-kit: error: {message}", err=True)
    return code


def _print_traceback() -> None:
    """RELEASE_KIT_DEBUG=1: the traceback, redacted and never read as workflow commands, like all our output."""
    gha.echo_untrusted(traceback.format_exc(), err=True)


def _network_error(exc: BaseException) -> bool:
    httpx = sys.modules.get("httpx")  # only loaded once a command talked to a remote
    return httpx is not None and isinstance(exc, httpx.TransportError)


def _describe_network_error(exc: BaseException) -> str:
    from release_kit.http import unreachable_cause, unreachable_hint

    try:
        host = exc.request.url.host  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # httpx raises RuntimeError when no request is attached
        host = "a remote"
    cause = unreachable_cause(exc)
    if cause is not None:
        return f"{host}: {cause} ({unreachable_hint()})"
    return f"network error talking to {host}: {type(exc).__name__}: {exc}"


def run_cli(argv: list[str] | None = None) -> int:
    debug = os.environ.get("RELEASE_KIT_DEBUG") == "1"
    try:
        result = cli.main(args=argv, prog_name="release-kit", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""  # e.g. release-kit release build
        return _fail(exc.format_message() + hint, ExitCode.USAGE)
    except click.Abort:
        return _fail("aborted", 130)
    except ReleaseKitError as exc:
        if debug:
            _print_traceback()
        return _fail(exc.one_line(), exc.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as exc:
        if debug:
            _print_traceback()
        if _network_error(exc):  # a final network failure that no retry could cure
            return _fail(_describe_network_error(exc), ExitCode.REMOTE)
        return _fail(
            f"internal error: {type(exc).__name__}: {exc} (a bug; RELEASE_KIT_DEBUG=1 shows the traceback)",
            INTERNAL_ERROR,
        )
    return int(result) if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run_cli())
