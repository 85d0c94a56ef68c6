"""The video service against real moto (S3, DynamoDB, EventBridge), PostgreSQL and ffmpeg:
upload through the presigned form, transcode, idempotency, retries, signed playback.

Buckets are the test's own (no S3 notification), so the running platform's transcode
consumer never races these direct calls."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from edu.adapters.dynamo_enrollment import DynamoEnrollmentStore
from edu.adapters.ffmpeg import FfmpegTranscoder, ffmpeg_path
from edu.adapters.pg_courses import PgCourseRepository
from edu.adapters.redis_cache import RedisCache
from edu.adapters.registry import Adapters
from edu.auth.claims import Caller
from edu.config import Settings
from edu.courses.service import CourseService
from edu.enrollment.models import EnrollmentOut
from edu.errors import Forbidden, NotFound, Unauthorized
from edu.pagination import CursorCodec
from edu.retries import GaveUp, RetryLater
from edu.services import build_video_service
from edu.video.models import Probe, UploadIn
from edu.video.ports import InvalidMedia
from edu.video.service import VideoService
from localcloud.media import make_clip
from localcloud.stack import LocalCloud
from tests.support.authoring import TEACHER, authored_course

STUDENT = Caller(user_id=f"s-{uuid.uuid4().hex[:6]}", email="s@example.com", role="student",
                 is_verified=False, session_id=None)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=3)


@pytest.fixture
def adapters(cloud: LocalCloud, aws_env: dict[str, str]) -> Iterator[Adapters]:
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(AWS_ENDPOINT_URL=cloud.aws_url, DATABASE_URL=cloud.database_url,
                        REDIS_URL=cloud.redis_url, EDU_RAW_VIDEO_BUCKET=f"raw-{suffix}",
                        EDU_MEDIA_BUCKET=f"media-{suffix}", EDU_TRANSCODE_RETRY_DELAY_S=0,
                        EDU_MAX_UPLOAD_BYTES=50_000_000)
    registry = Adapters(settings)
    s3 = registry.aws_client("s3")
    s3.create_bucket(Bucket=settings.raw_video_bucket)
    s3.create_bucket(Bucket=settings.media_bucket)
    yield registry
    registry.close()


@pytest.fixture
def videos(adapters: Adapters) -> VideoService:
    return build_video_service(adapters)


def video_lesson(adapters: Adapters, *, publish: bool = True) -> tuple[str, str]:
    courses = CourseService(PgCourseRepository(adapters.pg_pool()),
                            RedisCache(adapters.redis(), ttl_s=60), CursorCodec("s"))
    return authored_course(courses, "Video course", "video", kind="video", publish=publish)


def upload(videos: VideoService, course_id: str, lesson_id: str, content: bytes) -> str:
    ticket = videos.request_upload(TEACHER, course_id, lesson_id, UploadIn(
        filename="lesson.mp4", content_type="video/mp4", size_bytes=len(content)))
    resp = httpx.post(ticket.url, data=ticket.fields,
                      files={"file": ("lesson.mp4", content, "video/mp4")}, timeout=60)
    assert resp.status_code == 204, resp.text
    return str(ticket.fields["key"])


def test_upload_transcode_once_and_play(videos: VideoService, adapters: Adapters,
                                        clip: Path) -> None:
    course_id, lesson_id = video_lesson(adapters)
    key = upload(videos, course_id, lesson_id, clip.read_bytes())
    assert videos.video(TEACHER, course_id, lesson_id).status == "awaiting_upload"

    outcome = videos.handle_upload(key, attempt=1, remaining_s=600)
    assert outcome.startswith("ready: 2 renditions")
    assert videos.handle_upload(key, attempt=1, remaining_s=600).startswith("duplicate")

    status = videos.video(TEACHER, course_id, lesson_id)
    assert status.status == "ready" and status.duration_s == pytest.approx(3, abs=0.2)
    assert [(r.name, r.height) for r in status.renditions] == [("480p", 480), ("360p", 360)]
    assert status.playback is not None
    prefix = f"hls/{course_id}/{lesson_id}/{key.split('/')[3]}/"
    stored = {obj["Key"].removeprefix(prefix) for obj in media_keys(adapters)}
    assert {"master.m3u8", "480p.m3u8", "360p.m3u8", "poster.jpg", "360p_000.ts"} <= stored

    with pytest.raises(Unauthorized):
        videos.video(None, course_id, lesson_id)
    with pytest.raises(Forbidden):
        videos.video(STUDENT, course_id, lesson_id)

    # The master playlist carries the grant to its variants; variants list presigned
    # segment URLs that object storage serves.
    query = dict(p.split("=") for p in status.playback.master_url.split("?")[1].split("&"))
    upload_id = key.split("/")[3]
    master = videos.playlist(course_id, lesson_id, upload_id, "master.m3u8", query["exp"],
                             query["sig"])
    assert "480p.m3u8?exp=" in master and 'CODECS="avc1' in master
    variant = videos.playlist(course_id, lesson_id, upload_id, "360p.m3u8", query["exp"],
                              query["sig"])
    segment_url = next(line for line in variant.splitlines() if line.startswith("http"))
    segment = httpx.get(segment_url, timeout=30)
    assert segment.status_code == 200 and segment.content[:1] == b"\x47"  # MPEG-TS sync
    with pytest.raises(Forbidden):
        videos.playlist(course_id, lesson_id, upload_id, "master.m3u8", query["exp"],
                        "0" * 64)
    with pytest.raises(NotFound):
        videos.playlist(course_id, lesson_id, upload_id, "../../secret.m3u8", query["exp"],
                        query["sig"])


def test_a_newer_upload_supersedes_and_the_ready_version_keeps_playing(
        videos: VideoService, adapters: Adapters, clip: Path) -> None:
    course_id, lesson_id = video_lesson(adapters)
    first = upload(videos, course_id, lesson_id, clip.read_bytes())
    videos.handle_upload(first, attempt=1, remaining_s=600)
    second = upload(videos, course_id, lesson_id, clip.read_bytes())
    third = upload(videos, course_id, lesson_id, clip.read_bytes())
    assert videos.handle_upload(second, attempt=1, remaining_s=600).startswith("ignored")
    teacher_view = videos.video(TEACHER, course_id, lesson_id)
    assert teacher_view.status == "awaiting_upload" and teacher_view.playback is not None
    assert first.split("/")[3] in teacher_view.playback.master_url  # still the first
    assert third.split("/")[3] not in teacher_view.playback.master_url


def test_a_corrupt_upload_fails_on_its_first_attempt_with_a_reason(
        videos: VideoService, adapters: Adapters) -> None:
    course_id, lesson_id = video_lesson(adapters, publish=False)
    key = upload(videos, course_id, lesson_id, b"\x00\x00\x00\x18ftypmp42" + b"junk" * 500)
    outcome = videos.handle_upload(key, attempt=1, remaining_s=600)
    assert outcome.startswith("failed: ") and "not a video we can read" in outcome
    failed = videos.video(TEACHER, course_id, lesson_id)
    assert failed.status == "failed"
    assert failed.reason and "not a video we can read" in failed.reason
    # a redelivery after the end changes nothing
    assert videos.handle_upload(key, attempt=2, remaining_s=600).startswith("duplicate")
    with pytest.raises(NotFound):  # a draft's lessons do not exist for students
        videos.video(STUDENT, course_id, lesson_id)


def test_a_transcode_past_its_deadline_is_reported(videos: VideoService,
                                                   adapters: Adapters, clip: Path) -> None:
    course_id, lesson_id = video_lesson(adapters)
    key = upload(videos, course_id, lesson_id, clip.read_bytes())
    # remaining_s below the safety margin: the deadline passes at once. That may pass on a
    # retry (a less busy moment), so it is retried, and failed after the last attempt.
    with pytest.raises(RetryLater) as retry:
        videos.handle_upload(key, attempt=1, remaining_s=20)
    assert "time limit" in str(retry.value)
    assert videos.video(TEACHER, course_id, lesson_id).status == "processing"
    with pytest.raises(GaveUp):
        videos.handle_upload(key, attempt=3, remaining_s=20)
    gave_up = videos.video(TEACHER, course_id, lesson_id)
    assert gave_up.status == "failed" and gave_up.reason and "time limit" in gave_up.reason


def build_enrollment_store(adapters: Adapters) -> DynamoEnrollmentStore:
    s = adapters.settings
    return DynamoEnrollmentStore(s.enrollments_table, s.aws_endpoint_url, s.region,
                                 s.outbox_table)


def media_keys(adapters: Adapters) -> list[dict[str, Any]]:
    listing = adapters.aws_client("s3").list_objects_v2(Bucket=adapters.settings.media_bucket)
    return list(listing.get("Contents", []))


def test_real_ffmpeg_probes_sources(tmp_path: Path, clip: Path) -> None:
    transcoder = FfmpegTranscoder()
    assert transcoder.probe(clip) == Probe(duration_s=pytest.approx(3, abs=0.1),  # type: ignore[arg-type]
                                           width=854, height=480, has_audio=True)
    portrait = make_clip(tmp_path / "portrait.mp4", seconds=1, size="360x640", audio=False)
    assert transcoder.probe(portrait).has_audio is False
    sound = tmp_path / "sound.m4a"
    subprocess.run([ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=duration=1", "-c:a", "aac", str(sound)], check=True)
    with pytest.raises(InvalidMedia, match="no video stream"):
        transcoder.probe(sound)
    text = tmp_path / "notes.mp4"
    text.write_text("just some text")
    with pytest.raises(InvalidMedia, match="not a video"):
        transcoder.probe(text)
    # An MPEG-TS upload: read as a video, or (imageio-ffmpeg 0.6.0's static ffmpeg crashes
    # in its TS demuxer) refused as a container we cannot read, never as "no video stream".
    transport = tmp_path / "lesson.ts"
    subprocess.run([ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-i", str(clip),
                    "-c", "copy", "-f", "mpegts", str(transport)], check=True)
    try:
        assert transcoder.probe(transport).width == 854
    except InvalidMedia as refused:
        assert "container could not be read" in str(refused)


def test_teacher_sees_progress_students_see_only_what_plays(
        videos: VideoService, adapters: Adapters, clip: Path) -> None:
    course_id, lesson_id = video_lesson(adapters)
    key = upload(videos, course_id, lesson_id, clip.read_bytes())
    upload_id, now = key.split("/")[3], datetime.now(UTC)
    assert videos.store.claim(course_id, lesson_id, upload_id, 1, now,
                              now + timedelta(minutes=5)) == "claimed"
    assert videos.store.claim(course_id, lesson_id, upload_id, 1, now,
                              now + timedelta(minutes=5)) == "busy"  # another worker
    videos.store.progress(course_id, lesson_id, upload_id, 42.04, now)
    teacher_view = videos.video(TEACHER, course_id, lesson_id)
    assert (teacher_view.status, teacher_view.percent) == ("processing", 42.0)
    enroll = build_enrollment_store(adapters)
    enroll.create_enrollment(STUDENT.user_id, EnrollmentOut(
        id=str(uuid.uuid4()), course_id=course_id, course_title="Video course",
        status="active", source="free", created_at=now))
    student_view = videos.video(STUDENT, course_id, lesson_id)
    assert (student_view.status, student_view.percent, student_view.playback) == (
        "processing", None, None)
