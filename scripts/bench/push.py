#!/usr/bin/env python3
"""Benchmark publish-images against skopeo, both pushing to the same local registry in one run.

Builds an OCI layout of --size-mb split over --layers random layers, starts a registry on
127.0.0.1 (Debian's docker-registry), and times, as medians of --repeat runs:
  cold push      ours (release-kit publish-images) vs `skopeo copy oci:... docker://...`, each
                 into a fresh repository so every blob is uploaded
  re-push        ours again into the same repository (nothing to upload; the whole process is the
                 figure users wait for: the target is under 0.3 s, start-up included)
  mount          a second image sharing all but one layer, pushed with the first in one run
                 into new repositories (the time the second adds over a cold push of the first)
and our client's peak memory (max RSS of the push process). Each "ours" figure is a whole
`release-kit` process from the environment scripts/bootstrap makes for the action, start-up
included; the "engine only" lines time
the same push in-process, which is what remains once the interpreter and imports are loaded.
Run from the repository root:

    uv run --frozen --extra dev python scripts/bench/push.py [--size-mb 200] [--layers 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
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

from tests.images.images import oci_layout  # noqa: E402
from tests.images.server import registry  # noqa: E402

from release_kit.images.distribution import DistributionClient  # noqa: E402
from release_kit.images.layout import read_image  # noqa: E402
from release_kit.images.push import push_image  # noqa: E402


def _hwm(pid: int) -> int:
    """VmHWM of ``pid`` in bytes: its own peak RSS since exec (ru_maxrss would include the
    parent's, which Linux carries across fork and exec)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def timed(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _hwm(proc.pid))
        time.sleep(0.005)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
    return elapsed, peak


def action_venv() -> str:
    """The release-kit the action runs: scripts/bootstrap's environment (no dev tools, bytecode compiled)."""
    done = subprocess.run(["bash", str(ROOT / "scripts" / "bootstrap")], capture_output=True, text=True, check=True)
    return str(Path(done.stdout.strip().splitlines()[-1]) / "release-kit")


RELEASE_KIT = ""


def ours(host: str, prefix: str, images: dict[str, Path]) -> list[str]:
    cmd = [RELEASE_KIT, "publish-images", "--registry", host, "--image-prefix", prefix]
    return cmd + [f"--image={name}={path}" for name, path in images.items()] + ["--tag", "1"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    global RELEASE_KIT
    RELEASE_KIT = action_venv()
    skopeo = shutil.which("skopeo")
    if skopeo is None:
        raise SystemExit("skopeo is not installed (apt-get install skopeo)")

    with tempfile.TemporaryDirectory(prefix="rk-bench-") as tmp_name:
        tmp = Path(tmp_name)
        per_layer = args.size_mb * 1024 * 1024 // args.layers
        shared = [os.urandom(per_layer) for _ in range(args.layers - 1)]
        api = oci_layout(tmp / "api", [*shared, os.urandom(per_layer)])
        web = oci_layout(tmp / "web", [*shared, os.urandom(per_layer)])
        cold, peer, repush, mount, rss, engine_cold, engine_repush = [], [], [], [], [], [], []
        for i in range(args.repeat):
            # each cold push gets a registry of its own: skopeo's blob-info cache would otherwise
            # mount blobs it saw in our repositories instead of uploading them
            with registry(tmp / f"ours{i}") as url:
                host = url.removeprefix("http://")
                seconds, peak = timed(ours(host, "bench/cold", {"api": api}))
                cold.append(seconds)
                rss.append(peak)
                repush.append(timed(ours(host, "bench/cold", {"api": api}))[0])
                both, peak = timed(ours(host, "bench/pair", {"api": api, "web": web}))
                rss.append(peak)
                mount.append(max(0.0, both - cold[-1]))
            with registry(tmp / f"engine{i}") as url:  # the push engine alone, no process start-up
                client = DistributionClient(url)
                image = read_image(api)
                start = time.perf_counter()
                push_image(client, "bench/engine", image, ["1"])
                engine_cold.append(time.perf_counter() - start)
                start = time.perf_counter()
                push_image(client, "bench/engine", image, ["1"])
                engine_repush.append(time.perf_counter() - start)
                client.close()
            with registry(tmp / f"skopeo{i}") as url:
                host = url.removeprefix("http://")
                peer.append(timed([skopeo, "copy", "-q", "--dest-tls-verify=false", f"oci:{api}",
                                   f"docker://{host}/bench/skopeo/api:1"])[0])  # fmt: skip

    med = statistics.median
    mib = 1024 * 1024
    print(f"publish-images vs skopeo: {args.size_mb} MB in {args.layers} layers, local registry, {args.repeat} runs")
    print(f"cold push, ours:          {med(cold):.2f} s")
    print(f"cold push, skopeo:        {med(peer):.2f} s")
    print(f"ratio ours / skopeo:      {med(cold) / med(peer):.2f}")
    print(f"re-push, ours:            {med(repush):.2f} s")
    print(f"engine only, cold push:   {med(engine_cold):.2f} s (ratio to skopeo {med(engine_cold) / med(peer):.2f})")
    print(f"engine only, re-push:     {med(engine_repush):.3f} s")
    startup = med(repush) - med(engine_repush)
    print(f"re-push start-up:         {startup:.2f} s (the whole process minus the engine; re-push target < 0.3 s)")
    print(f"second image (mount):     {med(mount):.2f} s")
    print(f"client peak memory:       {max(rss) / mib:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
