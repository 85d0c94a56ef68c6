"""Video models: what teachers send and read, what is stored, and the rendition ladder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# The containers browsers and phones record; anything else is refused before upload.
CONTENT_TYPES: dict[str, str] = {
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/webm": ".webm",
    "video/x-matroska": ".mkv",
}
ContentType = Literal["video/mp4", "video/quicktime", "video/webm", "video/x-matroska"]
VideoStatus = Literal["none", "awaiting_upload", "processing", "ready", "failed"]


class UploadIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    filename: str = Field(min_length=1, max_length=255)
    content_type: ContentType
    size_bytes: int = Field(ge=1)


class UploadTicket(BaseModel):
    """Where and how to POST the file: a browser form upload straight to object storage."""

    upload_id: str
    method: Literal["POST"] = "POST"
    url: str
    fields: dict[str, str]
    max_bytes: int
    expires_at: datetime
    status: VideoStatus = "awaiting_upload"


class Rendition(BaseModel):
    name: str          # "720p"
    width: int
    height: int
    bandwidth: int     # bits per second, as the master playlist advertises


class Playback(BaseModel):
    master_url: str
    poster_url: str
    expires_at: datetime


class VideoOut(BaseModel):
    course_id: str
    lesson_id: str
    status: VideoStatus
    percent: float | None = None      # while processing, when ffmpeg reports it
    reason: str | None = None         # why it failed (shown to the teacher)
    filename: str | None = None
    duration_s: float | None = None
    renditions: list[Rendition] = Field(default_factory=list)
    updated_at: datetime | None = None
    playback: Playback | None = None


@dataclass(frozen=True)
class ReadyVideo:
    """The latest transcoded version: it keeps playing while a replacement is processed."""

    upload_id: str
    duration_s: float
    renditions: list[Rendition]


@dataclass
class VideoRecord:
    course_id: str
    lesson_id: str
    teacher_id: str
    upload_id: str            # the latest upload asked for
    filename: str
    content_type: str
    size_bytes: int
    status: VideoStatus
    created_at: datetime
    updated_at: datetime
    percent: float | None = None
    reason: str | None = None
    attempts: int = 0
    ready: ReadyVideo | None = None


@dataclass(frozen=True)
class LessonFacts:
    course_id: str
    lesson_id: str
    teacher_id: str
    course_status: str
    kind: str
    free_preview: bool


@dataclass(frozen=True)
class Probe:
    duration_s: float
    width: int
    height: int
    has_audio: bool


@dataclass(frozen=True)
class RenditionSpec:
    name: str
    short_side: int      # the height of a landscape video, the width of a portrait one
    video_kbps: int
    audio_kbps: int = 128


# H.264/AAC ladder (bitrates near Apple's HLS authoring guidance for these sizes).
LADDER = (
    RenditionSpec("1080p", 1080, 5000),
    RenditionSpec("720p", 720, 2800),
    RenditionSpec("480p", 480, 1400),
    RenditionSpec("360p", 360, 800),
)


def ladder_for(probe: Probe) -> list[RenditionSpec]:
    """The renditions a source gets: never upscaled; 1080p only from >= 1080p sources; a
    source below 360p gets one rendition at its own size."""
    short = min(probe.width, probe.height)
    specs = [spec for spec in LADDER if spec.short_side <= short]
    if not specs:
        even = max(2, short - short % 2)
        specs = [RenditionSpec(f"{even}p", even, 500, 96)]
    return specs

