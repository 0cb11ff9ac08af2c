#!/usr/bin/env python3
"""Benchmark verify-release against checking the same assets one file at a time, in one run, for
both Sigstore instances.

A release of --assets assets (real bytes, each with its real Sigstore bundle) is served by the fake
GitHub on 127.0.0.1. Timed:
  public good   ours: one `release-kit verify-release` process (release, downloads, attestations,
                verification; each asset also carries an attestation for another subject, as re-runs
                leave behind); peer: `python -m sigstore verify github --offline` once per asset with
                its bundle, as `gh attestation verify` is used today (one file at a time)
  GitHub's      ours: the same command on a private repository's release (the wheel attested by
                GitHub's instance: signed timestamps, no transparency log), `--custom-trusted-root`
                GitHub's trusted root (offline, as an air-gapped runner does). The sigstore CLI
                cannot verify these bundles at all (it requires a transparency log entry), so the
                peer is its file-by-file time on the public-good bundles: the cost of checking files
                one process at a time, which is what verifying a whole release in one process saves.
Run from the repository root:

    uv run --frozen --extra dev python scripts/bench/verify_release.py [--assets 7] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fakes.fixtures import ATTESTATIONS  # noqa: E402
from tests.fakes.github import FakeGitHub, serve  # noqa: E402

ARTIFACT = ATTESTATIONS / "reusable-workflow-artifact"
BUNDLE = ATTESTATIONS / "reusable-workflow-attestation.sigstore.json"
OTHER = ATTESTATIONS / "custom-issuer.sigstore.json"
SIGNER = "github/artifact-attestations-workflows/.github/workflows/attest.yml"
IDENTITY = f"https://github.com/{SIGNER}@09b495c3f12c7881b3cc17209a327792065c1a1d"
WHEEL = ATTESTATIONS / "github_provenance_demo-0.0.12-py3-none-any.whl"
WHEEL_BUNDLE = ATTESTATIONS / "github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl"
GITHUB_ROOT = ATTESTATIONS / "github_trusted_root.json"


def release(owner: str, repo: str, data: bytes, names: list[str], bundles: list[dict[str, object]]) -> FakeGitHub:
    fake = FakeGitHub(owner=owner, repo=repo)
    tagged = fake.add_release("v1.0.0", draft=False)
    for name in names:
        fake.add_asset(tagged, name, data)
    for bundle in bundles:
        fake.attest_bundle(hashlib.sha256(data).hexdigest(), bundle, by_url=False)
    return fake


def ours(fake: FakeGitHub, names: list[str], extra: list[str], env: dict[str, str]) -> float:
    cmd = [sys.executable, "-m", "release_kit", "verify-release", "--repo", fake.full_name, "--tag", "v1.0.0",
           *extra, *(f"--expect={n}" for n in names)]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"verify-release failed:\n{done.stdout}{done.stderr}")
    return took


def peer(folder: Path, names: list[str]) -> float:
    start = time.perf_counter()
    for name in names:
        subprocess.run(
            [sys.executable, "-m", "sigstore", "verify", "github", "--offline", str(folder / name),
             "--bundle", str(BUNDLE), "--repository", "malancas/attest-demo", "--cert-identity", IDENTITY],
            check=True,
            capture_output=True,
        )  # fmt: skip
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = ARTIFACT.read_bytes()
    names = [f"asset-{i}.bin" for i in range(args.assets)]
    wheels = [f"github_provenance_demo-{i}.whl" for i in range(args.assets)]
    public = release(
        "malancas", "attest-demo", data, names, [json.loads(OTHER.read_text()), json.loads(BUNDLE.read_text())]
    )
    private_bundle = json.loads(WHEEL_BUNDLE.read_text().splitlines()[0])
    private = release("actions", "attest-demo", WHEEL.read_bytes(), wheels, [private_bundle])
    public_times, github_times, peer_times = [], [], []
    with tempfile.TemporaryDirectory(prefix="rk-verify-bench-") as tmp_name, serve(public) as public_url:
        tmp = Path(tmp_name)
        for name in names:
            (tmp / name).write_bytes(data)
        with serve(private) as private_url:
            for _ in range(args.repeat):
                env = {**os.environ, "GITHUB_API_URL": public_url, "GITHUB_TOKEN": "bench"}
                public_times.append(
                    ours(public, names, ["--signer-workflow", SIGNER, "--source-ref", "refs/heads/main"], env)
                )
                env = {**os.environ, "GITHUB_API_URL": private_url, "GITHUB_TOKEN": "bench"}
                github_times.append(
                    ours(
                        private,
                        wheels,
                        ["--source-ref", "refs/heads/main", "--custom-trusted-root", str(GITHUB_ROOT)],
                        env,
                    )
                )
                peer_times.append(peer(tmp, names))
    med = statistics.median
    print(f"verify-release: {args.assets} assets, {args.repeat} runs (medians)")
    print(f"public good, ours (one process, whole release, 2 attestations each): {med(public_times):.2f} s")
    print(f"GitHub's instance, ours (one process, whole release):                {med(github_times):.2f} s")
    print(f"peer (sigstore CLI, file by file, public-good bundles):              {med(peer_times):.2f} s")
    pg, gh, pe = med(public_times), med(github_times), med(peer_times)
    print(f"ratio ours / peer:                       {pg / pe:.2f}  (public good: ours is {pe / pg:.1f}x faster)")
    print(f"ratio ours / peer (GitHub's instance):   {gh / pe:.2f}  (GitHub's: ours is {pe / gh:.1f}x faster)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
