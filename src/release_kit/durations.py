"""The one duration syntax: ``90s``, ``15m``, ``12h``, ``7d``, ``2w``, or a plain number of seconds.

Shared by the config file (``schedule_max_age``), the command line (``--wait``) and
environment settings (``RELEASE_KIT_RETRY_BUDGET``), so every place accepts the same forms.
"""

from __future__ import annotations

import re

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*\Z")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
EXPECTED = "expected a duration such as 90s, 15m, 12h, 7d or a number of seconds"


def parse_seconds(value: str | int | float) -> float:
    """Seconds in ``value``; ValueError (saying what is expected) when it is not a duration."""
    if isinstance(value, bool):
        raise ValueError(EXPECTED)
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(EXPECTED)
        return float(value)
    match = _DURATION_RE.match(value)
    if not match:
        raise ValueError(EXPECTED)
    return float(match.group(1)) * _UNITS[match.group(2)]
