"""JWT checks for smoke steps: shape, time claims, required claims and their values, and the signature
against a JWKS (RSA, EC P-256/384/521 and Ed25519/Ed448 keys).

A token is never printed: reasons name the check that failed, and remote values shown in
them (a ``kid``, an ``alg``, a claim) go through :func:`verdicts.show`. Whatever a token or a key
set holds, a check answers with a reason, never an exception.
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

from release_kit.probes.smoke_spec import JwtCheck, expand
from release_kit.probes.verdicts import show

LEEWAY = 60.0
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})
JWKS_LIMIT = 256 * 1024
JWKS_DEADLINE = 30.0  # seconds a key set may take to arrive, whatever the server trickles
#: The JWK key type (and curve) each algorithm needs: a token naming ES256 is never checked with an RSA key.
KEY_TYPES: dict[str, tuple[str, frozenset[str] | None]] = {
    **{alg: ("RSA", None) for alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")},
    "ES256": ("EC", frozenset({"P-256"})),
    "ES384": ("EC", frozenset({"P-384"})),
    "ES512": ("EC", frozenset({"P-521"})),
    "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"})),
}


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
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
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
    problem, _ = inspect_jwt(token, check, captured, now, verifier)
    return problem


def _claim_matches(found: Any, wanted: Any) -> bool:
    if found == wanted:
        return True
    # aud may be a list: it holds the audience wanted
    return isinstance(found, list) and not isinstance(wanted, list) and wanted in found


def inspect_jwt(
    token: Any,
    check: JwtCheck,
    captured: Mapping[str, str],
    now: float,
    verifier: JwksVerifier | None = None,
) -> tuple[str | None, str]:
    """(None, evidence) when ``token`` passes every check, else (the first failure, "").

    ``captured`` holds the values ``{name}`` expands to in claim values and the tokens
    ``differs_from`` names."""
    if not isinstance(token, str) or not token:
        return "no token there", ""
    problem, evidence = _inspect(token, check, captured, now, verifier)
    return problem, "" if problem else evidence


def _inspect(
    token: str,
    check: JwtCheck,
    captured: Mapping[str, str],
    now: float,
    verifier: JwksVerifier | None,
) -> tuple[str | None, str]:
    decoded = decode_unverified(token)
    if isinstance(decoded, str):
        return decoded, ""
    header, claims = decoded
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return "no numeric exp claim", ""
    if exp <= now:
        return f"expired {now - exp:.0f}s ago", ""
    iat = claims.get("iat")
    if isinstance(iat, int | float) and not isinstance(iat, bool) and iat > now + LEEWAY:
        return f"iat {iat - now:.0f}s in the future", ""
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and not isinstance(nbf, bool) and nbf > now + LEEWAY:
        return f"not valid for another {nbf - now:.0f}s (nbf)", ""
    missing = [c for c in check.claims if c not in claims]
    if missing:
        return f"claims missing: {', '.join(missing)}", ""
    if isinstance(check.claims, dict):
        for name, wanted in check.claims.items():
            wanted = expand(wanted, captured)
            if not _claim_matches(claims.get(name), wanted):
                return f"claim {name} = {show(claims.get(name))}, expected {show(wanted)}", ""
    if check.differs_from and captured.get(check.differs_from) == token:
        return f"the same token as {check.differs_from} (expected a new one)", ""
    for key, wanted in check.header.items():
        if header.get(key) != wanted:
            return f"header {key} = {show(header.get(key))}, expected {show(wanted)}", ""
    described = f"alg {show(header.get('alg'))}, kid {show(header.get('kid') or '(none)')}"
    if verifier is not None:
        problem = verifier.verify(token, header)
        return problem, f"verified ({described})"
    return None, f"checked, signature not verified: no jwks_url ({described})"


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
        # bounded in size and in time, whatever it sends; a redirect is never followed (it could lead to
        # another origin, or from https to plain http, where anyone on the path could serve keys)
        with self.client.stream("GET", self.url, follow_redirects=False) as response:
            if response.is_redirect or 300 <= response.status_code < 400:
                location = response.headers.get("location")
                where = f" to {show(location)}" if location else ""
                return f"JWKS {self.url}: redirect {response.status_code}{where} (not followed)"
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
        except (ValueError, RecursionError):
            return f"JWKS {self.url}: not JSON"
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            return f"JWKS {self.url}: not a key set (expected an object with a keys list)"
        try:
            keyset = jwt.PyJWKSet.from_dict(document)
        except (ValueError, TypeError, AttributeError, jwt.PyJWKSetError, jwt.InvalidKeyError) as exc:
            return f"JWKS {self.url}: not a usable key set ({type(exc).__name__})"
        declared = {str(k.get("kid") or ""): k.get("alg") for k in document["keys"] if isinstance(k, dict)}
        curves = {str(k.get("kid") or ""): k.get("crv") for k in document["keys"] if isinstance(k, dict)}
        return {k.key_id or "": (k, declared.get(k.key_id or ""), curves.get(k.key_id or "")) for k in keyset.keys}

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
        key, declared_alg, curve = found
        if declared_alg and declared_alg != alg:
            return f"alg {alg} does not match the JWKS key's {show(declared_alg)}"
        kty, curves = KEY_TYPES[alg]
        if key.key_type != kty or (curves is not None and curve not in curves):
            have = f"{key.key_type} {curve}" if curve else str(key.key_type)
            return f"alg {alg} needs a {kty} key, JWKS key {show(kid or '(no kid)')} is {show(have)}"
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
        except (TypeError, ValueError, AttributeError) as exc:  # a key that does not fit the algorithm
            return f"signature not verified: the JWKS key does not fit alg {alg} ({type(exc).__name__})"
        return None
