"""The web app in a real browser: web/e2e's Playwright journeys (node:test, playwright-core
driving Debian's headless Chromium) against the running platform, which serves the built
site (web/out) on the API's origin. Screenshots of the key pages land in
web/e2e/artifacts/ (EDU_WEB_ARTIFACTS)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from localcloud.media import make_clip
from tests.support.courses import published_course
from tests.support.identity import PASSWORD, bearer, login, register, verified_teacher
from tests.support.platform import RunningPlatform

WEB = Path(__file__).resolve().parents[3] / "web"
SCREENSHOTS = ("catalog", "search-results", "course-page", "learning-view", "checkout-declined",
               "live-classroom", "paid-enrolled", "teacher-verification", "teacher-course-editor",
               "teacher-courses", "teacher-dashboard", "mobile-catalog", "teacher-video-ready",
               "video-player")


def _prerequisites() -> tuple[str, str]:
    node = shutil.which("node")
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    missing = [what for what, ok in (
        ("node (Node.js 20+)", node),
        ("web/node_modules (./dev.sh setup runs npm ci)", (WEB / "node_modules").is_dir()),
        ("web/out (./dev.sh setup builds the site)", (WEB / "out" / "index.html").is_file()),
        ("Chromium (Debian's chromium package or CHROMIUM_PATH)", chromium),
    ) if not ok]
    assert not missing, "browser tests need: " + ", ".join(missing)
    return str(node), str(chromium)


def live_session(api: str, admin_token: str) -> dict[str, str]:
    """A published course with a live session in ten minutes, its teacher and an enrolled
    student (both with the test password)."""
    teacher = verified_teacher(api, admin_token)
    course = published_course(api, teacher["access_token"],
                              price={"amount": 0, "currency": "usd"})
    starts = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    session = httpx.post(f"{api}/courses/{course['id']}/live-sessions", timeout=30,
                         json={"title": "Browser office hours", "starts_at": starts},
                         headers=bearer(teacher["access_token"]))
    assert session.status_code == 201, session.text
    student = register(api)
    enrolled = httpx.post(f"{api}/courses/{course['id']}/enroll", timeout=30,
                          headers=bearer(login(api, student["email"])["access_token"]))
    assert enrolled.status_code == 201, enrolled.text
    return {"session": session.json()["id"], "course": course["id"],
            "teacher": teacher["email"], "student": student["email"], "password": PASSWORD}


def test_the_site_is_served_beside_the_api(platform: RunningPlatform) -> None:
    page = httpx.get(f"{platform.api}/", headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "EduPlatform" in page.text
    assert httpx.get(f"{platform.api}/health", timeout=10).json() == {"status": "ok"}
    config = httpx.get(f"{platform.api}/site-config.json", timeout=10).json()
    assert config["stripe_publishable_key"].startswith("pk_")
    assert config["stripe_api"].startswith("http://127.0.0.1:")
    # API clients still get the gateway's JSON 404 for unknown paths; browsers the 404 page.
    missing = httpx.get(f"{platform.api}/no/such/route", timeout=10)
    assert missing.status_code == 404 and missing.json() == {"message": "Not Found"}
    page404 = httpx.get(f"{platform.api}/no/such/page/", headers={"Accept": "text/html"},
                        timeout=10)
    assert page404.status_code == 404 and "Page not found" in page404.text


def test_browser_journeys(platform: RunningPlatform, teacher: dict[str, Any],
                          admin_token: str, tmp_path: Path) -> None:
    node, chromium = _prerequisites()
    clip = make_clip(tmp_path / "intro.mp4", seconds=4, size="640x360")
    artifacts = Path(os.environ.get("EDU_WEB_ARTIFACTS", WEB / "e2e" / "artifacts"))
    for old in artifacts.glob("*.png"):
        old.unlink()
    env = {**os.environ, "EDU_WEB_URL": platform.api, "CHROMIUM_PATH": chromium,
           "EDU_WEB_ARTIFACTS": str(artifacts), "EDU_WEB_CLIP": str(clip),
           "EDU_WEB_TEACHER_EMAIL": teacher["email"], "EDU_WEB_TEACHER_PASSWORD": PASSWORD,
           "EDU_WEB_TEACHER2_EMAIL": verified_teacher(platform.api, admin_token)["email"],
           "EDU_WEB_LIVE": json.dumps(live_session(platform.api, admin_token))}
    run = subprocess.run([node, "--test", "--test-concurrency=1", "--test-reporter=tap",
                          "e2e/"], cwd=WEB, env=env, capture_output=True, text=True,
                         timeout=600)
    report = run.stdout[-6000:] + run.stderr[-3000:]
    assert run.returncode == 0, report
    assert "\n# fail 0\n" in run.stdout, report
    passed = re.search(r"^# pass (\d+)$", run.stdout, re.MULTILINE)
    assert passed and int(passed.group(1)) >= 15, report  # every journey ran, none skipped
    saved = {p.stem for p in artifacts.glob("*.png")}
    assert set(SCREENSHOTS) <= saved, f"missing screenshots: {set(SCREENSHOTS) - saved}"
