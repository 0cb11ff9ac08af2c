#!/usr/bin/env python3
"""Benchmark what deploy.require_attestations adds to a deploy: three images' build-provenance
attestations fetched from the GitHub API and verified (certificate chain, signed timestamp, DSSE
signature, subject, identity policy), against the rollout it guards, in one run.

The bundles are signed through a local Sigstore instance shaped like GitHub's (a test CA and TSA,
`--custom-trusted-root` their root, so nothing leaves the machine) and served by the fake GitHub on
127.0.0.1 with --latency seconds per request. Timed:
  ours   `require_attested` for --images images, in process (what deploy and rollback run first)
  peer   the rollout it guards: the same images through `deploy_images` on a platform whose engine
         takes --rollout seconds per role (ECS and Container Apps take minutes; 1 s is a floor)
The target is under 1 s for three images. Run from the repository root:

    uv run --frozen --extra dev python scripts/bench/attested_deploy.py [--images 3] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.attestations.local_instance import LocalInstance, Signer, statement  # noqa: E402
from tests.fakes.github import FakeGitHub, serve  # noqa: E402

from release_kit.image_refs import ImageRef  # noqa: E402
from release_kit.rollout.attested import require_attested  # noqa: E402
from release_kit.rollout.deploy import deploy_images  # noqa: E402
from release_kit.rollout.models import RoleResult, Verdict  # noqa: E402
from release_kit.target.settings import DeploySettings  # noqa: E402

ROLES = ("api", "web", "worker")
PROVENANCE = "https://slsa.dev/provenance/v1"


class SlowFakeGitHub(FakeGitHub):
    """The fake GitHub, answering each request after ``latency`` seconds."""

    latency = 0.0

    def handle(self, request: Any) -> Any:
        time.sleep(self.latency)
        return super().handle(request)


class PacedEngine:
    """A rollout that takes ``seconds`` per role (the peer: what the check guards)."""

    calls = 0

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def current_image(self, role: str, name: str, wanted: str | None) -> str | None:
        return None

    def deploy(self, role: Any, name: str, wanted: str | None, image: Any, timeout: float) -> RoleResult:
        time.sleep(self.seconds)
        return RoleResult(role=role, service=name, image=str(image), verdict=Verdict.PASS, reason="rolled")

    def migrate(self, *args: Any) -> dict[str, Any]:
        raise NotImplementedError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=3, choices=range(1, 4))
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per GitHub API request")
    parser.add_argument("--rollout", type=float, default=1.0, help="seconds the peer's rollout takes per role")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    instance = LocalInstance()
    fake = SlowFakeGitHub()
    fake.latency = args.latency
    roles = ROLES[: args.images]
    repositories = {role: f"ghcr.io/acme/{role}" for role in roles}
    images: dict[Any, ImageRef] = {}
    for role in roles:
        digest = secrets.token_hex(32)
        subject = [{"name": repositories[role], "digest": {"sha256": digest}}]
        bundle = instance.bundle(statement(subject, PROVENANCE, {}), Signer.workflow_run(fake.full_name))
        fake.attest_bundle(digest, bundle, by_url=False)
        images[role] = ImageRef(repository=repositories[role], digest=f"sha256:{digest}")
    settings = DeploySettings.model_validate(
        {
            "platform": "ecs",
            "cluster": "prod",
            "services": {role: f"shop-{role}" for role in roles},
            "images": repositories,
            "require_attestations": True,
            "signer_workflow": f"{fake.full_name}/.github/workflows/release.yml",
        }
    )
    ours: list[float] = []
    peer: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, serve(fake) as url:
        import os

        os.environ.update({"GITHUB_API_URL": url, "GITHUB_TOKEN": "ghs_benchToken1234567890"})
        root = instance.write_root(Path(tmp) / "trusted_root.json")
        for _ in range(args.repeat):
            requests = len(fake.requests)
            start = time.perf_counter()
            evidence = require_attested(settings, images, repository=fake.full_name, custom_trusted_root=root)
            ours.append(time.perf_counter() - start)
            assert len(evidence) == len(roles), evidence
            made = len(fake.requests) - requests
            engine = PacedEngine(args.rollout)
            start = time.perf_counter()
            report = deploy_images(settings, images, 60, engine=(engine, engine))  # type: ignore[arg-type]
            peer.append(time.perf_counter() - start)
            assert report.passed
    mine, theirs = statistics.median(ours), statistics.median(peer)
    print(f"images: {len(roles)}, GitHub API latency {args.latency:.2f}s per request, {made} requests per check")
    print(f"attestation check (ours):     {mine:.3f}s  (target < 1 s for three images)")
    print(f"the rollout it guards (peer): {theirs:.3f}s  ({args.rollout:.1f}s per role)")
    print(f"ratio ours/peer: {mine / theirs:.2f}; ours/target: {mine / 1.0:.2f}")
    return 0 if mine < 1.0 or len(roles) < 3 else 1


if __name__ == "__main__":
    sys.exit(main())
