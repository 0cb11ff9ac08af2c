"""The ``release-kit`` command line: the only place that turns errors into exit codes.

Capabilities are imported inside their commands, so ``release-kit --help`` starts fast
and never loads httpx, boto3, azure or cryptography.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

import click

from release_kit import __version__, gha
from release_kit.errors import ExitCode, ReleaseKitError

INTERNAL_ERROR = 70


# The commands in runbook order, by group: (name, "module:object", an example that ends its help).
COMMANDS: dict[str, list[tuple[str, str, str]]] = {
    "Set-up": [
        ("init", "release_kit.init.cli:init", "release-kit init --registry ghcr --platform ecs"),
        ("schema", "release_kit.init.cli:schema", "release-kit schema config > release-kit.schema.json"),
    ],
    "Release": [
        ("verify-gates", "release_kit.gates.cli:verify_gates", "release-kit verify-gates --ref v1.4.0 --wait 15m"),
        (
            "publish-images",
            "release_kit.images.cli:publish_images",
            "release-kit publish-images --registry ghcr.io --image-prefix octo-org/app "
            "--image api=api.tar --tag-from-ref",
        ),
        ("release", "release_kit.release.cli:release", "release-kit release build --tag v1.4.0 --package backend"),
        ("verify-release", "release_kit.verify_release.cli:verify_release", "release-kit verify-release --tag v1.4.0"),
    ],
    "Deploy": [
        ("preflight", "release_kit.preflight.cli:preflight", "release-kit preflight --config .github/release-kit.yml"),
        ("migrate", "release_kit.rollout.cli:migrate", "release-kit migrate --snapshot --tag v1.4.0"),
        ("deploy", "release_kit.rollout.cli:deploy", "release-kit deploy --images-from publish.json"),
        ("health", "release_kit.probes.cli:health", "release-kit health --api-url https://api.example.com"),
        ("smoke", "release_kit.probes.cli:smoke", "release-kit smoke --api-url https://api.example.com"),
        (
            "record",
            "release_kit.records.cli:record",
            "release-kit record --environment production --state success --images-from publish.json",
        ),
        ("last-good", "release_kit.records.cli:last_good", "release-kit last-good --environment production"),
        ("rollback", "release_kit.rollout.cli:rollback", "release-kit rollback --environment production"),
    ],
    "Evidence": [
        ("summary", "release_kit.summary.cli:summary", "release-kit summary --half deploy"),
    ],
}
SUBCOMMAND_EXAMPLES = {
    "release build": "release-kit release build --tag v1.4.0 --package backend --frontend web",
    "release plan": "release-kit release plan",
    "release upload": "release-kit release upload --attest",
    "release publish": "release-kit release publish",
}


def _with_example(command: click.Command, path: str, example: str) -> click.Command:
    if example and not command.epilog:
        command.epilog = f"\b\nExample:\n  {example}"  # \b: click keeps the line as written
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            _with_example(sub, f"{path} {name}", SUBCOMMAND_EXAMPLES.get(f"{path} {name}", ""))
    return command


class RunbookGroup(click.Group):
    """Lists the commands by group in runbook order and imports a command's ``cli.py`` only when it
    is used (``release-kit verify-gates`` loads no other capability's declarations)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for rows in COMMANDS.values() for name, _, _ in rows]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        for name, target, example in (row for rows in COMMANDS.values() for row in rows):
            if name == cmd_name:
                module, _, attr = target.partition(":")
                return _with_example(getattr(importlib.import_module(module), attr), name, example)
        return None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for title, rows in COMMANDS.items():  # each command's first sentence whole, wrapped beside its name
            with formatter.section(f"{title} commands"):
                formatter.write_dl(
                    [(name, self.get_command(ctx, name).get_short_help_str(200)) for name, _, _ in rows]  # type: ignore[union-attr]
                )


@click.group(
    cls=RunbookGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="\b\nExample, the release half on a laptop (--repo and --ref from the git checkout):\n"
    "  release-kit verify-gates\n"
    "Each command's --help ends with an example; docs/cli.md has the whole runbook.",
)
@click.version_option(__version__, prog_name="release-kit")
def cli() -> None:
    """Enforced, evidenced release steps for GitHub Actions and laptops.

    Exit codes: 0 success; 1 what was verified is not OK; 2 usage, configuration,
    input or permission error; 3 a remote gave up after retries; 70 internal error
    (a bug: RELEASE_KIT_DEBUG=1 shows the traceback).
    """
    from release_kit import timing

    timing.mark_started()  # every report's started_at: this command's, even when one process runs several


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
    except click.exceptions.NoArgsIsHelpError as exc:  # `release-kit`, `release-kit release`: the help, as asked
        click.echo(exc.ctx.get_help())
        return ExitCode.OK
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
