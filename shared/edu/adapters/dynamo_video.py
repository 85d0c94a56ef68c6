"""Lesson video status in DynamoDB (pynamodb): one item per lesson,

    COURSE#<course> / LESSON#<lesson>    the latest upload's status and the ready version
    (video.transcoded / video.failed go to the outbox table: edu.adapters.dynamo_outbox)

so a course's videos are one Query. Transitions are conditional writes: a transcode job is
claimed once (a lease guards against a second worker), and only the latest upload may end.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from edu.adapters.dynamo_base import condition_failed, connection, failed_conditions, keyed_base
from edu.adapters.dynamo_outbox import outbox_items, outbox_model
from edu.events import Envelope
from edu.video.models import ReadyVideo, Rendition, VideoRecord
from edu.video.ports import Claim


@cache
def _model(table_: str, host_: str | None, region_: str) -> Any:
    base = keyed_base(table_, host_, region_)

    class VideoItem(base):  # type: ignore[valid-type,misc]
        course_id = UnicodeAttribute()
        lesson_id = UnicodeAttribute()
        teacher_id = UnicodeAttribute()
        upload_id = UnicodeAttribute()
        filename = UnicodeAttribute()
        content_type = UnicodeAttribute()
        size_bytes = NumberAttribute()
        status = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        updated_at = UTCDateTimeAttribute()
        percent = NumberAttribute(null=True)
        reason = UnicodeAttribute(null=True)
        attempts = NumberAttribute(default=0)
        lease_until = NumberAttribute(default=0)  # epoch seconds
        ready_upload_id = UnicodeAttribute(null=True)
        ready_duration_s = NumberAttribute(null=True)
        ready_renditions = UnicodeAttribute(null=True)  # JSON list of renditions

    return VideoItem


def _record(item: Any) -> VideoRecord:
    ready = None
    if item.ready_upload_id:
        ready = ReadyVideo(upload_id=item.ready_upload_id,
                           duration_s=float(item.ready_duration_s or 0),
                           renditions=[Rendition.model_validate(r) for r in
                                       json.loads(item.ready_renditions or "[]")])
    return VideoRecord(
        course_id=item.course_id, lesson_id=item.lesson_id, teacher_id=item.teacher_id,
        upload_id=item.upload_id, filename=item.filename, content_type=item.content_type,
        size_bytes=int(item.size_bytes), status=item.status, created_at=item.created_at,
        updated_at=item.updated_at,
        percent=float(item.percent) if item.percent is not None else None,
        reason=item.reason, attempts=int(item.attempts or 0), ready=ready)


class DynamoVideoStore:
    def __init__(self, table: str, host: str | None, region: str,
                 outbox_table: str) -> None:
        self.model = _model(table, host, region)
        self.outbox = outbox_model(outbox_table, host, region)
        self.connection = connection(host, region)

    def _item(self, course_id: str, lesson_id: str) -> Any:
        return self.model(f"COURSE#{course_id}", f"LESSON#{lesson_id}")

    def get(self, course_id: str, lesson_id: str) -> VideoRecord | None:
        try:
            return _record(self.model.get(f"COURSE#{course_id}", f"LESSON#{lesson_id}",
                                          consistent_read=True))
        except DoesNotExist:
            return None

    def start_upload(self, record: VideoRecord) -> None:
        m = self.model
        # An update, not a put: the ready version's attributes stay as they are.
        self._item(record.course_id, record.lesson_id).update(actions=[
            m.course_id.set(record.course_id), m.lesson_id.set(record.lesson_id),
            m.teacher_id.set(record.teacher_id), m.upload_id.set(record.upload_id),
            m.filename.set(record.filename), m.content_type.set(record.content_type),
            m.size_bytes.set(record.size_bytes), m.status.set(record.status),
            m.created_at.set(record.created_at), m.updated_at.set(record.updated_at),
            m.attempts.set(0), m.lease_until.set(0), m.percent.remove(), m.reason.remove()])

    def claim(self, course_id: str, lesson_id: str, upload_id: str, attempt: int,
              now: datetime, lease_until: datetime) -> Claim:
        m = self.model
        try:
            self._item(course_id, lesson_id).update(
                actions=[m.status.set("processing"), m.attempts.set(attempt),
                         m.lease_until.set(int(lease_until.timestamp())), m.percent.set(0),
                         m.updated_at.set(now)],
                condition=(m.upload_id == upload_id) & (
                    (m.status == "awaiting_upload")
                    | ((m.status == "processing") & (m.lease_until < int(now.timestamp())))))
            return "claimed"
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
        current = self.get(course_id, lesson_id)
        if current is None or current.upload_id != upload_id:
            return "stale"
        return "busy" if current.status == "processing" else "done"

    def progress(self, course_id: str, lesson_id: str, upload_id: str, percent: float,
                 now: datetime) -> None:
        m = self.model
        try:
            self._item(course_id, lesson_id).update(
                actions=[m.percent.set(round(percent, 1)), m.updated_at.set(now)],
                condition=(m.upload_id == upload_id) & (m.status == "processing"))
        except UpdateError as exc:
            if not condition_failed(exc):
                raise

    def release(self, course_id: str, lesson_id: str, upload_id: str, error: str,
                now: datetime) -> None:
        m = self.model
        try:
            self._item(course_id, lesson_id).update(
                actions=[m.lease_until.set(0), m.reason.set(error), m.updated_at.set(now)],
                condition=(m.upload_id == upload_id) & (m.status == "processing"))
        except UpdateError as exc:
            if not condition_failed(exc):
                raise

    def finish(self, course_id: str, lesson_id: str, upload_id: str, now: datetime, *,
               ready: tuple[float, list[Rendition]] | None = None,
               failed: str | None = None, events: Sequence[Envelope] = ()) -> bool:
        m = self.model
        actions = [m.updated_at.set(now), m.lease_until.set(0), m.percent.remove()]
        if ready is not None:
            duration, renditions = ready
            actions += [m.status.set("ready"), m.reason.remove(),
                        m.ready_upload_id.set(upload_id), m.ready_duration_s.set(duration),
                        m.ready_renditions.set(json.dumps(
                            [r.model_dump() for r in renditions]))]
        else:
            actions += [m.status.set("failed"), m.reason.set(failed or "failed")]
        try:
            with TransactWrite(connection=self.connection) as tx:
                tx.update(self._item(course_id, lesson_id), actions=actions,
                          condition=(m.upload_id == upload_id) & (m.status == "processing"))
                for item in outbox_items(self.outbox, events):
                    tx.save(item)
        except TransactWriteError as exc:
            # puts (the outbox items) are sent first: the update is the last operation
            if len(events) not in failed_conditions(exc):
                raise
            return False
        return True
