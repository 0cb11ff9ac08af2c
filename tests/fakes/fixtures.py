"""Load the GitHub REST payloads in tests/fixtures/github-api (see its README for sources and licences)."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
GITHUB_API = FIXTURES / "github-api"
ATTESTATIONS = FIXTURES / "attestations"


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((GITHUB_API / name).read_text(encoding="utf-8"))


def payload(name: str) -> dict[str, Any]:
    """The whole fixture record (method, path, status, headers, body, ...), a fresh copy."""
    return copy.deepcopy(_load(name))


def body(name: str) -> Any:
    return payload(name)["body"]
