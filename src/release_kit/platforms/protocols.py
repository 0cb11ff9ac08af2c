"""What a platform is to the rest of release-kit: its words, its facts for preflight, its engine for the rollout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from release_kit.http import Clock
    from release_kit.image_refs import ImageRef
    from release_kit.preflight.facts import Facts
    from release_kit.preflight.models import Check
    from release_kit.rollout.models import RoleResult
    from release_kit.rollout.waiting import Deadline
    from release_kit.target.settings import DeploySettings, Role


@dataclass(frozen=True)
class Words:
    """How a platform names things, for the reasons and fixes preflight prints."""

    store: str  # where secrets live, e.g. "Key Vault"
    reference_form: str  # how a variable references one
    service_where: str  # where a service's settings live; formatted with {name} and {revision}
    dangling_fix: str  # a reference that points at nothing; formatted with {store} and {reference}
    min_replicas_hint: str  # appended to "run the worker with at least one replica"
    max_replicas_hint: str  # appended to "cap the worker at one replica"
    redeploy_hint: str  # how to pick up a rotated secret


class Engine(Protocol):
    """What migrate, deploy and rollback drive on a platform."""

    def current_image(self, role: Role, name: str, wanted_container: str | None) -> str | None:
        """The image ``role``'s container in service ``name`` runs now (None when it does not say)."""

    def deploy(
        self, role: Role, name: str, wanted_container: str | None, image: ImageRef, timeout: float
    ) -> RoleResult: ...

    def migrate(
        self, name: str, wanted_container: str | None, command: list[str], image: ImageRef | None, deadline: Deadline
    ) -> dict[str, Any]: ...


class Platform(Protocol):
    """One platform: its words, its facts for preflight, its engine for the rollout."""

    name: str  # deploy.platform in .github/release-kit.yml
    file_option: str  # the preflight flag naming a revision about to be deployed, e.g. --task-definition
    file_metavar: str  # what it takes, e.g. ROLE=FILE|ARN

    @property
    def words(self) -> Words: ...

    def check_settings(self, settings: DeploySettings) -> None:
        """Every setting the engine needs, or exit 2 naming the first one missing."""

    def gather(
        self,
        settings: DeploySettings,
        files: dict[Role, str],
        *,
        workers: int | None = None,
        credential: Any = None,
        endpoint: str | None = None,
    ) -> tuple[Facts, int]:
        """The facts preflight judges, and the number of cloud requests made."""

    def engine(
        self,
        settings: DeploySettings,
        *,
        clock: Clock,
        interval: float,
        credential: Any = None,
        endpoint: str | None = None,
        lro_interval: float | None = None,
    ) -> tuple[Engine, Any]:
        """The engine and its client (``.calls`` counts the requests made)."""

    def migration_target(self, settings: DeploySettings) -> str:
        """What the one-off migration runs as: a service to copy, or a job to start."""

    def check_access(
        self, settings: DeploySettings, *, credential: Any = None, endpoint: str | None = None
    ) -> tuple[list[Check], int]:
        """Whether the identity running this can do what migrate, deploy and rollback will do, one row
        per permission (failed rows name what to grant), and the number of cloud requests made."""
