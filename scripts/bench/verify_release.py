#!/usr/bin/env python3
"""Benchmark verify-release against checking the same assets one file at a time, in one run.

A release of --assets assets (real bytes, each with its real Sigstore bundle plus an attestation
for another subject, as re-runs leave behind) is served by the fake GitHub on 127.0.0.1. Timed:
  ours   one `release-kit verify-release` process: release, downloads, attestations, verification
  peer   `python -m sigstore verify github --offline` once per asset with its bundle, as
         `gh attestation verify` is used today (one file at a time, asset list left to the user)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = ARTIFACT.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    names = [f"asset-{i}.bin" for i in range(args.assets)]
    fake = FakeGitHub(owner="malancas", repo="attest-demo")
    release = fake.add_release("v1.0.0", draft=False)
    for name in names:
        fake.add_asset(release, name, data)
    fake.attest_bundle(sha, json.loads(OTHER.read_text()), by_url=False)
    fake.attest_bundle(sha, json.loads(BUNDLE.read_text()), by_url=False)
    ours, peer = [], []
    with tempfile.TemporaryDirectory(prefix="rk-verify-bench-") as tmp_name, serve(fake) as url:
        tmp = Path(tmp_name)
        for name in names:
            (tmp / name).write_bytes(data)
        env = {**os.environ, "GITHUB_API_URL": url, "GITHUB_TOKEN": "bench"}
        for _ in range(args.repeat):
            cmd = [
                sys.executable,
                "-m",
                "release_kit",
                "verify-release",
                "--repo",
                fake.full_name,
                "--tag",
                "v1.0.0",
                "--signer-workflow",
                SIGNER,
                "--source-ref",
                "refs/heads/main",
                *(f"--expect={n}" for n in names),
            ]
            start = time.perf_counter()
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            ours.append(time.perf_counter() - start)
            if done.returncode != 0:
                raise SystemExit(f"verify-release failed:\n{done.stdout}{done.stderr}")
            start = time.perf_counter()
            for name in names:
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "sigstore",
                        "verify",
                        "github",
                        "--offline",
                        str(tmp / name),
                        "--bundle",
                        str(BUNDLE),
                        "--repository",
                        "malancas/attest-demo",
                        "--cert-identity",
                        IDENTITY,
                    ],
                    check=True,
                    capture_output=True,
                )
            peer.append(time.perf_counter() - start)
    med = statistics.median
    print(f"verify-release: {args.assets} assets, 2 attestations each, {args.repeat} runs (medians)")
    print(f"ours (one process, whole release):   {med(ours):.2f} s")
    print(f"peer (sigstore CLI, file by file):   {med(peer):.2f} s")
    print(f"ratio ours / peer:                   {med(ours) / med(peer):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
