"""The web app's static files (web/out, a Next.js export) served by the local gateway on
the API's origin, the way a CDN in front of the site bucket serves them on AWS.

Only requests that match no API route reach the site, so an API path always wins.
`/site-config.json` is the site's runtime settings (the Stripe endpoint and publishable key),
answered from the template's parameters so one build runs against any stack.

Every page carries a Content-Security-Policy: scripts only from this origin plus the page's
own inline scripts by hash (a Next.js export inlines its bootstrap and payload, different per
page, so the hashes are computed from the file served); connections only to this origin, the
Stripe API and the AWS endpoint (direct uploads, media); never framed. A CDN in front of the
site bucket sends the same policy (docs/decisions.md §27).
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from localcloud.template import Template

CONFIG_PATH = "/site-config.json"


@dataclass(frozen=True)
class SiteFile:
    body: bytes
    content_type: str
    cache_control: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S)
PAGE_HEADERS = {"x-frame-options": "DENY", "referrer-policy": "strict-origin-when-cross-origin"}


def content_security_policy(html: bytes, origins: list[str]) -> str:
    """The policy for one page: its inline scripts allowed by their SHA-256."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html))
    others = " ".join(origins)
    return (f"default-src 'self'; script-src 'self' {hashes}; "
            "style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: blob: {others}; media-src 'self' blob: {others}; "
            f"connect-src 'self' {others}; worker-src 'self' blob:; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def site_config(template: Template, websocket: str | None = None) -> dict[str, str]:
    """What the site's pages read from /site-config.json: Stripe's API and key, and the
    WebSocket API's URL (the live classroom) when the template has one."""
    params = template.parameters
    return {"stripe_api": params.get("StripeApiBase") or "https://api.stripe.com",
            "stripe_publishable_key": params.get("StripePublishableKey") or "",
            **({"websocket": websocket} if websocket else {})}


class StaticSite:
    def __init__(self, root: Path, config: dict[str, str], origins: list[str] | None = None
                 ) -> None:
        """`origins`: where pages may connect besides their own (Stripe, the AWS endpoint)."""
        self.root = root.resolve()
        self.config = json.dumps(config).encode()
        self.origins = sorted({o.rstrip("/") for o in [config.get("stripe_api", ""),
                                                       *(origins or [])] if o})

    def lookup(self, path: str, *, wants_html: bool = False) -> SiteFile | None:
        """The file for a GET of `path`: a page's index.html for a directory; for a browser
        asking for a page that does not exist, the export's 404 page; otherwise None (the
        gateway's own JSON 404, which API clients expect)."""
        if path == CONFIG_PATH:
            return SiteFile(self.config, "application/json", "no-store")
        found = self._file(path)
        if found is not None:
            return found
        missing = self.root / "404.html"
        if wants_html and missing.is_file():
            body = missing.read_bytes()
            return SiteFile(body, "text/html; charset=utf-8", "no-cache", 404,
                            self._page_headers(body))
        return None

    def _page_headers(self, html: bytes) -> dict[str, str]:
        return {**PAGE_HEADERS,
                "content-security-policy": content_security_policy(html, self.origins)}

    def _file(self, path: str) -> SiteFile | None:
        relative = unquote(path).lstrip("/")
        candidate = (self.root / relative).resolve()
        if candidate != self.root and self.root not in candidate.parents:
            return None  # ../ out of the site
        if candidate.is_dir():
            candidate = candidate / "index.html"
        if not candidate.is_file():
            return None
        content_type = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith("javascript"):
            content_type += "; charset=utf-8"
        # Next.js puts a content hash in every /_next/static name: cache those for a year.
        immutable = relative.startswith("_next/static/")
        body = candidate.read_bytes()
        return SiteFile(body, content_type,
                        "public, max-age=31536000, immutable" if immutable else "no-cache",
                        headers=self._page_headers(body)
                        if content_type.startswith("text/html") else {})


def default_site_dir(template_path: Path) -> Path | None:
    built = template_path.parent / "web" / "out"
    return built if (built / "index.html").is_file() else None
