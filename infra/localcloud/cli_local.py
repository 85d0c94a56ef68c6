"""`edu local ...`, `build`, `lock`: the runtime on its own, as `sam local` and `sam build`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

from localcloud.cli_args import load_for_runtime, loopback, machine_budget, stack_config
from localcloud.cli_stack import FUNCTION_LOGS
from localcloud.config import CloudConfig


def cmd_invoke(args: argparse.Namespace) -> int:
    from localcloud.runtime.pool import FunctionPool

    template, base_env = load_for_runtime(args)
    fn = template.functions.get(args.function)
    if fn is None:
        names = ", ".join(sorted(template.functions)) or "none"
        print(f"edu: no function {args.function!r} in the template (functions: {names})",
              file=sys.stderr)
        return 2
    if args.no_event:
        event: Any = {}
    else:
        source = sys.stdin.read() if args.event in (None, "-") else Path(args.event).read_text()
        try:
            event = json.loads(source or "{}")
        except ValueError as exc:
            print(f"edu: the event is not valid JSON: {exc}", file=sys.stderr)
            return 2
    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    async def run() -> Any:
        pool = FunctionPool(fn, template, base_env, log)
        try:
            return await pool.invoke(event)
        finally:
            await pool.close()

    result = asyncio.run(run())
    if result.ok:
        print(json.dumps(result.payload))
        return 0
    print(json.dumps(result.error))
    return 1


def cmd_generate_event(args: argparse.Namespace) -> int:
    from localcloud.sample_events import generate

    options, rest = {}, list(args.options)
    while rest:
        flag = rest.pop(0)
        if not flag.startswith("--") or not rest:
            print(f"edu: expected --flag VALUE pairs, got {flag!r}", file=sys.stderr)
            return 2
        options[flag[2:]] = rest.pop(0)
    template, _base_env = load_for_runtime(args)
    try:
        event = generate(template, args.service, args.event, options)
    except ValueError as exc:
        print(f"edu: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(event, indent=2))
    return 0


def cmd_start_api(args: argparse.Namespace) -> int:
    from localcloud.runtime.server import LocalRuntime, serve
    from localcloud.runtime.site import default_site_dir

    if not loopback(args.host) and not args.expose:
        print(f"edu: --host {args.host} would let anyone who reaches it invoke any function "
              "(Lambda Invoke API), read /metrics and the sent mail (/_edu/mail), with no "
              "authentication; add --expose if that is what you want", file=sys.stderr)
        return 2
    template, base_env = load_for_runtime(args)
    cfg = CloudConfig.from_env()
    port = args.port or cfg.api_port
    lambda_port = args.lambda_port or cfg.lambda_port
    ws_port = args.ws_port or cfg.ws_port
    site = Path(args.site) if args.site else default_site_dir(template.path)
    app = LocalRuntime(template, base_env, api_port=port, lambda_port=lambda_port,
                       endpoint=base_env["AWS_ENDPOINT_URL"], triggers=not args.no_triggers,
                       watch=not args.no_watch, snapstart=True if args.snapstart else None,
                       site=site, budget=machine_budget(args),
                       function_logs=stack_config(args).home / FUNCTION_LOGS, ws_port=ws_port)
    routes = sorted({f"{e.properties.get('Method', 'ANY').upper():>6} "
                     f"{e.properties.get('Path', '$default')}  -> {fn.name}"
                     for fn in template.functions.values() for e in fn.events
                     if e.type in ("HttpApi", "Api")})
    print(f"edu: HTTP API on http://{args.host}:{port} ({len(routes)} routes), Lambda API "
          f"and /metrics on http://{args.host}:{lambda_port}", flush=True)
    if app.websocket is not None:
        print(f"edu: WebSocket API on ws://{args.host}:{ws_port} "
              f"({len(app.websocket.api.routes)} routes)", flush=True)
    for line in routes:
        print(f"  {line}")
    serve(app, args.host)
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from localcloud.artifacts import Artifacts

    template, _env = load_for_runtime(args)
    artifacts = Artifacts(template)
    artifacts.build()
    for plan in artifacts.plans():
        where = plan.built_dir or ", ".join(str(p) for p in plan.in_place)
        print(f"{plan.name:<24} python{plan.version}  {where}")
    return 0


def cmd_lock(args: argparse.Namespace) -> int:
    from localcloud.artifacts import python_for
    from localcloud.lock import lock_all

    template, _env = load_for_runtime(args)
    runtimes = {fn.runtime for fn in template.functions.values()} or {"python3.12"}
    for runtime in sorted(runtimes):
        version = python_for(runtime).wanted
        for path in lock_all(template, version):
            print(f"wrote {path}")
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from edu.openapi import openapi_document

    text = json.dumps(openapi_document(), indent=1, sort_keys=True) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from localcloud.runtime.observe import format_report, format_websocket

    cfg = CloudConfig.from_env()
    url = args.url or f"http://127.0.0.1:{cfg.lambda_port}"
    try:
        with urllib.request.urlopen(url + "/_edu/report", timeout=5) as resp:
            report = json.loads(resp.read())
    except OSError as exc:
        print(f"edu: no local runtime answers at {url} ({exc})", file=sys.stderr)
        return 1
    print(format_report(report))
    try:
        with urllib.request.urlopen(url + "/_edu/websocket", timeout=5) as resp:
            print(format_websocket(json.loads(resp.read())))
    except OSError:  # no WebSocket API in this template (404)
        pass
    return 0


def cmd_calls(args: argparse.Namespace) -> int:
    cfg = CloudConfig.from_env()
    url = (cfg.aws_endpoint_url or f"http://127.0.0.1:{cfg.aws_port}") + "/_edu/calls"
    try:
        ask = urllib.request.Request(url, method="DELETE" if args.reset else "GET")
        with urllib.request.urlopen(ask, timeout=5) as resp:
            rows = json.loads(resp.read())["calls"]
    except (OSError, KeyError, ValueError) as exc:
        print(f"edu: no local cloud ledger answers at {url} ({exc})", file=sys.stderr)
        return 1
    total = sum(row["cpu_ms"] for row in rows) or 1.0
    print(f"{'service':<16}{'operation':<28}{'calls':>9}{'cpu ms':>11}{'ms/call':>9}{'share':>7}")
    for row in rows:
        print(f"{row['service']:<16}{row['operation']:<28}{row['calls']:>9}"
              f"{row['cpu_ms']:>11.1f}{row['cpu_ms'] / max(row['calls'], 1):>9.2f}"
              f"{row['cpu_ms'] / total:>7.0%}")
    return 0
