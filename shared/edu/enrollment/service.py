"""Enrollment rules: who may enroll and how (free now, paid after Stripe confirms),
idempotent payment fulfilment, progress and course completion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from edu.auth.claims import Caller
from edu.courses.models import Money
from edu.enrollment.models import (
    CourseFacts,
    CourseProgress,
    EnrollmentOut,
    LessonProgress,
    Payment,
    PaymentOut,
    PaymentStarted,
    ProgressIn,
)
from edu.enrollment.ports import (
    AlreadyEnrolled,
    Courses,
    EnrollmentStore,
    InvalidSignature,
    PaymentGateway,
    ProgressContended,
)
from edu.errors import BadRequest, Conflict, Forbidden, NotFound
from edu.events import (
    CourseCompleted,
    EnrollmentCreated,
    Envelope,
    EventPayload,
    LessonCompleted,
    PaymentRefunded,
    PaymentSucceeded,
    make_event,
)
from edu.ids import uuid7
from edu.pagination import CursorCodec, Page

SOURCE = "edu.enrollment"


def percent(done: int, total: int) -> float:
    return round(100.0 * done / total, 1) if total else 0.0


class EnrollmentService:
    def __init__(self, store: EnrollmentStore, courses: Courses, gateway: PaymentGateway,
                 cursors: CursorCodec,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 log: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self.store = store
        self.courses = courses
        self.gateway = gateway
        self.cursors = cursors
        self.clock = clock
        self.log = log or (lambda _msg, _extra: None)

    # --- enrolling ----------------------------------------------------------------------

    def enroll(self, who: Caller, course_id: str) -> EnrollmentOut | PaymentStarted:
        course = self._published(course_id)
        if course.teacher_id == who.user_id:
            raise Forbidden("You teach this course; teachers do not enroll in their own.")
        if course.price.amount == 0:
            # No read first: the write's condition refuses an active enrollment and the
            # store then reads it for the 409 (one call fewer per enrollment).
            enrollment = self._new_enrollment(course, "free")
            events = [self._event("enrollment.created", EnrollmentCreated(
                enrollment_id=enrollment.id, user_id=who.user_id, course_id=course.id,
                course_title=course.title, teacher_id=course.teacher_id, source="free"))]
            try:
                self.store.create_enrollment(who.user_id, enrollment, events)
            except AlreadyEnrolled as exc:  # a concurrent request won
                raise self._already(exc.existing) from None
            return enrollment
        existing = self.store.get_enrollment(who.user_id, course_id)
        if existing is not None and existing.status == "active":
            raise self._already(existing)
        pending = self.store.pending_payment(who.user_id, course_id)
        if pending is not None:
            if (pending.amount, pending.currency) == (course.price.amount,
                                                      course.price.currency):
                # asking again returns the same payment, not a second one
                return PaymentStarted(payment_id=pending.id, client_secret=pending.client_secret,
                                      price=Money(amount=pending.amount,
                                                  currency=pending.currency))
            self._cancel_stale(pending)
        payment_id = uuid7()
        ref, secret = self.gateway.create_intent(
            course.price.amount, course.price.currency,
            {"user_id": who.user_id, "course_id": course.id, "payment_id": payment_id},
            idempotency_key=f"enroll:{who.user_id}:{course.id}:{payment_id}")
        now = self.clock()
        self.store.save_payment(Payment(
            id=payment_id, user_id=who.user_id, course_id=course.id, course_title=course.title,
            teacher_id=course.teacher_id, amount=course.price.amount,
            currency=course.price.currency, status="pending", provider_ref=ref,
            client_secret=secret, created_at=now, updated_at=now))
        return PaymentStarted(payment_id=payment_id, client_secret=secret, price=course.price)

    def _cancel_stale(self, pending: Payment) -> None:
        """A pending payment made at another price: cancelled at the provider first, so that
        its client secret can no longer pay the old price, then here; a new one follows."""
        if not self.gateway.cancel_intent(pending.provider_ref):
            raise Conflict("Your earlier payment for this course is being processed; try "
                           "again in a minute.")
        self.store.cancel_payment(pending)
        self.log("stale pending payment canceled", {"payment_id": pending.id,
                                                    "amount": pending.amount})

    def _already(self, existing: EnrollmentOut) -> Conflict:
        return Conflict("You are already enrolled in this course.",
                        extensions={"enrollment": existing.model_dump(mode="json")})

    def _new_enrollment(self, course: CourseFacts, source: Literal["free", "payment"]
                        ) -> EnrollmentOut:
        return EnrollmentOut(id=uuid7(), course_id=course.id, course_title=course.title,
                             status="active", source=source,
                             created_at=self.clock(), total_lessons=len(course.lesson_ids))

    # --- Stripe webhooks --------------------------------------------------------------------

    def handle_webhook(self, payload: bytes, signature: str) -> str:
        """Applies a verified provider event; returns what happened (for the log)."""
        try:
            event = self.gateway.parse_webhook(payload, signature)
        except InvalidSignature:
            raise BadRequest("The Stripe-Signature header does not verify.") from None
        except ValueError:  # signed, but not JSON
            raise BadRequest("The event is not valid JSON.") from None
        data = event.get("data") if isinstance(event, dict) else None
        obj = data.get("object") if isinstance(data, dict) else None
        if not isinstance(obj, dict):
            raise BadRequest("The event is not a Stripe event (no data.object).")
        kind = str(event.get("type", ""))
        event_id = str(event.get("id", ""))
        if kind == "payment_intent.succeeded":
            return self._succeeded(event_id, obj)
        if kind == "payment_intent.payment_failed":
            payment = self.store.payment_by_ref(str(obj.get("id", "")))
            if payment is None:
                return "ignored: unknown payment"
            done = self.store.mark_payment(event_id, payment, "failed", False)
            return "payment failed" if done else "duplicate"
        if kind == "charge.refunded":
            payment = self.store.payment_by_ref(str(obj.get("payment_intent", "")))
            if payment is None:
                return "ignored: unknown payment"
            events = [self._event("payment.refunded", PaymentRefunded(
                payment_id=payment.id, user_id=payment.user_id, course_id=payment.course_id,
                teacher_id=payment.teacher_id, amount=payment.amount,
                currency=payment.currency))]
            if not self.store.mark_payment(event_id, payment, "refunded", True, events):
                return "duplicate"
            return "refunded: enrollment revoked"
        return f"ignored: {kind}"

    def _succeeded(self, event_id: str, intent: dict[str, Any]) -> str:
        payment = self.store.payment_by_ref(str(intent.get("id", "")))
        if payment is None:
            self.log("payment intent unknown to us", {"intent": intent.get("id")})
            return "ignored: unknown payment"
        if payment.status == "canceled":  # canceled at the provider: it cannot be paid
            self.log("success for a canceled payment", {"payment_id": payment.id})
            return "ignored: canceled payment"
        amount = intent.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise BadRequest("The payment intent's amount is not an integer.")
        if amount != payment.amount or \
                str(intent.get("currency", "")).lower() != payment.currency:
            self.log("payment amount mismatch", {"payment_id": payment.id})
            return "ignored: amount mismatch"
        course = self.courses.facts(payment.course_id)
        total = len(course.lesson_ids) if course else 0
        enrollment = EnrollmentOut(id=uuid7(), course_id=payment.course_id,
                                   course_title=payment.course_title, status="active",
                                   source="payment", created_at=self.clock(),
                                   total_lessons=total)
        events = [
            self._event("payment.succeeded", PaymentSucceeded(
                payment_id=payment.id, user_id=payment.user_id, course_id=payment.course_id,
                teacher_id=payment.teacher_id, amount=payment.amount,
                currency=payment.currency, provider_ref=payment.provider_ref)),
            self._event("enrollment.created", EnrollmentCreated(
                enrollment_id=enrollment.id, user_id=payment.user_id,
                course_id=payment.course_id, course_title=payment.course_title,
                teacher_id=payment.teacher_id, source="payment", payment_id=payment.id))]
        result = self.store.fulfil(event_id, payment, enrollment, events)
        if result.duplicate_event:
            return "duplicate"
        if result.enrollment is None:
            return "already fulfilled"
        return "enrolled"

    # --- reading ----------------------------------------------------------------------------

    def my_enrollments(self, who: Caller, limit: int, cursor: str | None
                       ) -> Page[EnrollmentOut]:
        query = f"enrollments:{who.user_id}"
        after = self.cursors.decode(cursor, query, (str,))[0] if cursor else None
        rows = self.store.list_enrollments(who.user_id, after, limit + 1)
        items, more = rows[:limit], len(rows) > limit
        for item in items:
            item.progress_percent = percent(item.completed_lessons, item.total_lessons)
        next_cursor = self.cursors.encode([items[-1].course_id], query) if more else None
        return Page[EnrollmentOut](items=items, next_cursor=next_cursor)

    def my_payments(self, who: Caller) -> list[PaymentOut]:
        return [PaymentOut(id=p.id, course_id=p.course_id, course_title=p.course_title,
                           price=Money(amount=p.amount, currency=p.currency), status=p.status,
                           created_at=p.created_at, updated_at=p.updated_at)
                for p in self.store.list_payments(who.user_id)]

    # --- progress ---------------------------------------------------------------------------

    def _access(self, who: Caller, course_id: str) -> tuple[CourseFacts, EnrollmentOut | None]:
        course = self.courses.facts(course_id)
        if course is None:
            raise NotFound("No course with this id.")
        if course.teacher_id == who.user_id:
            return course, None
        enrollment = self.store.get_enrollment(who.user_id, course_id)
        if enrollment is None or enrollment.status != "active":
            if course.status != "published":
                raise NotFound("No course with this id.")
            raise Forbidden("Enroll in the course to track progress.")
        return course, enrollment

    def put_progress(self, who: Caller, course_id: str, lesson_id: str,
                     data: ProgressIn) -> CourseProgress:
        course, enrollment = self._access(who, course_id)
        if lesson_id not in course.lesson_ids:
            raise NotFound("No lesson with this id in the course.")
        progress = LessonProgress(lesson_id=lesson_id, completed=data.completed,
                                  position_seconds=data.position_seconds,
                                  updated_at=self.clock())
        student = enrollment is not None  # a teacher previewing their course emits nothing
        completion = [self._event("course.completed", CourseCompleted(
            user_id=who.user_id, course_id=course_id, teacher_id=course.teacher_id,
            course_title=course.title))] if student else []
        lesson_done = [self._event("lesson.completed", LessonCompleted(
            user_id=who.user_id, course_id=course_id, lesson_id=lesson_id,
            teacher_id=course.teacher_id))] if student and data.completed else []
        try:
            saved = self.store.save_progress(who.user_id, course_id, progress,
                                             course.lesson_ids, completion, lesson_done,
                                             enrollment)
        except ProgressContended:
            raise Conflict("This course's progress is being saved from elsewhere at the same "
                           "time; try again.") from None
        completed_at = saved.completed_now_at or (enrollment.completed_at if enrollment
                                                  else None)
        return self._progress(course, saved.lessons, completed_at)

    def get_progress(self, who: Caller, course_id: str) -> CourseProgress:
        course, enrollment = self._access(who, course_id)
        lessons = [p for p in self.store.progress(who.user_id, course_id)
                   if p.lesson_id in course.lesson_ids]
        return self._progress(course, lessons,
                              enrollment.completed_at if enrollment else None)

    @staticmethod
    def _progress(course: CourseFacts, lessons: list[LessonProgress],
                  completed_at: datetime | None) -> CourseProgress:
        done = sum(1 for p in lessons if p.completed)
        total = len(course.lesson_ids)
        return CourseProgress(course_id=course.id, completed_lessons=done, total_lessons=total,
                              progress_percent=percent(done, total), completed_at=completed_at,
                              lessons=sorted(lessons, key=lambda p: p.lesson_id))

    # --- helpers ------------------------------------------------------------------------------

    def _published(self, course_id: str) -> CourseFacts:
        course = self.courses.facts(course_id)
        if course is None or course.status != "published":
            raise NotFound("No published course with this id.")
        return course

    @staticmethod
    def _event(event_type: str, payload: EventPayload) -> Envelope:
        return make_event(event_type, payload, source=SOURCE)
