"""Azure Resource Manager for Container Apps, as ``responses`` callbacks: the SDK's real requests
(azure-core's requests transport) are answered from a small state the test changes step by step.

State changes are the test's: :meth:`FakeContainerApps.new_revision` plays what Azure does after a
template PATCH (a new revision with a generated suffix), :meth:`revision` sets its states.

Lost answers to a job start: ``lose_start = n`` makes the next ``n`` starts happen (an execution is
created, as Azure would) and then answers 500 (``lost_as="500"``) or resets the connection
(``lost_as="reset"``); ``refuse_start = True`` answers 500 without starting anything;
``fail_listing = True`` answers the executions list 500; ``fail_operations = True`` the status polls
of a start answered ``202 Accepted``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
import responses
from urllib3.exceptions import ProtocolError

ARM = "https://management.azure.com"
SUB = "00000000-0000-0000-0000-000000000001"
GROUP = "rg-prod"
BASE = f"{ARM}/subscriptions/{SUB}/resourceGroups/{GROUP}/providers/Microsoft.App"


class FakeCredential:
    """A TokenCredential: one fixed token, scopes recorded."""

    TOKEN = "arm-Access-Token-secret-marker"

    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken as Token

        self.scopes.extend(scopes)
        return Token(self.TOKEN, 4102444800)


@dataclass
class App:
    name: str
    image: str
    revisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    latest: str = ""
    ready: str = ""
    state: str = "Succeeded"
    mode: str = "Single"
    template: dict[str, Any] = field(default_factory=dict)


class FakeContainerApps:
    def __init__(self, rsps: responses.RequestsMock) -> None:
        self.apps: dict[str, App] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.executions: dict[str, dict[str, Any]] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        self.patches: list[dict[str, Any]] = []
        self.starts: list[dict[str, Any]] = []
        self.tokens: list[str] = []
        self._n = 0
        self.async_start = False  # answer job starts as a long-running operation (202 + status URL)
        self.lose_start = 0  # the next n starts happen, then their answer is lost
        self.lost_as = "500"  # or "reset"
        self.refuse_start = False  # every start answered 500, nothing started
        self.fail_listing = False
        self.listings = 0
        self.fail_operations = False  # the long-running start's status polls answer 500
        self.operation_reads = 0
        app = re.compile(rf"{re.escape(BASE)}/containerApps/([\w-]+)\?")
        revision = re.compile(rf"{re.escape(BASE)}/containerApps/([\w-]+)/revisions/([\w-]+)\?")
        job = re.compile(rf"{re.escape(BASE)}/jobs/([\w-]+)\?")
        start = re.compile(rf"{re.escape(BASE)}/jobs/([\w-]+)/start\?")
        execution = re.compile(rf"{re.escape(BASE)}/jobs/([\w-]+)/executions/([\w-]+)\?")
        executions = re.compile(rf"{re.escape(BASE)}/jobs/([\w-]+)/executions\?")
        rsps.add_callback(responses.GET, app, self._get_app)
        rsps.add_callback(responses.PATCH, app, self._patch_app)
        rsps.add_callback(responses.GET, revision, self._get_revision)
        rsps.add_callback(responses.GET, job, self._get_job)
        rsps.add_callback(responses.POST, start, self._start)
        rsps.add_callback(responses.GET, execution, self._get_execution)
        rsps.add_callback(responses.GET, executions, self._list_executions)
        rsps.add_callback(responses.GET, re.compile(rf"{re.escape(ARM)}/operations/([\w-]+)"), self._operation)

    # -- state ------------------------------------------------------------------------------

    def add_app(self, name: str, container: str, image: str) -> App:
        app = App(name=name, image=image)
        app.template = {
            "revisionSuffix": "v1",
            "containers": [
                {"name": container, "image": image, "env": [{"name": "DATABASE_URL", "secretRef": "database-url"}]}
            ],
            "scale": {"minReplicas": 1, "maxReplicas": 3},
        }
        rev = f"{name}--v1"
        app.revisions[rev] = self._revision(rev, "Provisioned", "Running", "Healthy", True, 100)
        app.latest = app.ready = rev
        self.apps[name] = app
        return app

    @staticmethod
    def _revision(name: str, prov: str, run: str, health: str, active: bool, weight: int) -> dict[str, Any]:
        return {
            "name": name,
            "provisioningState": prov,
            "runningState": run,
            "healthState": health,
            "active": active,
            "trafficWeight": weight,
        }

    def new_revision(self, app_name: str, suffix: str = "x7k2p9q") -> str:
        """What Azure does after the template PATCH: a new revision, provisioning, no traffic yet."""
        app = self.apps[app_name]
        rev = f"{app_name}--{suffix}"
        app.revisions[rev] = self._revision(rev, "Provisioning", "Activating", "None", True, 0)
        app.latest = rev
        return rev

    def revision(self, app_name: str, rev: str, **props: Any) -> None:
        self.apps[app_name].revisions[rev].update(props)

    def promote(self, app_name: str, rev: str) -> None:
        """Single-revision mode: the healthy new revision takes all traffic, the old one is deactivated."""
        app = self.apps[app_name]
        for name, other in app.revisions.items():
            other.update(active=name == rev, trafficWeight=100 if name == rev else 0)
        app.revisions[rev].update(provisioningState="Provisioned", runningState="Running", healthState="Healthy")
        app.ready = rev
        app.state = "Succeeded"

    # -- handlers -----------------------------------------------------------------------------

    def _auth(self, request: Any) -> None:
        self.tokens.append(str(request.headers.get("Authorization", "")))

    def _app_json(self, app: App) -> dict[str, Any]:
        return {
            "id": f"/subscriptions/{SUB}/resourceGroups/{GROUP}/providers/Microsoft.App/containerApps/{app.name}",
            "name": app.name,
            "location": "westeurope",
            "properties": {
                "provisioningState": app.state,
                "latestRevisionName": app.latest,
                "latestReadyRevisionName": app.ready,
                "template": app.template,
                "configuration": {"activeRevisionsMode": app.mode, "secrets": [{"name": "database-url"}]},
            },
        }

    def _get_app(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._auth(request)
        name = re.search(r"/containerApps/([\w-]+)\?", request.url).group(1)  # type: ignore[union-attr]
        if name not in self.apps:
            return 404, {}, json.dumps({"error": {"code": "ResourceNotFound", "message": "not found"}})
        return 200, {}, json.dumps(self._app_json(self.apps[name]))

    def _patch_app(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._auth(request)
        name = re.search(r"/containerApps/([\w-]+)\?", request.url).group(1)  # type: ignore[union-attr]
        body = json.loads(request.body)
        self.patches.append(body)
        app = self.apps[name]
        app.template = body["properties"]["template"]
        app.state = "InProgress"
        status = (
            f"{ARM}/subscriptions/{SUB}/providers/Microsoft.App/locations/westeurope/containerappOperationStatuses/op1"
        )
        return 202, {"Azure-AsyncOperation": status, "Retry-After": "5"}, ""

    def _get_revision(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._auth(request)
        name, rev = re.search(r"/containerApps/([\w-]+)/revisions/([\w-]+)\?", request.url).groups()  # type: ignore[union-attr]
        found = self.apps[name].revisions.get(rev)
        if found is None:
            return 404, {}, json.dumps({"error": {"code": "ResourceNotFound", "message": "no revision"}})
        props = {k: v for k, v in found.items() if k != "name"}
        return 200, {}, json.dumps({"name": rev, "properties": props})

    def add_job(self, name: str, container: str, image: str) -> None:
        self.jobs[name] = {
            "name": name,
            "location": "westeurope",
            "properties": {
                "template": {
                    "containers": [
                        {
                            "name": container,
                            "image": image,
                            "command": ["sleep", "1"],
                            "env": [{"name": "DATABASE_URL", "secretRef": "database-url"}],
                            "resources": {"cpu": 0.5, "memory": "1Gi"},
                        }
                    ]
                }
            },
        }

    def _get_job(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._auth(request)
        name = re.search(r"/jobs/([\w-]+)\?", request.url).group(1)  # type: ignore[union-attr]
        if name not in self.jobs:
            return 404, {}, json.dumps({"error": {"code": "ResourceNotFound", "message": "no job"}})
        return 200, {}, json.dumps(self.jobs[name])

    def _start(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._auth(request)
        job = re.search(r"/jobs/([\w-]+)/start\?", request.url).group(1)  # type: ignore[union-attr]
        self.starts.append(json.loads(request.body))
        if self.refuse_start:
            return 500, {}, json.dumps({"error": {"code": "InternalServerError", "message": "try again"}})
        self._n += 1
        execution = f"{job}-exec{self._n}"
        started = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        self.executions[execution] = {"status": "Running", "startTime": started, "template": self.starts[-1]}
        ident = f"/subscriptions/{SUB}/resourceGroups/{GROUP}/providers/Microsoft.App/jobs/{job}/executions/{execution}"
        body = {"name": execution, "id": ident}
        if self.lose_start > 0:  # Azure started it; the answer never reaches the client
            self.lose_start -= 1
            if self.lost_as == "reset":
                raise requests.exceptions.ConnectionError(
                    ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
                )
            return 500, {}, json.dumps({"error": {"code": "InternalServerError", "message": "upstream timeout"}})
        if self.async_start:
            self.operations[f"status-{execution}"] = {"status": "Succeeded", "name": execution}
            self.operations[f"result-{execution}"] = body
            return (
                202,
                {
                    "Azure-AsyncOperation": f"{ARM}/operations/status-{execution}",
                    "Location": f"{ARM}/operations/result-{execution}",
                    "Retry-After": "0",
                },
                "",
            )
        return 200, {}, json.dumps(body)

    def _operation(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._auth(request)
        name = re.search(r"/operations/([\w-]+)", request.url).group(1)  # type: ignore[union-attr]
        self.operation_reads += 1
        if self.fail_operations:
            return 500, {"Retry-After": "0.01"}, json.dumps({"error": {"code": "InternalServerError", "message": "x"}})
        return 200, {}, json.dumps(self.operations[name])

    def _get_execution(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._auth(request)
        _job, execution = re.search(r"/jobs/([\w-]+)/executions/([\w-]+)\?", request.url).groups()  # type: ignore[union-attr]
        props = self.executions[execution]
        return 200, {}, json.dumps({"name": execution, "properties": props})

    def _list_executions(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._auth(request)
        self.listings += 1
        if self.fail_listing:  # a tiny Retry-After keeps azure-core's retries of the GET from sleeping
            return (
                500,
                {"Retry-After": "0.01"},
                json.dumps({"error": {"code": "InternalServerError", "message": "try again"}}),
            )
        job = re.search(r"/jobs/([\w-]+)/executions\?", request.url).group(1)  # type: ignore[union-attr]
        base = f"/subscriptions/{SUB}/resourceGroups/{GROUP}/providers/Microsoft.App/jobs/{job}/executions"
        value = [
            {"name": name, "id": f"{base}/{name}", "type": "Microsoft.App/jobs/executions", "properties": props}
            for name, props in reversed(self.executions.items())  # the newest first
            if name.startswith(f"{job}-")
        ]
        return 200, {}, json.dumps({"value": value})
