#!/usr/bin/env python3
"""Benchmark `release-kit release build` and its SBOM step against cyclonedx-py, in one run.

Makes three small Python packages (each depending on click) and an npm lockfile of --npm
packages, then times, as medians of --repeat runs:
  release build     the whole command: three wheels with python -m build, four SBOMs, SHA256SUMS
  SBOM step, ours   the three wheel SBOMs (dependencies resolved with uv) plus the frontend SBOM
  SBOM step, peer   for each wheel: a scratch venv with the wheel installed, then
                    `cyclonedx-py environment` on it (the install is part of what the peer needs;
                    its generation alone is printed too)
Run from the repository root:

    uv run --frozen --extra dev python scripts/bench/release.py [--npm 1000] [--repeat 3] [--upload-mb 200]

It also uploads one --upload-mb asset with `release-kit release upload` to the fake GitHub served
on 127.0.0.1 and prints the client's peak memory (uploads stream from disk).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fakes.github import FakeGitHub, serve  # noqa: E402
from tests.release.projects import npm_frontend, python_package  # noqa: E402

from release_kit.cli import run_cli  # noqa: E402
from release_kit.release import sbom  # noqa: E402
from release_kit.release.frontend_sbom import frontend_sbom  # noqa: E402

NAMES = ("starter-contracts", "starter-console", "starter-providers")


def ours_sbom_step(wheels: list[Path], frontend: Path) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda w: sbom.wheel_sbom(w, hashlib.sha256(w.read_bytes()).hexdigest()), wheels))
    frontend_sbom(frontend, frontend)
    return time.perf_counter() - start


def peer_sbom_step(wheels: list[Path], work: Path) -> tuple[float, float]:
    """(install + generate, generate only) for cyclonedx-py environment over every wheel."""
    from uv import find_uv_bin

    uv = str(find_uv_bin())
    cyclonedx = str(Path(sys.executable).parent / "cyclonedx-py")
    total = generate = 0.0
    for i, wheel in enumerate(wheels):
        venv = work / f"peer-{i}-{time.monotonic_ns()}"
        start = time.perf_counter()
        subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
        subprocess.run([uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), str(wheel)], check=True)
        mid = time.perf_counter()
        subprocess.run([cyclonedx, "environment", "--sv", "1.6", "-o", str(venv / "sbom.json"),
                        str(venv / "bin" / "python")], check=True, capture_output=True)  # fmt: skip
        end = time.perf_counter()
        total += end - start
        generate += end - mid
    return total, generate


def upload_peak(tmp: Path, megabytes: int) -> tuple[float, int]:
    """Wall time and the client's peak RSS for `release upload` of a --upload-mb asset to the fake."""
    import os

    package = python_package(tmp / "big", "big-package", "1.0.0", dependencies=())
    assets = tmp / "big-assets"
    assets.mkdir()
    wheel = assets / "big_package-1.0.0-py3-none-any.whl"
    with wheel.open("wb") as handle:
        for _ in range(megabytes):
            handle.write(os.urandom(1024 * 1024))
    (assets / "big_package-sbom.json").write_text("{}")
    sums = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in sorted(assets.iterdir()))
    (assets / "SHA256SUMS").write_text(sums)
    fake = FakeGitHub()
    with serve(fake) as url:
        env = {**os.environ, "GITHUB_API_URL": url, "GITHUB_TOKEN": "bench", "GITHUB_REPOSITORY": fake.full_name}
        cmd = [sys.executable, "-m", "release_kit", "release", "upload", "--tag", "v1.0.0",
               f"--package={package}", "--assets-dir", str(assets)]  # fmt: skip
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        peak = 0
        while proc.poll() is None:
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
                peak = max(
                    peak, int(next(ln for ln in status.splitlines() if ln.startswith("VmHWM:")).split()[1]) * 1024
                )
            except (OSError, StopIteration):
                pass
            time.sleep(0.005)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"release upload failed: {proc.stderr.read().decode() if proc.stderr else ''}")
        if fake.assets_of("v1.0.0")[wheel.name]["size"] != megabytes * 1024 * 1024:
            raise SystemExit("the uploaded asset is not whole")
    return elapsed, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--npm", type=int, default=1000, help="packages in the frontend lockfile")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--upload-mb", type=int, default=200, help="size of the asset whose upload memory is measured")
    args = parser.parse_args()
    med = statistics.median
    with tempfile.TemporaryDirectory(prefix="rk-release-bench-") as tmp_name:
        tmp = Path(tmp_name)
        packages = [python_package(tmp / name, name, "1.0.0") for name in NAMES]
        frontend = npm_frontend(tmp / "web", count=args.npm)
        builds, ours, peer, peer_gen = [], [], [], []
        for i in range(args.repeat):
            assets = tmp / f"assets-{i}"
            cmd = ["release", "build", "--tag", "v1.0.0", "--assets-dir", str(assets), "--frontend", str(frontend)]
            cmd += [f"--package={p}" for p in packages]
            start = time.perf_counter()
            if run_cli([*cmd, "--report", str(tmp / "report.json")]) != 0:
                raise SystemExit("release build failed")
            builds.append(time.perf_counter() - start)
            wheels = sorted(assets.glob("*.whl"))
            ours.append(ours_sbom_step(wheels, frontend))
            total, generate = peer_sbom_step(wheels, tmp)
            peer.append(total)
            peer_gen.append(generate)
        upload_seconds, upload_rss = upload_peak(tmp, args.upload_mb)
    print(f"release build: 3 wheels + a {args.npm}-package npm lockfile, {args.repeat} runs (medians)")
    print(f"release build, whole:        {med(builds):.2f} s")
    print(f"SBOM step, ours:             {med(ours):.2f} s")
    print(f"SBOM step, cyclonedx-py:     {med(peer):.2f} s (generation alone {med(peer_gen):.2f} s)")
    print(f"ratio ours / cyclonedx-py:   {med(ours) / med(peer):.2f}")
    print(
        f"upload of {args.upload_mb} MB: client peak memory {upload_rss / 1024 / 1024:.0f} MB ({upload_seconds:.2f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
