"""A small smoke of scripts/bench/verify_release.py: both instances measured, both ratios printed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_measures_both_instances() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/bench/verify_release.py"), "--assets", "1", "--repeat", "1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    public = re.search(r"ratio ours / peer:\s+([\d.]+)", done.stdout)
    github = re.search(r"ratio ours / peer \(GitHub's instance\):\s+([\d.]+)", done.stdout)
    assert public is not None and github is not None, done.stdout
    assert float(public.group(1)) > 0 and float(github.group(1)) > 0
