"""Which email each domain event sends, to whom, rendered from Jinja2 templates.

Transactional mail (welcome, verification, enrollment, receipts, video status) always
goes out; non-transactional mail (course completion congratulations) respects opt-out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class Contact:
    email: str
    name: str
    marketing_opt_out: bool = False


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str


class Directory(Protocol):
    def contact(self, user_id: str) -> Contact | None: ...

    def contacts(self, user_ids: Iterable[str]) -> dict[str, Contact]:
        """The contacts of those users that exist, in one lookup."""


class Roster(Protocol):
    def students(self, course_id: str) -> list[str]:
        """The user ids of the students enrolled in a course now."""


class Mailer(Protocol):
    def send(self, email: Email) -> str:
        """Sends and returns the provider's message id."""


class UnknownRecipient(Exception):
    """The event names a user we cannot find: retried, then parked in the DLQ."""


# event type -> (template, transactional?)
ROUTES: dict[str, tuple[str, bool]] = {
    "user.created": ("welcome", True),
    "user.verified": ("verification", True),
    "enrollment.created": ("enrollment", True),
    "payment.succeeded": ("receipt", True),
    "course.completed": ("completed", False),
    "video.transcoded": ("video_ready", True),
    "video.failed": ("video_failed", True),
    "webhook.disabled": ("webhook_disabled", True),
}


# Events whose email goes to every student of the course (data.course_id), by template.
COURSE_NOTICES = {"live.scheduled": "live_scheduled"}


@cache
def _jinja() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                       autoescape=select_autoescape(["html"]), trim_blocks=True,
                       lstrip_blocks=True)


def render(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) of a template: its first text line is the subject."""
    env = _jinja()
    text = env.get_template(f"{template}.txt.j2").render(**context)
    subject, _, body = text.partition("\n")
    html = env.get_template(f"{template}.html.j2").render(**context)
    return subject.removeprefix("Subject:").strip(), body.strip() + "\n", html


class NotificationService:
    def __init__(self, directory: Directory, mailer: Mailer, base_url: str,
                 roster: Roster | None = None) -> None:
        self.roster = roster  # a course's students, for the notices sent to all of them
        self.directory = directory
        self.mailer = mailer
        self.base_url = base_url.rstrip("/")
        self._batch_contacts: dict[str, Contact] = {}

    @contextmanager
    def batch(self, envelopes: Iterable[dict[str, Any]]) -> Iterator[None]:
        """Looks up the recipients of a batch of events at once (one directory call instead
        of one per email); `handle` inside the block uses them."""
        user_ids = {str(e["data"].get("user_id") or "") for e in envelopes
                    if str(e.get("type")) in ROUTES and isinstance(e.get("data"), dict)}
        user_ids.discard("")
        try:
            self._batch_contacts = self.directory.contacts(user_ids) if user_ids else {}
        except Exception:  # only a shortcut: each email then looks its recipient up alone
            self._batch_contacts = {}
        try:
            yield
        finally:
            self._batch_contacts = {}

    def handle(self, envelope: dict[str, Any]) -> str:
        if envelope.get("type") in COURSE_NOTICES:
            return self._to_students(envelope)
        route = ROUTES.get(str(envelope.get("type")))
        if route is None:
            return "no email for this event"
        template, transactional = route
        data = dict(envelope.get("data") or {})
        user_id = str(data.get("user_id", ""))
        contact = (self._batch_contacts.get(user_id) or self.directory.contact(user_id)
                   if user_id else None)
        if contact is None and data.get("email"):
            contact = Contact(email=str(data["email"]), name=str(data.get("full_name", "")))
        if contact is None:
            raise UnknownRecipient(f"{envelope.get('type')} {envelope.get('id')}: no user "
                                   f"{user_id!r}")
        if not transactional and contact.marketing_opt_out:
            return "skipped: opted out"
        return self._mail(template, contact, data)

    def _mail(self, template: str, contact: Contact, data: dict[str, Any]) -> str:
        """Renders `template` for one recipient and sends it; the provider's message id."""
        subject, text, html = render(template, {"name": contact.name or contact.email,
                                                "data": data, "base_url": self.base_url})
        return self.mailer.send(Email(to=contact.email, subject=subject, text=text, html=html))

    def _to_students(self, envelope: dict[str, Any]) -> str:
        """A notice to every student of the event's course (not to those who opted out of
        non-essential mail)."""
        template = COURSE_NOTICES[str(envelope["type"])]
        data = dict(envelope.get("data") or {})
        if self.roster is None:
            return "skipped: no roster configured"
        contacts = self.directory.contacts(self.roster.students(str(data["course_id"])))
        sent = 0
        for contact in contacts.values():
            if contact.marketing_opt_out:
                continue
            self._mail(template, contact, data)
            sent += 1
        return f"sent to {sent} of {len(contacts)} students"

