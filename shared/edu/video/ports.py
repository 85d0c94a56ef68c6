"""What the video domain needs: lesson facts, enrollments, status storage, object storage,
a transcoder (ffmpeg) and the event bus."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from edu.enrollment.models import EnrollmentOut
from edu.events import Envelope
from edu.video.models import (
    LessonFacts,
    Probe,
    Rendition,
    RenditionSpec,
    VideoRecord,
)

Claim = Literal["claimed", "done", "busy", "stale"]


class InvalidMedia(Exception):
    """The upload is not a video we can read; the message is shown to the teacher."""


class TranscodeFailed(Exception):
    """ffmpeg failed or ran past its deadline; the message is shown to the teacher."""


class Lessons(Protocol):
    def lesson(self, course_id: str, lesson_id: str) -> LessonFacts | None: ...


class Enrollments(Protocol):
    def get_enrollment(self, user_id: str, course_id: str) -> EnrollmentOut | None: ...


class VideoStore(Protocol):
    def get(self, course_id: str, lesson_id: str) -> VideoRecord | None: ...

    def start_upload(self, record: VideoRecord) -> None:
        """Records a new upload as the lesson's latest; a ready version stays playable."""

    def claim(self, course_id: str, lesson_id: str, upload_id: str, attempt: int,
              now: datetime, lease_until: datetime) -> Claim:
        """Marks the upload processing unless it is done, superseded ("stale"), or being
        processed by another worker whose lease has not run out ("busy")."""

    def progress(self, course_id: str, lesson_id: str, upload_id: str, percent: float,
                 now: datetime) -> None: ...

    def release(self, course_id: str, lesson_id: str, upload_id: str, error: str,
                now: datetime) -> None:
        """A failed attempt that will be retried: drops the lease, keeps the error."""

    def finish(self, course_id: str, lesson_id: str, upload_id: str, now: datetime, *,
               ready: tuple[float, list[Rendition]] | None = None,
               failed: str | None = None, events: Sequence[Envelope] = ()) -> bool:
        """Ends the upload as ready (duration, renditions) or failed (reason), writing
        `events` to the outbox in the same transaction; False when it was already ended or
        superseded, so its events are written once."""


class MediaStorage(Protocol):
    def presign_upload(self, key: str, content_type: str, max_bytes: int, expires_s: int
                       ) -> tuple[str, dict[str, str]]:
        """(url, form fields) for a browser POST into the raw-uploads bucket."""

    def download_upload(self, key: str, path: Path) -> None:
        """Streams a raw upload to a local file."""

    def publish_dir(self, directory: Path, prefix: str) -> int:
        """Uploads every file of a directory to the media bucket under prefix."""

    def read_media(self, key: str) -> str | None: ...

    def media_url(self, key: str, expires_s: int) -> str:
        """A presigned GET URL of a media object."""


class Transcoder(Protocol):
    def probe(self, path: Path) -> Probe:
        """Duration, size and streams; InvalidMedia for a file that is not a video."""

    def transcode(self, source: Path, out_dir: Path, probe: Probe,
                  ladder: list[RenditionSpec], deadline_s: float,
                  on_progress: Callable[[float], None]) -> list[Rendition]:
        """Writes master.m3u8, one playlist per rendition and their segments into out_dir,
        and poster.jpg; TranscodeFailed on failure or past the deadline."""
