"""The runbook's pre-deploy checklist as pure checks: settings and facts in, one row per check out.

No I/O (the ``gates/judge.py`` shape): every rule is tested here on facts built in memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from release_kit.preflight.facts import Container, DatabaseBackup, Facts, RedisBackup, SecretRef, Service
from release_kit.preflight.models import SEVERITY, Check, Verdict
from release_kit.target.settings import DEFAULT_APP_DEFAULTS, DeploySettings

if TYPE_CHECKING:
    from release_kit.platforms import Words

RETRY = "ENABLE_BILLING_RETRY_WORKER"
REPLAY = "ENABLE_BILLING_STREAM_REPLAY"
MODE = "BILLING_RETRY_DEPLOYMENT_MODE"
FALSE = {"false", "0", "no", "off"}  # as the app's settings library reads a boolean, in any case
TRUE = {"true", "1", "yes", "on"}
_CREDENTIAL_NAME = re.compile(r"(_KEY|_SECRET|_TOKEN)$|PASSWORD", re.IGNORECASE)
_URL_WITH_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@:\s]*:[^/@\s]+@", re.IGNORECASE)


def looks_like_credential(name: str, value: str) -> bool:
    """``*_KEY``, ``*_SECRET``, ``*_TOKEN``, ``*PASSWORD*``, or a URL carrying a password."""
    return bool(_CREDENTIAL_NAME.search(name) or _URL_WITH_PASSWORD.match(value.strip()))


def judge(settings: DeploySettings, facts: Facts, now: datetime) -> list[Check]:
    rows: list[Check] = []
    rows += secret_refs(settings, facts)
    rows += env(settings, facts)
    if settings.billing_topology:
        rows += billing_topology(facts, settings.app_defaults)
    rows += database_backup(settings, facts, now)
    rows += redis_backup(settings, facts)
    rows += rotation(settings, facts)
    rows += plain_secret(settings, facts)
    return rows


def worst(rows: list[Check]) -> Verdict:
    return min((r.verdict for r in rows), key=SEVERITY.__getitem__, default=Verdict.PASS)


# -- helpers -----------------------------------------------------------------------


def _words(facts: Facts) -> Words:
    """The platform's names for things, for reasons and fixes (the checks themselves are neutral)."""
    from release_kit.platforms import get

    return get(facts.platform).words


def _store_words(facts: Facts) -> tuple[str, str]:
    """(the secrets manager, how a variable references it) in the platform's words."""
    words = _words(facts)
    return words.store, words.reference_form


def _where(facts: Facts, service: Service) -> str:
    return _words(facts).service_where.format(name=service.name, revision=service.revision)


def _note(facts: Facts, key: str, default: str) -> str:
    return facts.notes.get(key, default)


# -- secret_refs ----------------------------------------------------------------------


def _secret_roles(facts: Facts) -> Iterator[Service]:
    for role in ("api", "worker"):
        if role in facts.services:
            yield facts.services[role]


def _judge_reference(facts: Facts, subject: str, ref: SecretRef) -> Check:
    manager, _ = _store_words(facts)
    meta = ref.meta
    if meta is None:
        return Check(
            check="secret_refs",
            subject=subject,
            verdict=Verdict.UNKNOWN,
            reason=f"references {ref.reference}, not looked up: {_note(facts, 'secrets', 'no cloud access')}",
            fix="run preflight with read access to the secrets manager",
        )
    if not meta.in_manager:
        return Check(
            check="secret_refs",
            subject=subject,
            verdict=Verdict.WARN,
            reason=f"app secret {ref.reference!r} is held inline in the app: not in the secrets manager",
            fix=f"store it in Key Vault and give app secret {ref.reference!r} a keyVaultUrl and an identity",
        )
    if meta.exists is False:
        fix = _words(facts).dangling_fix.format(store=meta.store, reference=ref.reference)
        return Check(
            check="secret_refs",
            subject=subject,
            verdict=Verdict.FAIL,
            reason=f"{meta.note}: it points at nothing"
            if meta.note
            else f"references {ref.reference}, which does not exist in {meta.store}",
            fix=fix,
        )
    if meta.deleted:
        return Check(
            check="secret_refs",
            subject=subject,
            verdict=Verdict.FAIL,
            reason=f"references {ref.reference}, which is scheduled for deletion in {meta.store}",
            fix="restore it (aws secretsmanager restore-secret --secret-id ...) or point at a live secret",
        )
    if meta.exists is None:
        return Check(
            check="secret_refs",
            subject=subject,
            verdict=Verdict.UNKNOWN,
            reason=f"references {ref.reference}: {_note(facts, 'secrets', 'its existence was not checked')}",
            fix=f"check it exists in {manager}",
        )
    return Check(
        check="secret_refs",
        subject=subject,
        verdict=Verdict.PASS,
        reason=f"injected from {meta.store} ({ref.reference})",
    )


def secret_refs(settings: DeploySettings, facts: Facts) -> list[Check]:
    rows: list[Check] = []
    manager, how = _store_words(facts)
    for service in _secret_roles(facts):
        c = service.container
        for name in settings.secret_refs:
            subject = f"{service.role}/{name}"
            if name in c.secrets:
                rows.append(_judge_reference(facts, subject, c.secrets[name]))
                continue
            if name in c.env:
                reason = f"is a literal value in the {_where(facts, service)}, not a secret reference"
            elif c.environment_files:
                reason = "is not a secret reference (an environment file is not a secrets manager)"
            else:
                reason = f"is not set on container {c.name!r}"
            rows.append(
                Check(
                    check="secret_refs",
                    subject=subject,
                    verdict=Verdict.FAIL,
                    reason=reason,
                    fix=f"store {name} in {manager} and inject it through {how}",
                )
            )
    return rows


# -- env ---------------------------------------------------------------------------


def _normal(value: str) -> str:
    v = value.strip().lower()
    if v in FALSE:
        return "false"
    if v in TRUE:
        return "true"
    return value.strip()


def env(settings: DeploySettings, facts: Facts) -> list[Check]:
    rows: list[Check] = []
    for role, required in settings.env.items():
        service = facts.services.get(role)
        if service is None:
            continue
        c = service.container
        for name, expected in required.items():
            subject = f"{role}/{name}"
            fix = f"set {name}={expected} in the environment of {role} ({_where(facts, service)})"
            if name in c.env:
                actual = c.env[name]
                ok = _normal(actual) == _normal(expected)
                rows.append(
                    Check(
                        check="env",
                        subject=subject,
                        verdict=Verdict.PASS if ok else Verdict.FAIL,
                        reason=f"is {actual!r}" + ("" if ok else f", expected {expected!r}"),
                        fix=None if ok else fix,
                    )
                )
            elif name in c.secrets:
                rows.append(
                    Check(
                        check="env",
                        subject=subject,
                        verdict=Verdict.FAIL,
                        reason="comes from a secret, so its value cannot be checked; "
                        f"expected the literal {expected!r}",
                        fix=fix,
                    )
                )
            elif c.environment_files:
                rows.append(
                    Check(
                        check="env",
                        subject=subject,
                        verdict=Verdict.UNKNOWN,
                        reason=f"not in the environment; one of {len(c.environment_files)} environment file(s) "
                        "may set it, and they are not read",
                        fix=fix,
                    )
                )
            elif name in settings.app_defaults:
                default = settings.app_defaults[name]
                ok = _normal(default) == _normal(expected)
                rows.append(
                    Check(
                        check="env",
                        subject=subject,
                        verdict=Verdict.PASS if ok else Verdict.FAIL,
                        reason=f"unset: the app's default {default!r} applies"
                        + ("" if ok else f", expected {expected!r}"),
                        fix=None if ok else fix,
                    )
                )
            else:
                rows.append(Check(check="env", subject=subject, verdict=Verdict.FAIL, reason="is not set", fix=fix))
    return rows


# -- billing_topology ----------------------------------------------------------------------


def _flag(c: Container, name: str, defaults: Mapping[str, str]) -> tuple[str, str | None]:
    """The value the app will use: 'true', 'false', another literal, 'absent', or 'unknown' (a secret, or
    maybe an environment file); and, when it is the app's default for an unset variable, a note saying so."""
    if name in c.env:
        return _normal(c.env[name]), None
    if name in c.secrets or c.environment_files:
        return "unknown", None
    if name in defaults:
        value = _normal(defaults[name])
        return value, f"{name} unset: the app's default {value} applies"
    return "absent", None


def _expect(
    c: Container, name: str, want: str, defaults: Mapping[str, str], notes: list[str]
) -> tuple[str, bool] | None:
    """None when the value the app uses is ``want``; else (the problem, whether it is only unknown).
    A default that satisfies ``want`` is noted in ``notes``."""
    state, note = _flag(c, name, defaults)
    if state == want:
        if note:
            notes.append(note)
        return None
    if state == "unknown":
        return f"{name} may come from a secret or an environment file", True
    if state == "absent":
        return f"{name} is not set", False
    return note or f"{name} is {state!r}", False


def _row(
    subject: str, problems: list[tuple[str, bool]], fixes: list[str], ok: str, notes: list[str] | None = None
) -> Check:
    if not problems:
        shown = f"{ok} ({'; '.join(notes)})" if notes else ok
        return Check(check="billing_topology", subject=subject, verdict=Verdict.PASS, reason=shown)
    verdict = Verdict.UNKNOWN if all(unknown for _, unknown in problems) else Verdict.FAIL
    return Check(
        check="billing_topology",
        subject=subject,
        verdict=verdict,
        reason="; ".join(p for p, _ in problems),
        fix="; ".join(fixes),
    )


def billing_topology(facts: Facts, defaults: Mapping[str, str] = DEFAULT_APP_DEFAULTS) -> list[Check]:
    """Billing retries and stream replay run once: inline on a single API, or on one dedicated worker.
    Each flag is judged as the app reads it (``defaults``: the app's values for unset variables)."""
    api = facts.services.get("api")
    worker = facts.services.get("worker")
    if api is None:
        return []
    ceiling = api.max_replicas
    rows: list[Check] = []
    if ceiling is None:
        rows.append(
            Check(
                check="billing_topology",
                subject="api",
                verdict=Verdict.UNKNOWN,
                reason=f"the API's replica ceiling is unknown: {_note(facts, 'replicas', 'not looked up')}",
                fix="run preflight with read access to the service and its autoscaling",
            )
        )
        return rows
    if ceiling > 1:
        problems: list[tuple[str, bool]] = []
        fixes: list[str] = []
        notes: list[str] = []
        for name in (RETRY, REPLAY):
            problem = _expect(api.container, name, "false", defaults, notes)
            if problem:
                problems.append(problem)
                fixes.append(f"set {name}=false on the api")
        rows.append(
            _row(
                "api",
                [(f"the API can run {ceiling} replicas and {p}", u) for p, u in problems],
                fixes,
                f"the API can run {ceiling} replicas and leaves billing retries and replay to the worker",
                notes,
            )
        )
        if worker is None:
            rows.append(
                Check(
                    check="billing_topology",
                    subject="worker",
                    verdict=Verdict.FAIL,
                    reason=f"the API can run {ceiling} replicas but there is no dedicated billing worker",
                    fix="deploy the billing worker and name it in deploy.services.worker (--service worker=NAME)",
                )
            )
            return rows
        wproblems: list[tuple[str, bool]] = []
        wfixes: list[str] = []
        wnotes: list[str] = []
        if worker.min_replicas is None:
            wproblems.append((f"its replica count is unknown: {_note(facts, 'replicas', 'not looked up')}", True))
            wfixes.append("check the worker runs at least one replica")
        elif worker.min_replicas < 1:
            wproblems.append((f"the worker may run {worker.min_replicas} replicas", False))
            wfixes.append("run the worker with at least one replica" + _words(facts).min_replicas_hint)
        for name, want in ((RETRY, "true"), (REPLAY, "true"), (MODE, "dedicated")):
            problem = _expect(worker.container, name, want, defaults, wnotes)
            if problem:
                wproblems.append(problem)
                wfixes.append(f"set {name}={want} on the worker")
        rows.append(
            _row("worker", wproblems, wfixes, "a dedicated worker runs billing retries and stream replay", wnotes)
        )
    else:
        inline = [_flag(api.container, n, defaults) for n in (RETRY, REPLAY)]
        dedicated = (
            worker is not None
            and (worker.min_replicas or 0) >= 1
            and any(_flag(worker.container, n, defaults)[0] == "true" for n in (RETRY, REPLAY))
        )
        on = [note for state, note in inline if state == "true"]
        if on and dedicated:
            why = "; ".join(n for n in on if n)
            rows.append(
                Check(
                    check="billing_topology",
                    subject="api",
                    verdict=Verdict.WARN,
                    reason="billing runs inline on the API"
                    + (f" ({why})" if why else "")
                    + " and on the dedicated worker: double processing",
                    fix=f"set {RETRY}=false and {REPLAY}=false on the api, or stop the worker",
                )
            )
        else:
            rows.append(
                Check(
                    check="billing_topology",
                    subject="api",
                    verdict=Verdict.PASS,
                    reason=f"the API runs at most {ceiling} replica: inline billing is allowed",
                )
            )
    if worker is not None and worker.max_replicas is not None and worker.max_replicas > 1:
        rows.append(
            Check(
                check="billing_topology",
                subject="worker",
                verdict=Verdict.WARN,
                reason=f"the billing worker can scale to {worker.max_replicas} replicas",
                fix="cap the worker at one replica" + _words(facts).max_replicas_hint,
            )
        )
    return rows


# -- backups ----------------------------------------------------------------------------


def _ago(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def _retention_fix(db: DatabaseBackup, days: int) -> str:
    tail = f"--backup-retention-period {days} --apply-immediately"
    if db.kind == "rds_cluster":
        return f"aws rds modify-db-cluster --db-cluster-identifier {db.id} {tail}"
    if db.kind == "rds_instance":
        return f"aws rds modify-db-instance --db-instance-identifier {db.id} {tail}"
    return f"az postgres flexible-server update --resource-group RG --name {db.id} --backup-retention {days}"


def database_backup(settings: DeploySettings, facts: Facts, now: datetime) -> list[Check]:
    want = settings.backups.database
    minimum = settings.backups.min_retention_days
    if want is None:
        return [
            Check(
                check="database_backup",
                subject="database",
                verdict=Verdict.WARN,
                reason="no database named: backups not checked",
                fix="name it in deploy.backups.database (rds_instance, rds_cluster or azure_postgres)",
            )
        ]
    db = facts.database
    if db is None:
        return [
            Check(
                check="database_backup",
                subject=want.name,
                verdict=Verdict.UNKNOWN,
                reason=f"not looked up: {_note(facts, 'database', 'no cloud access')}",
                fix="run preflight with read access to the database",
            )
        ]
    rows: list[Check] = []
    if db.retention_days < minimum:
        off = " (automated backups are off)" if db.retention_days == 0 else ""
        rows.append(
            Check(
                check="database_backup",
                subject=db.id,
                verdict=Verdict.FAIL,
                reason=f"backup retention is {db.retention_days} day(s){off}; at least {minimum} required",
                fix=_retention_fix(db, minimum),
            )
        )
        return rows
    lag_text = ""
    if db.kind != "azure_postgres":
        if db.latest_restorable is None:
            return [
                Check(
                    check="database_backup",
                    subject=db.id,
                    verdict=Verdict.UNKNOWN,
                    reason="AWS reports no latest restorable time yet",
                    fix="wait for the first automated backup, then run preflight again",
                )
            ]
        lag = now - db.latest_restorable
        limit = settings.backups.max_restore_lag
        if lag > limit:
            return [
                Check(
                    check="database_backup",
                    subject=db.id,
                    verdict=Verdict.FAIL,
                    reason=f"latest restorable time {db.latest_restorable:%Y-%m-%dT%H:%MZ} is {_ago(lag)} old, "
                    f"more than the allowed {_ago(limit)}",
                    fix="check the automated backups and transaction-log uploads of the database (AWS console: "
                    "Maintenance & backups), then run preflight again",
                )
            ]
        lag_text = f", latest restorable time {_ago(lag)} ago"
    if db.geo_redundant is False:
        return [
            Check(
                check="database_backup",
                subject=db.id,
                verdict=Verdict.WARN,
                reason=f"backup retention {db.retention_days} days, but geo-redundant backup is off",
                fix="geo-redundancy is chosen at server creation: restore to a server created with "
                "--geo-redundant-backup Enabled if the runbook needs regional recovery",
            )
        ]
    return [
        Check(
            check="database_backup",
            subject=db.id,
            verdict=Verdict.PASS,
            reason=f"backup retention {db.retention_days} days{lag_text}",
        )
    ]


def _snapshot_fix(r: RedisBackup, days: int) -> str:
    return {
        "elasticache_replication_group": f"aws elasticache modify-replication-group --replication-group-id {r.id} "
        f"--snapshot-retention-limit {days} --apply-immediately",
        "elasticache_cluster": f"aws elasticache modify-cache-cluster --cache-cluster-id {r.id} "
        f"--snapshot-retention-limit {days} --apply-immediately",
        "elasticache_serverless": f"aws elasticache modify-serverless-cache --serverless-cache-name {r.id} "
        f"--snapshot-retention-limit {days}",
        "azure_redis": f"az redis update --resource-group RG --name {r.id} --set "
        "redisConfiguration.rdb-backup-enabled=true redisConfiguration.rdb-backup-frequency=60 "
        "(Premium tier; needs a storage account connection string)",
        "azure_managed_redis": f"az redisenterprise database update --resource-group RG --cluster-name {r.id} "
        "--persistence rdb-enabled=true rdb-frequency=1h",
    }.get(r.kind, "enable snapshots")


def redis_backup(settings: DeploySettings, facts: Facts) -> list[Check]:
    want = settings.backups.redis
    minimum = settings.backups.min_snapshot_days
    if want is None:
        return [
            Check(
                check="redis_backup",
                subject="redis",
                verdict=Verdict.WARN,
                reason="no Redis named: snapshots not checked",
                fix="name it in deploy.backups.redis",
            )
        ]
    r = facts.redis
    if r is None:
        return [
            Check(
                check="redis_backup",
                subject=want.name,
                verdict=Verdict.UNKNOWN,
                reason=f"not looked up: {_note(facts, 'redis', 'no cloud access')}",
                fix="run preflight with read access to the cache",
            )
        ]
    if r.kind.startswith("elasticache"):
        days = r.retention_days or 0
        ok = days >= minimum
        off = " (automatic snapshots are off)" if days == 0 else ""
        return [
            Check(
                check="redis_backup",
                subject=r.id,
                verdict=Verdict.PASS if ok else Verdict.FAIL,
                reason=f"snapshot retention is {days} day(s){off}" + ("" if ok else f"; at least {minimum} required"),
                fix=None if ok else _snapshot_fix(r, minimum),
            )
        ]
    ok = bool(r.persistence)
    return [
        Check(
            check="redis_backup",
            subject=r.id,
            verdict=Verdict.PASS if ok else Verdict.FAIL,
            reason=r.detail or ("persistence is on" if ok else "persistence is off"),
            fix=None if ok else _snapshot_fix(r, minimum),
        )
    ]


# -- rotation -----------------------------------------------------------------------------


def rotation(settings: DeploySettings, facts: Facts) -> list[Check]:
    rows: list[Check] = []
    redeploy = f"redeploy to pick up the rotated secret ({_words(facts).redeploy_hint})"
    for name in settings.rotation:
        found = False
        for role, service in facts.services.items():
            ref = service.container.secrets.get(name)
            if ref is None:
                continue
            found = True
            subject = f"{role}/{name}"
            if service.from_file:
                rows.append(
                    Check(
                        check="rotation",
                        subject=subject,
                        verdict=Verdict.PASS,
                        reason="a new revision is about to be deployed: its replicas read the current value",
                    )
                )
                continue
            changed = ref.meta.last_changed if ref.meta else None
            started = service.deployment_started
            if changed is None or started is None:
                missing = "when the secret last changed" if changed is None else "when the running deployment started"
                rows.append(
                    Check(
                        check="rotation",
                        subject=subject,
                        verdict=Verdict.UNKNOWN,
                        reason=f"{missing} is not known: "
                        + ((ref.meta.note if ref.meta else None) or _note(facts, "rotation", "not looked up")),
                        fix=f"if {name} changed since the last deploy, {redeploy}",
                    )
                )
            elif changed > started:
                rows.append(
                    Check(
                        check="rotation",
                        subject=subject,
                        verdict=Verdict.FAIL,
                        reason=f"{ref.reference} changed at {changed:%Y-%m-%dT%H:%M:%SZ}, after the running "
                        f"deployment started ({started:%Y-%m-%dT%H:%M:%SZ}): the replicas still hold the old value",
                        fix=redeploy,
                    )
                )
            else:
                rows.append(
                    Check(
                        check="rotation",
                        subject=subject,
                        verdict=Verdict.PASS,
                        reason=f"unchanged since the running deployment started ({started:%Y-%m-%dT%H:%M:%SZ})",
                    )
                )
        if not found:
            rows.append(
                Check(
                    check="rotation",
                    subject=f"*/{name}",
                    verdict=Verdict.WARN,
                    reason="no service injects it from a secret",
                    fix=f"remove {name} from deploy.rotation, or inject it as a secret reference",
                )
            )
    return rows


# -- plain_secret -------------------------------------------------------------------------


def plain_secret(settings: DeploySettings, facts: Facts) -> list[Check]:
    rows: list[Check] = []
    manager, how = _store_words(facts)
    for role, service in facts.services.items():
        for name, value in service.container.env.items():
            if role in ("api", "worker") and name in settings.secret_refs:
                continue  # secret_refs already fails it
            if looks_like_credential(name, value):
                rows.append(
                    Check(
                        check="plain_secret",
                        subject=f"{role}/{name}",
                        verdict=Verdict.WARN,
                        reason=f"looks like a credential but is a literal value in the {_where(facts, service)}",
                        fix=f"store it in {manager} and inject it through {how}",
                    )
                )
    return rows
