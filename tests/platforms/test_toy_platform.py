"""A new platform is one object satisfying the protocol plus one registry line: preflight, migrate and
deploy run on it through the CLI with no other change (the checks, the judge and the reports are neutral)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from release_kit import platforms
from release_kit.cli import run_cli
from release_kit.http import Clock
from release_kit.image_refs import ImageRef
from release_kit.platforms import Engine, Words
from release_kit.preflight.facts import Container, Facts, SecretMeta, SecretRef, Service
from release_kit.preflight.models import Check, Verdict
from release_kit.rollout.models import RoleResult
from release_kit.rollout.models import Verdict as RolloutVerdict
from release_kit.rollout.waiting import Deadline
from release_kit.target.settings import DeploySettings, Role

DIGEST = "sha256:" + "ab" * 32


class ToyEngine:
    def __init__(self) -> None:
        self.calls = 0
        self.deployed: list[tuple[str, str]] = []
        self.migrations: list[tuple[str, list[str]]] = []

    def deploy(
        self, role: Role, name: str, wanted_container: str | None, image: ImageRef, timeout: float
    ) -> RoleResult:
        self.calls += 1
        self.deployed.append((name, str(image)))
        return RoleResult(
            role=role, service=name, image=str(image), verdict=RolloutVerdict.PASS, reason="toy rolled it"
        )

    def migrate(
        self, name: str, wanted_container: str | None, command: list[str], image: ImageRef | None, deadline: Deadline
    ) -> dict[str, Any]:
        self.calls += 1
        self.migrations.append((name, command))
        return {"verdict": RolloutVerdict.PASS, "reason": "toy job exited 0"}


class Toy:
    """A platform as a new folder under platforms/ would define it."""

    name = "toy"
    file_option = "--toy-file"
    file_metavar = "ROLE=FILE"

    def __init__(self) -> None:
        self.engine_made = ToyEngine()

    @property
    def words(self) -> Words:
        return Words(
            store="Toy Vault",
            reference_form="a toy reference",
            service_where="toy unit {name}",
            dangling_fix="make {reference} in {store}",
            min_replicas_hint=" (toy replicas 1)",
            max_replicas_hint=" (toy max 1)",
            redeploy_hint="toy restart",
        )

    def check_settings(self, settings: DeploySettings) -> None:
        return None

    def gather(
        self,
        settings: DeploySettings,
        files: dict[Role, str],
        *,
        workers: int | None = None,
        credential: Any = None,
        endpoint: str | None = None,
    ) -> tuple[Facts, int]:
        dangling = SecretRef(reference="toy://db-url", meta=SecretMeta(store="Toy Vault", exists=False, note="toy"))
        services = {
            role: Service(
                role=role,
                name=name,
                revision=f"{name}-r1",
                container=Container(name=role, env={}, secrets={"DATABASE_URL": dangling} if role == "api" else {}),
                min_replicas=1,
                max_replicas=1,
            )
            for role, name in settings.services.items()
        }
        return Facts(platform=self.name, services=services), 1

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
        return self.engine_made, self.engine_made

    def migration_target(self, settings: DeploySettings) -> str:
        return "toy-migrations"

    def check_access(
        self, settings: DeploySettings, *, credential: Any = None, endpoint: str | None = None
    ) -> tuple[list[Check], int]:
        return [Check(check="access", subject="toy:Deploy", verdict=Verdict.PASS, reason="allowed")], 1


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Toy, Path]:
    platform = Toy()
    monkeypatch.setitem(platforms.ALL_PLATFORMS, platform.name, platform)  # the one registry line
    config = tmp_path / "release-kit.yml"
    config.write_text(
        "deploy:\n  platform: toy\n  services:\n    api: toy-api\n    web: toy-web\n"
        "  images:\n    api: registry.example/app/api\n    web: registry.example/app/web\n"
    )
    return platform, config


def test_preflight_judges_a_registered_platform_in_its_own_words(
    toy: tuple[Toy, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, config = toy
    report = tmp_path / "preflight.json"
    code = run_cli(["preflight", "--config", str(config), "--report", str(report), "--allow-unknown"])
    data = json.loads(report.read_text())
    assert data["platform"] == "toy"
    assert code == 1  # the dangling secret reference is a fail, whatever the platform
    dangling = next(c for c in data["checks"] if c["check"] == "secret_refs" and c["verdict"] == "fail")
    assert dangling["fix"] == "make toy://db-url in Toy Vault"
    assert "preflight (toy)" in capsys.readouterr().out


def test_migrate_and_deploy_drive_a_registered_platforms_engine(
    toy: tuple[Toy, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    platform, config = toy
    image = f"registry.example/app/api@{DIGEST}"
    assert run_cli(["migrate", "--config", str(config), "--command", "alembic upgrade head", "--image", image]) == 0
    assert platform.engine_made.migrations == [("toy-migrations", ["alembic", "upgrade", "head"])]
    web = f"registry.example/app/web@{DIGEST}"
    assert run_cli(["deploy", "--config", str(config), "--image", f"api={image}", "--image", f"web={web}"]) == 0
    assert platform.engine_made.deployed == [("toy-api", image), ("toy-web", web)]
    assert "deploy on toy: every role passed (api, web)" in capsys.readouterr().out


def test_an_unregistered_platform_is_a_config_error_naming_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "release-kit.yml"
    config.write_text("deploy:\n  platform: toy\n  services:\n    api: a\n    web: w\n")
    assert run_cli(["preflight", "--config", str(config)]) == 2
    assert "ecs, container-apps" in capsys.readouterr().err


def test_check_access_asks_a_registered_platform(toy: tuple[Toy, Path], tmp_path: Path) -> None:
    _, config = toy
    report = tmp_path / "access.json"
    assert run_cli(["preflight", "--check-access", "--config", str(config), "--report", str(report)]) == 0
    assert json.loads(report.read_text())["checks"][0]["subject"] == "toy:Deploy"


def test_the_platform_flag_takes_the_registrys_names_when_it_is_read(toy: tuple[Toy, Path]) -> None:
    from release_kit.target.options import RegisteredPlatform

    assert "toy" in RegisteredPlatform().choices  # registered after the option was declared
