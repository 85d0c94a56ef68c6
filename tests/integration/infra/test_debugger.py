"""`edu local invoke FN --debug-port`: the function's worker waits for a debugger; a DAP
client (as VS Code's) attaches, a breakpoint in the handler stops the invocation, and once
it continues the invocation answers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from localcloud.procs import free_port
from tests.support.dap import DapClient
from tests.support.edu_cli import ROOT

APP = ROOT / "tests/fixtures/sam_apps/http_api"
HANDLER = APP / "src/app.py"


def test_a_breakpoint_in_the_handler_stops_the_invocation_until_it_continues(
        tmp_path: Path) -> None:
    port = free_port()
    line = next(n for n, text in enumerate(HANDLER.read_text().splitlines(), 1)
                if "name = " in text)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"routeKey": "GET /greet/{name}",
                                 "pathParameters": {"name": "ada"}}))
    invoke = subprocess.Popen(
        [sys.executable, "-m", "localcloud.cli", "local", "invoke", "GreetingFunction",
         "-t", str(APP / "template.yaml"), "-e", str(event), "--debug-port", str(port)],
        cwd=APP, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT}/infra:{ROOT}/shared"})
    dap = DapClient.initialized(port)
    try:
        dap.send("attach", justMyCode=False)
        dap.wait_for("event", "initialized")
        dap.send("setBreakpoints", source={"path": str(HANDLER)}, breakpoints=[{"line": line}])
        answer = dap.wait_for("response", "setBreakpoints")
        assert answer["success"], answer
        dap.send("configurationDone")
        dap.wait_for("response", "attach")
        stopped = dap.wait_for("event", "stopped")
        assert stopped["body"]["reason"] == "breakpoint"
        assert invoke.poll() is None  # held at the breakpoint (no timeout while debugged)
        dap.send("stackTrace", threadId=stopped["body"]["threadId"])
        frames = dap.wait_for("response", "stackTrace")["body"]["stackFrames"]
        assert frames[0]["line"] == line and frames[0]["source"]["path"] == str(HANDLER)
        dap.send("continue", threadId=stopped["body"]["threadId"])
        out, err = invoke.communicate(timeout=60)
    finally:
        dap.close()
        if invoke.poll() is None:
            invoke.kill()
    assert invoke.returncode == 0, err
    assert json.loads(json.loads(out)["body"])["greeting"] == "Hi, ada"
