"""`edu chaos`: the fault drill. On a stack of its own (free ports, a temp home) it runs a
Locust student+teacher mix and a write probe, then in turn crashes PostgreSQL (SIGKILL,
restart on the same data), crashes Redis (SIGKILL, restart empty), crashes the moto server
(SIGKILL, restart on its state in `aws/`) and kills a function worker (SIGKILL). Afterwards
it recounts every acknowledged write, waits for queued events to arrive, and reports
requests, errors by kind, recovery time per fault and lost writes (must be 0).

Bounded: about (faults x (outage + settle)) + warm-up seconds; everything it started is
stopped at the end.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from localcloud.config import CloudConfig
from localcloud.platform import RunningPlatform, start_platform, stop_platform
from localcloud.stack import LocalCloud

FAULTS = ("postgres", "redis", "aws", "worker")
# The event consumers' queues keep a message for this many receives (template.yaml's
# maxReceiveCount), the delays between them doubling from ConsumerRetryBase.
CONSUMER_RECEIVES = 5
PROBE_PASSWORD = "correct horse battery staple"


@dataclass
class Sample:
    at: float
    op: str
    status: int  # 0 = no answer (connection error or client timeout)
    seconds: float


@dataclass
class Probe:
    """Writes through the public API during the drill, remembering what was acknowledged."""

    api: str
    teacher: str
    students: list[str]
    course_id: str
    lesson_id: str
    samples: list[Sample] = field(default_factory=list)
    acked_courses: list[str] = field(default_factory=list)
    acked_enrollments: list[int] = field(default_factory=list)  # student index
    acked_positions: dict[int, int] = field(default_factory=dict)  # student -> position
    stop: threading.Event = field(default_factory=threading.Event)

    def call(self, client: httpx.Client, op: str, method: str, path: str, token: str,
             body: dict[str, Any] | None = None) -> httpx.Response | None:
        started = time.monotonic()
        try:
            resp = client.request(method, f"{self.api}{path}", json=body,
                                  headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError:
            self.samples.append(Sample(started, op, 0, time.monotonic() - started))
            return None
        self.samples.append(Sample(started, op, resp.status_code, time.monotonic() - started))
        return resp

    def run(self) -> None:
        """Each round: a course (PostgreSQL), a progress save (DynamoDB), a course read
        (Redis cache, then PostgreSQL); every tenth round a new enrollment (DynamoDB, with
        an event to the analytics projector)."""
        n, next_student = 0, 0
        with httpx.Client(timeout=15) as client:
            while not self.stop.is_set():
                n += 1
                made = self.call(client, "create course", "POST", "/courses", self.teacher,
                                 {"title": f"Drill course {n}", "category": "drill",
                                  "level": "beginner", "language": "en",
                                  "price": {"amount": 0, "currency": "usd"}})
                if made is not None and made.status_code == 201:
                    self.acked_courses.append(made.json()["id"])
                if n % 10 == 0 and next_student < len(self.students):
                    enrolled = self.call(client, "enroll", "POST",
                                         f"/courses/{self.course_id}/enroll",
                                         self.students[next_student])
                    if enrolled is not None and enrolled.status_code in (201, 409):
                        self.acked_enrollments.append(next_student)
                        next_student += 1
                if self.acked_enrollments:
                    student = self.acked_enrollments[n % len(self.acked_enrollments)]
                    saved = self.call(
                        client, "progress", "PUT",
                        f"/courses/{self.course_id}/lessons/{self.lesson_id}/progress",
                        self.students[student], {"completed": True, "position_seconds": n})
                    if saved is not None and saved.status_code == 200:
                        self.acked_positions[student] = n
                self.call(client, "read course", "GET", f"/courses/{self.course_id}",
                          self.teacher)
                time.sleep(0.05)


def _login(api: str, email: str) -> str:
    resp = httpx.post(f"{api}/auth/login", json={"email": email, "password": PROBE_PASSWORD},
                      timeout=30)
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def _register(api: str, email: str, role: str) -> str:
    resp = httpx.post(f"{api}/auth/register", timeout=30, json={
        "email": email, "password": PROBE_PASSWORD, "full_name": "Drill", "role": role})
    resp.raise_for_status()
    return str(resp.json()["id"])


def prepare_probe(cloud: LocalCloud, api: str, students: int = 150) -> Probe:
    """A verified teacher with a free published course of one lesson, and students."""
    from localcloud.platform_tasks import create_admin

    create_admin(cloud, "drill-admin@example.com", PROBE_PASSWORD, "Drill Admin")
    admin = _login(api, "drill-admin@example.com")
    teacher_id = _register(api, "drill-teacher@example.com", "teacher")
    token = _login(api, "drill-teacher@example.com")
    auth = {"Authorization": f"Bearer {token}"}
    httpx.post(f"{api}/teachers/me/verification", headers=auth, timeout=30, json={
        "bio": "Drill teacher for the fault drill.", "link": "https://example.com/drill"})
    httpx.post(f"{api}/admin/teachers/{teacher_id}/verify", timeout=30,
               headers={"Authorization": f"Bearer {admin}"}).raise_for_status()
    token = _login(api, "drill-teacher@example.com")
    auth = {"Authorization": f"Bearer {token}"}
    course = httpx.post(f"{api}/courses", headers=auth, timeout=30, json={
        "title": "Drill course", "category": "drill", "level": "beginner", "language": "en",
        "price": {"amount": 0, "currency": "usd"}}).json()
    section = httpx.post(f"{api}/courses/{course['id']}/sections", headers=auth,
                         json={"title": "S"}, timeout=30).json()
    lesson = httpx.post(f"{api}/courses/{course['id']}/sections/{section['id']}/lessons",
                        headers=auth, json={"title": "L", "kind": "text"}, timeout=30).json()
    httpx.post(f"{api}/courses/{course['id']}/publish", headers=auth,
               timeout=30).raise_for_status()
    tokens = []
    for i in range(students):
        _register(api, f"drill-student-{i}@example.com", "student")
        tokens.append(_login(api, f"drill-student-{i}@example.com"))
    return Probe(api, token, tokens, course["id"], lesson["id"])


def _worker_pids(handler: str) -> list[int]:
    import psutil

    pids = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmd = proc.info.get("cmdline") or []
        if any(part.endswith("bootstrap.py") for part in cmd) and handler in cmd:
            pids.append(int(proc.info["pid"]))
    return pids


def inject(cloud: LocalCloud, fault: str, outage_s: float) -> tuple[float, float, str]:
    """Breaks one part for `outage_s` and brings it back; (down at, back at, how)."""
    from localcloud.backing import start_moto, start_postgres, start_redis

    cfg, logs = cloud.config, cloud.config.home / "logs"
    down = time.monotonic()
    crashes: dict[str, tuple[Callable[[], Any], str]] = {  # part -> (restart, how)
        "postgres": (lambda: start_postgres(cfg.home / "pg", cfg.pg_port,
                                            logs / "postgres.log"),
                     "SIGKILL, restarted on the same data directory"),
        "redis": (lambda: start_redis(cfg.home / "redis", cfg.redis_port, logs / "redis.log"),
                  "SIGKILL, restarted empty"),
        "aws": (lambda: start_moto(cfg.aws_port, logs / "moto.log", state=cfg.home / "aws"),
                "SIGKILL, restarted on its state (.edu/aws)")}
    if fault in crashes:
        restart, how = crashes[fault]
        proc = cloud.services[fault].proc
        assert proc is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        time.sleep(outage_s)
        cloud.services[fault] = restart()
    else:
        victims = _worker_pids("catalog.handler") + _worker_pids("get.handler")
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        how = f"SIGKILL of {len(victims)} warm worker(s) of CatalogFunction/GetCourseFunction"
    return down, time.monotonic(), how


def dlq_depths(cloud: LocalCloud) -> dict[str, int]:
    from localcloud.aws import local_client

    sqs = local_client("sqs", cloud.aws_url, "us-east-1")
    depths = {}
    for url in sqs.list_queues().get("QueueUrls", []):
        if url.endswith("-dlq"):
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
            depths[url.rsplit("/", 1)[-1]] = sum(int(v) for v in attrs["Attributes"].values())
    return depths


def recount(probe: Probe, wait_s: float = 90) -> dict[str, Any]:
    """Every acknowledged write, read back after recovery; events counted by the analytics
    projector (they crossed the bus and a queue)."""
    auth = {"Authorization": f"Bearer {probe.teacher}"}
    with httpx.Client(timeout=30) as client:
        listed: set[str] = set()
        cursor = None
        while True:
            page = client.get(f"{probe.api}/teacher/courses", headers=auth,
                              params={"limit": 100, **({"cursor": cursor} if cursor else {})}
                              ).json()
            listed |= {c["id"] for c in page["items"]}
            cursor = page["next_cursor"]
            if not cursor:
                break
        lost_courses = [c for c in probe.acked_courses if c not in listed]
        lost_enrollments = [i for i in probe.acked_enrollments if probe.course_id not in {
            e["course_id"] for e in client.get(
                f"{probe.api}/me/enrollments", params={"limit": 100},
                headers={"Authorization": f"Bearer {probe.students[i]}"}).json()["items"]}]
        lost_progress = []  # a stored position older than the last acknowledged one
        for student, position in probe.acked_positions.items():
            lessons = client.get(f"{probe.api}/courses/{probe.course_id}/progress",
                                 headers={"Authorization": f"Bearer {probe.students[student]}"}
                                 ).json()["lessons"]
            if not lessons or lessons[0]["position_seconds"] < position:
                lost_progress.append(student)
        deadline, projected = time.monotonic() + wait_s, -1
        while time.monotonic() < deadline:
            board = client.get(f"{probe.api}/teacher/dashboard", headers=auth).json()
            projected = int(board.get("enrollments", -1))
            if projected >= len(set(probe.acked_enrollments)):
                break
            time.sleep(2)
    return {"acked": {"courses": len(probe.acked_courses),
                      "enrollments": len(set(probe.acked_enrollments)),
                      "progress saves": sum(1 for s in probe.samples
                                            if s.op == "progress" and s.status == 200)},
            "lost": {"courses": lost_courses, "enrollments": lost_enrollments,
                     "progress": lost_progress},
            "events": {"enrollments_projected": projected,
                       "enrollments_acked": len(set(probe.acked_enrollments))}}


def locust_totals(stats_csv: Path) -> dict[str, Any]:
    """The Locust run's aggregate row and its failures by kind."""
    import csv

    totals: dict[str, Any] = {}
    if stats_csv.exists():
        for row in csv.DictReader(stats_csv.open()):
            if row.get("Name") == "Aggregated":
                totals = {"requests": int(row["Request Count"]),
                          "failures": int(row["Failure Count"]),
                          "rps": round(float(row["Requests/s"]), 1),
                          "p50_ms": row["50%"], "p99_ms": row["99%"],
                          "max_ms": round(float(row["Max Response Time"]))}
    failures = stats_csv.with_name(stats_csv.name.replace("_stats.csv", "_failures.csv"))
    if failures.exists():
        totals["failures_by_kind"] = {
            f"{r['Method']} {r['Name']}: {r['Error'][:80]}": int(r["Occurrences"])
            for r in csv.DictReader(failures.open())}
    return totals


def summarize(samples: list[Sample], windows: list[dict[str, Any]], quiet_s: float = 10
              ) -> list[dict[str, Any]]:
    """Per fault: requests and errors by status during it, the slowest answer, and how long
    after the part was back the last error came (recovery time)."""
    out = []
    for window in windows:
        start, back, end = window["down_at"], window["back_at"], window["until"]
        # a request belongs to the fault under which it ended (its answer shows the fault)
        during = [s for s in samples if start <= s.at + s.seconds < end]
        errors = [s for s in during if s.status == 0 or s.status >= 500]
        last_error = max((s.at + s.seconds for s in errors), default=None)
        recovered = 0.0 if last_error is None else max(0.0, last_error - back)
        out.append({"fault": window["fault"], "how": window["how"],
                    "outage_s": round(back - start, 1), "requests": len(during),
                    "errors": dict(Counter(f"{s.op}: {s.status or 'no answer'}"
                                           for s in errors)),
                    "slowest_s": round(max((s.seconds for s in during), default=0), 2),
                    "recovery_s": round(recovered, 1),
                    "clean_after_s": quiet_s})
    return out


def drill_retry_base(outage_s: float) -> int:
    """Consumers' backoff base for the drill: short, so events settle within its minutes,
    yet long enough that a message failing all through an outage outlasts it twice over
    (production's 10 s base rides out 150 s)."""
    from edu.adapters.sqs_backoff import base_outlasting

    return base_outlasting(2 * outage_s, CONSUMER_RECEIVES)


def run_drill(root: Path, outage_s: float = 10, settle_s: float = 25, users: int = 10,
              log: Callable[[str], None] = print) -> dict[str, Any]:
    from localcloud.platform_tasks import seed

    home = Path(tempfile.mkdtemp(prefix="edu-chaos-"))
    cloud = LocalCloud(CloudConfig.ephemeral(root, home), durable=True)
    platform: RunningPlatform | None = None
    locust: subprocess.Popen[bytes] | None = None
    try:
        log("starting a stack of its own ...")
        cloud.start(log=False)
        cloud.provision()
        seed(cloud, users=300, courses=500, teachers=20, progress=False)
        platform = start_platform(cloud, home / "runtime.log", LoginLimitPerIp="1000000",
                                  LoginLimitPerEmail="1000000", RegisterLimitPerIp="1000000",
                                  SearchLimitPerIp="1000000", WriteLimitPerUser="1000000",
                                  ConsumerVisibilityTimeout="5",
                                  ConsumerRetryBase=str(drill_retry_base(outage_s)))
        probe = prepare_probe(cloud, platform.api)
        dlq_before = dlq_depths(cloud)
        duration = int(len(FAULTS) * (outage_s + settle_s) + settle_s + 10)
        results = root / "loadtests" / "results"
        results.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        log(f"load: Locust student+teacher mix, {users} users, {duration}s")
        locust = subprocess.Popen(
            [sys.executable, "-m", "locust", "-f", str(root / "loadtests" / "locustfile.py"),
             "--headless", "-u", str(users), "-r", str(users), "--run-time", f"{duration}s",
             "--host", platform.api, "--csv", str(results / f"chaos-{stamp}"),
             "--only-summary", "--stop-timeout", "5", "StudentUser", "TeacherUser"],
            env={**os.environ, "EDU_SEED_STUDENTS": "280", "EDU_SEED_TEACHERS": "20"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        writer = threading.Thread(target=probe.run, daemon=True)
        writer.start()
        time.sleep(settle_s)
        windows = []
        for fault in FAULTS:
            log(f"fault: {fault} ({outage_s}s)")
            down, back, how = inject(cloud, fault, outage_s)
            time.sleep(settle_s)
            windows.append({"fault": fault, "how": how, "down_at": down, "back_at": back})
        for window, after in itertools.pairwise(windows):
            window["until"] = after["down_at"]
        windows[-1]["until"] = time.monotonic()
        probe.stop.set()
        writer.join(timeout=30)
        locust.wait(timeout=duration + 60)
        log("recounting acknowledged writes ...")
        counted = recount(probe)
        report = {"stack": "local (moto, PostgreSQL, Redis, localstripe); 2-core machine",
                  "outage_s": outage_s, "settle_s": settle_s, "locust_users": users,
                  "probe_requests": len(probe.samples),
                  "probe_errors": dict(Counter(str(s.status or "no answer")
                                               for s in probe.samples
                                               if s.status == 0 or s.status >= 500)),
                  "faults": summarize(probe.samples, windows), **counted,
                  "dlq_before": dlq_before, "dlq_after": dlq_depths(cloud),
                  "locust": locust_totals(results / f"chaos-{stamp}_stats.csv")}
        (results / f"chaos-{stamp}.json").write_text(json.dumps(report, indent=2))
        return report
    finally:
        if locust is not None and locust.poll() is None:
            locust.kill()
        if platform is not None:
            stop_platform(platform)
        cloud.stop()
