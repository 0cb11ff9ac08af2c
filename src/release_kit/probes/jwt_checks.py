"""JWT checks for smoke steps: shape, time claims, required claims, and the signature against a JWKS.

A token is never printed: reasons name the check that failed, and remote values shown in
them (a ``kid``, an ``alg``) go through :func:`verdicts.show`.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx

from release_kit.probes.smoke_spec import JwtCheck
from release_kit.probes.verdicts import show

LEEWAY = 60.0
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})
JWKS_LIMIT = 256 * 1024
JWKS_DEADLINE = 30.0  # seconds a key set may take to arrive, whatever the server trickles


def _part(text: str) -> Any:
    padded = text + "=" * (-len(text) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]] | str:
    """(header, claims), or the reason the token is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        return "not a JWT (expected three base64url parts)"
    try:
        header, claims = _part(parts[0]), _part(parts[1])
    except (ValueError, binascii.Error, UnicodeError):
        return "not a JWT (header or payload is not base64url JSON)"
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return "not a JWT (header or payload is not a JSON object)"
    return header, claims


def check_jwt(
    token: Any,
    check: JwtCheck,
    captured: Mapping[str, str],
    now: float,
    verifier: JwksVerifier | None = None,
) -> str | None:
    """None when ``token`` passes every check, else the first failure."""
    if not isinstance(token, str) or not token:
        return "no token there"
    decoded = decode_unverified(token)
    if isinstance(decoded, str):
        return decoded
    header, claims = decoded
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return "no numeric exp claim"
    if exp <= now:
        return f"expired {now - exp:.0f}s ago"
    iat = claims.get("iat")
    if isinstance(iat, int | float) and not isinstance(iat, bool) and iat > now + LEEWAY:
        return f"iat {iat - now:.0f}s in the future"
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and not isinstance(nbf, bool) and nbf > now + LEEWAY:
        return f"not valid for another {nbf - now:.0f}s (nbf)"
    missing = [c for c in check.claims if c not in claims]
    if missing:
        return f"claims missing: {', '.join(missing)}"
    if check.differs_from and captured.get(check.differs_from) == token:
        return f"the same token as {check.differs_from} (expected a new one)"
    for key, wanted in check.header.items():
        if header.get(key) != wanted:
            return f"header {key} = {show(header.get(key))}, expected {show(wanted)}"
    if verifier is not None:
        return verifier.verify(token, header)
    return None


class JwksVerifier:
    """Signatures checked against the keys published at ``url``."""

    def __init__(self, url: str, client: httpx.Client) -> None:
        self.url = url
        self.client = client
        self._lock = threading.Lock()

    def _fetch(self) -> dict[str, Any] | str:
        import jwt

        ends = time.monotonic() + JWKS_DEADLINE
        body = bytearray()
        with self.client.stream("GET", self.url) as response:  # bounded in size and in time, whatever it sends
            if response.status_code != 200:
                return f"JWKS {self.url}: status {response.status_code}"
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > JWKS_LIMIT:
                    return f"JWKS {self.url}: over {JWKS_LIMIT // 1024} KiB"
                if time.monotonic() > ends:
                    return f"JWKS {self.url}: still arriving after {JWKS_DEADLINE:g}s"
        try:
            document = json.loads(body)
        except ValueError:
            return f"JWKS {self.url}: not JSON"
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            return f"JWKS {self.url}: not a key set (expected an object with a keys list)"
        try:
            keyset = jwt.PyJWKSet.from_dict(document)
        except (ValueError, TypeError, AttributeError, jwt.PyJWKSetError, jwt.InvalidKeyError) as exc:
            return f"JWKS {self.url}: not a usable key set ({type(exc).__name__})"
        declared = {str(k.get("kid") or ""): k.get("alg") for k in document["keys"] if isinstance(k, dict)}
        return {k.key_id or "": (k, declared.get(k.key_id or "")) for k in keyset.keys}

    def _key(self, kid: str) -> Any:
        """The key for ``kid`` from the JWKS as it is now: fetched for every check, never cached, so a
        key the service has retired fails at once (a rotation is proven, not assumed)."""
        with self._lock:
            keys = self._fetch()
        if isinstance(keys, str):
            return keys
        if kid in keys:
            return keys[kid]
        if not kid and len(keys) == 1:
            return next(iter(keys.values()))
        return f"kid {show(kid)} is not in the JWKS"

    def verify(self, token: str, header: Mapping[str, Any]) -> str | None:
        import jwt

        alg = header.get("alg")
        if alg not in ASYMMETRIC:
            return f"alg {show(alg)} is not an asymmetric algorithm a JWKS can verify"
        kid = header.get("kid")
        found = self._key(kid if isinstance(kid, str) else "")
        if isinstance(found, str):
            return found
        key, declared_alg = found
        if declared_alg and declared_alg != alg:
            return f"alg {alg} does not match the JWKS key's {show(declared_alg)}"
        try:
            jwt.decode(
                token,
                key=key.key,
                algorithms=[alg],
                options={
                    "verify_signature": True,
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except jwt.InvalidSignatureError:
            return f"signature does not verify against JWKS key {show(kid)}"
        except jwt.PyJWTError as exc:
            return f"signature not verified ({type(exc).__name__})"
        return None
