"""Child processes of the local cloud: started tied to their parent, stopped cleanly.

Every child gets PR_SET_PDEATHSIG, so a killed `edu up` (even SIGKILL) takes its children
with it: no orphan servers, no leftover ports.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1


class PortInUse(RuntimeError):
    def __init__(self, what: str, port: int, setting: str) -> None:
        super().__init__(
            f"{what}: port {port} on 127.0.0.1 is already in use by another program. "
            f"Stop that program or choose another port with {setting}=<port>.")
        self.port = port
        self.setting = setting


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port nothing listens on now, and never one this process handed out before: the
    kernel may give a just-closed port again, and a stack whose API and database got the same
    number answered HTTP requests with PostgreSQL (seen in CI)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def _child_setup(run_as: str | None, death_signal: int) -> Callable[[], None]:
    account = pwd.getpwnam(run_as) if run_as else None

    def setup() -> None:
        os.setsid()  # own process group: a terminal Ctrl-C reaches only us, we stop children
        if account is not None:
            os.setgroups([])
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)
        # After the uid change: the kernel clears the death signal on credential changes.
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, death_signal, 0, 0, 0)
        if os.getppid() == 1:  # parent already gone between fork and prctl
            os._exit(1)

    return setup


def spawn(argv: Sequence[str], *, log_path: Path, env: dict[str, str] | None = None,
          run_as: str | None = None, cwd: Path | None = None,
          death_signal: int = signal.SIGTERM) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child
    try:
        return subprocess.Popen(
            list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, preexec_fn=_child_setup(run_as, death_signal),
        )
    finally:
        log.close()


def stop(proc: subprocess.Popen[bytes], *, sig: int = signal.SIGTERM,
         timeout: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


def wait_until(check: Callable[[], bool], *, timeout: float, what: str,
               proc: subprocess.Popen[bytes] | None = None, log_path: Path | None = None,
               interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}"
                               + _log_tail(log_path))
        time.sleep(interval)
    raise RuntimeError(f"{what} did not become ready within {timeout:.0f}s" + _log_tail(log_path))


def _log_tail(log_path: Path | None, lines: int = 15) -> str:
    if log_path is None or not log_path.exists():
        return ""
    tail = log_path.read_text(errors="replace").splitlines()[-lines:]
    return f"\n--- last lines of {log_path} ---\n" + "\n".join(tail)


def pid_running(pid: int) -> bool:
    """True while pid is a live process (an exited, not yet reaped zombie is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
