"""Enrollments, payments, progress and handled provider events in DynamoDB (pynamodb):

    USER#<user>  / ENROLL#<course>          the enrollment (one per user and course)
    USER#<user>  / PAY#<payment>            a payment (receipt)
    USER#<user>  / PROG#<course>#<lesson>   a lesson's progress
    PI#<intent>  / PI                       provider reference -> payment
    EVENT#<id>   / EVENT                    a provider event already handled (TTL 30 days)
    (events of those writes go to the outbox table: edu.adapters.dynamo_outbox)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from edu.adapters.dynamo_base import condition_failed, connection, failed_conditions, keyed_base
from edu.adapters.dynamo_outbox import outbox_items, outbox_model
from edu.enrollment.models import EnrollmentOut, LessonProgress, Payment
from edu.enrollment.ports import (
    AlreadyEnrolled,
    FulfilmentResult,
    ProgressContended,
    SavedProgress,
)
from edu.events import Envelope

EVENT_TTL = timedelta(days=30)
PROGRESS_ATTEMPTS = 3  # reads and conditional writes of one save, when others race it
HIGH = "\uffff"


@cache
def _models(table_: str, host_: str | None, region_: str) -> tuple[Any, ...]:
    base = keyed_base(table_, host_, region_)

    class EnrollItem(base):  # type: ignore[valid-type,misc]
        id = UnicodeAttribute()
        course_id = UnicodeAttribute()
        course_title = UnicodeAttribute()
        status = UnicodeAttribute()
        source = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        completed_lessons = NumberAttribute(default=0)
        total_lessons = NumberAttribute(default=0)
        completed_at = UTCDateTimeAttribute(null=True)
        payment_id = UnicodeAttribute(null=True)

    class PayItem(base):  # type: ignore[valid-type,misc]
        id = UnicodeAttribute()
        user_id = UnicodeAttribute()
        course_id = UnicodeAttribute()
        course_title = UnicodeAttribute()
        teacher_id = UnicodeAttribute()
        amount = NumberAttribute()
        currency = UnicodeAttribute()
        status = UnicodeAttribute()
        provider_ref = UnicodeAttribute()
        client_secret = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        updated_at = UTCDateTimeAttribute()

    class RefItem(base):  # type: ignore[valid-type,misc]
        user_id = UnicodeAttribute()
        payment_id = UnicodeAttribute()

    class EventItem(base):  # type: ignore[valid-type,misc]
        kind = UnicodeAttribute()
        ttl = NumberAttribute()

    class ProgressItem(base):  # type: ignore[valid-type,misc]
        lesson_id = UnicodeAttribute()
        completed = BooleanAttribute()
        position_seconds = NumberAttribute()
        updated_at = UTCDateTimeAttribute()

    return EnrollItem, PayItem, RefItem, EventItem, ProgressItem


def _enrollment(item: Any) -> EnrollmentOut:
    return EnrollmentOut(id=item.id, course_id=item.course_id, course_title=item.course_title,
                         status=item.status, source=item.source, created_at=item.created_at,
                         completed_lessons=int(item.completed_lessons),
                         total_lessons=int(item.total_lessons), completed_at=item.completed_at)


def _payment(item: Any) -> Payment:
    return Payment(id=item.id, user_id=item.user_id, course_id=item.course_id,
                   course_title=item.course_title, teacher_id=item.teacher_id,
                   amount=int(item.amount), currency=item.currency, status=item.status,
                   provider_ref=item.provider_ref, client_secret=item.client_secret,
                   created_at=item.created_at, updated_at=item.updated_at)


class DynamoEnrollmentStore:
    def __init__(self, table: str, host: str | None, region: str,
                 outbox_table: str) -> None:
        (self.enroll, self.pay, self.ref, self.event,
         self.prog) = _models(table, host, region)
        self.outbox = outbox_model(outbox_table, host, region)
        self.connection = connection(host, region)

    # --- enrollments --------------------------------------------------------------------

    def _enroll_item(self, user_id: str, e: EnrollmentOut, payment_id: str | None = None
                     ) -> Any:
        return self.enroll(f"USER#{user_id}", f"ENROLL#{e.course_id}", id=e.id,
                           course_id=e.course_id, course_title=e.course_title, status=e.status,
                           source=e.source, created_at=e.created_at,
                           completed_lessons=e.completed_lessons,
                           total_lessons=e.total_lessons, completed_at=e.completed_at,
                           payment_id=payment_id)

    def get_enrollment(self, user_id: str, course_id: str) -> EnrollmentOut | None:
        try:
            return _enrollment(self.enroll.get(f"USER#{user_id}", f"ENROLL#{course_id}",
                                               consistent_read=True))
        except DoesNotExist:
            return None

    def create_enrollment(self, user_id: str, enrollment: EnrollmentOut,
                          events: Sequence[Envelope] = ()) -> None:
        item = self._enroll_item(user_id, enrollment)
        try:
            with TransactWrite(connection=self.connection) as tx:
                tx.save(item, condition=self.enroll.pk.does_not_exist()
                        | (self.enroll.status == "revoked"))
                for outbox in outbox_items(self.outbox, events):
                    tx.save(outbox)
        except TransactWriteError as exc:
            if 0 not in failed_conditions(exc):
                raise
            existing = self.get_enrollment(user_id, enrollment.course_id)
            assert existing is not None
            raise AlreadyEnrolled(existing) from None

    def list_enrollments(self, user_id: str, after: str | None, limit: int
                         ) -> list[EnrollmentOut]:
        low = f"ENROLL#{after}\x00" if after else "ENROLL#"
        return [_enrollment(i) for i in self.enroll.query(
            f"USER#{user_id}", self.enroll.sk.between(low, f"ENROLL#{HIGH}"), limit=limit,
            consistent_read=True)]

    # --- payments -----------------------------------------------------------------------

    def save_payment(self, p: Payment) -> None:
        with TransactWrite(connection=self.connection) as tx:
            tx.save(self.pay(f"USER#{p.user_id}", f"PAY#{p.id}", id=p.id, user_id=p.user_id,
                             course_id=p.course_id, course_title=p.course_title,
                             teacher_id=p.teacher_id, amount=p.amount, currency=p.currency,
                             status=p.status, provider_ref=p.provider_ref,
                             client_secret=p.client_secret, created_at=p.created_at,
                             updated_at=p.updated_at))
            tx.save(self.ref(f"PI#{p.provider_ref}", "PI", user_id=p.user_id,
                             payment_id=p.id))

    def cancel_payment(self, p: Payment) -> bool:
        try:
            self._pay_key(p).update(actions=[self.pay.status.set("canceled"),
                                             self.pay.updated_at.set(datetime.now(UTC))],
                                    condition=self.pay.status == "pending")
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def list_payments(self, user_id: str) -> list[Payment]:
        return [_payment(i) for i in self.pay.query(
            f"USER#{user_id}", self.pay.sk.between("PAY#", f"PAY#{HIGH}"),
            consistent_read=True)]

    def pending_payment(self, user_id: str, course_id: str) -> Payment | None:
        pending = [p for p in self.list_payments(user_id)
                   if p.course_id == course_id and p.status == "pending"]
        return pending[-1] if pending else None

    def payment_by_ref(self, provider_ref: str) -> Payment | None:
        if not provider_ref:
            return None
        try:
            ref = self.ref.get(f"PI#{provider_ref}", "PI", consistent_read=True)
            return _payment(self.pay.get(f"USER#{ref.user_id}", f"PAY#{ref.payment_id}",
                                         consistent_read=True))
        except DoesNotExist:
            return None

    def _event_guard(self, event_id: str, kind: str) -> Any:
        ttl = int((datetime.now(UTC) + EVENT_TTL).timestamp())
        return self.event(f"EVENT#{event_id}", "EVENT", kind=kind, ttl=ttl)

    def _pay_key(self, p: Payment) -> Any:
        return self.pay(f"USER#{p.user_id}", f"PAY#{p.id}")

    def fulfil(self, event_id: str, payment: Payment, enrollment: EnrollmentOut,
               events: Sequence[Envelope] = ()) -> FulfilmentResult:
        now = datetime.now(UTC)
        guard = self._event_guard(event_id, "payment_intent.succeeded")
        item = self._enroll_item(payment.user_id, enrollment, payment.id)
        paid = [self.pay.status.set("succeeded"), self.pay.updated_at.set(now)]
        try:
            # pynamodb sends puts before updates: reasons index 0 guard, 1 enrollment.
            with TransactWrite(connection=self.connection) as tx:
                tx.save(guard, condition=self.event.pk.does_not_exist())
                tx.save(item, condition=self.enroll.pk.does_not_exist()
                        | (self.enroll.status == "revoked"))
                for outbox in outbox_items(self.outbox, events):
                    tx.save(outbox)
                tx.update(self._pay_key(payment), actions=paid,
                          condition=self.pay.pk.exists())
            return FulfilmentResult(False, enrollment)
        except TransactWriteError as exc:
            failed = failed_conditions(exc)
            if 0 in failed:
                return FulfilmentResult(True, None)
            if 1 not in failed:
                raise
        # The enrollment exists (another delivery for this payment won): record this one.
        try:
            with TransactWrite(connection=self.connection) as tx:
                tx.save(guard, condition=self.event.pk.does_not_exist())
                tx.update(self._pay_key(payment), actions=paid,
                          condition=self.pay.pk.exists())
        except TransactWriteError as exc:
            if 0 in failed_conditions(exc):
                return FulfilmentResult(True, None)
            raise
        return FulfilmentResult(False, None)

    def mark_payment(self, event_id: str, payment: Payment, status: str,
                     revoke_enrollment: bool, events: Sequence[Envelope] = ()) -> bool:
        now = datetime.now(UTC)
        guard = self._event_guard(event_id, f"payment:{status}")
        condition = self.pay.pk.exists()
        if status == "failed":  # a late failure never overturns a success
            condition = condition & (self.pay.status != "succeeded")
        enroll_key = self.enroll(f"USER#{payment.user_id}", f"ENROLL#{payment.course_id}")
        attempts = [True, False] if revoke_enrollment else [False]
        # Cancellation reasons: puts first (guard, outbox items), then the two updates.
        pay_at = 1 + len(events)
        for with_enrollment in attempts:
            try:
                with TransactWrite(connection=self.connection) as tx:
                    tx.save(guard, condition=self.event.pk.does_not_exist())
                    for outbox in outbox_items(self.outbox, events):
                        tx.save(outbox)
                    tx.update(self._pay_key(payment), condition=condition, actions=[
                        self.pay.status.set(status), self.pay.updated_at.set(now)])
                    if with_enrollment:
                        tx.update(enroll_key, condition=self.enroll.pk.exists(),
                                  actions=[self.enroll.status.set("revoked")])
                return True
            except TransactWriteError as exc:
                failed = failed_conditions(exc)
                if 0 in failed:
                    return False  # this event was handled before
                if with_enrollment and pay_at + 1 in failed:
                    continue  # no enrollment to revoke: record the refund alone
                if pay_at in failed:  # e.g. failure after success: remember the event only
                    try:
                        guard.save(condition=self.event.pk.does_not_exist())
                    except Exception:
                        return False
                    return True
                raise
        return True

    # --- progress -----------------------------------------------------------------------------

    def save_progress(self, user_id: str, course_id: str, progress: LessonProgress,
                      lesson_ids: frozenset[str],
                      completion_events: Sequence[Envelope] = (),
                      lesson_events: Sequence[Envelope] = (),
                      enrollment: EnrollmentOut | None = None) -> SavedProgress:
        # Read, then write conditioned on what was read: the lesson's completed flag and the
        # enrollment's counter. A concurrent save that changed either makes the write fail
        # its condition; the save then reads again and retries, so each event fires once
        # and the counters match the lessons.
        for _attempt in range(PROGRESS_ATTEMPTS):
            lessons = {p.lesson_id: p for p in self.progress(user_id, course_id)
                       if p.lesson_id in lesson_ids}
            previous = lessons.get(progress.lesson_id)
            lessons[progress.lesson_id] = progress
            try:
                return self._write_progress(
                    user_id, course_id, progress, previous, list(lessons.values()),
                    len(lesson_ids), enrollment, completion_events, lesson_events)
            except (TransactWriteError, PutError) as exc:
                if not (failed_conditions(exc) if isinstance(exc, TransactWriteError)
                        else condition_failed(exc)):
                    raise
            enrollment = self.get_enrollment(user_id, course_id) if enrollment else None
        raise ProgressContended(course_id)

    def _write_progress(self, user_id: str, course_id: str, progress: LessonProgress,
                        previous: LessonProgress | None, lessons: list[LessonProgress],
                        total: int, enrollment: EnrollmentOut | None,
                        completion_events: Sequence[Envelope],
                        lesson_events: Sequence[Envelope]) -> SavedProgress:
        item = self.prog(f"USER#{user_id}", f"PROG#{course_id}#{progress.lesson_id}",
                         lesson_id=progress.lesson_id, completed=progress.completed,
                         position_seconds=progress.position_seconds,
                         updated_at=progress.updated_at)
        if enrollment is None:  # the course's teacher previewing: no counters, no events
            item.save()
            return SavedProgress(lessons, completed_now_at=None)
        was_done = previous is not None and previous.completed
        as_read = ((self.prog.completed == True) if was_done  # noqa: E712 (a condition)
                   else self.prog.pk.does_not_exist() | (self.prog.completed == False))  # noqa: E712
        done = sum(1 for p in lessons if p.completed)
        lesson_now = progress.completed and not was_done
        course_now = total > 0 and done >= total and enrollment.completed_at is None
        if not (was_done != progress.completed or course_now
                or (done, total) != (enrollment.completed_lessons, enrollment.total_lessons)):
            item.save(condition=as_read)  # a position save: the counters stay as they are
            return SavedProgress(lessons, completed_now_at=None)
        now = datetime.now(UTC)
        actions = [self.enroll.completed_lessons.set(done), self.enroll.total_lessons.set(total)]
        counted = self.enroll.pk.exists() & (
            self.enroll.completed_lessons == enrollment.completed_lessons)
        if course_now:  # the condition makes course.completed fire once per enrollment
            actions.append(self.enroll.completed_at.set(now))
            counted = counted & self.enroll.completed_at.does_not_exist()
        events = [*(lesson_events if lesson_now else ()),
                  *(completion_events if course_now else ())]
        with TransactWrite(connection=self.connection) as tx:
            tx.save(item, condition=as_read)
            tx.update(self.enroll(f"USER#{user_id}", f"ENROLL#{course_id}"), actions=actions,
                      condition=counted)
            for outbox in outbox_items(self.outbox, events):
                tx.save(outbox)
        return SavedProgress(lessons, completed_now_at=now if course_now else None,
                             lesson_completed_now=lesson_now and bool(lesson_events))

    def progress(self, user_id: str, course_id: str) -> list[LessonProgress]:
        prefix = f"PROG#{course_id}#"
        return [LessonProgress(lesson_id=i.lesson_id, completed=i.completed,
                               position_seconds=int(i.position_seconds),
                               updated_at=i.updated_at)
                for i in self.prog.query(f"USER#{user_id}",
                                         self.prog.sk.between(prefix, prefix + HIGH),
                                         consistent_read=True)]
