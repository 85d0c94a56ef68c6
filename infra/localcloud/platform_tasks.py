"""The `edu` commands that act on EduPlatform's domain (they import shared/edu).

The local cloud itself (stack, runtime) never imports this module's dependencies.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from localcloud.aws import local_client
from localcloud.stack import LocalCloud

JWT_SECRET_LOGICAL_ID = "JwtKeysSecret"


def jwt_secret_name(cloud: LocalCloud) -> str:
    return cloud.template().resources[JWT_SECRET_LOGICAL_ID].physical_name


def ensure_jwt_keys(cloud: LocalCloud) -> str:
    """Local signing keys: generated once into .edu/ (never committed), put in the secret."""
    from edu.auth.tokens import rotated

    path = cloud.config.home / "jwt-keys.json"
    if path.exists():
        keyset = json.loads(path.read_text())
    else:
        keyset = rotated({})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(keyset))
        path.chmod(0o600)
    put_keyset(cloud.aws_url, cloud.template().region, jwt_secret_name(cloud), keyset)
    return f"JWT keys {', '.join(k['kid'] for k in keyset['keys'])}"


def put_keyset(endpoint: str | None, region: str, secret_id: str,
               keyset: dict[str, Any]) -> None:
    """Puts the keyset in the secret unless it holds it already (a kept local endpoint does
    after a restart, and each put would be one more version to keep)."""
    sm = local_client("secretsmanager", endpoint, region) if endpoint else _aws("secretsmanager",
                                                                                 region)
    try:
        current = json.loads(sm.get_secret_value(SecretId=secret_id).get("SecretString") or "{}")
    except (sm.exceptions.ResourceNotFoundException, ValueError):
        current = None
    if current != keyset:
        sm.put_secret_value(SecretId=secret_id, SecretString=json.dumps(keyset))


def rotate_keys(endpoint: str | None, region: str, secret_id: str,
                local_file: Path | None) -> list[str]:
    """A new signing key; the previous one stays valid for verification."""
    from edu.auth.tokens import rotated

    sm = local_client("secretsmanager", endpoint, region) if endpoint else _aws("secretsmanager",
                                                                                 region)
    current = json.loads(sm.get_secret_value(SecretId=secret_id)["SecretString"] or "{}")
    keyset = rotated(current)
    sm.put_secret_value(SecretId=secret_id, SecretString=json.dumps(keyset))
    if local_file is not None:
        local_file.write_text(json.dumps(keyset))
    return [k["kid"] for k in keyset["keys"]]


def _aws(service: str, region: str) -> Any:
    import boto3

    return boto3.client(service, region_name=region)  # type: ignore[call-overload]


def domain_env(cloud: LocalCloud, function: str | None = None) -> dict[str, str]:
    """The environment a function (the first, or the one named) would see, for running
    domain code in this process."""
    tpl = cloud.template()
    fn = tpl.functions[function] if function else next(iter(tpl.functions.values()))
    env = dict(fn.environment)
    env.update(cloud.function_env())
    env["AWS_DEFAULT_REGION"] = tpl.region
    return env


def search_reindex(cloud: LocalCloud, progress: bool = True) -> str:
    """Rebuilds the Meilisearch index from PostgreSQL (the indexer function's settings)."""
    os.environ.update(domain_env(cloud, "SearchIndexerFunction"))
    from tqdm import tqdm

    from edu.services import course_service

    courses = course_service()
    if courses.index is None:
        return "no search index configured: set the MeiliUrl parameter (MEILI_URL)"
    with tqdm(desc="courses indexed", unit=" courses", disable=not progress) as bar:
        total = courses.reindex(on_batch=bar.update)
    return f"indexed {total} published courses"


def create_admin(cloud: LocalCloud, email: str, password: str, full_name: str) -> str:
    os.environ.update(domain_env(cloud))
    from edu.identity.models import RegisterIn
    from edu.services import identity_service

    # Same email and password rules as registration.
    checked = RegisterIn(email=email, password=password, full_name=full_name, role="student")
    user = identity_service().create_admin(checked.email, password, checked.full_name)
    return user.id


DEMO_PASSWORD = "demo-password-2026"
DEMO_USERS = (("admin@demo.eduplatform.dev", "Demo Admin", "admin"),
              ("teacher@demo.eduplatform.dev", "Demo Teacher", "teacher"),
              ("student@demo.eduplatform.dev", "Demo Student", "student"))


def load_demo(cloud: LocalCloud) -> list[str]:
    """Demo accounts (a verified teacher, a student, an admin); re-running changes nothing."""
    os.environ.update(domain_env(cloud))
    from edu.errors import Conflict
    from edu.identity.models import RegisterIn, VerificationIn
    from edu.services import identity_service

    service = identity_service()
    lines = []
    teacher_id = None
    for email, name, role in DEMO_USERS:
        try:
            if role == "admin":
                service.create_admin(email, DEMO_PASSWORD, name)
            else:
                user = service.register(RegisterIn(email=email, password=DEMO_PASSWORD,
                                                   full_name=name, role=role), "127.0.0.1")
                if role == "teacher":
                    teacher_id = user.id
                    service.submit_verification(user.id, VerificationIn(
                        bio="Demo teacher for trying the platform locally.",
                        link="https://eduplatform.dev/demo"))
                    service.decide_verification("admin", user.id, True, "demo account")
        except Conflict:
            pass
        lines.append(f"{role:<8} {email} / {DEMO_PASSWORD}")
    if teacher_id is not None:  # first run: the demo teacher's courses
        lines.append(f"courses  {_demo_courses(teacher_id)} published by the demo teacher")
    return lines


DEMO_COURSES = (
    ("Python for Absolute Beginners", "programming", "beginner", 0,
     "Variables, loops and functions, one small program at a time.", ["python"]),
    ("Kubernetes in Practice", "devops", "intermediate", 2999,
     "Deployments, services and operators on a real cluster.", ["kubernetes", "containers"]),
    ("Watercolor Landscapes", "art", "beginner", 1499,
     "Washes, layering and light for outdoor scenes.", ["watercolor", "painting"]),
)


def _demo_courses(teacher_id: str) -> int:
    from edu.auth.claims import Caller
    from edu.courses.models import CourseIn, LessonIn, Money, SectionIn
    from edu.services import course_service, flush_outbox

    who = Caller(user_id=teacher_id, email="", role="teacher", is_verified=True,
                 session_id=None)
    courses = course_service()
    for title, category, level, price, description, tags in DEMO_COURSES:
        course = courses.create(who, CourseIn(
            title=title, subtitle=description.split(",")[0], description=description,
            category=category, level=level, language="en",
            price=Money(amount=price, currency="usd"), tags=tags))
        for s_index, section_title in enumerate(("Getting started", "Going further")):
            section = courses.add_section(who, course.id, SectionIn(title=section_title))
            for l_index in range(2):
                first = s_index == 0 and l_index == 0
                lesson = courses.add_lesson(who, course.id, section.id, LessonIn(
                    title=f"Lesson {s_index * 2 + l_index + 1}",
                    kind="video" if first else "text",
                    body="" if first else f"{title}: lesson {s_index * 2 + l_index + 1}.",
                    free_preview=first))
                if first and title == DEMO_COURSES[0][0]:
                    _demo_video(who, course.id, lesson.id)
        courses.publish(who, course.id)
    flush_outbox()
    return len(DEMO_COURSES)


def _demo_video(who: Any, course_id: str, lesson_id: str) -> None:
    """Uploads a generated clip as a teacher would (presigned form); the runtime's transcode
    function picks it up from the queue once it runs."""
    import tempfile

    import httpx

    from edu.services import video_service
    from edu.video.models import UploadIn
    from localcloud.media import make_clip

    with tempfile.TemporaryDirectory() as work:
        content = make_clip(Path(work) / "welcome.mp4", seconds=6, size="1280x720"
                            ).read_bytes()
        ticket = video_service().request_upload(who, course_id, lesson_id, UploadIn(
            filename="welcome.mp4", content_type="video/mp4", size_bytes=len(content)))
        httpx.post(ticket.url, data=ticket.fields, timeout=60,
                   files={"file": ("welcome.mp4", content, "video/mp4")}).raise_for_status()


# --- Stripe (local) ------------------------------------------------------------------------


def webhook_secret(cloud: LocalCloud) -> str:
    return cloud.template().parameters.get("StripeWebhookSecret", "whsec_local")


def connect_stripe(cloud: LocalCloud) -> str:
    """Points the local Stripe server's webhooks at our webhook function."""
    from localcloud.backing import register_stripe_webhook

    url = f"http://127.0.0.1:{cloud.config.api_port}/payments/stripe/webhook"
    register_stripe_webhook(cloud.stripe_url, url, webhook_secret(cloud))
    return f"Stripe webhooks -> {url}"


def _stripe_client(cloud: LocalCloud) -> Any:
    import stripe

    key = cloud.template().parameters.get("StripeSecretKey", "sk_test_local")
    return stripe.StripeClient(key, base_addresses={"api": cloud.stripe_url})


def _payment_item(cloud: LocalCloud, payment_id: str) -> dict[str, Any]:
    table = cloud.template().resources["EnrollmentsTable"].physical_name
    ddb = local_client("dynamodb", cloud.aws_url, cloud.template().region)
    pages = ddb.get_paginator("scan").paginate(
        TableName=table, FilterExpression="id = :id AND begins_with(sk, :pay)",
        ExpressionAttributeValues={":id": {"S": payment_id}, ":pay": {"S": "PAY#"}})
    for page in pages:
        for item in page.get("Items", []):
            return {k: next(iter(v.values())) for k, v in item.items()}
    raise LookupError(f"no payment {payment_id}")


def stripe_pay(cloud: LocalCloud, payment_id: str, card: str = "pm_card_visa") -> str:
    """Confirms a payment's PaymentIntent with a test card, as the student's browser would;
    the Stripe server then sends the signed webhook that enrolls the student."""
    item = _payment_item(cloud, payment_id)
    intent = _stripe_client(cloud).v1.payment_intents.confirm(
        item["provider_ref"], params={"payment_method": card})
    return f"{intent.id}: {intent.status}"


def sign_stripe_event(event: dict[str, Any], secret: str, timestamp: int | None = None
                      ) -> tuple[bytes, str]:
    """A webhook body and its Stripe-Signature header, as Stripe computes them."""
    import hashlib
    import hmac
    import time

    ts = int(time.time()) if timestamp is None else timestamp
    payload = json.dumps(event).encode()
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256)
    return payload, f"t={ts},v1={digest.hexdigest()}"


def stripe_refund(cloud: LocalCloud, payment_id: str) -> str:
    """Refunds a payment on the Stripe server and delivers the signed `charge.refunded`
    event (localstripe creates refunds but does not emit that event itself)."""
    import time
    import urllib.request
    import uuid

    item = _payment_item(cloud, payment_id)
    client = _stripe_client(cloud)
    refund = client.v1.refunds.create(params={"payment_intent": item["provider_ref"]})
    event = {"id": f"evt_{uuid.uuid4().hex[:24]}", "object": "event", "type": "charge.refunded",
             "created": int(time.time()), "livemode": False,
             "data": {"object": {"id": str(refund.charge), "object": "charge",
                                 "payment_intent": item["provider_ref"], "refunded": True,
                                 "amount_refunded": int(refund.amount)}}}
    body, signature = sign_stripe_event(event, webhook_secret(cloud))
    req = urllib.request.Request(
        f"http://127.0.0.1:{cloud.config.api_port}/payments/stripe/webhook", data=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return f"refund {refund.id}: webhook answered {resp.status}"


def seed(cloud: LocalCloud, users: int, courses: int, teachers: int = 5000,
         enrollments: int = 0, seed_value: int = 42, reset: bool = False,
         progress: bool = True) -> list[str]:
    """Load-test data: `courses` courses in PostgreSQL, `users` accounts and `enrollments`
    enrollments in DynamoDB, each phase with a progress bar and its rate."""
    from concurrent.futures import ThreadPoolExecutor

    from argon2 import PasswordHasher
    from tqdm import tqdm

    from localcloud.seed import (
        SEED_PASSWORD,
        reset_dynamo,
        seed_analytics,
        seed_courses,
        seed_enrollments,
        seed_users,
    )

    tpl = cloud.template()
    users_table = tpl.resources["UsersTable"].physical_name
    enrollments_table = tpl.resources["EnrollmentsTable"].physical_name
    lines = []
    if reset:
        removed = reset_dynamo(cloud.aws_url, tpl.region, [users_table, enrollments_table])
        lines.append(f"reset: {removed} seeded DynamoDB items removed (courses are replaced)")
    # courses are PostgreSQL's work and users moto's: the two run side by side
    with ThreadPoolExecutor(1) as background:
        courses_took = background.submit(seed_courses, cloud.database_url, courses,
                                         teachers=teachers)
        digest = PasswordHasher(memory_cost=19 * 1024, time_cost=2, parallelism=1).hash(
            SEED_PASSWORD)
        students = max(0, users - teachers)
        with tqdm(total=users, desc="users", unit=" users", disable=not progress) as bar:
            took = seed_users(cloud.aws_url, tpl.region, users_table, students,
                              min(teachers, users), digest, progress=bar.update)
        lines.append(f"{users} users in {took:.1f}s ({users / took:.0f}/s); password "
                     f"{SEED_PASSWORD!r}")
        took = courses_took.result()
        lines.append(f"{courses} courses with their syllabi in {took:.1f}s "
                     f"({courses / took:.0f}/s), alongside the users")
    if enrollments:
        with tqdm(total=enrollments, desc="enrollments", unit=" enrollments",
                  disable=not progress) as bar:
            took, pairs = seed_enrollments(cloud.database_url, cloud.aws_url, tpl.region,
                                           enrollments_table, enrollments, students,
                                           seed=seed_value, progress=bar.update)
        lines.append(f"{enrollments} enrollments in {took:.1f}s "
                     f"({enrollments / max(took, 1e-9):.0f}/s)")
        took = seed_analytics(cloud.database_url, pairs)
        lines.append(f"analytics read models of {len(pairs)} enrollments in {took:.1f}s")
    return lines


def bench_analytics(cloud: LocalCloud, n: int = 200, teachers: int = 20) -> dict[str, Any]:
    """Server-side latency of the analytics reads (domain + PostgreSQL, as the functions
    run them) for the seeded teachers with the most enrollments: the dashboard, a course's
    last 30 days by day, and its last year by week. Run `edu seed --enrollments N` first."""
    import random
    import time
    from datetime import date, timedelta

    from localcloud.coldstart import percentile

    os.environ.update(domain_env(cloud, "TeacherDashboardFunction"))
    from edu.adapters.registry import get_adapters
    from edu.analytics.models import AnalyticsQuery
    from edu.auth.claims import Caller
    from edu.services import analytics_service

    with get_adapters().pg_pool().connection() as conn:
        top = conn.execute(
            "SELECT teacher_id, (array_agg(course_id ORDER BY enrollments DESC))[1]::text "
            "FROM (SELECT teacher_id, course_id, sum(enrollments) AS enrollments "
            "      FROM analytics_course_daily WHERE teacher_id LIKE 'seed-teacher-%%' "
            "      GROUP BY 1, 2) t GROUP BY teacher_id ORDER BY sum(enrollments) DESC "
            "LIMIT %s", (teachers,)).fetchall()
        rows = conn.execute("SELECT count(*) FROM analytics_students").fetchone()
    if not top:
        raise RuntimeError("no seeded analytics: run `edu seed --enrollments 500000` first")
    service, rng = analytics_service(), random.Random(1)
    year = AnalyticsQuery.model_validate({"granularity": "week",
                                          "from": str(date.today() - timedelta(days=364))})
    reads = {
        "dashboard": lambda t, c: service.dashboard(t),
        "course, 30 days by day": lambda t, c: service.course_analytics(t, c, AnalyticsQuery()),
        "course, 1 year by week": lambda t, c: service.course_analytics(t, c, year),
    }
    results: dict[str, Any] = {"student_rows": rows[0] if rows else 0, "samples": n,
                               "teachers": len(top), "reads": {}}
    for name, read in reads.items():
        timings = []
        for i in range(n + 5):
            teacher_id, course_id = top[rng.randrange(len(top))]
            who = Caller(user_id=teacher_id, email="", role="teacher", is_verified=True,
                         session_id=None)
            started = time.perf_counter()
            read(who, course_id)
            if i >= 5:  # the first calls warm the pool and the caches
                timings.append((time.perf_counter() - started) * 1000)
        results["reads"][name] = {q: round(percentile(timings, v), 2) for q, v in
                                  (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))}
    return results
