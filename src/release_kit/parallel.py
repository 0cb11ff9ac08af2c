"""Independent cloud reads at the same time, with a ceiling: what each platform's gather shares."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


def run_parallel(jobs: dict[str, Callable[[], Any]], workers: int) -> dict[str, Any]:
    """Each job's result by key, at most ``workers`` in flight (1: one at a time); the first error is raised."""
    if not jobs:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        futures: dict[str, Future[Any]] = {key: pool.submit(fn) for key, fn in jobs.items()}
        return {key: future.result() for key, future in futures.items()}
