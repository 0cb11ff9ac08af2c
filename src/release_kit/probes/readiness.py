"""What "ready" means per service: ``deploy.health.<role>`` of the config laid over health's flags."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

from release_kit.errors import InputError
from release_kit.probes.verdicts import Expectations, JsonCheck, compile_expr
from release_kit.target.settings import DEFAULT_HEALTH_PATHS, HealthCheck


def release_version(flag: str | None) -> str | None:
    """The release being deployed: --expect-version, else the tag this run was started for."""
    if flag:
        return flag
    if os.environ.get("GITHUB_REF_TYPE") == "tag" and os.environ.get("GITHUB_REF_NAME"):
        return os.environ["GITHUB_REF_NAME"]
    return None


def expectations(role: str, check: HealthCheck, base: Expectations) -> Expectations:
    """The flags' expectations with the service's own added: its JSON fields, and its version when asked."""
    extra = tuple(
        JsonCheck(expr=expr, compiled=compile_expr(expr, f"deploy.health.{role}.expect_json"), value=value)
        for expr, value in check.expect_json.items()
    )
    version = base.version
    version_field, version_expr = base.version_field, base.version_expr
    if check.expect_version:
        version = release_version(base.version)
        if version is None:
            raise InputError(
                f"deploy.health.{role}.expect_version is true but no release is known: pass --expect-version TAG "
                "(the reusable deploy workflow passes the tag it deploys)"
            )
        version_field = check.version_field
        version_expr = compile_expr(check.version_field, f"deploy.health.{role}.version_field")
    return dataclasses.replace(
        base, json=base.json + extra, version=version, version_field=version_field, version_expr=version_expr
    )


def per_service(
    config_path: Path | None, bases: Mapping[str, str], base: Expectations
) -> tuple[dict[str, str], dict[str, Expectations]]:
    """For each role given a base URL (``--api-url``, ``--web-url``): its readiness path, and the
    expectations of its URL when the config says what ready means for it."""
    from release_kit import config

    loaded = config.load(config_path)
    health = loaded.deploy.health if loaded is not None and loaded.deploy is not None else {}
    paths: dict[str, str] = {}
    per_url: dict[str, Expectations] = {}
    for role, url in bases.items():
        check = health.get(role)  # type: ignore[call-overload]  # a role: api or web
        path = check.path if check is not None and "path" in check.model_fields_set else DEFAULT_HEALTH_PATHS[role]
        paths[role] = path
        if check is not None:
            per_url[url.rstrip("/") + path] = expectations(role, check, base)
    return paths, per_url
