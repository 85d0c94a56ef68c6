"""Identity's rules: registration, login, refresh rotation with reuse detection, logout,
teacher verification. Plain Python; storage, hashing, tokens and events come in as ports."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from edu.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from edu.events import UserCreated, UserVerified, make_event
from edu.identity.models import (
    LoginIn,
    NotificationPrefsOut,
    RegisterIn,
    TokenFamily,
    TokenPair,
    User,
    UserOut,
    VerificationIn,
)
from edu.identity.ports import (
    AccessTokens,
    EmailTaken,
    PasswordHasher,
    RateLimiter,
    TokenFamilies,
    UserRepository,
)

SOURCE = "edu.identity"
BAD_CREDENTIALS = "The email or password is not correct."
BAD_REFRESH = "The refresh token is not valid; sign in again."


@cache
def common_passwords() -> frozenset[str]:
    text = (Path(__file__).with_name("common_passwords.txt")).read_text()
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def password_problems(password: str, email: str) -> list[str]:
    problems = []
    if password.lower() in common_passwords():
        problems.append("is one of the most common passwords; choose another")
    local = email.split("@", 1)[0]
    if len(local) >= 4 and local in password.lower():
        problems.append("must not contain your email address")
    if len(set(password)) < 4:
        problems.append("needs more than three different characters")
    return problems


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


DISTRIBUTED_FACTOR = 10  # failures for one email, from all sources, per per-source limit


@dataclass(frozen=True)
class Limits:
    login_per_ip: int
    login_per_email: int
    register_per_ip: int
    window_s: int
    refresh_ttl_s: int
    refresh_reuse_grace_s: int = 0  # how long the token spent last may be spent again


class IdentityService:
    def __init__(self, users: UserRepository, families: TokenFamilies, limiter: RateLimiter,
                 hasher: PasswordHasher, tokens: AccessTokens, limits: Limits,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.users = users
        self.families = families
        self.limiter = limiter
        self.hasher = hasher
        self.tokens = tokens
        self.limits = limits
        self.clock = clock
        self._dummy_hash: str | None = None

    # --- registration and login ---------------------------------------------------------

    def register(self, data: RegisterIn, source_ip: str) -> UserOut:
        self._limit(f"register:ip:{source_ip}", self.limits.register_per_ip)
        self._limit(f"register:email:{data.email}", self.limits.login_per_email)
        problems = password_problems(data.password, data.email)
        if problems:
            raise ValidationFailed("The password is too weak.",
                                   [FieldError("password", p) for p in problems])
        user = User(id=str(uuid.uuid4()), email=data.email, full_name=data.full_name,
                    role=data.role, password_hash=self.hasher.hash(data.password),
                    created_at=self.clock(), is_verified=False)
        event = make_event("user.created", UserCreated(
            user_id=user.id, email=user.email, full_name=user.full_name, role=user.role,
            is_verified=user.is_verified), source=SOURCE)
        try:
            self.users.create(user, [event])
        except EmailTaken:
            raise Conflict("An account with this email already exists.") from None
        return UserOut.of(user)

    def login(self, data: LoginIn, source_ip: str) -> TokenPair:
        """Signs in. Guessing is limited without letting anyone lock a victim out: every
        attempt counts against its source; failures count against the (email, source)
        pair, so a source that keeps failing for an email is refused while the owner signs
        in from elsewhere; and when an email collects many failures from many sources (a
        distributed guess), only sources with no failure for it may still try."""
        self._limit(f"login:ip:{source_ip}", self.limits.login_per_ip)
        window = self.limits.window_s
        pair_key, email_key = f"login:fail:{data.email}:{source_ip}", f"login:fail:{data.email}"
        pair_failures = self.limiter.count(pair_key, window)
        if pair_failures >= self.limits.login_per_email or (
                pair_failures and self.limiter.count(email_key, window)
                >= self.limits.login_per_email * DISTRIBUTED_FACTOR):
            raise RateLimited("Too many failed attempts; try again later.", retry_after=window)
        user = self.users.by_email(data.email)
        if user is None:
            # Same work as a real check, so timing does not tell which emails exist.
            self.hasher.verify(self._dummy(), data.password)
            self._failed(pair_key, email_key)
            raise Unauthorized(BAD_CREDENTIALS)
        if not self.hasher.verify(user.password_hash, data.password):
            self._failed(pair_key, email_key)
            raise Unauthorized(BAD_CREDENTIALS)
        if self.hasher.needs_rehash(user.password_hash):
            user = user.with_changes(password_hash=self.hasher.hash(data.password))
            self.users.update(user)
        return self._new_family(user)

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    # --- refresh tokens -----------------------------------------------------------------

    def _new_family(self, user: User) -> TokenPair:
        family_id = str(uuid.uuid4())
        secret = secrets.token_urlsafe(32)
        self.families.start(TokenFamily(
            id=family_id, user_id=user.id, current_hash=hash_secret(secret),
            expires_at=self.clock() + timedelta(seconds=self.limits.refresh_ttl_s)))
        return self._pair(user, family_id, secret)

    def _pair(self, user: User, family_id: str, secret: str) -> TokenPair:
        access, expires_in = self.tokens.issue(user, family_id)
        return TokenPair(access_token=access, refresh_token=f"{family_id}.{secret}",
                         expires_in=expires_in)

    @staticmethod
    def _split(refresh_token: str) -> tuple[str, str]:
        family_id, _, secret = refresh_token.partition(".")
        if not family_id or not secret:
            raise Unauthorized(BAD_REFRESH, error="invalid_token")
        return family_id, secret

    def refresh(self, refresh_token: str) -> TokenPair:
        family_id, secret = self._split(refresh_token)
        presented = hash_secret(secret)
        new_secret = secrets.token_urlsafe(32)
        for _ in range(3):  # a rotation that raced another use reads the family again
            family = self.families.get(family_id)
            now = self.clock()
            if family is None or family.revoked or family.expires_at <= now:
                raise Unauthorized(BAD_REFRESH, error="invalid_token")
            if secrets.compare_digest(presented, family.current_hash):
                spent_at: datetime | None = now
            elif self._retried_within_grace(family, presented, now):
                spent_at = family.rotated_at  # a retry does not move the grace window
            else:
                # A spent token came back: someone holds a copy. End the whole family.
                self.families.revoke(family_id)
                raise Unauthorized("This refresh token was already used; every session from "
                                   "that sign-in has been ended. Sign in again.",
                                   error="invalid_token")
            rotated = replace(family, current_hash=hash_secret(new_secret),
                              previous_hash=presented, rotated_at=spent_at,
                              expires_at=now + timedelta(seconds=self.limits.refresh_ttl_s))
            if self.families.rotate(rotated, expected_hash=family.current_hash):
                break
        else:
            raise Unauthorized(BAD_REFRESH, error="invalid_token")
        user = self.users.by_id(family.user_id)
        if user is None:
            self.families.revoke(family_id)
            raise Unauthorized(BAD_REFRESH, error="invalid_token")
        return self._pair(user, family_id, new_secret)

    def _retried_within_grace(self, family: TokenFamily, presented: str,
                              now: datetime) -> bool:
        """Whether `presented` is the token spent last, again within the grace after its first
        spending: the answer that spent it was lost, so its holder never saw the new one.
        Spending it again ends the token that answer carried."""
        grace = timedelta(seconds=self.limits.refresh_reuse_grace_s)
        return (family.previous_hash is not None and family.rotated_at is not None
                and secrets.compare_digest(presented, family.previous_hash)
                and now - family.rotated_at <= grace)

    def logout(self, user_id: str, family_id: str | None, refresh_token: str | None) -> None:
        ids = {family_id} if family_id else set()
        if refresh_token:
            ids.add(self._split(refresh_token)[0])
        for fid in ids:
            family = self.families.get(fid)
            if family is not None and family.user_id == user_id:
                self.families.revoke(fid)

    # --- profile and teacher verification -----------------------------------------------

    def me(self, user_id: str) -> UserOut:
        user = self.users.by_id(user_id)
        if user is None:
            raise Unauthorized("The account no longer exists.", error="invalid_token")
        return UserOut.of(user)

    def set_notifications(self, user_id: str, marketing_emails: bool) -> NotificationPrefsOut:
        user = self.users.by_id(user_id)
        if user is None:
            raise Unauthorized("The account no longer exists.", error="invalid_token")
        self.users.update(user.with_changes(marketing_opt_out=not marketing_emails))
        return NotificationPrefsOut(marketing_emails=marketing_emails)

    def submit_verification(self, user_id: str, data: VerificationIn) -> UserOut:
        user = self.users.by_id(user_id)
        if user is None:
            raise Unauthorized("The account no longer exists.", error="invalid_token")
        if user.role != "teacher":
            raise Forbidden("Only teachers can ask for verification.")
        if user.is_verified:
            raise Conflict("This teacher is already verified.")
        user = user.with_changes(verification_status="pending", verification_bio=data.bio,
                                 verification_link=str(data.link), verification_note=None)
        self.users.update(user)
        return UserOut.of(user)

    def decide_verification(self, admin_role: str, teacher_id: str, approve: bool,
                            reason: str | None) -> UserOut:
        if admin_role != "admin":
            raise Forbidden("Only administrators can verify teachers.")
        user = self.users.by_id(teacher_id)
        if user is None or user.role != "teacher":
            raise NotFound("No teacher with this id.")
        if user.verification_status != "pending":
            raise Conflict(f"There is no pending verification request (status: "
                           f"{user.verification_status}).")
        user = user.with_changes(is_verified=approve,
                                 verification_status="verified" if approve else "rejected",
                                 verification_note=reason)
        event = make_event("user.verified", UserVerified(
            user_id=user.id, email=user.email, full_name=user.full_name,
            decision="verified" if approve else "rejected", reason=reason), source=SOURCE)
        self.users.update(user, [event])
        return UserOut.of(user)

    def create_admin(self, email: str, password: str, full_name: str) -> UserOut:
        problems = password_problems(password, email)
        if problems:
            raise ValidationFailed("The password is too weak.",
                                   [FieldError("password", p) for p in problems])
        user = User(id=str(uuid.uuid4()), email=email, full_name=full_name, role="admin",
                    password_hash=self.hasher.hash(password), created_at=self.clock(),
                    is_verified=True, verification_status="verified")
        try:
            self.users.create(user)
        except EmailTaken:
            raise Conflict("An account with this email already exists.") from None
        return UserOut.of(user)

    # --- helpers ------------------------------------------------------------------------

    def _failed(self, *keys: str) -> None:
        for key in keys:
            self.limiter.record(key, self.limits.window_s)

    def _limit(self, key: str, limit: int) -> None:
        retry_after = self.limiter.hit(key, limit, self.limits.window_s)
        if retry_after is not None:
            raise RateLimited("Too many attempts; try again later.", retry_after=retry_after)
