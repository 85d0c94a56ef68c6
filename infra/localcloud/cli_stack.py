"""`edu up`, `down`, `status`, `reset` and `logs`: the local stack and what it keeps."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from localcloud.cli_args import machine_budget, parse_overrides, prepare_debugging, stack_config
from localcloud.procs import PortInUse, pid_running, port_open
from localcloud.setups import PLATFORM
from localcloud.template import (
    apply_env_vars,
    read_local_extras,
)

FUNCTION_LOGS = Path("logs/functions")  # under the stack's home: what `edu logs` reads


def cmd_logs(args: argparse.Namespace) -> int:
    from localcloud.runtime.function_logs import follow, parse_since, read_lines

    folder = stack_config(args).home / FUNCTION_LOGS
    try:
        since = parse_since(args.since) if args.since else None
    except ValueError as exc:
        print(f"edu: {exc}", file=sys.stderr)
        return 2
    name = (lambda line: "") if args.function else (lambda line: f"{line.function} ")
    for line in read_lines(folder, args.function, since, args.filter):
        print(f"{name(line)}{line.at} {line.text}")
    if args.follow:
        try:
            for line in follow(folder, args.function, args.filter):
                print(f"{name(line)}{line.at} {line.text}", flush=True)
        except KeyboardInterrupt:
            pass
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from localcloud.runtime.server import LocalRuntime, serve
    from localcloud.runtime.site import default_site_dir
    from localcloud.stack import LocalCloud

    cfg = stack_config(args)
    if port_open(cfg.api_port):
        raise PortInUse("HTTP API", cfg.api_port, "EDU_API_PORT")
    if port_open(cfg.lambda_port):
        raise PortInUse("Lambda Invoke API", cfg.lambda_port, "EDU_LAMBDA_PORT")
    cloud = LocalCloud(cfg, durable=not args.ephemeral, stack_name=args.stack_name,
                       overrides=parse_overrides(" ".join([*args.param, args.parameter_overrides])))
    t0 = time.monotonic()
    # `edu down` sends SIGTERM: leave through the finally below, like Ctrl-C does.
    signal.signal(signal.SIGTERM, exit_cleanly)
    started = ", ".join(["AWS (moto)", *(SERVICE_NAMES[s] for s in cloud.extras.services)])
    print(f"edu: starting {started} ...", flush=True)
    cloud.start()
    try:
        from localcloud.statedir import STREAM_POSITIONS

        for line in cloud.provision():
            print(f"  {line}")
        template = cloud.template()
        for warning in template.warnings:
            print(f"  warning: {warning}")
        if args.env_vars:
            apply_env_vars(template, Path(args.env_vars))
        prepare_debugging(args, template, args.debug_function)
        if not args.no_demo and cloud.extras.setup == PLATFORM:
            load_demo_data(cloud)
        site = default_site_dir(template.path)
        api_url = f"http://127.0.0.1:{cfg.api_port}"
        lambda_url = f"http://127.0.0.1:{cfg.lambda_port}"

        def announce() -> None:  # once the runtime has wired every trigger
            ws_url = (f"ws://127.0.0.1:{cfg.ws_port}/{app.websocket.api.stage}"
                      if app.websocket is not None else None)
            cloud.write_state({"api": api_url, "lambda": lambda_url}
                              | ({"websocket": ws_url} if ws_url else {}))
            print(banner(cloud, template, api_url, lambda_url, site, time.monotonic() - t0,
                         ws_url), flush=True)

        app = LocalRuntime(template, cloud.function_env(), api_port=cfg.api_port,
                           lambda_port=cfg.lambda_port, endpoint=cloud.aws_url,
                           snapstart=True if args.snapstart else None, site=site,
                           budget=machine_budget(args),
                           stream_positions=cloud.state_dir / STREAM_POSITIONS,
                           on_ready=announce, function_logs=cfg.home / FUNCTION_LOGS,
                           ws_port=cfg.ws_port)
        serve(app)
    finally:
        print("edu: stopping ...", flush=True)
        cloud.stop()
        cloud.clear_state()
        print("edu: stopped", flush=True)
    return 0


SERVICE_NAMES = {"postgres": "PostgreSQL", "redis": "Redis", "stripe": "Stripe (local)"}


def banner(cloud: Any, template: Any, api_url: str, lambda_url: str, site: Path | None,
           took_s: float, ws_url: str | None = None) -> str:
    """What `edu up` started and where, once it is up."""
    platform = cloud.extras.setup == PLATFORM
    title = "EduPlatform" if platform else f"Stack {template.stack_name}"
    lines = [f"\n{title} is up in {took_s:.1f}s",
             f"  HTTP API        {api_url}" + (f"        (try: curl {api_url}/health)"
                                                if platform else "")]
    if ws_url:
        lines.append(f"  WebSocket API   {ws_url}        (@connections on "
                     f"{ws_url.replace('ws://', 'http://')})")
    if site is not None or platform:
        built = api_url + "/" if site else "not built (cd web && npm ci && npm run build)"
        lines.append(f"  Web app         {built}")
    lines += [f"  Lambda API      {lambda_url}        (boto3 lambda endpoint_url; metrics "
              f"{lambda_url}/metrics)",
              f"  AWS (moto)      {cloud.aws_url}   (AWS_ENDPOINT_URL; dashboard "
              f"{cloud.aws_url}/moto-api/)"]
    for name in cloud.extras.services:
        hint = "   (edu stripe pay PAYMENT_ID)" if name == "stripe" else ""
        lines.append(f"  {SERVICE_NAMES[name]:<15} {cloud.services[name].url}{hint}")
    lines += [f"  logs            {cloud.config.home / 'logs'}", "Ctrl-C stops everything.\n"]
    return "\n".join(lines)


def exit_cleanly(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def load_demo_data(cloud: Any) -> None:
    from localcloud.platform_tasks import load_demo

    print("  demo accounts:")
    for line in load_demo(cloud):
        print(f"    {line}")


DOWN_WAIT_S = 60.0


def cmd_down(args: argparse.Namespace) -> int:
    from localcloud.stack import read_state

    cfg = stack_config(args)
    state = read_state(cfg)
    if not state:
        print("edu: nothing is running (no state file)")
        return 0
    pid = int(str(state["pid"]))
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        cfg.state_file.unlink(missing_ok=True)
        print("edu: not running (stale state removed)")
        return 0
    # The runtime's stop takes up to CLOSE_WAIT_S, after uvicorn's 5 s for open requests,
    # then the local cloud stops: wait for all of it before calling the stop failed.
    deadline = time.monotonic() + DOWN_WAIT_S
    while time.monotonic() < deadline:
        if not pid_running(pid):
            print("edu: stopped")
            return 0
        time.sleep(0.1)
    print(f"edu: process {pid} did not stop within {DOWN_WAIT_S:.0f}s", file=sys.stderr)
    return 1


def cmd_status(args: argparse.Namespace) -> int:
    from localcloud.backing import (
        aws_endpoint_healthy,
        pg_ready,
        redis_ready,
        stripe_healthy,
    )
    from localcloud.stack import read_state

    cfg = stack_config(args)
    state = read_state(cfg) or {}
    services: dict[str, Any] = dict(state.get("services") or {})  # type: ignore[call-overload]
    running = ["aws", *(list(services) if state else read_local_extras(cfg.template_path)
                        .services), "api"]
    urls = {
        "aws": (services.get("aws") or {}).get("url") or cfg.aws_endpoint_url
        or f"http://127.0.0.1:{cfg.aws_port}",
        "postgres": (services.get("postgres") or {}).get("url") or cfg.database_url
        or f"postgresql://postgres@127.0.0.1:{cfg.pg_port}/edu",
        "redis": (services.get("redis") or {}).get("url") or cfg.redis_url
        or f"redis://127.0.0.1:{cfg.redis_port}/0",
        "stripe": (services.get("stripe") or {}).get("url") or cfg.stripe_api_base
        or f"http://127.0.0.1:{cfg.stripe_port}",
        "api": str(state.get("api") or f"http://127.0.0.1:{cfg.api_port}"),
    }
    checks = {"aws": aws_endpoint_healthy, "postgres": pg_ready, "redis": redis_ready,
              "stripe": stripe_healthy, "api": api_healthy}
    print(f"edu up: {'running, pid ' + str(state['pid']) if state else 'not running'}")
    all_ok = True
    for name, url in urls.items():
        if name not in running:
            continue
        ok = checks[name](url)
        all_ok &= ok
        print(f"  {name:<9} {'healthy' if ok else 'DOWN':<8} {url}")
    if state.get("websocket"):
        ws_url = str(state["websocket"])
        ok = port_open(int(ws_url.rsplit(":", 1)[1].split("/")[0]))
        all_ok &= ok
        print(f"  {'websocket':<9} {'healthy' if ok else 'DOWN':<8} {ws_url}")
    from localcloud.statedir import human, state_sizes

    parts = state_sizes(cfg.home)
    total = sum(size for _name, _path, size in parts)
    print(f"state: {cfg.home} ({human(total)}; `edu reset` wipes it)")
    for name, path, size in parts:
        print(f"  {name:<14} {human(size):>10}  {path}")
    return 0 if all_ok else 1


def cmd_reset(args: argparse.Namespace) -> int:
    from localcloud.stack import read_state
    from localcloud.statedir import STATE_PARTS, human, state_sizes, wipe

    cfg = stack_config(args)
    if read_state(cfg):
        print("edu: the stack is running; `edu down` first", file=sys.stderr)
        return 1
    parts = state_sizes(cfg.home)
    if not parts:
        print(f"edu: no local state in {cfg.home}")
        return 0
    for name, path, size in parts:
        print(f"  {path} ({human(size)}): {STATE_PARTS[name]}")
    if not args.yes and input("wipe all of it? type 'yes': ").strip() != "yes":
        print("edu: nothing removed")
        return 1
    print(f"edu: removed {', '.join(wipe(cfg.home))}")
    return 0


def api_healthy(url: str) -> bool:
    """The local gateway answers (any HTTP answer: a template may have no /health route)."""
    import urllib.error

    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as resp:
            return bool(resp.status == 200)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
