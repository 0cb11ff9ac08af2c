"""A small smoke of each benchmark script, so they keep working; full runs are by hand."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_verify_gates_benchmark_smoke() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/bench/verify_gates.py"), "--latency", "0.05", "--repeat", "1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    requests = int(re.search(r"requests made:\s+(\d+)", done.stdout).group(1))  # type: ignore[union-attr]
    per_latency = float(re.search(r"wall time / latency:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    assert requests <= 40
    assert per_latency < 15  # concurrent: the budget is 1.5 s at 100 ms per request
    assert "ratio ours / peer" in done.stdout
    # the start-up figures: whole processes
    process = float(re.search(r"  verify-gates:\s+([\d.]+) s", done.stdout).group(1))  # type: ignore[union-attr]
    helps = float(re.search(r"release-kit --help:\s+([\d.]+) s", done.stdout).group(1))  # type: ignore[union-attr]
    assert 0 < helps < process < 10  # bounds loose enough for a loaded machine: the figures are the point
    assert "start-up over the check" in done.stdout


def test_push_benchmark_smoke() -> None:
    import shutil

    import pytest

    if not (shutil.which("skopeo") and shutil.which("docker-registry")):
        pytest.skip("skopeo and docker-registry are needed (.ci/run installs them)")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/bench/push.py"), "--size-mb", "4", "--repeat", "1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    ratio = float(re.search(r"ratio ours / skopeo:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"client peak memory:\s+(\d+) MB", done.stdout).group(1))  # type: ignore[union-attr]
    assert ratio > 0 and peak < 100


def test_release_benchmark_smoke() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/bench/release.py"), "--npm", "50", "--repeat", "1", "--upload-mb", "20"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    ratio = float(re.search(r"ratio ours / cyclonedx-py:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    assert 0 < ratio < 1
    peak = int(re.search(r"upload of 20 MB: client peak memory (\d+) MB", done.stdout).group(1))  # type: ignore[union-attr]
    assert peak < 100  # our SBOM step is faster than building an environment per wheel for cyclonedx-py


def test_verify_release_benchmark_smoke() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/bench/verify_release.py"), "--assets", "2", "--repeat", "1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    ratio = float(re.search(r"ratio ours / peer:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    assert ratio > 0
    # both Sigstore instances measured, both ratios printed
    github = re.search(r"ratio ours / peer \(GitHub's instance\):\s+([\d.]+)", done.stdout)
    assert github is not None and float(github.group(1)) > 0, done.stdout


def test_last_good_benchmark_smoke() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts/bench/last_good.py"),
            *("--latency", "0.02", "--deployments", "60", "--repeat", "1"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    requests = int(re.search(r"requests made:\s+(\d+)", done.stdout).group(1))  # type: ignore[union-attr]
    peer = int(re.search(r"peer requests:\s+(\d+)", done.stdout).group(1))  # type: ignore[union-attr]
    ratio = float(re.search(r"ratio ours / peer:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    assert requests <= 15 < 61 == peer  # statuses only for candidates; the peer reads every deployment's
    assert 0 < ratio < 0.5


def test_preflight_benchmark_smoke() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/bench/preflight.py"), "--latency", "0.05", "--repeat", "1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    calls = int(re.search(r"cloud calls made:\s+(\d+)", done.stdout).group(1))  # type: ignore[union-attr]
    wall = float(re.search(r"wall time \(median of 1\):\s+([\d.]+) s", done.stdout).group(1))  # type: ignore[union-attr]
    ratio = float(re.search(r"ratio ours / peer:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    assert calls <= 20  # the budget: at most 20 calls and under 1.5 s at 50 ms per request
    assert wall < 1.5
    assert 0 < ratio < 1  # concurrent rounds beat one call at a time


def test_health_benchmark_smoke() -> None:
    import shutil

    import pytest

    if shutil.which("curl") is None:
        pytest.skip("curl is needed for the peer loop")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/bench/health.py"), "--cases", "warm-up 503,degraded",
         "--deadline", "5", "--ready-after", "0.5"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )  # fmt: skip
    greens = re.search(r"false greens: ours (\d+), curl (\d+)", done.stdout)
    assert greens is not None, done.stdout
    assert (int(greens.group(1)), int(greens.group(2))) == (0, 1)  # a 200 "degraded" fools the curl loop
    assert re.search(r"warm-up 503\s+pass\s+pass", done.stdout), done.stdout


def test_deploy_benchmark_smoke() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/bench/deploy.py"), "--latency", "0.01", "--complete-after", "0.3",
         "--interval", "0.5", "--peer-delay", "1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )  # fmt: skip
    false_greens = re.search(r"false greens: ours (\d+) of 1, peer (\d+) of 1", done.stdout)
    assert false_greens is not None, done.stdout + done.stderr
    assert false_greens.groups() == ("0", "1")  # the waiter calls the rolled-back service stable; deploy does not
    assert done.stdout.count("passed True") == 2  # both pass the rollout that completes
    calls = int(re.search(r"calls made:\s+(\d+)", done.stdout).group(1))  # type: ignore[union-attr]
    assert 0 < calls <= 20
