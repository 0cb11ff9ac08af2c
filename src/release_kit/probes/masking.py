"""Which values smoke masks, and how a remote body is shown.

A mask hides every occurrence of its text in the whole job log, so masking a plain value (``true``,
``42``, ``ok``) blanks unrelated output (``passed=***``) and the runner then drops job outputs
that hold it. Smoke masks credentials only:

- a value declared ``secret: true`` (``secret: false`` never masks);
- otherwise, never a boolean, a number, null or a short word (under :data:`SHORT` characters);
- a JWT, a cookie value, a token-like header (``Authorization``, ``X-CSRF-Token``, ...), a value
  captured under, or from a field with, a credential name (token, secret, password, session, ...).

Secrets of the spec and ``Authorization``/``Cookie`` header values sent are masked as well (by the
runner and run.py) whatever they look like.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from release_kit import gha

SHORT = 8  # a value shorter than this is a word, not a credential, unless declared secret
EXCERPT = 160  # characters of a body shown for a failing step
CREDENTIAL_WORDS = (
    "token",
    "secret",
    "password",
    "passwd",
    "session",
    "cookie",
    "auth",
    "credential",
    "csrf",
    "xsrf",
    "apikey",
    "bearer",
    "jwt",
    "signature",
    "private",
)
CREDENTIAL_PARTS = frozenset({"key", "sid", "pat", "pwd", "pw", "otp", "pin"})
JWT_SHAPE = re.compile(r"^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


def credential_name(name: str) -> bool:
    """A name that says its value is a credential (``access_token``, ``X-CSRF-Token``, ``sessionId``)."""
    lowered = name.lower()
    if any(word in lowered for word in CREDENTIAL_WORDS):
        return True
    parts = re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower())
    return any(part in CREDENTIAL_PARTS for part in parts)


def plain(value: Any) -> bool:
    """A boolean, a number, null, or a short word: never a credential by default."""
    if value is None or isinstance(value, bool | int | float):
        return True
    text = str(value).strip()
    if len(text) < SHORT:
        return True
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return parsed is None or isinstance(parsed, bool | int | float)


def is_jwt(value: str) -> bool:
    return bool(JWT_SHAPE.match(value.strip()))


def should_mask(value: Any, *, declared: bool | None, names: tuple[str, ...] = (), source: str = "json") -> bool:
    """Whether a captured ``value`` is a credential to mask.

    ``declared``: the capture's ``secret``; ``names``: the capture's name and the field or header it
    comes from; ``source``: ``json``, ``header`` or ``cookie``.
    """
    if declared is not None:
        return declared and not isinstance(value, bool | int | float) and value is not None
    if plain(value):
        return False
    text = str(value)
    if source == "cookie" or is_jwt(text):
        return True
    return any(credential_name(name) for name in names)


def mask_header_value(value: str) -> None:
    """Mask a credential header's value and, for ``Bearer x``/``Basic x``, the credential on its own."""
    gha.mask(value)
    scheme, _, credential = value.partition(" ")
    if credential.strip() and scheme.isalpha():
        gha.mask(credential.strip())


JWT_ANYWHERE = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def _hide(value: Any, key: str = "") -> Any:
    """A JSON value with credential-named fields and JWTs replaced by ``***``."""
    if isinstance(value, dict):
        return {k: _hide(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide(v, key) for v in value]
    if isinstance(value, str) and ((credential_name(key) and not plain(value)) or is_jwt(value)):
        return "***"
    return value


def excerpt(body: str, *, tail: bool = False, limit: int = EXCERPT) -> str:
    """A remote body as one bounded display line: secrets redacted first (known secrets, JWTs, and in
    JSON the values of credential-named fields), then escaped (control characters, runner
    commands), then cut. ``tail`` keeps the end instead of the start."""
    text = gha.redact(body)
    if not tail:
        with contextlib.suppress(ValueError, RecursionError):
            text = json.dumps(_hide(json.loads(text)), ensure_ascii=False)
    text = " ".join(JWT_ANYWHERE.sub("***", text).split())
    text = gha.json_safe(gha.printable(text))
    if text.startswith("::"):
        text = "\\x3a" + text[1:]
    if len(text) <= limit:
        return text
    return "…" + text[-(limit - 1) :] if tail else text[: limit - 1] + "…"
