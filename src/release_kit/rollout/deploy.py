"""deploy: roles one at a time in the order given (api before web), each checked; a fail stops
before the next role. The platform engine is picked from ``deploy.platform``.

Importable for rollback: :func:`deploy_images` takes settings and digest-pinned images, returns
the report, and prints nothing but progress lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from release_kit import timing
from release_kit.errors import ExitCode, InputError
from release_kit.http import Clock, SystemClock
from release_kit.platforms import Engine, get
from release_kit.records.provenance import Allowed, allowed_repositories, current_image_reader
from release_kit.rollout.images import ImageRef, images_from_report, parse_image_pairs
from release_kit.rollout.models import DeployReport, RoleResult, Verdict
from release_kit.rollout.waiting import POLL_INTERVAL
from release_kit.target.resolve import settings_from_flags
from release_kit.target.settings import DeploySettings, Role

DEFAULT_DEPLOY_TIMEOUT = 900.0
DEFAULT_MIGRATE_TIMEOUT = 1800.0


def engine_for(
    settings: DeploySettings,
    *,
    clock: Clock,
    interval: float = POLL_INTERVAL,
    credential: Any = None,
    arm_endpoint: str | None = None,
    lro_interval: float | None = None,
) -> tuple[Engine, Any]:
    """The platform's engine and its client counter (``.calls``)."""
    return get(settings.require_platform()).engine(
        settings,
        clock=clock,
        interval=interval,
        credential=credential,
        endpoint=arm_endpoint,
        lro_interval=lro_interval,
    )


def default_engine(settings: DeploySettings) -> tuple[Engine, Any]:
    """The platform's engine on the system clock."""
    return engine_for(settings, clock=SystemClock())


def allowed_for(settings: DeploySettings, roles: list[Role], engine: tuple[Engine, Any]) -> Allowed:
    """The allowed repository of each role: ``deploy.images``, else the image its service runs now."""
    return allowed_repositories(settings, roles, current_image_reader(settings, *engine))


def deploy_images(
    settings: DeploySettings,
    images: dict[Role, ImageRef],
    timeout: float = DEFAULT_DEPLOY_TIMEOUT,
    *,
    clock: Clock | None = None,
    engine: tuple[Engine, Any] | None = None,
    not_deployed: list[str] | None = None,
    allowed: Allowed | None = None,
) -> DeployReport:
    """Deploy each role's image in order, waiting up to ``timeout`` seconds per role; stop at the first fail.

    Only images of the allowed repositories (``allowed``, else :func:`allowed_for`) are deployed: one
    from elsewhere is exit 2, naming the role, the image and the allowed repository, before anything moves.
    """
    if not images:
        raise InputError("nothing to deploy: pass --image ROLE=REF or --images-from PUBLISH_REPORT")
    names = {role: settings.require_service(role) for role in images}  # every service named before anything moves
    platform = settings.require_platform()
    runner, counter = engine or engine_for(settings, clock=clock or SystemClock())
    (allowed or allowed_for(settings, list(images), (runner, counter))).require(images)
    results: list[RoleResult] = []
    failed: RoleResult | None = None
    for role, image in images.items():
        if failed is not None:
            results.append(
                RoleResult(
                    role=role,
                    service=names[role],
                    image=str(image),
                    verdict=Verdict.SKIPPED,
                    reason=f"not deployed: {failed.role} failed first",
                )
            )
            continue
        started_at = timing.utc_now()
        result = runner.deploy(role, names[role], settings.containers.get(role), image, timeout)
        result = result.model_copy(update={"started_at": started_at, "finished_at": timing.utc_now()})
        results.append(result)
        if result.verdict is not Verdict.PASS:
            failed = result
    return DeployReport(
        platform=platform,
        passed=failed is None,
        roles=results,
        not_deployed=not_deployed or [],
        calls=int(getattr(counter, "calls", 0)),
    )


def deploy_command(
    *,
    images: tuple[str, ...],
    images_from: Path | None,
    timeout: float,
    report_path: Path | None,
    fmt: str,
    config_path: Path | None,
    repo: str | None = None,
    require_attestations: bool | None = None,
    custom_trusted_root: Path | None = None,
    **flags: Any,
) -> ExitCode:
    from release_kit import gha
    from release_kit.rollout.attested import require_attested
    from release_kit.rollout.report import publish_deploy

    if images and images_from:
        raise InputError("--image and --images-from: give one of them, not both")
    others: list[str] = []
    if images_from is not None:
        wanted, others = images_from_report(images_from)
    else:
        wanted = parse_image_pairs(images)
    settings = settings_from_flags(config_path, **flags)
    if images_from is not None:  # a publish report may hold images of roles this environment does not run
        skipped = [role for role in wanted if not settings.services.get(role)]
        others += [f"{role} (no deploy.services.{role})" for role in skipped]
        wanted = {role: ref for role, ref in wanted.items() if role not in skipped}
    if require_attestations:
        settings = settings.model_copy(update={"require_attestations": True})
    for line in require_attested(settings, wanted, repository=repo, custom_trusted_root=custom_trusted_root):
        gha.progress(f"release-kit: {line}")  # every digest attested by our release workflow, before anything moves
    report = deploy_images(settings, wanted, timeout, not_deployed=others)
    return publish_deploy(report, report_path, fmt)
