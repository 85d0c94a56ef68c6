"""Locust scenarios against the local gateway (run with `edu load`, after `edu seed`).

Tags: student (browse, open, search, enroll, progress), search (query mix incl. typos and
filters), teacher (author and publish courses). Each simulated user signs in once.
"""

from __future__ import annotations

import itertools
import os
import random
import time
from typing import Any

import gevent
import orjson
from locust import FastHttpUser, between, events, tag, task
from locust.env import Environment

SEED_PASSWORD = "seed-password-2026"
# What `edu seed` made (the fault drill seeds fewer and says so through the environment).
SEED_STUDENTS = int(os.environ.get("EDU_SEED_STUDENTS", "45000"))
SEED_TEACHERS = int(os.environ.get("EDU_SEED_TEACHERS", "5000"))
CATEGORIES = ["programming", "devops", "data", "design", "art", "business", "music",
              "languages"]
QUERIES = ["python", "kubernetes", "deep learning", "watercolor", "guitar", "spanish",
           "pythn", "kubernets", "machne learning", "photografy", "sql", "terraform",
           "music theory", "negotiation", "rust systems", "typescript patterns"]


@events.init.add_listener
def measure_after_settling(environment: Environment, **_: Any) -> None:
    """`edu load --gate` sets EDU_LOAD_SETTLE_S: statistics restart that long after every user
    has started, once the backlog of their sign-ins (argon2, by design slow) has drained."""
    settle_s = float(os.environ.get("EDU_LOAD_SETTLE_S", "0"))
    if settle_s <= 0:
        return

    def reset_later(**_: Any) -> None:
        runner = environment.runner
        if runner is not None:
            gevent.spawn_later(settle_s, runner.stats.reset_all)

    environment.events.spawning_complete.add_listener(reset_later)


@events.init.add_listener
def record_samples(environment: Environment, **_: Any) -> None:
    """`edu load --drill` sets EDU_LOAD_SAMPLES: every request's start, duration and status
    go to that file (CSV), so the drill can judge each second of the run, not only its
    aggregate."""
    path = os.environ.get("EDU_LOAD_SAMPLES")
    if not path:
        return
    out = open(path, "w", buffering=1 << 16)  # noqa: SIM115 - closed when Locust quits
    out.write("start,ms,status,name\n")

    def on_request(name: str, response_time: float, response: Any = None,
                   start_time: float | None = None, **_: Any) -> None:
        status = getattr(response, "status_code", 0) or 0
        out.write(f"{start_time or 0:.3f},{response_time:.1f},{status},{name}\n")

    environment.events.request.add_listener(on_request)
    environment.events.test_start.add_listener(
        lambda **_: out.write(f"{time.time():.3f},0,0,__test_start__\n"))
    environment.events.quitting.add_listener(lambda **_: out.close())


def body(resp: Any) -> Any:
    """A response's JSON: orjson, as a browser's native parser would, rather than Locust's
    json.loads (a sixth of this load generator's CPU went to parsing catalog pages, on the
    same two cores as the platform it measures)."""
    return orjson.loads(resp.content)


class Api(FastHttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)
    token = ""

    def sign_in(self, email: str) -> None:
        """Signs in; throttled (429), tries again after Retry-After, backing off with jitter
        as a client should (until it is in, or the run ends)."""
        for attempt in itertools.count():
            with self.client.post("/auth/login", json={"email": email,
                                                       "password": SEED_PASSWORD},
                                  name="/auth/login", catch_response=True) as resp:
                if resp.status_code == 429:
                    resp.failure("login 429: throttled")
                    after = float(resp.headers.get("retry-after") or 1)
                    gevent.sleep(min(after * 2 ** attempt, 8.0) * random.uniform(0.5, 1.5))
                    continue
                if resp.status_code != 200:
                    resp.failure(f"login {resp.status_code}: run `edu seed` first")
                    return
                self.token = body(resp)["access_token"]
                return

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class StudentUser(Api):
    weight = 6

    def on_start(self) -> None:
        self.sign_in(f"student{random.randrange(SEED_STUDENTS)}@seed.eduplatform.dev")
        self.seen: list[dict[str, Any]] = []

    @tag("student")
    @task(5)
    def browse(self) -> None:
        params = {"limit": 20, "category": random.choice(CATEGORIES)}
        cursor = None
        for _ in range(random.randint(1, 3)):
            query = dict(params, **({"cursor": cursor} if cursor else {}))
            resp = self.client.get("/courses", params=query, name="/courses")
            if resp.status_code != 200:
                return
            page = body(resp)
            self.seen = page["items"] or self.seen
            cursor = page["next_cursor"]
            if not cursor:
                return

    @tag("student")
    @task(3)
    def open_course(self) -> None:
        if not self.seen:
            return
        course = random.choice(self.seen)
        self.client.get(f"/courses/{course['id']}", name="/courses/[id]")
        self.client.get(f"/courses/{course['id']}/syllabus", name="/courses/[id]/syllabus")

    @tag("student")
    @task(2)
    def search(self) -> None:
        self.client.get("/search", params={"q": random.choice(QUERIES)}, name="/search")

    @tag("student")
    @task(1)
    def my_courses(self) -> None:
        self.client.get("/me/enrollments", headers=self.auth, name="/me/enrollments")

    @tag("student")
    @task(1)
    def enroll_and_progress(self) -> None:
        free = [c for c in self.seen if c["price"]["amount"] == 0]
        if not free:
            return
        course = random.choice(free)
        with self.client.post(f"/courses/{course['id']}/enroll", headers=self.auth,
                              name="/courses/[id]/enroll", catch_response=True) as resp:
            if resp.status_code not in (201, 409):
                return  # not enrolled (e.g. throttled): a player would not save progress
            resp.success()
        syllabus = body(self.client.get(f"/courses/{course['id']}/syllabus",
                                        name="/courses/[id]/syllabus"))
        lessons = [item for s in syllabus.get("sections", []) for item in s["lessons"]]
        if lessons:  # a player's save: mostly a position, now and then a finished lesson
            lesson = random.choice(lessons)
            self.client.put(f"/courses/{course['id']}/lessons/{lesson['id']}/progress",
                            json={"completed": random.random() < 0.3,
                                  "position_seconds": random.randrange(10, 900)},
                            headers=self.auth, name="/courses/[id]/lessons/[id]/progress")


class SearchUser(Api):
    weight = 3

    @tag("search")
    @task
    def search(self) -> None:
        params: dict[str, Any] = {"q": random.choice(QUERIES)}
        if random.random() < 0.3:
            params["category"] = random.choice(CATEGORIES)
        if random.random() < 0.2:
            params["price"] = random.choice(["free", "paid"])
        resp = self.client.get("/search", params=params, name="/search")
        cursor = body(resp)["next_cursor"] if resp.status_code == 200 else None
        if cursor and random.random() < 0.3:
            params["cursor"] = cursor
            self.client.get("/search", params=params, name="/search (next page)")


class TeacherUser(Api):
    weight = 1

    def on_start(self) -> None:
        self.sign_in(f"teacher{random.randrange(SEED_TEACHERS)}@seed.eduplatform.dev")

    @tag("teacher")
    @task
    def author_course(self) -> None:
        created = self.client.post("/courses", headers=self.auth, name="/courses (create)",
                                   json={"title": f"Load test course {random.random():.6f}",
                                         "category": random.choice(CATEGORIES),
                                         "level": "beginner", "language": "en",
                                         "price": {"amount": 0, "currency": "usd"}})
        if created.status_code != 201:
            return
        course = body(created)
        self.client.patch(f"/courses/{course['id']}", headers={**self.auth, "If-Match":
                                                               created.headers["etag"]},
                          json={"subtitle": "Edited under load"}, name="/courses/[id] (edit)")
        section = self.client.post(f"/courses/{course['id']}/sections", headers=self.auth,
                                   json={"title": "Intro"}, name="/courses/[id]/sections")
        if section.status_code == 201:
            self.client.post(f"/courses/{course['id']}/sections/{body(section)['id']}/lessons",
                             headers=self.auth, json={"title": "Hello", "kind": "text",
                                                      "body": "Hi"},
                             name="/courses/[id]/sections/[id]/lessons")
            self.client.post(f"/courses/{course['id']}/publish", headers=self.auth,
                             name="/courses/[id]/publish")
