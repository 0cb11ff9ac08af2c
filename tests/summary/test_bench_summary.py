"""A small smoke of scripts/bench/summary_mermaid.py, so it keeps working (Mermaid's parser when installed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_summary_mermaid_benchmark_smoke(tmp_path: Path) -> None:
    modules = Path(os.environ.get("MERMAID_NODE_MODULES", tmp_path / "absent"))
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/bench/summary_mermaid.py"), "--steps", "12", "--repeat", "2",
         "--node-modules", str(modules)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "our grammar check:             4/4 charts valid" in done.stdout
    if (modules / "mermaid").is_dir():  # MERMAID_NODE_MODULES=/tmp/mm/node_modules after `npm i mermaid jsdom`
        assert "4/4 charts read exactly as meant" in done.stdout and "ratio ours / peer" in done.stdout
    else:
        assert "mermaid: not checked" in done.stdout
