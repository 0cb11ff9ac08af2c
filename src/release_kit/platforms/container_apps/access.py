"""What the deploy identity must be allowed on Container Apps, and whether it is: Azure's permissions
API answers, for the identity signed in, with the actions and not-actions its role assignments give on
the resource group (``Microsoft.Authorization/permissions``); each action migrate, deploy and rollback
take is matched against them as Azure matches (``*`` wildcards, any case).
"""

from __future__ import annotations

import fnmatch
from typing import Any

from release_kit.clouds.arm import Arm
from release_kit.preflight.models import Check, Verdict
from release_kit.target.settings import DeploySettings

API_VERSION = "2022-04-01"
CONTRIBUTOR = "Container Apps Contributor"
NEEDS: list[tuple[str, str, str]] = [  # (action, why, the built-in role that grants it)
    ("Microsoft.App/containerApps/read", "deploy reads each app", "Reader"),
    ("Microsoft.App/containerApps/write", "deploy and rollback give each app its new image", CONTRIBUTOR),
    ("Microsoft.App/containerApps/revisions/read", "deploy follows the new revision", "Reader"),
    ("Microsoft.App/jobs/read", "migrate reads the migration job", "Reader"),
    ("Microsoft.App/jobs/start/action", "migrate starts the migration job", CONTRIBUTOR),
    ("Microsoft.App/jobs/executions/read", "migrate follows its execution to its end", "Reader"),
]


def permits(action: str, grants: list[dict[str, Any]]) -> bool:
    """Whether one of the role assignments' permission sets allows ``action`` (its actions, less its notActions)."""

    def matches(patterns: object) -> bool:
        return isinstance(patterns, list) and any(
            isinstance(p, str) and fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns
        )

    return any(matches(g.get("actions")) and not matches(g.get("notActions")) for g in grants)


def grants(arm: Arm, scope: str) -> list[dict[str, Any]]:
    """Every permission set the signed-in identity holds at ``scope``, following every page."""
    from azure.core.rest import HttpRequest
    from azure.mgmt.appcontainers import ContainerAppsAPIClient

    client = arm.client(ContainerAppsAPIClient)  # its pipeline: our credential, endpoint and retry budget
    url: str | None = f"{arm.endpoint}{scope}/providers/Microsoft.Authorization/permissions?api-version={API_VERSION}"
    found: list[dict[str, Any]] = []
    pages = 0
    while url and pages < 20:
        pages += 1

        def fetch(at: str = url) -> Any:
            response = client.send_request(HttpRequest("GET", at))
            response.raise_for_status()
            return response.json()

        body = arm.call("list your permissions on the resource group", "Reader", fetch)
        found += [g for g in (body or {}).get("value") or [] if isinstance(g, dict)]
        following = (body or {}).get("nextLink")
        url = following if isinstance(following, str) and following.startswith(arm.endpoint) else None
    return found


def check(settings: DeploySettings, arm: Arm) -> list[Check]:
    """One row per action: allowed (pass), or not, with the role assignment to add (fail)."""
    group = settings.require_resource_group()
    scope = f"/subscriptions/{arm.subscription}/resourceGroups/{group}"
    held = grants(arm, scope)
    rows: list[Check] = []
    for action, why, role in NEEDS:
        if permits(action, held):
            rows.append(Check(check="access", subject=action, verdict=Verdict.PASS, reason=f"allowed: {why}"))
            continue
        rows.append(
            Check(
                check="access",
                subject=action,
                verdict=Verdict.FAIL,
                reason=f"no role assignment on resource group {group} allows it: {why}",
                fix=f'az role assignment create --assignee "$AZURE_CLIENT_ID" --role "{role}" --scope "{scope}"',
            )
        )
    return rows
