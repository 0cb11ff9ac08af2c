#!/usr/bin/env python3
"""Benchmark `release-kit release build` of a three-package monorepo against plain builds, in one run.

Makes the monorepo the tests use (packages/contracts with setuptools_scm, packages/core with
hatch-vcs needing contracts, packages/sdk with setuptools_scm needing both; committed, tagged
v1.4.0, then checked out without tags as CI does), and times, as medians of --repeat runs:
  release build        the whole command: three wheels at the tag's version, in dependency order,
                       each checked in its METADATA, three SBOMs (siblings from this run's wheels,
                       the rest resolved with uv), SHA256SUMS
  python -m build      the three wheels one after another, the same isolated builds (uv installer,
                       the same pretend variables), no SBOM, no check
  uv build             the three wheels with `uv build --wheel`, one after another
Run from the repository root:

    uv run --frozen --extra dev python scripts/bench/release_build.py [--repeat 3] [--peers build,uv]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.release.projects import monorepo  # noqa: E402

from release_kit.cli import run_cli  # noqa: E402
from release_kit.release import preflight  # noqa: E402

TAG = "v1.4.0"


def ours(packages: list[Path], assets: Path) -> float:
    args = ["release", "build", "--tag", TAG, "--assets-dir", str(assets), *(f"--package={p}" for p in packages)]
    with Path(os.devnull).open("w") as quiet, contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        start = time.perf_counter()
        code = run_cli(args)
        elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"release build failed (exit {code}); run it by hand to see why")
    return elapsed


def _pretend(package: Path) -> dict[str, str]:
    return {**os.environ, **preflight.pretend_env(preflight.read_project(package), preflight.tag_version(TAG))}


def python_m_build(packages: list[Path], out: Path) -> float:
    start = time.perf_counter()
    for package in reversed(packages):  # contracts, core, sdk
        cmd = [sys.executable, "-m", "build", "--wheel", "--installer", "uv", "--outdir", str(out), str(package)]
        subprocess.run(cmd, check=True, capture_output=True, env=_pretend(package))
    return time.perf_counter() - start


def uv_build(packages: list[Path], out: Path) -> float:
    from uv import find_uv_bin

    uv = str(find_uv_bin())
    start = time.perf_counter()
    for package in reversed(packages):
        cmd = [uv, "build", "--quiet", "--wheel", "--python", sys.executable, "--out-dir", str(out), str(package)]
        subprocess.run(cmd, check=True, capture_output=True, env=_pretend(package))
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-warm", action="store_true", help="skip the untimed first build (a smoke run)")
    parser.add_argument("--peers", default="build,uv", help="peers to time: build (python -m build), uv (uv build)")
    args = parser.parse_args()
    peers = {p.strip() for p in args.peers.split(",") if p.strip()}
    med = statistics.median
    times: dict[str, list[float]] = {"ours": [], "build": [], "uv": []}
    with tempfile.TemporaryDirectory(prefix="rk-release-build-bench-") as tmp_name:
        tmp = Path(tmp_name)
        packages = monorepo(tmp / "repo", TAG)
        if not args.no_warm:
            ours(packages, tmp / "warm")  # the backends into the uv cache, once, for every contender
        for i in range(args.repeat):
            times["ours"].append(ours(packages, tmp / f"assets-{i}"))
            if "build" in peers:
                times["build"].append(python_m_build(packages, tmp / f"build-{i}"))
            if "uv" in peers:
                times["uv"].append(uv_build(packages, tmp / f"uv-{i}"))
            for folder in (tmp / "repo" / "packages").glob("*/build"):
                shutil.rmtree(folder)  # setuptools' leftovers, so every run starts alike
    print(f"release build of a three-package monorepo (setuptools_scm, hatch-vcs), {args.repeat} runs (medians)")
    print(f"release build (wheels + SBOMs):  {med(times['ours']):.2f} s")
    for key, label in (("build", "python -m build x3"), ("uv", "uv build x3")):
        if times[key]:
            ratio = med(times["ours"]) / med(times[key])
            print(f"{label + ':':<33}{med(times[key]):.2f} s   ratio ours / peer: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
