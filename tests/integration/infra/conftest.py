"""A test token issuer (RSA key + OIDC discovery + JWKS over HTTP) and `edu local start-api`
serving the runtime fixture template with its authorizers pointed at that issuer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from localcloud.aws import bootstrap
from localcloud.procs import free_port, port_open
from localcloud.stack import LocalCloud
from localcloud.template import load_template
from tests.support.kept_endpoint import Endpoint

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests/fixtures/runtime/template.yaml"


@dataclass
class Issuer:
    url: str
    key: rsa.RSAPrivateKey
    kid: str = "test-key-1"

    def token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims = {"sub": "user-1", "iss": self.url, "aud": "edu-test", "iat": now,
                  "exp": now + 300, "role": "student", "is_verified": False}
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture(scope="session")
def issuer() -> Iterator[Issuer]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "test-key-1", "use": "sig", "alg": "RS256"})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            docs = {"/.well-known/openid-configuration": {"issuer": url,
                                                          "jwks_uri": f"{url}/jwks.json"},
                    "/jwks.json": {"keys": [jwk]}}
            body = json.dumps(docs.get(self.path, {})).encode()
            self.send_response(200 if self.path in docs else 404)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Issuer(url, key)
    server.shutdown()


@dataclass
class RunningRuntime:
    api: str
    lambda_api: str
    log: Path
    aws_url: str
    pid: int


@pytest.fixture(scope="session")
def runtime(issuer: Issuer, cloud: LocalCloud, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[RunningRuntime]:
    """`edu local start-api` on the fixture template, its resources in the session's moto."""
    bootstrap(load_template(FIXTURE, endpoint=cloud.aws_url), cloud.aws_url)
    port, lambda_port = free_port(), free_port()
    log = tmp_path_factory.mktemp("gw") / "runtime.log"
    env = dict(os.environ, AWS_ENDPOINT_URL=cloud.aws_url)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "localcloud.cli", "local", "start-api", "-t", str(FIXTURE),
             "--port", str(port), "--lambda-port", str(lambda_port),
             "--parameter-overrides", f"Issuer={issuer.url}"],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while not (port_open(port) and port_open(lambda_port)):
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "start-api did not listen"
        time.sleep(0.05)
    yield RunningRuntime(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{lambda_port}", log,
                         cloud.aws_url, proc.pid)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=20)
    assert not port_open(port) and not port_open(lambda_port)


@pytest.fixture(scope="session")
def api(runtime: RunningRuntime) -> str:
    return runtime.api


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[Endpoint]:
    """Our moto server keeping its state in a fresh directory."""
    ep = Endpoint(tmp_path, free_port())
    ep.start()
    yield ep
    if ep.proc is not None:
        ep.stop(signal.SIGKILL)
