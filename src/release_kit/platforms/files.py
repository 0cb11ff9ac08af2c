"""Files a user names for a platform (a task definition, an app): read bounded, as JSON objects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from release_kit.errors import InputError

MAX_FILE_BYTES = 5 * 1024 * 1024


def load_json_file(path: Path, flag: str, role: str) -> dict[str, Any]:
    """A JSON object from a file the user named, bounded; exit 2 naming the flag otherwise."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{flag} {role}={path}: cannot read it ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{flag} {role}={path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{flag} {role}={path}: not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise InputError(f"{flag} {role}={path}: expected a JSON object")
    return value
