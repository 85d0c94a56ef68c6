"""The video pipeline through the local runtime: presigned upload -> S3 notification -> SQS
-> transcode function -> HLS in the media bucket -> signed playback for enrolled students;
storage policy refusals; a corrupt upload failed at once, with its reason, not retried."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from localcloud.media import make_clip
from localcloud.stack import LocalCloud
from tests.support.aws import aws_client
from tests.support.courses import create_course
from tests.support.events import mail_to
from tests.support.identity import bearer, login, register
from tests.support.platform import RunningPlatform


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("media") / "lesson.mp4", seconds=3)


def video_course(api: str, token: str, *, preview: bool = False) -> tuple[str, str]:
    """A published free course whose first lesson is a video lesson."""
    course = create_course(api, token, price={"amount": 0, "currency": "usd"})
    section = httpx.post(f"{api}/courses/{course['id']}/sections", json={"title": "Intro"},
                         headers=bearer(token), timeout=30).json()
    lesson = httpx.post(f"{api}/courses/{course['id']}/sections/{section['id']}/lessons",
                        json={"title": "Welcome", "kind": "video", "free_preview": preview},
                        headers=bearer(token), timeout=30)
    assert lesson.status_code == 201, lesson.text
    published = httpx.post(f"{api}/courses/{course['id']}/publish", headers=bearer(token),
                           timeout=30)
    assert published.status_code == 200, published.text
    return course["id"], lesson.json()["id"]


def ask_upload(api: str, token: str, course_id: str, lesson_id: str, **body: Any
               ) -> httpx.Response:
    payload = {"filename": "welcome.mp4", "content_type": "video/mp4", "size_bytes": 1000,
               **body}
    return httpx.post(f"{api}/courses/{course_id}/lessons/{lesson_id}/video", json=payload,
                      headers=bearer(token), timeout=30)


def post_file(ticket: dict[str, Any], content: bytes, content_type: str = "video/mp4",
              **fields: str) -> httpx.Response:
    return httpx.post(ticket["url"], data={**ticket["fields"], **fields},
                      files={"file": ("welcome.mp4", content, content_type)}, timeout=60)


def video_status(api: str, token: str | None, course_id: str, lesson_id: str
                 ) -> httpx.Response:
    headers = bearer(token) if token else {}
    return httpx.get(f"{api}/courses/{course_id}/lessons/{lesson_id}/video", headers=headers,
                     timeout=30)


def wait_for(api: str, token: str, course_id: str, lesson_id: str, status: str,
             platform: RunningPlatform, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen: list[Any] = []
    while time.monotonic() < deadline:
        body: dict[str, Any] = video_status(api, token, course_id, lesson_id).json()
        seen.append((body.get("status"), body.get("percent")))
        if body.get("status") == status:
            return body
        time.sleep(0.5)
    raise AssertionError(f"never {status}: {seen[-5:]}\n{platform.log_tail()}")


def test_upload_transcode_and_watch(platform: RunningPlatform, cloud: LocalCloud,
                                    teacher: dict[str, Any], clip: Path) -> None:
    api, token = platform.api, teacher["access_token"]
    course_id, lesson_id = video_course(api, token)
    content = clip.read_bytes()
    asked = ask_upload(api, token, course_id, lesson_id, size_bytes=len(content))
    assert asked.status_code == 201, asked.text
    ticket = asked.json()
    assert ticket["status"] == "awaiting_upload" and ticket["max_bytes"] == len(content)

    # The storage policy refuses what the ticket does not allow; nothing is stored.
    assert post_file(ticket, content + b"x").status_code == 400   # larger than declared
    assert post_file(ticket, content, **{"Content-Type": "text/html"}).status_code == 403
    assert video_status(api, token, course_id, lesson_id).json()["status"] == \
        "awaiting_upload"

    assert post_file(ticket, content).status_code == 204
    ready = wait_for(api, token, course_id, lesson_id, "ready", platform)
    assert [r["name"] for r in ready["renditions"]] == ["480p", "360p"]
    assert ready["duration_s"] == pytest.approx(3, abs=0.2)
    assert mail_to(cloud, teacher["email"], subject="Your video is ready")

    student = register(api)
    student_token = login(api, student["email"])["access_token"]
    assert video_status(api, student_token, course_id, lesson_id).status_code == 403
    assert video_status(api, None, course_id, lesson_id).status_code == 401
    enrolled = httpx.post(f"{api}/courses/{course_id}/enroll", headers=bearer(student_token),
                          timeout=30)
    assert enrolled.status_code == 201, enrolled.text
    watching = video_status(api, student_token, course_id, lesson_id)
    assert watching.status_code == 200, watching.text
    playback = watching.json()["playback"]

    master = httpx.get(playback["master_url"], timeout=30)
    assert master.status_code == 200, master.text
    assert master.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    assert "#EXT-X-STREAM-INF" in master.text and "RESOLUTION=854x480" in master.text
    variant_uri = next(line for line in master.text.splitlines()
                       if line and not line.startswith("#"))
    variant = httpx.get(playback["master_url"].rsplit("/", 1)[0] + "/" + variant_uri,
                        timeout=30)
    assert variant.status_code == 200 and "#EXT-X-ENDLIST" in variant.text
    segment_url = next(line for line in variant.text.splitlines() if line.startswith("http"))
    segment = httpx.get(segment_url, timeout=30)
    assert segment.status_code == 200 and segment.content[:1] == b"\x47"
    assert httpx.get(playback["poster_url"], timeout=30).content[:2] == b"\xff\xd8"  # JPEG

    forged = playback["master_url"].replace("sig=", "sig=0")
    assert httpx.get(forged, timeout=30).status_code == 403


def test_free_preview_is_open_and_bad_requests_are_refused(
        platform: RunningPlatform, teacher: dict[str, Any], admin_token: str) -> None:
    api, token = platform.api, teacher["access_token"]
    course_id, lesson_id = video_course(api, token, preview=True)
    anonymous = video_status(api, None, course_id, lesson_id)
    assert anonymous.status_code == 200 and anonymous.json()["status"] == "none"

    wrong_type = ask_upload(api, token, course_id, lesson_id, content_type="image/gif")
    assert wrong_type.status_code == 422
    assert wrong_type.json()["errors"][0]["field"] == "content_type"
    too_big = ask_upload(api, token, course_id, lesson_id, size_bytes=3 * 1024**3)
    assert too_big.status_code == 422 and too_big.json()["errors"][0]["field"] == "size_bytes"

    other_teacher = register(api, role="teacher")
    other_token = login(api, other_teacher["email"])["access_token"]
    assert ask_upload(api, other_token, course_id, lesson_id).status_code == 403
    assert ask_upload(api, token, course_id, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
                      ).status_code == 404
    anonymous_upload = httpx.post(f"{api}/courses/{course_id}/lessons/{lesson_id}/video",
                                  json={}, timeout=30)
    assert anonymous_upload.status_code == 401


def test_a_corrupt_upload_fails_within_seconds_without_retries(
        platform: RunningPlatform, cloud: LocalCloud, teacher: dict[str, Any]) -> None:
    api, token = platform.api, teacher["access_token"]
    course_id, lesson_id = video_course(api, token)
    junk = b"\x00\x00\x00\x18ftypmp42" + b"not really a video" * 100
    ticket = ask_upload(api, token, course_id, lesson_id, size_bytes=len(junk)).json()
    uploaded = time.monotonic()
    assert post_file(ticket, junk).status_code == 204

    failed = wait_for(api, token, course_id, lesson_id, "failed", platform, timeout=30)
    took = time.monotonic() - uploaded
    assert "not a video we can read" in failed["reason"]
    assert took < 15, f"{took:.1f} s"  # one attempt, not retries spread over a backoff
    assert mail_to(cloud, teacher["email"], subject="Your video could not be processed")
    # Nothing to retry and nothing for an operator: the message is done, not in the DLQ.
    sqs = aws_client(cloud, "sqs")
    dlq = sqs.get_queue_url(QueueName="edu-platform-transcode-dlq")["QueueUrl"]
    msgs = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=2,
                               VisibilityTimeout=0).get("Messages", [])
    assert not [m for m in msgs if ticket["upload_id"] in m["Body"]]
