#!/usr/bin/env python3
"""Benchmark the frontend SBOM on a large pnpm workspace against cdxgen, in one run.

The workspace is scripts/bench/data: a Next.js app (apps/web-app) and a UI package in a pnpm
workspace whose pnpm-lock.yaml (lockfile 9.0, 1,418 packages) pnpm 10.34.9 wrote with
``pnpm install --lockfile-only`` (see docs/frontend-sbom.md). Best (and median) of --repeat runs of:
  ours, read            find_lockfile + read_lockfile in this process (the lockfile to components)
  ours, SBOM            frontend_sbom in this process, warm (CycloneDX model, JSON, schema check)
  ours, fresh process   frontend_sbom in a new Python process (imports included)
  cdxgen                cdxgen -t js --no-install-deps --no-babel --spec-version 1.6 on the folder
cdxgen is found on PATH or given with --cdxgen PATH; without it the peer is skipped with a line.

    uv run --frozen --extra dev python scripts/bench/frontend_sbom.py [--repeat 3] [--cdxgen PATH]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(ROOT / "src"))

from release_kit.release.frontend_sbom import frontend_sbom  # noqa: E402
from release_kit.release.lockfiles import find_lockfile, read_lockfile  # noqa: E402


def workspace(folder: Path) -> Path:
    """The benchmark workspace, written out: the lockfile and its manifests."""
    for name, text in json.loads((DATA / "pnpm-large.manifests.json").read_text()).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    with gzip.open(DATA / "pnpm-large.yaml.gz", "rb") as handle:
        (folder / "pnpm-lock.yaml").write_bytes(handle.read(64 * 1024 * 1024))
    return folder


def timed(repeat: int, run: Callable[[], object]) -> tuple[float, float]:
    """(best, median) seconds of ``repeat`` runs; the ratios use the best (the least disturbed by
    other work on the machine), the median is printed beside it."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def shown(times: tuple[float, float]) -> str:
    return f"{times[0]:.3f} s (median {times[1]:.3f} s)"


def fresh_process(repo: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from release_kit.release.frontend_sbom import frontend_sbom; "
        "frontend_sbom(Path(sys.argv[1]), Path(sys.argv[2]))"
    )
    subprocess.run([sys.executable, "-c", code, str(repo / "apps" / "web-app"), str(repo)], check=True, timeout=300)


def cdxgen_run(cdxgen: str, repo: Path, out: Path) -> None:
    subprocess.run(
        [cdxgen, "-t", "js", "--no-install-deps", "--no-babel", "--spec-version", "1.6", "-o", str(out), "."],
        cwd=repo, check=True, capture_output=True, timeout=600,
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cdxgen", help="the cdxgen executable (default: cdxgen on PATH)")
    parser.add_argument("--no-peer", action="store_true", help="skip cdxgen")
    parser.add_argument("--no-process", action="store_true", help="skip the fresh-process measurement")
    parser.add_argument("--read-only", action="store_true", help="measure the read only (no SBOM, no peer)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-frontend-") as tmp:
        repo = workspace(Path(tmp) / "repo")
        frontend = repo / "apps" / "web-app"
        lockfile = find_lockfile(frontend, repo)
        reading = read_lockfile(lockfile, frontend)
        import yaml

        packages = len(yaml.load(lockfile.path.read_text(), Loader=yaml.CSafeLoader)["packages"])
        print(f"lockfile:                    pnpm-lock.yaml {reading.format.split()[-1]}, {packages} packages")
        print(f"components of apps/web-app:  {len(reading.components)} "
              f"({sum(c.dev for c in reading.components)} development-only), "
              f"set aside: {', '.join(e.describe() for e in reading.excluded)}")  # fmt: skip
        read = timed(args.repeat, lambda: read_lockfile(find_lockfile(frontend, repo), frontend))
        print(f"ours, read:                  {shown(read)}")
        if args.read_only:
            return 0
        frontend_sbom(frontend, repo)  # imports and the schema, once
        sbom = timed(args.repeat, lambda: frontend_sbom(frontend, repo))
        print(f"ours, SBOM (warm):           {shown(sbom)}")
        process = None
        if not args.no_process:
            process = timed(args.repeat, lambda: fresh_process(repo))
            print(f"ours, fresh process:         {shown(process)}")
        cdxgen = None if args.no_peer else (args.cdxgen or shutil.which("cdxgen"))
        if cdxgen is None or not Path(cdxgen).exists():
            print("cdxgen: not found (on PATH or --cdxgen PATH); peer skipped")
            return 0
        out = Path(tmp) / "cdxgen.json"
        peer = timed(args.repeat, lambda: cdxgen_run(cdxgen, repo, out))
        listed = len(json.loads(out.read_text())["components"])
        print(f"cdxgen (whole workspace):    {shown(peer)}, {listed} components")
        print(f"ratio cdxgen / ours, read:   {peer[0] / read[0]:.1f}x")
        print(f"ratio cdxgen / ours, SBOM:   {peer[0] / sbom[0]:.1f}x")
        if process is not None:
            print(f"ratio cdxgen / ours, process: {peer[0] / process[0]:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
