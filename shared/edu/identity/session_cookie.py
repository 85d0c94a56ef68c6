"""The refresh token as a browser keeps it: an HttpOnly cookie that page scripts cannot read
(an XSS cannot take a 30-day credential), sent only to /auth/ and only by this site's own
pages (SameSite=Strict). API clients keep using the token in the JSON body; the web app,
served on the API's origin, uses the cookie and stores only the short-lived access token."""

from __future__ import annotations

REFRESH_COOKIE = "edu_refresh"
_ATTRIBUTES = "HttpOnly; Secure; SameSite=Strict; Path=/auth/"


def refresh_cookie(token: str, max_age_s: int) -> str:
    return f"{REFRESH_COOKIE}={token}; Max-Age={max_age_s}; {_ATTRIBUTES}"


def cleared_refresh_cookie() -> str:
    return f"{REFRESH_COOKIE}=; Max-Age=0; {_ATTRIBUTES}"
