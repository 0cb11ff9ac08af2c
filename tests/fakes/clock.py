"""A clock that never sleeps: tests advance time instead."""

from __future__ import annotations

from tests.fakes.github import NOW


class FakeClock:
    def __init__(self, start: float | None = None) -> None:
        self.t = start if start is not None else NOW.timestamp()
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
