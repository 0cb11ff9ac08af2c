"""rollback: the last known good images back on every role, never a migration, and a record of it.

1. ``search_last_good`` (or the newest good record of ``--to``); none is exit 1 naming what was read.
2. ``deploy_images`` with those exact digests, api then web (only the roles the record holds and
   this environment runs); no migration, ever.
3. ``write_record`` with ``rollback_of`` = the newest release-kit record (the release rolled back),
   state from the deploy verdict, checks ``{"deploy": pass|fail}``, the good record's ref and images.
   The record is written when the deploy fails too.
4. The database keeps its schema: :mod:`release_kit.rollout.restore` prints, and never runs, the
   restore from the snapshot the rolled-back release's record names.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from release_kit.errors import AccessError, ExitCode, InputError, ReleaseKitError
from release_kit.github.client import GitHubClient, GitHubError, GitHubForbidden, GitHubNotFound, RepoName, parse_repo
from release_kit.platforms import Engine
from release_kit.records.deployments import (
    GoodRecord,
    LastGoodSearch,
    Record,
    RecordResult,
    require_last_good,
    run_url,
    search_last_good,
    write_record,
)
from release_kit.records.models import NoGoodRecord, Progress
from release_kit.records.payload import REF_RE, TASK, parse_payload
from release_kit.records.provenance import DigestCheck, deployed_roles
from release_kit.rollout.attested import require_attested
from release_kit.rollout.deploy import DEFAULT_DEPLOY_TIMEOUT, allowed_for, default_engine, deploy_images
from release_kit.rollout.images import ImageRef, parse_image
from release_kit.rollout.models import RollbackReport, RolledBack
from release_kit.rollout.restore import RestoreAdvice, advise, rds_identifier
from release_kit.target.settings import ROLES, DeploySettings, Role


class _Listed(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    ref: str = ""
    task: str | None = None
    environment: str | None = None
    payload: Any = None
    created_at: datetime


def newest_record(client: GitHubClient, repo: RepoName, environment: str) -> RolledBack | None:
    """The newest deployment release-kit wrote in ``environment`` (reads until the first one)."""
    path = f"/repos/{repo.owner}/{repo.name}/deployments"
    try:
        for raw in client.paginate(path, {"environment": environment, "task": TASK}):
            try:
                listed = _Listed.model_validate(raw)
            except ValidationError:
                continue
            payload = parse_payload(listed.payload)
            if listed.task != TASK or listed.environment not in (None, environment) or not REF_RE.match(listed.ref):
                continue
            if payload is not None:
                return RolledBack(
                    deployment_id=listed.id, ref=listed.ref, snapshot=payload.snapshot, created_at=listed.created_at
                )
    except (GitHubForbidden, GitHubNotFound) as err:
        raise AccessError(
            f"cannot read the deployments of {repo} ({err.status} {err.api_message})",
            hint="grant the job `permissions: deployments: write`",
        ) from None
    return None


def plan_roles(settings: DeploySettings, good: GoodRecord) -> tuple[dict[Role, ImageRef], list[str]]:
    """The record's images this environment runs, in the runbook's order (api, web, worker), and the rest."""
    images: dict[Role, ImageRef] = {}
    for role in ROLES:
        if role in good.images and settings.services.get(role):
            images[role] = parse_image(good.images[role], f"record {good.deployment_id} image {role}")
    others = [
        f"{role} (no deploy.services.{role})" if role in ROLES else f"{role} (not a role release-kit deploys)"
        for role in good.images
        if role not in images
    ]
    return images, others


def check_settings(settings: DeploySettings) -> None:
    """Every setting the deploy needs, before GitHub is asked anything (exit 2 naming the first missing)."""
    from release_kit.platforms import get

    get(settings.require_platform()).check_settings(settings)


def _cluster_engine(settings: DeploySettings, snapshot: str) -> tuple[str | None, str | None]:
    """The Aurora cluster snapshot's engine (read-only), or None and why not."""
    from release_kit.clouds.aws import Aws

    try:
        aws = Aws(settings.aws_region())
        rds = aws.client("rds")
        found = aws.call(
            "rds:DescribeDBClusterSnapshots",
            rds.describe_db_cluster_snapshots,
            missing=("DBClusterSnapshotNotFoundFault",),
            DBClusterSnapshotIdentifier=snapshot,
        )
    except ReleaseKitError as err:
        return None, err.one_line()
    items = (found or {}).get("DBClusterSnapshots") or []
    if not items:
        return None, f"no cluster snapshot {snapshot} in {settings.aws_region()}"
    return str(items[0].get("Engine") or "") or None, None


def database_advice(settings: DeploySettings, rolled_back: RolledBack | None, good_ref: str) -> RestoreAdvice:
    database = settings.backups.database
    snapshot = rolled_back.snapshot if rolled_back else None
    engine = problem = None
    if database is not None and database.kind == "rds_cluster" and snapshot and rds_identifier(snapshot):
        engine, problem = _cluster_engine(settings, snapshot)
    return advise(
        database,
        snapshot,
        rolled_back_ref=rolled_back.ref if rolled_back else None,
        good_ref=good_ref,
        rolled_back_at=rolled_back.created_at if rolled_back else None,
        resource_group=settings.resource_group,
        engine=engine,
        engine_problem=problem,
    )


def run_rollback(
    settings: DeploySettings,
    client: GitHubClient,
    repo: RepoName,
    environment: str,
    to_ref: str | None = None,
    timeout: float = DEFAULT_DEPLOY_TIMEOUT,
    *,
    progress: Progress | None = None,
    engine: tuple[Engine, Any] | None = None,
    digests: DigestCheck | None = None,
    custom_trusted_root: Path | None = None,
) -> tuple[RollbackReport, ReleaseKitError | None]:
    """Search, redeploy, record. Returns the report and the record's error (None when it was written).

    A record is a hint, never proof: records whose images are not from the allowed repositories
    (``deploy.images``, else what each service runs now), or whose digests do not exist there, are
    skipped and the search goes on to older ones. No good record raises :class:`NoGoodRecord`
    (exit 1) before anything is deployed or recorded. A deploy that raises is recorded as a
    failure, then the error goes on.
    """
    say = progress or (lambda _line: None)
    check_settings(settings)
    runner = engine or default_engine(settings)
    roles = deployed_roles(settings)
    allowed = allowed_for(settings, roles, runner)
    say("allowed image repositories: " + ", ".join(f"{role}={repo}" for role, repo in allowed.repositories.items()))
    checker = digests or DigestCheck()
    try:
        search: LastGoodSearch = search_last_good(
            client,
            repo,
            environment,
            to_ref,
            progress=say,
            foreign=allowed.problem,
            vet=lambda good: checker.missing(good.images, roles),
        )
    finally:
        if digests is None:
            checker.close()
    good = require_last_good(search)
    images, others = plan_roles(settings, good)
    if not images:
        raise InputError(
            f"record {good.deployment_id} of {good.ref} holds images for {', '.join(good.images)}; this environment "
            "runs none of them (set deploy.services or pass --service ROLE=NAME)"
        )
    for line in require_attested(settings, images, repository=repo.full_name, custom_trusted_root=custom_trusted_root):
        say(line)  # deploy.require_attestations: every digest attested by our release workflow, or nothing moves
    newest = search.newest
    if newest is not None:
        rolled_back: RolledBack | None = RolledBack(
            deployment_id=newest.deployment_id, ref=newest.ref, snapshot=newest.snapshot, created_at=newest.created_at
        )
    else:
        rolled_back = newest_record(client, repo, environment)
    if rolled_back is not None and rolled_back.deployment_id == good.deployment_id:
        rolled_back = None  # --to the release that runs now: nothing is rolled back
    rollback_of = rolled_back.deployment_id if rolled_back else None
    say(
        f"rolling {environment} back to {good.ref} (deployment {good.deployment_id}): "
        f"{', '.join(images)}; no migration is run"
    )

    def record(state: str) -> RecordResult:
        entry = Record.build(
            environment=environment,
            state=state,
            ref=good.ref,
            images=dict(good.images),
            checks={"deploy": "pass" if state == "success" else "fail"},
            rollback_of=rollback_of,
            log_url=run_url(),
        )
        return write_record(client, repo, entry)

    try:
        deployed = deploy_images(settings, images, timeout, engine=runner, not_deployed=others, allowed=allowed)
    except ReleaseKitError as err:
        try:
            failed = record("failure")
            err.message += f" (recorded as failed rollback deployment {failed.deployment_id})"
        except (ReleaseKitError, GitHubError) as record_err:
            err.message += f" (and the failed rollback was not recorded: {record_err.one_line()})"
        err.args = (err.message,)
        raise
    record_error: ReleaseKitError | None = None
    written: RecordResult | None = None
    try:
        written = record("success" if deployed.passed else "failure")
    except ReleaseKitError as err:
        record_error = err
    report = RollbackReport(
        repository=repo.full_name,
        environment=environment,
        passed=deployed.passed and written is not None,
        good=good,
        rolled_back=rolled_back,
        rollback_of=rollback_of,
        deploy=deployed,
        record=written,
        record_error=record_error.one_line() if record_error else None,
        database=database_advice(settings, rolled_back, good.ref),
        searched=search.summary(),
        skipped=list(search.skipped),
    )
    return report, record_error


def _progress(line: str) -> None:
    import click

    from release_kit import gha

    click.echo(gha.redact(f"release-kit: {line}"), err=True)


def rollback_command(
    *,
    repo: str | None,
    environment: str | None,
    to_ref: str | None,
    timeout: float,
    report_path: Path | None,
    fmt: str,
    config_path: Path | None,
    require_attestations: bool | None = None,
    custom_trusted_root: Path | None = None,
    **flags: Any,
) -> ExitCode:
    from release_kit import gha
    from release_kit.rollout.report import publish_rollback
    from release_kit.target.resolve import settings_from_flags

    name = parse_repo(repo)
    if not environment or not environment.strip():
        raise InputError("--environment is required: expected the GitHub environment name, e.g. production")
    if to_ref and not REF_RE.match(to_ref):
        raise InputError(f"--to {to_ref!r}: expected a tag or commit SHA such as v1.3.0")
    settings = settings_from_flags(config_path, **flags)
    if require_attestations:
        settings = settings.model_copy(update={"require_attestations": True})
    with GitHubClient() as gh:
        try:
            report, record_error = run_rollback(
                settings,
                gh,
                name,
                environment.strip(),
                to_ref or None,
                timeout,
                progress=_progress,
                custom_trusted_root=custom_trusted_root,
            )
        except NoGoodRecord:
            gha.set_outputs({"passed": "false", "report": "", "images": "{}", "deployment-id": ""})
            raise
    code = publish_rollback(report, report_path, fmt)
    if record_error is not None:
        roles = ", ".join(r.role for r in report.deploy.roles)
        done = (
            f"the services were rolled back to {report.good.ref} ({roles} passed)"
            if report.deploy.passed
            else f"the rollback to {report.good.ref} failed"
        )
        record_error.message = f"{done}, but the record was not written: {record_error.message}"
        record_error.args = (record_error.message,)
        raise record_error
    return code
