"""Lesson video rules: who may upload and watch, the transcode job's life cycle (claimed
once, retried with backoff, failed for good after the configured attempts), and playback
from a private bucket through signed playlists.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from edu.auth.claims import Caller
from edu.errors import Conflict, FieldError, Forbidden, NotFound, Unauthorized, ValidationFailed
from edu.events import VideoFailed, VideoTranscoded, make_event
from edu.ids import is_uuid, uuid7
from edu.retries import GaveUp, RetryLater
from edu.video.models import (
    CONTENT_TYPES,
    LessonFacts,
    Playback,
    Rendition,
    UploadIn,
    UploadTicket,
    VideoOut,
    VideoRecord,
    ladder_for,
)
from edu.video.ports import (
    Enrollments,
    InvalidMedia,
    Lessons,
    MediaStorage,
    TranscodeFailed,
    Transcoder,
    VideoStore,
)

SOURCE = "edu.video"
NOT_FOUND = "No lesson with this id in the course."
UPLOAD_KEY = re.compile(r"^uploads/(?P<course>[0-9a-f-]{36})/(?P<lesson>[0-9a-f-]{36})/"
                        r"(?P<upload>[0-9a-f-]{36})/source\.[a-z0-9]{2,5}$")
PLAYLIST = re.compile(r"^(master|[0-9]{3,4}p)\.m3u8$")
PROGRESS_EVERY_S = 2.0


@dataclass(frozen=True)
class VideoLimits:
    max_upload_bytes: int
    upload_ttl_s: int
    playback_ttl_s: int
    max_attempts: int           # the transcode queue's maxReceiveCount
    retry_delay_s: int          # first retry; doubles per attempt
    safety_margin_s: float = 20.0  # kept for uploading outputs before the function times out


def hls_prefix(course_id: str, lesson_id: str, upload_id: str) -> str:
    return f"hls/{course_id}/{lesson_id}/{upload_id}/"


class PlaybackSigner:
    """HMAC tokens for playlist URLs: hls.js fetches playlists without our bearer token,
    so the URL itself carries a short-lived grant for one video version."""

    def __init__(self, secret: str) -> None:
        self.key = secret.encode()

    def sign(self, course_id: str, lesson_id: str, upload_id: str, expires: int) -> str:
        message = f"{course_id}/{lesson_id}/{upload_id}/{expires}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def valid(self, course_id: str, lesson_id: str, upload_id: str, expires: int,
              signature: str, now: float) -> bool:
        expected = self.sign(course_id, lesson_id, upload_id, expires)
        return expires >= now and hmac.compare_digest(expected, signature)


def rewrite_playlist(text: str, uri: Callable[[str], str]) -> str:
    """Replaces every URI line of an m3u8 playlist (lines that are not tags or blank)."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        lines.append(uri(stripped) if stripped and not stripped.startswith("#") else line)
    return "\n".join(lines) + "\n"


class VideoService:
    def __init__(self, lessons: Lessons, enrollments: Enrollments, store: VideoStore,
                 storage: MediaStorage, transcoder: Transcoder,
                 signer: PlaybackSigner, limits: VideoLimits, base_url: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.lessons = lessons
        self.enrollments = enrollments
        self.store = store
        self.storage = storage
        self.transcoder = transcoder
        self.signer = signer
        self.limits = limits
        self.base_url = base_url.rstrip("/")
        self.clock = clock

    # --- uploads ------------------------------------------------------------------------

    def request_upload(self, who: Caller, course_id: str, lesson_id: str, data: UploadIn
                       ) -> UploadTicket:
        lesson = self._lesson(course_id, lesson_id)
        if lesson.teacher_id != who.user_id:
            if lesson.course_status == "published":
                raise Forbidden("Only the course's teacher can upload its videos.")
            raise NotFound(NOT_FOUND)
        if lesson.course_status == "archived":
            raise Conflict("The course is archived; it cannot change.")
        if lesson.kind != "video":
            raise Conflict("This is a text lesson; only video lessons take a video.")
        if data.size_bytes > self.limits.max_upload_bytes:
            raise ValidationFailed("The video is too large.", [FieldError(
                "size_bytes", f"at most {self.limits.max_upload_bytes} bytes")])
        upload_id = uuid7()
        key = (f"uploads/{course_id}/{lesson_id}/{upload_id}/source"
               f"{CONTENT_TYPES[data.content_type]}")
        url, fields = self.storage.presign_upload(key, data.content_type, data.size_bytes,
                                                  self.limits.upload_ttl_s)
        now = self.clock()
        self.store.start_upload(VideoRecord(
            course_id=course_id, lesson_id=lesson_id, teacher_id=lesson.teacher_id,
            upload_id=upload_id, filename=data.filename, content_type=data.content_type,
            size_bytes=data.size_bytes, status="awaiting_upload", created_at=now,
            updated_at=now))
        return UploadTicket(upload_id=upload_id, url=url, fields=fields,
                            max_bytes=data.size_bytes,
                            expires_at=now + timedelta(seconds=self.limits.upload_ttl_s))

    # --- status and playback -------------------------------------------------------------

    def video(self, who: Caller | None, course_id: str, lesson_id: str) -> VideoOut:
        lesson = self._lesson(course_id, lesson_id)
        manager = who is not None and (who.user_id == lesson.teacher_id or who.role == "admin")
        if not manager:
            if lesson.course_status != "published":
                raise NotFound(NOT_FOUND)  # drafts do not leak their existence
            if not lesson.free_preview:
                if who is None:
                    raise Unauthorized("Log in to watch this lesson.", error="invalid_token")
                enrollment = self.enrollments.get_enrollment(who.user_id, course_id)
                if enrollment is None or enrollment.status != "active":
                    raise Forbidden("Enroll in the course to watch this lesson.")
        record = self.store.get(course_id, lesson_id)
        if record is None:
            return VideoOut(course_id=course_id, lesson_id=lesson_id, status="none")
        out = VideoOut(course_id=course_id, lesson_id=lesson_id, status=record.status,
                       updated_at=record.updated_at)
        if manager:  # the teacher follows the latest upload
            out.filename, out.reason = record.filename, record.reason
            out.percent = record.percent if record.status == "processing" else None
        elif record.ready is not None:  # students see the version that plays
            out.status, out.updated_at = "ready", None
        else:
            out.status = "processing" if record.status != "failed" else "none"
        if record.ready is not None:
            out.duration_s = record.ready.duration_s
            out.renditions = record.ready.renditions
            out.playback = self._playback(lesson, record.ready.upload_id,
                                          record.ready.duration_s)
        return out

    def _playback(self, lesson: LessonFacts, upload_id: str, duration_s: float) -> Playback:
        # Long enough to watch the whole video from one set of URLs.
        ttl = self.limits.playback_ttl_s + int(duration_s)
        expires = int(time.time()) + ttl
        signature = self.signer.sign(lesson.course_id, lesson.lesson_id, upload_id, expires)
        master = (f"{self.base_url}/courses/{lesson.course_id}/lessons/{lesson.lesson_id}"
                  f"/video/hls/{upload_id}/master.m3u8?exp={expires}&sig={signature}")
        poster = self.storage.media_url(
            hls_prefix(lesson.course_id, lesson.lesson_id, upload_id) + "poster.jpg", ttl)
        return Playback(master_url=master, poster_url=poster,
                        expires_at=datetime.fromtimestamp(expires, UTC))

    def playlist(self, course_id: str, lesson_id: str, upload_id: str, name: str,
                 expires: str, signature: str) -> str:
        """A playlist of a signed video version, its URIs made fetchable: variant playlists
        carry the same grant, media segments become presigned storage URLs."""
        if not (is_uuid(course_id) and is_uuid(lesson_id) and is_uuid(upload_id)
                and PLAYLIST.match(name)):
            raise NotFound("No such playlist.")
        now = time.time()
        if not expires.isdigit() or not self.signer.valid(
                course_id, lesson_id, upload_id, int(expires), signature, now):
            raise Forbidden("The playback link is invalid or expired; ask for a new one.")
        prefix = hls_prefix(course_id, lesson_id, upload_id)
        text = self.storage.read_media(prefix + name)
        if text is None:
            raise NotFound("No such playlist.")
        if name == "master.m3u8":
            grant = f"?exp={expires}&sig={quote(signature)}"
            return rewrite_playlist(text, lambda uri: uri + grant)
        ttl = max(1, int(expires) - int(now))
        return rewrite_playlist(text, lambda uri: self.storage.media_url(prefix + uri, ttl))

    # --- transcoding ---------------------------------------------------------------------

    def handle_upload(self, key: str, attempt: int, remaining_s: float) -> str:
        """Transcodes one uploaded object (an S3 ObjectCreated event). Returns what happened:
        a file that is not a playable video is failed at once ("failed: ..."; retrying cannot
        help); a transcode that broke is RetryLater, and GaveUp after the last attempt."""
        match = UPLOAD_KEY.match(key)
        if match is None:
            return "ignored: not an upload key"
        course_id, lesson_id, upload_id = match["course"], match["lesson"], match["upload"]
        now = self.clock()
        lease = now + timedelta(seconds=remaining_s + self.limits.safety_margin_s)
        claim = self.store.claim(course_id, lesson_id, upload_id, attempt, now, lease)
        if claim == "done":
            return "duplicate: already transcoded or failed"
        if claim == "stale":
            return "ignored: a newer upload replaced this one"
        if claim == "busy":
            raise RetryLater("another worker is transcoding this upload",
                             self.limits.retry_delay_s)
        started = time.monotonic()
        try:
            duration, renditions = self._transcode(
                key, course_id, lesson_id, upload_id,
                deadline_s=remaining_s - self.limits.safety_margin_s)
        except InvalidMedia as exc:
            self._fail(course_id, lesson_id, upload_id, str(exc))
            return f"failed: {exc}"
        except TranscodeFailed as exc:
            return self._attempt_failed(course_id, lesson_id, upload_id, attempt, str(exc))
        record = self.store.get(course_id, lesson_id)
        events = [make_event("video.transcoded", VideoTranscoded(
            course_id=course_id, lesson_id=lesson_id, upload_id=upload_id,
            user_id=record.teacher_id if record else "", duration_s=duration,
            renditions=[r.name for r in renditions]), source=SOURCE)]
        self.store.finish(course_id, lesson_id, upload_id, self.clock(),
                          ready=(duration, renditions), events=events)
        took = time.monotonic() - started
        return f"ready: {len(renditions)} renditions of {duration:.1f} s in {took:.1f} s"

    def _transcode(self, key: str, course_id: str, lesson_id: str, upload_id: str,
                   deadline_s: float) -> tuple[float, list[Rendition]]:
        with tempfile.TemporaryDirectory(prefix="transcode-") as work:
            source, out_dir = Path(work) / "source", Path(work) / "hls"
            out_dir.mkdir()
            self.storage.download_upload(key, source)
            probe = self.transcoder.probe(source)
            last = [0.0]

            def progress(percent: float) -> None:
                if time.monotonic() - last[0] >= PROGRESS_EVERY_S:
                    last[0] = time.monotonic()
                    self.store.progress(course_id, lesson_id, upload_id, percent, self.clock())

            renditions = self.transcoder.transcode(source, out_dir, probe, ladder_for(probe),
                                                   deadline_s, progress)
            self.storage.publish_dir(out_dir, hls_prefix(course_id, lesson_id, upload_id))
        return probe.duration_s, renditions

    def _attempt_failed(self, course_id: str, lesson_id: str, upload_id: str, attempt: int,
                        reason: str) -> str:
        if attempt < self.limits.max_attempts:
            self.store.release(course_id, lesson_id, upload_id, reason, self.clock())
            raise RetryLater(reason, self.limits.retry_delay_s * 2 ** (attempt - 1))
        self._fail(course_id, lesson_id, upload_id, reason)
        raise GaveUp(f"attempt {attempt} of {self.limits.max_attempts} failed: {reason}")

    def _fail(self, course_id: str, lesson_id: str, upload_id: str, reason: str) -> None:
        """The upload is failed for good, with the reason the teacher sees (and mail)."""
        record = self.store.get(course_id, lesson_id)
        events = [make_event("video.failed", VideoFailed(
            course_id=course_id, lesson_id=lesson_id, upload_id=upload_id,
            user_id=record.teacher_id if record else "", reason=reason), source=SOURCE)]
        self.store.finish(course_id, lesson_id, upload_id, self.clock(), failed=reason,
                          events=events)

    # --- helpers ---------------------------------------------------------------------------

    def _lesson(self, course_id: str, lesson_id: str) -> LessonFacts:
        lesson = (self.lessons.lesson(course_id, lesson_id)
                  if is_uuid(course_id) and is_uuid(lesson_id) else None)
        if lesson is None:
            raise NotFound(NOT_FOUND)
        return lesson
