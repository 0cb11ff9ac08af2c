"""A quick smoke of scripts/bench/frontend_sbom.py (the read on the large lockfile, no cdxgen)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_frontend_sbom_benchmark_smoke() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/bench/frontend_sbom.py"), "--repeat", "1", "--read-only"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "pnpm-lock.yaml 9.0, 1418 packages" in done.stdout
    assert re.search(r"components of apps/web-app:\s+1360 \(881 development-only\)", done.stdout)
    assert "@acme/ui (workspace package packages/ui)" in done.stdout
    seconds = float(re.search(r"ours, read:\s+([\d.]+) s", done.stdout).group(1))  # type: ignore[union-attr]
    assert 0 < seconds < 5
