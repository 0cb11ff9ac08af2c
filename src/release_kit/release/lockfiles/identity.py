"""How an npm package is named in an SBOM: its package URL and the hashes of its integrity string."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import quote

from release_kit.errors import InputError
from release_kit.release.lockfiles.models import Hash

_SRI = {"sha512": ("SHA-512", 64), "sha384": ("SHA-384", 48), "sha256": ("SHA-256", 32), "sha1": ("SHA-1", 20)}


def _quote(text: str) -> str:
    return quote(text, safe="/:")


def purl(name: str, version: str) -> str:
    """The package URL of an npm package, as the purl specification (and packageurl-python) write
    it: ``pkg:npm/%40scope/name@1.0.0``; the name lowercased, every part percent-encoded."""
    if name.startswith("@") and "/" in name:
        scope, _, short = name.partition("/")
        namespace = "/".join(_quote(part) for part in scope.strip().strip("/").split("/") if part.strip())
        prefix = f"{namespace}/" if namespace else ""
    else:
        prefix, short = "", name
    quoted = _quote(short).strip().strip("/").lower()
    text = f"pkg:npm/{prefix}{quoted}"
    return f"{text}@{_quote(version.strip())}" if version.strip() else text


def split_name(ident: str) -> tuple[str, str]:
    """``name@rest`` -> (name, rest), a scoped ``@scope/name@rest`` included; rest is "" without one."""
    at = ident.find("@", 1)
    return (ident, "") if at < 0 else (ident[:at], ident[at + 1 :])


def shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def sri_hashes(value: object, where: str) -> tuple[Hash, ...]:
    """The hashes of a Subresource Integrity string (``sha512-<base64>`` ..., space separated)."""
    if value is None:
        return ()
    if not isinstance(value, str):
        raise InputError(f"{where}: integrity must be a string such as sha512-<base64>, got {shown(value)}")
    hashes = []
    for part in value.split():
        alg, _, b64 = part.partition("-")
        known = _SRI.get(alg)
        try:
            digest = base64.b64decode(b64, validate=True) if known else b""
        except (ValueError, binascii.Error):
            digest = b""
        if known is None or len(digest) != known[1]:
            raise InputError(f"{where}: integrity {shown(part)} is not a sha512, sha384, sha256 or sha1 hash in base64")
        hashes.append(Hash(alg=known[0], content=digest.hex()))
    return tuple(hashes)
