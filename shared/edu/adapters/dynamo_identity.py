"""Identity's storage in DynamoDB (pynamodb), one table:

    USER#<id>      / PROFILE   the user
    EMAIL#<email>  / EMAIL     uniqueness guard: written in the same transaction as the user
    (events of those writes go to the outbox table: edu.adapters.dynamo_outbox)
    FAMILY#<id>    / FAMILY    a refresh-token family (TTL on expires_at)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from edu.adapters.dynamo_base import condition_failed, connection, failed_conditions, keyed_base
from edu.adapters.dynamo_outbox import outbox_items, outbox_model
from edu.events import Envelope
from edu.identity.models import TokenFamily, User
from edu.identity.ports import EmailTaken
from edu.notifications.service import Contact


@cache
def _models(table_: str, host_: str | None, region_: str) -> tuple[Any, Any, Any]:
    """Model classes bound to a table; pynamodb fixes the table at class creation."""
    base = keyed_base(table_, host_, region_)

    class UserItem(base):  # type: ignore[valid-type,misc]
        id = UnicodeAttribute()
        email = UnicodeAttribute()
        full_name = UnicodeAttribute()
        role = UnicodeAttribute()
        password_hash = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        is_verified = BooleanAttribute(default=False)
        verification_status = UnicodeAttribute(default="none")
        verification_bio = UnicodeAttribute(null=True)
        verification_link = UnicodeAttribute(null=True)
        verification_note = UnicodeAttribute(null=True)
        marketing_opt_out = BooleanAttribute(default=False)

    class EmailItem(base):  # type: ignore[valid-type,misc]
        user_id = UnicodeAttribute()

    class FamilyItem(base):  # type: ignore[valid-type,misc]
        user_id = UnicodeAttribute()
        current_hash = UnicodeAttribute()
        previous_hash = UnicodeAttribute(null=True)
        rotated_at = UTCDateTimeAttribute(null=True)
        expires_at = UTCDateTimeAttribute()
        ttl = NumberAttribute()  # epoch seconds: DynamoDB TTL removes dead families
        revoked = BooleanAttribute(default=False)

    return UserItem, EmailItem, FamilyItem


def _user(item: Any) -> User:
    return User(id=item.id, email=item.email, full_name=item.full_name, role=item.role,
                password_hash=item.password_hash, created_at=item.created_at,
                is_verified=item.is_verified, verification_status=item.verification_status,
                verification_bio=item.verification_bio,
                verification_link=item.verification_link,
                verification_note=item.verification_note,
                marketing_opt_out=bool(item.marketing_opt_out))


class DynamoIdentityStore:
    """Implements UserRepository and TokenFamilies."""

    def __init__(self, table: str, host: str | None, region: str,
                 outbox_table: str) -> None:
        self.user_item, self.email_item, self.family_item = _models(table, host, region)
        self.outbox_item = outbox_model(outbox_table, host, region)
        self.connection = connection(host, region)

    # --- users ----------------------------------------------------------------------------

    def _user_item(self, user: User) -> Any:
        return self.user_item(
            f"USER#{user.id}", "PROFILE", id=user.id, email=user.email,
            full_name=user.full_name, role=user.role, password_hash=user.password_hash,
            created_at=user.created_at, is_verified=user.is_verified,
            verification_status=user.verification_status,
            verification_bio=user.verification_bio, verification_link=user.verification_link,
            verification_note=user.verification_note, marketing_opt_out=user.marketing_opt_out)

    def create(self, user: User, events: Sequence[Envelope] = ()) -> None:
        email = self.email_item(f"EMAIL#{user.email}", "EMAIL", user_id=user.id)
        try:
            with TransactWrite(connection=self.connection) as tx:
                tx.save(email, condition=self.email_item.pk.does_not_exist())
                tx.save(self._user_item(user), condition=self.user_item.pk.does_not_exist())
                for item in outbox_items(self.outbox_item, events):
                    tx.save(item)
        except TransactWriteError as exc:
            if failed_conditions(exc):
                raise EmailTaken(user.email) from None
            raise

    def by_id(self, user_id: str) -> User | None:
        try:
            return _user(self.user_item.get(f"USER#{user_id}", "PROFILE", consistent_read=True))
        except DoesNotExist:
            return None

    def by_ids(self, user_ids: Iterable[str]) -> list[User]:
        """Those of the users that exist (BatchGetItem, 100 keys a call)."""
        keys = [(f"USER#{user_id}", "PROFILE") for user_id in user_ids]
        return [_user(item) for item in self.user_item.batch_get(keys, consistent_read=True)]

    def by_email(self, email: str) -> User | None:
        try:
            guard = self.email_item.get(f"EMAIL#{email}", "EMAIL", consistent_read=True)
        except DoesNotExist:
            return None
        return self.by_id(guard.user_id)

    def update(self, user: User, events: Sequence[Envelope] = ()) -> None:
        if not events:
            self._user_item(user).save(condition=self.user_item.pk.exists())
            return
        with TransactWrite(connection=self.connection) as tx:
            tx.save(self._user_item(user), condition=self.user_item.pk.exists())
            for item in outbox_items(self.outbox_item, events):
                tx.save(item)

    # --- refresh-token families -----------------------------------------------------------

    def start(self, family: TokenFamily) -> None:
        self.family_item(f"FAMILY#{family.id}", "FAMILY", user_id=family.user_id,
                         current_hash=family.current_hash, expires_at=family.expires_at,
                         ttl=int(family.expires_at.timestamp()), revoked=False).save()

    def get(self, family_id: str) -> TokenFamily | None:
        try:
            item = self.family_item.get(f"FAMILY#{family_id}", "FAMILY", consistent_read=True)
        except DoesNotExist:
            return None
        return TokenFamily(id=family_id, user_id=item.user_id, current_hash=item.current_hash,
                           expires_at=item.expires_at, revoked=item.revoked,
                           previous_hash=item.previous_hash, rotated_at=item.rotated_at)

    def rotate(self, family: TokenFamily, expected_hash: str) -> bool:
        fam = self.family_item
        item = fam(f"FAMILY#{family.id}", "FAMILY")
        try:
            item.update(actions=[fam.current_hash.set(family.current_hash),
                                 fam.previous_hash.set(family.previous_hash),
                                 fam.rotated_at.set(family.rotated_at),
                                 fam.expires_at.set(family.expires_at),
                                 fam.ttl.set(int(family.expires_at.timestamp()))],
                        condition=(fam.current_hash == expected_hash) & (fam.revoked == False))  # noqa: E712
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def revoke(self, family_id: str) -> None:
        item = self.family_item(f"FAMILY#{family_id}", "FAMILY")
        try:
            item.update(actions=[self.family_item.revoked.set(True)],
                        condition=self.family_item.pk.exists())
        except UpdateError as exc:
            if not condition_failed(exc):
                raise




class IdentityDirectory:
    """Implements notifications' Directory from the identity store."""

    def __init__(self, store: DynamoIdentityStore) -> None:
        self.store = store

    def contact(self, user_id: str) -> Contact | None:
        user = self.store.by_id(user_id)
        if user is None:
            return None
        return Contact(email=user.email, name=user.full_name,
                       marketing_opt_out=user.marketing_opt_out)

    def contacts(self, user_ids: Iterable[str]) -> dict[str, Contact]:
        return {user.id: Contact(email=user.email, name=user.full_name,
                                 marketing_opt_out=user.marketing_opt_out)
                for user in self.store.by_ids(user_ids)}
