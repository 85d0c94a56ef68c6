"""The web app's static files (web/out, a Next.js export) served by the local gateway on
the API's origin, the way a CDN in front of the site bucket serves them on AWS.

Only requests that match no API route reach the site, so an API path always wins.
`/site-config.json` is the site's runtime settings (the Stripe endpoint and publishable key),
answered from the template's parameters so one build runs against any stack.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
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


def site_config(template: Template) -> dict[str, str]:
    params = template.parameters
    return {"stripe_api": params.get("StripeApiBase") or "https://api.stripe.com",
            "stripe_publishable_key": params.get("StripePublishableKey") or ""}


class StaticSite:
    def __init__(self, root: Path, config: dict[str, str]) -> None:
        self.root = root.resolve()
        self.config = json.dumps(config).encode()

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
            return SiteFile(missing.read_bytes(), "text/html; charset=utf-8", "no-cache", 404)
        return None

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
        return SiteFile(candidate.read_bytes(), content_type,
                        "public, max-age=31536000, immutable" if immutable else "no-cache")


def default_site_dir(template_path: Path) -> Path | None:
    built = template_path.parent / "web" / "out"
    return built if (built / "index.html").is_file() else None
