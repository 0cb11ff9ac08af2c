"""Cookies an answer sets, read the way a browser's jar would store them, and checks on their attributes.

Set-Cookie headers are read by httpx's cookie handling (the standard library's ``http.cookiejar``)
for the request's origin, so a cookie for another domain, or one the jar's rules refuse, is not set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

    from release_kit.probes.smoke_spec import CookieExpect


@dataclass(frozen=True)
class SetCookie:
    name: str
    value: str
    secure: bool
    httponly: bool
    samesite: str | None  # lower-case, as given
    path: str
    domain: str

    def describe(self) -> str:
        flags = [f for f, on in (("HttpOnly", self.httponly), ("Secure", self.secure)) if on]
        if self.samesite:
            flags.append(f"SameSite={self.samesite.capitalize()}")
        return f"{self.name} ({', '.join(flags) or 'no attributes'})"


def set_by(response: httpx.Response) -> dict[str, SetCookie]:
    """The cookies ``response`` sets for its request's origin, by name (the last one of a name wins)."""
    import httpx

    jar = httpx.Cookies()
    jar.extract_cookies(response)
    found: dict[str, SetCookie] = {}
    for cookie in jar.jar:
        rest = {str(k).lower(): v for k, v in (getattr(cookie, "_rest", None) or {}).items()}
        samesite = rest.get("samesite")
        found[cookie.name] = SetCookie(
            name=cookie.name,
            value=cookie.value or "",
            secure=bool(cookie.secure),
            httponly="httponly" in rest,
            samesite=str(samesite).lower() if samesite else None,
            path=cookie.path,
            domain=cookie.domain,
        )
    return found


def check(name: str, found: SetCookie | None, expect: CookieExpect) -> str | None:
    """None when the cookie is set with the attributes expected, else the first difference."""
    from release_kit.probes.verdicts import show

    if found is None:
        return f"cookie {name} not set by this answer (or refused for this origin)"
    for attr, wanted, have in (
        ("HttpOnly", expect.httponly, found.httponly),
        ("Secure", expect.secure, found.secure),
    ):
        if wanted is not None and wanted != have:
            return f"cookie {name}: {attr} {'missing' if wanted else 'set, expected without it'}"
    if expect.samesite is not None and expect.samesite != found.samesite:
        return f"cookie {name}: SameSite {show(found.samesite or '(none)')}, expected {expect.samesite}"
    if expect.path is not None and expect.path != found.path:
        return f"cookie {name}: Path {show(found.path)}, expected {expect.path}"
    return None
