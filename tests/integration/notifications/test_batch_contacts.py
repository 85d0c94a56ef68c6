"""The notification service looks a batch's recipients up at once (one BatchGetItem, real
DynamoDB on moto, mail through moto's SES): each email of the batch goes to the contact
found then, opt-out still holds, and nothing of the batch outlives it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from edu.adapters.dynamo_identity import DynamoIdentityStore, IdentityDirectory
from edu.adapters.ses_mailer import SesMailer
from edu.identity.models import User
from edu.notifications.service import NotificationService, UnknownRecipient
from localcloud.stack import LocalCloud
from tests.support.aws import aws_client
from tests.support.events import mail_to

pytestmark = pytest.mark.usefixtures("aws_env")  # pynamodb reads credentials from the env


def new_user(store: DynamoIdentityStore, *, opt_out: bool = False) -> User:
    user = User(id=str(uuid.uuid4()), email=f"batch-{uuid.uuid4().hex[:10]}@example.com",
                full_name="Batch Reader", role="student", password_hash="x",
                created_at=datetime.now(UTC), marketing_opt_out=opt_out)
    store.create(user)
    return user


def envelope(event_type: str, user_id: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": event_type, "version": 1,
            "occurred_at": "2026-11-27T10:00:00.000Z", "source": "edu.test",
            "data": {"user_id": user_id, "course_id": "c1", "course_title": "Rust",
                     "teacher_id": "t1", "enrollment_id": "e1", "source": "free"}}


def forget(store: DynamoIdentityStore, user: User) -> None:
    store.user_item(f"USER#{user.id}", "PROFILE").delete()


def test_a_batch_sends_to_the_contacts_it_looked_up_together(cloud: LocalCloud) -> None:
    store = DynamoIdentityStore("edu-platform-users", cloud.aws_url, "us-east-1",
                                "edu-platform-users")
    service = NotificationService(IdentityDirectory(store),
                                  SesMailer(aws_client(cloud, "ses"), "no-reply@eduplatform.dev"),
                                  base_url="http://127.0.0.1:3000")
    first, second, opted_out = new_user(store), new_user(store), new_user(store, opt_out=True)
    batch = [envelope("enrollment.created", first.id),
             envelope("enrollment.created", second.id),
             envelope("course.completed", opted_out.id),
             envelope("lesson.completed", first.id),  # no email for this type
             envelope("enrollment.created", str(uuid.uuid4())),  # nobody we know
             {"id": "x", "type": "enrollment.created", "data": ["not", "an", "object"]}]

    with service.batch(batch):
        forget(store, first)  # the batch's lookup happened: these come from it
        forget(store, second)
        assert service.handle(batch[0]) and service.handle(batch[1])
        assert service.handle(batch[2]) == "skipped: opted out"
        assert service.handle(batch[3]) == "no email for this event"
        with pytest.raises(UnknownRecipient):
            service.handle(batch[4])

    assert [m["subject"] for m in mail_to(cloud, first.email)] == ["You are enrolled in Rust"]
    assert len(mail_to(cloud, second.email)) == 1
    assert mail_to(cloud, opted_out.email, timeout=0) == []
    with pytest.raises(UnknownRecipient):  # after the batch: looked up again, and gone
        service.handle(envelope("enrollment.created", first.id))


def test_a_failed_batch_lookup_leaves_each_email_to_its_own(cloud: LocalCloud) -> None:
    broken = IdentityDirectory(DynamoIdentityStore("no-such-table", cloud.aws_url,
                                                   "us-east-1", "no-such-table"))
    service = NotificationService(broken, SesMailer(aws_client(cloud, "ses"),
                                                    "no-reply@eduplatform.dev"),
                                  base_url="http://127.0.0.1:3000")
    event = envelope("enrollment.created", str(uuid.uuid4()))
    with service.batch([event]), pytest.raises(Exception) as failed:
        service.handle(event)  # its own lookup fails, as each did before batching
    assert not isinstance(failed.value, UnknownRecipient)
