"""A small smoke of the start-up figures the benchmark scripts print (full runs are by hand)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_verify_gates_benchmark_times_whole_processes() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/bench/verify_gates.py"), "--latency", "0.05", "--repeat", "1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    process = float(re.search(r"  verify-gates:\s+([\d.]+) s", done.stdout).group(1))  # type: ignore[union-attr]
    helps = float(re.search(r"release-kit --help:\s+([\d.]+) s", done.stdout).group(1))  # type: ignore[union-attr]
    assert 0 < helps < process < 10  # bounds loose enough for a loaded machine: the figures are the point
    assert "start-up over the check" in done.stdout
