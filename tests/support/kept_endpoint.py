"""A local AWS endpoint (our moto server) on a state directory, started, stopped and killed
by tests of what it keeps across restarts."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from localcloud.backing import aws_endpoint_healthy
from localcloud.procs import wait_until

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"


@dataclass
class Endpoint:
    state: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = (self.state / "moto.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "localcloud.moto_server", "-p", str(self.port),
             "--state", str(self.state)], cwd=ROOT / "infra", stdout=log, stderr=log)
        wait_until(lambda: aws_endpoint_healthy(self.url, 0.5), timeout=30,
                   what="moto server")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        self.proc = None

    def restart(self, sig: int = signal.SIGTERM) -> None:
        self.stop(sig)
        self.start()

    def client(self, service: str, region: str = REGION) -> Any:
        return boto3.client(service, endpoint_url=self.url,  # type: ignore[call-overload]
                            region_name=region, aws_access_key_id="testing",
                            aws_secret_access_key="testing")

    def journal_length(self) -> int:
        with sqlite3.connect(self.state / "aws.sqlite") as db:
            return int(db.execute("SELECT count(*) FROM requests").fetchone()[0])
