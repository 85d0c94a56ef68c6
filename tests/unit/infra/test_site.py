"""The static web app files the local gateway serves for paths no API route matches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localcloud.runtime.site import CONFIG_PATH, StaticSite, default_site_dir


@pytest.fixture
def site(tmp_path: Path) -> StaticSite:
    out = tmp_path / "web" / "out"
    (out / "login").mkdir(parents=True)
    (out / "_next" / "static" / "chunks").mkdir(parents=True)
    (out / "index.html").write_text("<h1>catalog</h1>")
    (out / "login" / "index.html").write_text("<h1>login</h1>")
    (out / "404.html").write_text("<h1>not found</h1>")
    (out / "_next" / "static" / "chunks" / "app.3f2a.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside the site")
    return StaticSite(out, {"stripe_api": "http://127.0.0.1:8420",
                            "stripe_publishable_key": "pk_test_local"})


def test_pages_are_their_directory_index(site: StaticSite) -> None:
    home, login = site.lookup("/"), site.lookup("/login/")
    assert home is not None and home.body == b"<h1>catalog</h1>" and home.status == 200
    assert home.content_type == "text/html; charset=utf-8" and home.cache_control == "no-cache"
    assert login is not None and login.body == b"<h1>login</h1>"
    assert site.lookup("/login") is not None  # without the trailing slash too


def test_hashed_assets_are_cached_for_a_year(site: StaticSite) -> None:
    asset = site.lookup("/_next/static/chunks/app.3f2a.js")
    assert asset is not None and "immutable" in asset.cache_control
    assert asset.content_type.endswith("javascript; charset=utf-8")


def test_missing_pages_give_the_404_page_only_to_browsers(site: StaticSite) -> None:
    page = site.lookup("/no/such/page/", wants_html=True)
    assert page is not None and page.status == 404 and page.body == b"<h1>not found</h1>"
    # An API client (no text/html) gets the gateway's own JSON 404 instead.
    assert site.lookup("/no/such/page/") is None
    assert site.lookup("/missing.js", wants_html=False) is None


@pytest.mark.parametrize("path", ["/../secret.txt", "/%2e%2e/secret.txt",
                                  "/login/../../secret.txt"])
def test_nothing_outside_the_site_is_served(site: StaticSite, path: str) -> None:
    assert site.lookup(path) is None


def test_site_config_is_the_runtime_settings(site: StaticSite) -> None:
    config = site.lookup(CONFIG_PATH)
    assert config is not None and config.cache_control == "no-store"
    assert json.loads(config.body) == {"stripe_api": "http://127.0.0.1:8420",
                                       "stripe_publishable_key": "pk_test_local"}


def test_the_default_site_is_the_built_export_beside_the_template(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    assert default_site_dir(template) is None  # not built yet
    (tmp_path / "web" / "out").mkdir(parents=True)
    (tmp_path / "web" / "out" / "index.html").write_text("x")
    assert default_site_dir(template) == tmp_path / "web" / "out"
