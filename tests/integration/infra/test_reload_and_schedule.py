"""Hot reload: a saved change recycles the function's workers. Schedules fire on time."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from localcloud.procs import free_port, port_open

ROOT = Path(__file__).resolve().parents[3]

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  VersionFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code/
      Handler: app.handler
      Runtime: python3.12
      Events:
        Get:
          Type: HttpApi
          Properties: {Path: /version, Method: GET}
  TickFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code/
      Handler: app.tick
      Runtime: python3.12
      Environment:
        Variables:
          TICKS_FILE: TICKS_PATH
      Events:
        Every:
          Type: Schedule
          Properties:
            Schedule: rate(1 second)
"""

CODE = """
import os
VERSION = "{version}"

def handler(event, context):
    return {{"version": VERSION, "pid": os.getpid()}}

def tick(event, context):
    with open(os.environ["TICKS_FILE"], "a") as f:
        f.write(event["detail-type"] + "\\n")
"""


def start_api(tmp_path: Path, *flags: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    """`edu local start-api` on TEMPLATE with code/app.py at version v1: (process, API port,
    log file)."""
    (tmp_path / "template.yaml").write_text(TEMPLATE.replace("TICKS_PATH",
                                                             str(tmp_path / "ticks.txt")))
    (tmp_path / "code").mkdir()
    (tmp_path / "code/app.py").write_text(CODE.format(version="v1"))
    return launch(tmp_path, *flags)


@contextmanager
def running(tmp_path: Path, *flags: str, env: dict[str, str] | None = None
            ) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """launch(), stopped with Ctrl-C at the end."""
    proc, port, log = launch(tmp_path, *flags, env=env)
    try:
        yield proc, port, log
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)


def launch(tmp_path: Path, *flags: str, env: dict[str, str] | None = None
           ) -> tuple[subprocess.Popen[bytes], int, Path]:
    """`edu local start-api` on tmp_path/template.yaml: (process, API port, log file)."""
    port, lambda_port = free_port(), free_port()
    log = tmp_path / "runtime.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "localcloud.cli", "local", "start-api", "-t",
             str(tmp_path / "template.yaml"), "--port", str(port), "--lambda-port",
             str(lambda_port), *flags], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
            env={**os.environ, **(env or {})})
    return proc, port, log


def test_code_change_recycles_workers_and_schedules_fire(tmp_path: Path) -> None:
    ticks = tmp_path / "ticks.txt"
    app = tmp_path / "code/app.py"
    proc, port, log = start_api(tmp_path)
    try:
        deadline = time.monotonic() + 20
        while not port_open(port):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        first = httpx.get(f"http://127.0.0.1:{port}/version").json()
        assert first["version"] == "v1"
        deadline = time.monotonic() + 10
        latest = first
        while latest["version"] != "v2" and time.monotonic() < deadline:
            # Saved again each round: the watcher starts shortly after the port opens.
            app.write_text(CODE.format(version="v2"))
            time.sleep(0.5)
            latest = httpx.get(f"http://127.0.0.1:{port}/version").json()
        assert latest["version"] == "v2", log.read_text()
        assert latest["pid"] != first["pid"]  # a new worker, not a module reload
        assert "recycled workers of" in log.read_text()

        deadline = time.monotonic() + 10
        while (not ticks.exists() or len(ticks.read_text().splitlines()) < 2) and \
                time.monotonic() < deadline:
            time.sleep(0.2)
        assert ticks.read_text().splitlines()[:2] == ["Scheduled Event"] * 2
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)


def test_a_code_change_retakes_the_snapshot_before_the_next_request(tmp_path: Path) -> None:
    app = tmp_path / "code/app.py"
    proc, port, log = start_api(tmp_path, "--snapstart")
    try:
        def snapshots() -> int:
            return log.read_text().count("[VersionFunction] snapshot ready")

        deadline = time.monotonic() + 20
        while snapshots() < 1:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        deadline = time.monotonic() + 15
        while snapshots() < 2 and time.monotonic() < deadline:
            # Again each round (see above); another length than v1's, because CPython trusts a
            # cached .pyc whose source has the same size and modification second.
            app.write_text(CODE.format(version="v2-new"))
            time.sleep(0.5)
        # No request was made: the new code's snapshot was taken on the change itself.
        assert snapshots() >= 2, log.read_text()
        assert httpx.get(f"http://127.0.0.1:{port}/version").json()["version"] == "v2-new"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)


LAYER_TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  DepsLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: deps/
    Metadata:
      BuildMethod: python3.12
  SixFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code/
      Handler: six_version.handler
      Runtime: python3.12
      Layers: [!Ref DepsLayer]
      Events:
        Get:
          Type: HttpApi
          Properties: {Path: /six, Method: GET}
  PlainFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code/
      Handler: six_version.plain
      Runtime: python3.12
      Events:
        Get:
          Type: HttpApi
          Properties: {Path: /plain, Method: GET}
"""

SIX_CODE = """
import os

def handler(event, context):
    import six
    return {"six": six.__version__, "pid": os.getpid()}

def plain(event, context):
    return {"pid": os.getpid()}
"""


def test_a_layer_requirements_change_rebuilds_that_layer_and_recycles_its_users(
        tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(LAYER_TEMPLATE)
    (tmp_path / "code").mkdir()
    (tmp_path / "code/six_version.py").write_text(SIX_CODE)
    (tmp_path / "deps").mkdir()
    requirements = tmp_path / "deps/requirements.txt"
    requirements.write_text("six==1.16.0\n")
    with running(tmp_path, "--no-triggers",
                 env={"EDU_BUILD_CACHE": str(tmp_path / "cache")}) as (proc, port, log):
        deadline = time.monotonic() + 120  # the first build of the layer
        while not port_open(port):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        api = f"http://127.0.0.1:{port}"
        first, plain = httpx.get(f"{api}/six").json(), httpx.get(f"{api}/plain").json()
        assert first["six"] == "1.16.0"
        deadline = time.monotonic() + 120
        latest = first
        while latest["six"] != "1.17.0" and time.monotonic() < deadline:
            if "1.17.0" not in requirements.read_text():
                time.sleep(1)  # the watcher starts shortly after the port opens
            requirements.write_text("six==1.17.0\n")
            time.sleep(1)
            latest = httpx.get(f"{api}/six").json()
        assert latest["six"] == "1.17.0", log.read_text()
        assert latest["pid"] != first["pid"]
        # Only the layer's users were recycled; the other function kept its warm worker.
        assert httpx.get(f"{api}/plain").json()["pid"] == plain["pid"]
        assert log.read_text().count("building layer DepsLayer") == 2


PROVISIONED_TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  VersionFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code/
      Handler: app.handler
      Runtime: python3.12
      AutoPublishAlias: live
      ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 1}
      Events:
        Get:
          Type: HttpApi
          Properties: {Path: /version, Method: GET}
"""


def test_provisioned_workers_start_with_the_runtime_and_after_a_code_change(
        tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(PROVISIONED_TEMPLATE)
    (tmp_path / "code").mkdir()
    app = tmp_path / "code/app.py"
    app.write_text(CODE.format(version="v1"))
    with running(tmp_path, "--no-triggers") as (proc, port, log):

        def ready_lines() -> int:
            return log.read_text().count("provisioned concurrency: 1 worker(s) ready")

        deadline = time.monotonic() + 30
        while ready_lines() < 1:  # before any request
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        first = httpx.get(f"http://127.0.0.1:{port}/version").json()
        assert first["version"] == "v1"
        assert "Init Duration" not in log.read_text()  # the request found the worker warm
        deadline = time.monotonic() + 15
        while ready_lines() < 2 and time.monotonic() < deadline:
            app.write_text(CODE.format(version="v2-provisioned"))  # see the test above
            time.sleep(0.5)
        assert ready_lines() >= 2, log.read_text()
