"""Catalog keyset pagination and search over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.courses import published_course, unique_category
from tests.support.identity import bearer
from tests.support.platform import RunningPlatform


def pages(api: str, params: dict[str, Any]) -> list[list[dict[str, Any]]]:
    out, cursor = [], None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        resp = httpx.get(f"{api}/courses", params=query)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        out.append(body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            return out


def test_keyset_pages_have_no_duplicates_or_gaps(platform: RunningPlatform,
                                                 teacher: dict[str, Any]) -> None:
    api, token = platform.api, teacher["access_token"]
    category = unique_category()
    made = [published_course(api, token, category=category, title=f"Course {i:02d}",
                             price={"amount": (i % 3) * 500, "currency": "usd"})
            for i in range(7)]
    ids = {c["id"] for c in made}
    for sort in ("newest", "title", "price"):
        got = pages(api, {"category": category, "limit": 3, "sort": sort})
        flat = [c["id"] for page in got for c in page]
        assert len(flat) == len(set(flat)) == 7 and set(flat) == ids, sort
        assert [len(p) for p in got] == [3, 3, 1]
    titles = [c["title"] for page in pages(api, {"category": category, "sort": "title",
                                                 "limit": 2}) for c in page]
    assert titles == sorted(titles)
    prices = [c["price"]["amount"] for page in pages(api, {"category": category,
                                                           "sort": "price"}) for c in page]
    assert prices == sorted(prices)
    free = pages(api, {"category": category, "price": "free"})
    assert all(c["price"]["amount"] == 0 for page in free for c in page)


def test_rows_inserted_between_pages_cause_no_duplicates_or_gaps(
        platform: RunningPlatform, teacher: dict[str, Any]) -> None:
    api, token = platform.api, teacher["access_token"]
    category = unique_category()
    before = [published_course(api, token, category=category, title=f"Old {i}")["id"]
              for i in range(4)]
    first = httpx.get(f"{api}/courses", params={"category": category, "limit": 2}).json()
    published_course(api, token, category=category, title="Brand new")  # newer than cursor
    rest = pages(api, {"category": category, "limit": 2, "cursor": first["next_cursor"]})
    seen = [c["id"] for c in first["items"]] + [c["id"] for page in rest for c in page]
    assert sorted(seen) == sorted(before)  # all old ones exactly once; the new one is ahead


def test_teacher_listing_and_drafts(platform: RunningPlatform, teacher: dict[str, Any]) -> None:
    api, token = platform.api, teacher["access_token"]
    published = published_course(api, token)
    draft = httpx.post(f"{api}/courses", headers=bearer(token), json={
        **{k: published[k] for k in ("title", "subtitle", "description", "category", "level",
                                     "language", "price", "tags")}}).json()
    public = httpx.get(f"{api}/teachers/{teacher['id']}/courses").json()["items"]
    assert [c["id"] for c in public] == [published["id"]]
    own = httpx.get(f"{api}/teachers/{teacher['id']}/courses", headers=bearer(token)).json()
    assert {c["id"] for c in own["items"]} == {published["id"], draft["id"]}


def test_bad_paging_input(platform: RunningPlatform) -> None:
    api = platform.api
    assert httpx.get(f"{api}/courses", params={"limit": 101}).status_code == 422
    assert httpx.get(f"{api}/courses", params={"limit": 0}).status_code == 422
    assert httpx.get(f"{api}/courses", params={"sort": "random"}).status_code == 422
    assert httpx.get(f"{api}/courses", params={"colour": "red"}).status_code == 422
    bad = httpx.get(f"{api}/courses", params={"cursor": "bm90LWEtY3Vyc29y.AAAA"})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith(
        "application/problem+json")


def test_cursor_from_another_query_is_refused(platform: RunningPlatform,
                                              teacher: dict[str, Any]) -> None:
    api, token = platform.api, teacher["access_token"]
    category = unique_category()
    for i in range(3):
        published_course(api, token, category=category, title=f"C{i}")
    cursor = httpx.get(f"{api}/courses", params={"category": category, "limit": 1}
                       ).json()["next_cursor"]
    assert cursor
    other = httpx.get(f"{api}/courses", params={"category": category, "limit": 1,
                                                "sort": "title", "cursor": cursor})
    assert other.status_code == 400


def test_search_is_typo_tolerant_ranked_and_highlighted(platform: RunningPlatform,
                                                        teacher: dict[str, Any]) -> None:
    api, token = platform.api, teacher["access_token"]
    category = unique_category()
    in_title = published_course(api, token, category=category, title="Kubernetes Operators",
                                description="Controllers and reconcilers.")
    in_body = published_course(api, token, category=category, title="Cloud Basics",
                               description="A short detour through kubernetes clusters.")
    published_course(api, token, category=category, title="Watercolour Painting",
                     description="Brushes.", tags=["art"])
    exact = httpx.get(f"{api}/search", params={"q": "kubernetes", "category": category})
    assert exact.status_code == 200, exact.text
    hits = exact.json()["items"]
    assert [h["course"]["id"] for h in hits] == [in_title["id"], in_body["id"]]
    assert "<mark>Kubernetes</mark>" in hits[0]["highlight"]
    typo = httpx.get(f"{api}/search", params={"q": "kubernets", "category": category})
    assert [h["course"]["id"] for h in typo.json()["items"]][:1] == [in_title["id"]]
    two_typos = httpx.get(f"{api}/search", params={"q": "kubernets operatrs",
                                                   "category": category}).json()["items"]
    assert two_typos[0]["course"]["id"] == in_title["id"] and two_typos[0]["match"] == "fuzzy"
    none = httpx.get(f"{api}/search", params={"q": "zzqqxx", "category": category})
    assert none.json() == {"items": [], "next_cursor": None}
    assert httpx.get(f"{api}/search").status_code == 422  # q is required


def test_search_pages_with_cursor(platform: RunningPlatform, teacher: dict[str, Any]) -> None:
    api, token = platform.api, teacher["access_token"]
    category = unique_category()
    ids = {published_course(api, token, category=category, title=f"Rust Systems {i}")["id"]
           for i in range(5)}
    seen, cursor = [], None
    while True:
        params = {"q": "rust", "category": category, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = httpx.get(f"{api}/search", params=params).json()
        seen += [h["course"]["id"] for h in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5 and set(seen) == ids
