"""One waiting loop for rollouts, migrations and snapshots: a strict deadline, a progress line per poll.

The clock is http.py's (injectable), so tests advance time instead of sleeping.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from release_kit import gha
from release_kit.http import Clock
from release_kit.rollout.models import Finding, Verdict, clean

POLL_INTERVAL = 5.0


@dataclass(frozen=True)
class Deadline:
    clock: Clock
    at: float
    seconds: float

    @classmethod
    def after(cls, clock: Clock, seconds: float) -> Deadline:
        return cls(clock, clock.now() + seconds, seconds)

    def left(self) -> float:
        return max(0.0, self.at - self.clock.now())


def wait_for(
    what: str,
    observe: Callable[[], Finding],
    deadline: Deadline,
    *,
    interval: float = POLL_INTERVAL,
    stream: TextIO | None = None,
) -> Finding:
    """Call ``observe`` until it passes or fails, or the deadline passes (then a fail naming the last
    state seen). Each poll prints ``waiting for <what>: <seen> (<n>s left)`` to stderr."""
    out = stream or sys.stderr
    while True:
        finding = observe()
        if finding.verdict is not Verdict.WAIT:
            return finding
        left = deadline.left()
        if left <= 0:
            return Finding(
                verdict=Verdict.FAIL,
                reason=f"not done within {deadline.seconds:.0f}s (--timeout): {finding.reason}",
            )
        out.write(gha.redact(f"waiting for {what}: {clean(finding.reason)} ({left:.0f}s left)") + "\n")
        out.flush()
        deadline.clock.sleep(min(interval, left))
