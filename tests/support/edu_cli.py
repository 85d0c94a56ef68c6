"""Running the `edu` CLI as a user would: in a new shell's environment on free ports."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from localcloud.procs import free_port, port_open

ROOT = Path(__file__).resolve().parents[2]


def edu(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "localcloud.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def start_up(env: dict[str, str], log: Path, home: Path, api_port: int, *args: str
             ) -> subprocess.Popen[bytes]:
    """`edu up [args]`, returned once its API answers."""
    with open(log, "wb") as out:
        up = subprocess.Popen([sys.executable, "-m", "localcloud.cli", "up", *args], env=env,
                              cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while not (home / "state.json").exists() or not port_open(api_port):
        assert up.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    return up


def fresh_shell(home: Path) -> tuple[dict[str, str], dict[str, int]]:
    """The environment of a new shell for `edu` (nothing from other tests' stacks: domain
    helpers export function env) on free ports, and those ports."""
    ports = {name: free_port() for name in
             ("EDU_AWS_PORT", "EDU_PG_PORT", "EDU_REDIS_PORT", "EDU_API_PORT", "EDU_LAMBDA_PORT",
              "EDU_STRIPE_PORT", "EDU_WS_PORT")}
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith(("EDU_", "AWS_"))}
    env.update({k: str(v) for k, v in ports.items()})
    env["EDU_HOME"] = str(home)
    return env, ports
