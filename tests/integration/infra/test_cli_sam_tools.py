"""The SAM developer tools on a template nobody wrote for this platform, run as a user
would from its own folder: a generated API event piped into `edu local invoke`, with an
`--env-vars` file in SAM's format overriding the template's variables."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.edu_cli import ROOT

APP = ROOT / "tests/fixtures/sam_apps/http_api"


def edu(*args: str, stdin: str = "", cwd: Path = APP) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "localcloud.cli", *args], cwd=cwd,
                          input=stdin, capture_output=True, text=True, timeout=120,
                          check=False, env={"PATH": "/usr/bin:/bin",
                                            "PYTHONPATH": f"{ROOT}/infra:{ROOT}/shared"})


def test_a_generated_event_invokes_the_function_with_env_var_overrides(tmp_path: Path) -> None:
    event = edu("local", "generate-event", "apigateway", "http-api-proxy", "--path",
                "/greet/ada")
    assert event.returncode == 0, event.stderr
    assert json.loads(event.stdout)["routeKey"] == "GET /greet/{name}"
    overrides = tmp_path / "env.json"
    overrides.write_text(json.dumps({"GreetingFunction": {"GREETING": "Howdy"},
                                     "Parameters": {"REGION_PART": "local"}}))
    invoked = edu("local", "invoke", "GreetingFunction", "-e", "-", "--env-vars",
                  str(overrides), stdin=event.stdout)
    assert invoked.returncode == 0, invoked.stderr
    answer = json.loads(invoked.stdout)
    assert json.loads(answer["body"]) == {"greeting": "Howdy, ada", "region_part": "local",
                                          "route": "GET /greet/{name}"}


def test_mistakes_are_named_without_a_traceback(tmp_path: Path) -> None:
    wrong = edu("local", "generate-event", "s3", "put", "--colour", "red")
    assert wrong.returncode == 2 and "takes --bucket, --key; not --colour" in wrong.stderr
    bad = tmp_path / "env.json"
    bad.write_text(json.dumps({"NoSuchFunction": {"A": "b"}}))
    refused = edu("local", "invoke", "GreetingFunction", "--no-event", "--env-vars", str(bad))
    assert refused.returncode != 0 and "no function NoSuchFunction" in refused.stderr
    assert "Traceback" not in refused.stderr
