"""`edu up` from nothing: moto, PostgreSQL, Redis and the API start; status; down cleans up."""

import json
import os
import signal
import time
from pathlib import Path

import httpx

from localcloud.procs import pid_running, port_open
from tests.support.edu_cli import edu, fresh_shell, start_up


def test_up_status_down(tmp_path: Path) -> None:
    env, ports = fresh_shell(tmp_path / "home")
    log = tmp_path / "up.log"
    up = start_up(env, log, tmp_path / "home", ports["EDU_API_PORT"])
    api = f"http://127.0.0.1:{ports['EDU_API_PORT']}"
    try:
        deadline = time.monotonic() + 90
        health = httpx.get(f"{api}/health")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        status = edu("status", env=env)
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.count("healthy") == 6  # AWS, 3 services, HTTP API, WebSocket API
        assert f"ws://127.0.0.1:{ports['EDU_WS_PORT']}/live" in status.stdout
        state = json.loads((tmp_path / "home/state.json").read_text())
        child_pids = [s["pid"] for s in state["services"].values() if s["pid"]]
        assert len(child_pids) == 4, state  # moto, postgres, redis, stripe all embedded
        assert "created table edu-platform-users" in log.read_text()
        # Demo accounts are loaded, and an admin can be made from the command line.
        demo = httpx.post(f"{api}/auth/login", json={
            "email": "teacher@demo.eduplatform.dev", "password": "demo-password-2026"})
        assert demo.status_code == 200, demo.text
        catalog = httpx.get(f"{api}/courses").json()["items"]
        assert {c["title"] for c in catalog} >= {"Python for Absolute Beginners",
                                                 "Kubernetes in Practice"}
        # The demo video (uploaded before the runtime started) is transcoded by it.
        python = next(c for c in catalog if c["title"] == "Python for Absolute Beginners")
        syllabus = httpx.get(f"{api}/courses/{python['id']}/syllabus").json()
        first = syllabus["sections"][0]["lessons"][0]
        video_url = f"{api}/courses/{python['id']}/lessons/{first['id']}/video"
        while (video := httpx.get(video_url).json())["status"] != "ready":
            assert time.monotonic() < deadline + 90, (video, log.read_text()[-3000:])
            time.sleep(0.5)
        assert httpx.get(video["playback"]["master_url"]).status_code == 200
        # Forced cold starts of one function beside the two baselines, both modes.
        bench = edu("bench", "cold-start", "GetCourseFunction", "--n", "2", env=env)
        assert bench.returncode == 0, bench.stdout + bench.stderr
        rows = {line.split()[0] + " " + line.split()[1]: line.split()[2:]
                for line in bench.stdout.splitlines()
                if line.split() and line.split()[-1] in ("ok", "error")}
        assert set(rows) == {f"{f} {m}" for f in ("bare", "fastapi+mangum",
                                                   "GetCourseFunction")
                             for m in ("normal", "snapshot")}, bench.stdout
        assert float(rows["GetCourseFunction normal"][0]) > 0  # an Init Duration was seen
        # Seeding: 25 students with 2 enrollments each; a re-run with --reset replaces them.
        args = ["seed", "--users", "30", "--courses", "40", "--teachers", "5",
                "--enrollments", "50"]
        seeded = edu(*args, env=env)
        assert seeded.returncode == 0 and "50 enrollments" in seeded.stdout, seeded.stderr
        student = httpx.post(f"{api}/auth/login", json={
            "email": "student0@seed.eduplatform.dev", "password": "seed-password-2026"})
        assert student.status_code == 200, student.text
        mine = httpx.get(f"{api}/me/enrollments", headers={
            "Authorization": f"Bearer {student.json()['access_token']}"}).json()["items"]
        assert len(mine) == 2 and all(e["status"] == "active" for e in mine)
        again = edu(*args, "--reset", env=env)
        assert "reset: 110 seeded DynamoDB items removed" in again.stdout, again.stdout
        made = edu("admin", "create", "--email", "ops@example.com", "--password",
                   "a long admin passphrase", env=env)
        assert made.returncode == 0, made.stdout + made.stderr
        weak = edu("admin", "create", "--email", "weak@example.com", "--password",
                   "password123", env=env)
        assert weak.returncode == 1 and "password" in weak.stderr
        admin = httpx.post(f"{api}/auth/login", json={"email": "ops@example.com",
                                                      "password": "a long admin passphrase"})
        token = admin.json()["access_token"]
        me = httpx.get(f"{api}/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["role"] == "admin"

        down = edu("down", env=env)
        assert down.returncode == 0, down.stderr
        up.wait(timeout=30)
        assert up.returncode == 0, log.read_text()
        for port in ports.values():
            assert not port_open(port), f"port {port} still open after edu down"
        assert not [pid for pid in child_pids if pid_running(pid)]
        assert not (tmp_path / "home/state.json").exists()
        after = edu("status", env=env)
        assert after.returncode == 1 and "not running" in after.stdout
        assert "aws" in after.stdout and "pg" in after.stdout  # where the state lives

        # Started again on its state: users, admins and enrollments are all there, and
        # nothing of the template or the demo is created twice.
        log = tmp_path / "up-again.log"
        up = start_up(env, log, tmp_path / "home", ports["EDU_API_PORT"])
        assert "created table" not in log.read_text()
        for email, password in (("ops@example.com", "a long admin passphrase"),
                                ("teacher@demo.eduplatform.dev", "demo-password-2026")):
            signed_in = httpx.post(f"{api}/auth/login", json={"email": email,
                                                              "password": password})
            assert signed_in.status_code == 200, signed_in.text
        student = httpx.post(f"{api}/auth/login", json={
            "email": "student0@seed.eduplatform.dev", "password": "seed-password-2026"})
        mine = httpx.get(f"{api}/me/enrollments", headers={
            "Authorization": f"Bearer {student.json()['access_token']}"}).json()["items"]
        assert len(mine) == 2
        replayed = httpx.get(video_url).json()  # the transcoded video's files were kept
        assert replayed["status"] == "ready", replayed
        assert httpx.get(replayed["playback"]["master_url"]).status_code == 200
        assert edu("down", env=env).returncode == 0
        up.wait(timeout=30)
        wiped = edu("reset", "--yes", env=env)
        assert wiped.returncode == 0 and "aws" in wiped.stdout, wiped.stdout + wiped.stderr
        assert not (tmp_path / "home/aws").exists() and not (tmp_path / "home/pg").exists()
    finally:
        if up.poll() is None:
            up.send_signal(signal.SIGTERM)
            up.wait(timeout=30)


def test_a_user_registered_before_a_kill_9_signs_in_after_with_their_mail(
        tmp_path: Path) -> None:
    env, ports = fresh_shell(tmp_path / "home")
    api = f"http://127.0.0.1:{ports['EDU_API_PORT']}"
    up = start_up(env, tmp_path / "up.log", tmp_path / "home", ports["EDU_API_PORT"])
    try:
        account = {"email": "crash@example.com", "password": "a long enough passphrase"}
        made = httpx.post(f"{api}/auth/register", json={**account, "full_name": "Crash Test",
                                                        "role": "student"}, timeout=30)
        assert made.status_code == 201, made.text
        inbox = f"{api}/_edu/mail?to={account['email']}"
        deadline = time.monotonic() + 30  # the welcome mail goes out through the event bus
        while "Sent mail (1)" not in httpx.get(inbox).text:
            assert time.monotonic() < deadline, httpx.get(inbox).text
            time.sleep(0.2)
        up.send_signal(signal.SIGKILL)  # no cleanup at all: its children go with it
        up.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(port_open(port) for port in ports.values()):
            assert time.monotonic() < deadline, "a part of the killed stack kept its port"
            time.sleep(0.2)
        up = start_up(env, tmp_path / "up-again.log", tmp_path / "home", ports["EDU_API_PORT"])
        signed_in = httpx.post(f"{api}/auth/login", json=account, timeout=30)
        assert signed_in.status_code == 200, signed_in.text
        assert "Sent mail (1)" in httpx.get(inbox).text  # kept, and not sent again
    finally:
        if up.poll() is None:
            up.send_signal(signal.SIGTERM)
            up.wait(timeout=30)


def test_up_refuses_a_busy_api_port_with_a_clear_message(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        env = dict(os.environ, EDU_API_PORT=str(busy.getsockname()[1]),
                   EDU_HOME=str(tmp_path / "home"))
        result = edu("up", env=env)
    assert result.returncode == 2
    assert "EDU_API_PORT" in result.stderr and "Traceback" not in result.stderr


def test_the_local_endpoints_stay_on_this_machine_unless_exposed(tmp_path: Path) -> None:
    env = dict(os.environ, EDU_HOME=str(tmp_path / "home"))
    for host in ("0.0.0.0", "192.168.1.20", "::"):
        refused = edu("local", "start-api", "--host", host, env=env)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "--expose" in refused.stderr and "Traceback" not in refused.stderr
