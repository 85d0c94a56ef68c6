"""The whole platform in a child process: the project's template served by
`edu local start-api` against a LocalCloud (tests and the fault drill start it this way)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from localcloud.procs import free_port, port_open
from localcloud.stack import LocalCloud


@dataclass
class RunningPlatform:
    api: str
    lambda_api: str
    log: Path
    proc: subprocess.Popen[bytes]
    ws: str = ""  # the live classroom's WebSocket API (ws://127.0.0.1:PORT)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def start_platform(cloud: LocalCloud, log: Path, **parameters: str) -> RunningPlatform:
    port, lambda_port, ws_port = cloud.config.api_port, free_port(), free_port()
    overrides = {**cloud.parameter_overrides(), **parameters}
    env = dict(os.environ, AWS_ENDPOINT_URL=cloud.aws_url)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "localcloud.cli", "local", "start-api", "--port", str(port),
             "--lambda-port", str(lambda_port), "--ws-port", str(ws_port), "--no-watch",
             "--parameter-overrides",
             " ".join(f"{k}={v}" for k, v in overrides.items())],
            stdout=out, stderr=subprocess.STDOUT, cwd=cloud.config.root, env=env)
    deadline = time.monotonic() + 120  # a layer whose requirements changed is rebuilt first
    while not port_open(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the platform did not start:\n" + log.read_text()[-4000:])
        time.sleep(0.05)
    return RunningPlatform(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{lambda_port}", log,
                           proc, f"ws://127.0.0.1:{ws_port}")


def stop_platform(platform: RunningPlatform) -> None:
    platform.proc.send_signal(signal.SIGINT)
    try:
        platform.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        platform.proc.kill()
        platform.proc.wait()
