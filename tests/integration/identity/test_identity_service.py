"""The identity service with its real adapters (moto server, Redis), wired explicitly."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from botocore.exceptions import ClientError

from edu.adapters.dynamo_identity import DynamoIdentityStore
from edu.adapters.dynamo_outbox import DynamoOutbox
from edu.adapters.eventbridge import EventBridgePublisher
from edu.adapters.passwords import Argon2Hasher
from edu.adapters.ratelimit import RedisRateLimiter
from edu.auth.tokens import JwtIssuer, KeySet, rotated
from edu.errors import RateLimited, Unauthorized
from edu.identity.models import LoginIn, RegisterIn
from edu.identity.service import IdentityService, Limits
from localcloud.stack import LocalCloud
from tests.support.aws import aws_client as client
from tests.support.aws import keyed_table

PASSWORD = "correct horse battery staple"
pytestmark = pytest.mark.usefixtures("aws_env")  # pynamodb reads credentials from the env



@pytest.fixture
def events_queue(cloud: LocalCloud) -> Iterator[str]:
    """A queue that receives every identity event from the bus, like a consumer would."""
    sqs, events = client(cloud, "sqs"), client(cloud, "events")
    name = f"identity-events-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    events.put_rule(Name=name, EventBusName="edu-platform-events",
                    EventPattern=json.dumps({"source": ["edu.identity"]}))
    events.put_targets(Rule=name, EventBusName="edu-platform-events",
                       Targets=[{"Id": "q", "Arn": arn}])
    yield url
    events.remove_targets(Rule=name, EventBusName="edu-platform-events", Ids=["q"])
    events.delete_rule(Name=name, EventBusName="edu-platform-events")


@pytest.fixture
def outbox_table(cloud: LocalCloud) -> Iterator[str]:
    """An outbox table of the test's own (no stream: the test's sweep is its only relay)."""
    with keyed_table(cloud) as name:
        yield name


def service(cloud: LocalCloud, *, limits: Limits | None = None,
            redis_url: str | None = None, failures: list[Exception] | None = None,
            outbox_table: str = "edu-platform-users",
            clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> IdentityService:
    store = DynamoIdentityStore("edu-platform-users", cloud.aws_url, "us-east-1",
                                outbox_table)
    sink = failures if failures is not None else []
    limiter = RedisRateLimiter(redis.Redis.from_url(redis_url or cloud.redis_url,
                                                    socket_connect_timeout=0.5),
                               prefix=f"t{uuid.uuid4().hex[:6]}:", on_unavailable=sink.append)
    return IdentityService(
        users=store, families=store, limiter=limiter,
        hasher=Argon2Hasher(memory_kib=8 * 1024, time_cost=1, parallelism=1),
        tokens=JwtIssuer(KeySet.from_json(json.dumps(rotated({}))), "http://issuer", "aud", 900),
        limits=limits or Limits(100, 100, 100, 60, 3600), clock=clock)


def received(cloud: LocalCloud, url: str, count: int, timeout: float = 10
             ) -> list[dict[str, Any]]:
    sqs = client(cloud, "sqs")
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        for msg in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1).get("Messages", []):
            out.append(json.loads(msg["Body"]))
    return out


def outbox(cloud: LocalCloud, table: str, bus: str = "edu-platform-events") -> DynamoOutbox:
    return DynamoOutbox(table, cloud.aws_url, "us-east-1",
                        EventBridgePublisher(client(cloud, "events"), bus))


def test_registration_commits_user_created_with_the_user(
        cloud: LocalCloud, events_queue: str, outbox_table: str) -> None:
    svc = service(cloud, outbox_table=outbox_table)
    email = f"ev-{uuid.uuid4().hex[:8]}@example.com"
    user = svc.register(RegisterIn(email=email, password=PASSWORD, full_name="Eve",
                                   role="teacher"), "10.0.0.1")
    assert outbox(cloud, outbox_table).sweep(older_than=timedelta(0)) == 1
    (event,) = received(cloud, events_queue, 1)
    envelope = event["detail"]
    assert event["detail-type"] == "user.created" and event["source"] == "edu.identity"
    assert envelope["type"] == "user.created" and envelope["version"] == 1
    assert envelope["data"] == {"user_id": user.id, "email": email, "full_name": "Eve",
                                "role": "teacher", "is_verified": False}
    assert envelope["id"] and envelope["occurred_at"].endswith("Z")


def test_an_event_bus_outage_loses_no_event(cloud: LocalCloud, events_queue: str,
                                            outbox_table: str) -> None:
    """The event is committed with the user (outbox); while the bus fails, registration
    still succeeds and the event waits in the outbox until a relay gets it through, once."""
    email = f"outage-{uuid.uuid4().hex[:8]}@example.com"
    user = service(cloud, outbox_table=outbox_table).register(
        RegisterIn(email=email, password=PASSWORD, full_name="Olga", role="student"),
        "10.0.0.2")
    broken = outbox(cloud, outbox_table, bus=f"missing-bus-{uuid.uuid4().hex[:6]}")
    with pytest.raises(ClientError):
        broken.sweep(older_than=timedelta(0))
    relay = outbox(cloud, outbox_table)
    assert relay.sweep() == 0  # younger than the stream relay's grace: left to the stream
    assert relay.sweep(older_than=timedelta(0)) == 1
    delivered = [e["detail"] for e in received(cloud, events_queue, 1)]
    assert [e["data"]["user_id"] for e in delivered] == [user.id]
    assert relay.sweep(older_than=timedelta(0)) == 0  # sent items are gone: no second delivery
    assert received(cloud, events_queue, 1, timeout=2) == []


def test_failed_logins_are_limited_without_locking_the_owner_out(cloud: LocalCloud) -> None:
    svc = service(cloud, limits=Limits(login_per_ip=1000, login_per_email=3,
                                       register_per_ip=100, window_s=60, refresh_ttl_s=3600))
    email = f"rl-{uuid.uuid4().hex[:8]}@example.com"
    svc.register(RegisterIn(email=email, password=PASSWORD, full_name="R", role="student"),
                 "10.0.0.2")
    for _ in range(3):
        with pytest.raises(Unauthorized):
            svc.login(LoginIn(email=email, password="wrong password!"), "10.0.0.2")
    with pytest.raises(RateLimited) as limited:  # the guessing source is stopped ...
        svc.login(LoginIn(email=email, password=PASSWORD), "10.0.0.2")
    assert 1 <= int(limited.value.headers["Retry-After"]) <= 60
    # ... and the owner, elsewhere, still signs in (the probe locked victims out with 10
    # wrong passwords a minute from anywhere)
    assert svc.login(LoginIn(email=email, password=PASSWORD), "10.0.0.3").access_token

    # A distributed guess (many sources, each under its own limit) closes the email to every
    # source that failed for it, never to one that did not.
    sources = [f"10.9.{n}.1" for n in range(14)]
    for source in sources:  # with the 3 above: 30 failures, 10x the per-source limit
        for _ in range(2 if source != sources[-1] else 1):
            with pytest.raises(Unauthorized):
                svc.login(LoginIn(email=email, password="wrong password!"), source)
    with pytest.raises(RateLimited):
        svc.login(LoginIn(email=email, password=PASSWORD), sources[0])
    assert svc.login(LoginIn(email=email, password=PASSWORD), "10.0.0.4").access_token
    per_ip = service(cloud, limits=Limits(2, 100, 100, 60, 3600))
    other = f"rl2-{uuid.uuid4().hex[:8]}@example.com"
    per_ip.register(RegisterIn(email=other, password=PASSWORD, full_name="R", role="student"),
                    "10.0.0.9")
    ip = f"10.1.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    per_ip.login(LoginIn(email=other, password=PASSWORD), ip)
    per_ip.login(LoginIn(email=other, password=PASSWORD), ip)
    with pytest.raises(RateLimited):
        per_ip.login(LoginIn(email=other, password=PASSWORD), ip)


def test_limits_fail_open_when_redis_is_down(cloud: LocalCloud) -> None:
    failures: list[Exception] = []
    down = service(cloud, redis_url="redis://127.0.0.1:1/0", failures=failures,
                   limits=Limits(1, 1, 1, 60, 3600))
    email = f"down-{uuid.uuid4().hex[:8]}@example.com"
    down.register(RegisterIn(email=email, password=PASSWORD, full_name="D", role="student"),
                  "10.0.0.4")
    for _ in range(3):  # far above the limit of 1: limits are off, sign-in still works
        assert down.login(LoginIn(email=email, password=PASSWORD), "10.0.0.4").access_token
    assert len(failures) >= 3  # each is reported (logged and counted by the wiring)


def test_refresh_token_race_leaves_one_winner(cloud: LocalCloud) -> None:
    from concurrent.futures import ThreadPoolExecutor

    svc = service(cloud)
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    svc.register(RegisterIn(email=email, password=PASSWORD, full_name="R", role="student"),
                 "10.0.0.5")
    token = svc.login(LoginIn(email=email, password=PASSWORD), "10.0.0.5").refresh_token

    def spend(_: int) -> str:
        try:
            return svc.refresh(token).refresh_token
        except Unauthorized:
            return "401"

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(spend, range(4)))
    assert results.count("401") >= 3  # at most one rotation wins; the rest end the family
    with pytest.raises(Unauthorized):  # and a reuse has revoked the whole family
        winners = [r for r in results if r != "401"]
        svc.refresh(winners[0] if winners else token)


def signed_in(svc: IdentityService, source: str) -> str:
    email = f"grace-{uuid.uuid4().hex[:8]}@example.com"
    svc.register(RegisterIn(email=email, password=PASSWORD, full_name="G", role="student"),
                 source)
    return svc.login(LoginIn(email=email, password=PASSWORD), source).refresh_token


def with_grace(cloud: LocalCloud) -> tuple[IdentityService, list[datetime]]:
    """A service with a 30 s refresh reuse grace, and the clock it reads (set now[0])."""
    now = [datetime.now(UTC)]
    svc = service(cloud, limits=Limits(100, 100, 100, 60, 3600, refresh_reuse_grace_s=30),
                  clock=lambda: now[0])
    return svc, now


def test_a_refresh_whose_answer_was_lost_may_be_retried_within_the_grace(
        cloud: LocalCloud) -> None:
    svc, now = with_grace(cloud)
    token = signed_in(svc, "10.0.0.6")
    lost = svc.refresh(token).refresh_token  # its answer never reached the client
    now[0] += timedelta(seconds=20)
    retried = svc.refresh(token).refresh_token  # within the grace: the sign-in lives on
    assert retried not in (token, lost)
    newest = svc.refresh(retried).refresh_token
    # The token the retry replaced is now a copy someone kept: reuse ends the family.
    with pytest.raises(Unauthorized, match="already used"):
        svc.refresh(lost)
    with pytest.raises(Unauthorized):
        svc.refresh(newest)


def test_the_grace_runs_from_the_first_spending_and_then_reuse_ends_the_family(
        cloud: LocalCloud) -> None:
    svc, now = with_grace(cloud)
    token = signed_in(svc, "10.0.0.7")
    svc.refresh(token)
    now[0] += timedelta(seconds=25)
    svc.refresh(token)  # a retry does not move the window ...
    now[0] += timedelta(seconds=10)  # ... so 35 s after the first spending it is closed
    with pytest.raises(Unauthorized, match="already used"):
        svc.refresh(token)
    without_grace = service(cloud)  # Limits' default: no grace at all
    strict = signed_in(without_grace, "10.0.0.8")
    renewed = without_grace.refresh(strict).refresh_token
    with pytest.raises(Unauthorized, match="already used"):
        without_grace.refresh(strict)
    with pytest.raises(Unauthorized):
        without_grace.refresh(renewed)


def test_parallel_spends_within_the_grace_keep_the_sign_in(cloud: LocalCloud) -> None:
    """Two tabs renewing at once: each gets a pair or a 401 for the contention, and the
    family survives; the token stored as current is one of the answers and still renews."""
    from concurrent.futures import ThreadPoolExecutor

    from edu.identity.service import hash_secret

    svc = service(cloud, limits=Limits(100, 100, 100, 60, 3600, refresh_reuse_grace_s=30))
    token = signed_in(svc, "10.0.0.9")

    def spend(_: int) -> str | None:
        try:
            return svc.refresh(token).refresh_token
        except Unauthorized as exc:
            assert "already used" not in exc.detail
            return None

    with ThreadPoolExecutor(4) as pool:
        answers = [a for a in pool.map(spend, range(4)) if a is not None]
    assert answers
    family = svc.families.get(token.partition(".")[0])
    assert family is not None and not family.revoked
    (current,) = [a for a in answers if hash_secret(a.partition(".")[2]) == family.current_hash]
    assert svc.refresh(current).refresh_token
