"""The `edu` command: the local cloud (up/down/status), the local runtime, database tasks."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from localcloud.artifacts import BuildError
from localcloud.config import CloudConfig
from localcloud.procs import PortInUse, pid_running, port_open
from localcloud.template import (
    TemplateError,
    apply_env_vars,
    load_template,
    read_local_extras,
)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except (PortInUse, TemplateError, BuildError) as exc:
        print(f"edu: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `edu local calls | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="edu", description="EduPlatform developer CLI")
    sub = p.add_subparsers(metavar="COMMAND")

    up = sub.add_parser("up", help="start the whole local stack (Ctrl-C stops it)")
    up.add_argument("--no-demo", action="store_true", help="do not load demo data")
    up.add_argument("--ephemeral", action="store_true",
                    help="a throw-away stack: keep no state (the AWS endpoint in memory, "
                    "PostgreSQL and Redis in a temp dir removed at exit)")
    up.add_argument("--snapstart", action="store_true",
                    help="fork every function's cold starts from an initialised process")
    _budget_args(up)
    up.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="template parameter override, e.g. LoginLimitPerIp=100000 for "
                    "load tests (repeatable)")
    _template_args(up)
    _env_vars_arg(up)
    _debug_args(up)
    up.add_argument("--stack-name", default=None,
                    help="names the resources (default: samconfig.toml's, else sam-app)")
    up.set_defaults(run=cmd_up)
    down = sub.add_parser("down", help="stop a running `edu up`")
    down.set_defaults(run=cmd_down)
    status = sub.add_parser("status", help="what runs where, healthy or not, and where the "
                            "state lives")
    status.set_defaults(run=cmd_status)
    reset = sub.add_parser("reset", help="wipe the local state (AWS endpoint, PostgreSQL, "
                           "Redis, Stripe) of a stopped stack")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    for command in (down, status, reset):
        command.add_argument("-t", "--template", default=None,
                             help="the template `edu up -t` was given (default: "
                                  "./template.yaml)")
    reset.set_defaults(run=cmd_reset)

    admin = sub.add_parser("admin", help="administrators").add_subparsers(metavar="TASK")
    create = admin.add_parser("create", help="create an admin in the running local stack")
    create.add_argument("--email", required=True)
    create.add_argument("--password", help="prompted for when omitted")
    create.add_argument("--name", default="Administrator")
    create.set_defaults(run=cmd_admin_create)

    keys = sub.add_parser("keys", help="JWT signing keys").add_subparsers(metavar="TASK")
    rotate = keys.add_parser("rotate", help="add a new signing key (the previous stays valid)")
    rotate.add_argument("--aws", action="store_true",
                        help="rotate the deployed stack's secret (real AWS credentials)")
    rotate.add_argument("--secret-id", default=None, help="with --aws: the secret's name")
    rotate.set_defaults(run=cmd_keys_rotate)

    stripe = sub.add_parser("stripe", help="the local Stripe server").add_subparsers(
        metavar="TASK")
    pay = stripe.add_parser("pay", help="confirm a payment with a test card (as a browser would)")
    pay.add_argument("payment_id")
    pay.add_argument("--card", default="pm_card_visa",
                     help="test payment method (pm_card_visa, pm_card_chargeDeclined, ...)")
    pay.set_defaults(run=cmd_stripe_pay)
    refund = stripe.add_parser("refund", help="refund a payment (revokes the enrollment)")
    refund.add_argument("payment_id")
    refund.set_defaults(run=cmd_stripe_refund)

    events = sub.add_parser("events", help="the event bus").add_subparsers(metavar="TASK")
    tail = events.add_parser("tail", help="print events as they flow (Ctrl-C stops)")
    tail.add_argument("--bus", default="EventBus", help="logical id or name of the bus")
    tail.add_argument("--seconds", type=float, default=None, help="stop after this long")
    tail.set_defaults(run=cmd_events_tail)
    redrive = events.add_parser("redrive", help="move a queue's DLQ messages back to it")
    redrive.add_argument("queue", help="logical id or name, e.g. NotificationsQueue")
    redrive.set_defaults(run=cmd_events_redrive)

    seed = sub.add_parser("seed", help="load-test data into the running stack")
    seed.add_argument("--users", type=int, default=50_000)
    seed.add_argument("--courses", type=int, default=100_000)
    seed.add_argument("--teachers", type=int, default=5_000)
    seed.add_argument("--enrollments", type=int, default=0,
                      help="enrollments of seeded students in seeded courses (e.g. 500000)")
    seed.add_argument("--seed", type=int, default=42, dest="seed_value",
                      help="random seed of the enrollment pairs (same seed, same data)")
    seed.add_argument("--reset", action="store_true",
                      help="remove earlier seeded users and enrollments first")
    seed.set_defaults(run=cmd_seed)

    load = sub.add_parser("load", help="run a Locust scenario headless against the local API")
    load.add_argument("--scenario", choices=["student", "search", "teacher", "mix"],
                      default="student")
    load.add_argument("--users", type=int, default=50)
    load.add_argument("--rate", type=float, default=10, help="users started per second")
    load.add_argument("--duration", default="60s")
    load.add_argument("--host", default=None)
    load.add_argument("--gate", choices=["mvp", "optimisation", "goal"], default=None,
                      help="run a roadmap stage gate on the student mix (sets users, rate "
                      "and duration; measured after ramp-up) and exit 1 unless it passes")
    load.add_argument("--drill", choices=["overload"], default=None,
                      help="overload drill: 70%% of the optimisation gate's users, then 3x "
                      "as many for 30 s, then back; passes if only fast 429/503 shed the "
                      "excess and the p99 is back under the gate's bound within 15 s")
    load.add_argument("--burn-core", action="store_true",
                      help="keep one core busy with another process for the whole run")
    load.set_defaults(run=cmd_load)

    chaos = sub.add_parser("chaos", help="fault drill on a stack of its own: crash "
                           "PostgreSQL, Redis, freeze moto, kill a worker under load; report")
    chaos.add_argument("--outage", type=float, default=10, help="seconds each part is down")
    chaos.add_argument("--settle", type=float, default=25, help="seconds between faults")
    chaos.add_argument("--users", type=int, default=10, help="Locust users")
    chaos.set_defaults(run=cmd_chaos)
    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(metavar="WHAT")
    cold = bench.add_parser("cold-start", help="forced cold starts: Init Duration and first "
                            "response, normal and fork snapshot, beside two baselines")
    cold.add_argument("functions", nargs="*", metavar="FN",
                      help="template functions (default: all)")
    cold.add_argument("--n", type=int, default=20, help="cold starts per function and mode")
    cold.set_defaults(run=cmd_bench_cold_start)
    reads = bench.add_parser("analytics", help="teacher analytics read latency at seed scale "
                             "(p50/p95/p99 ms; run `edu seed --enrollments 500000` first)")
    reads.add_argument("--n", type=int, default=200, help="samples per read")
    reads.set_defaults(run=cmd_bench_analytics)

    search = sub.add_parser("search", help="the search index").add_subparsers(metavar="TASK")
    search.add_parser("reindex", help="rebuild the Meilisearch index from PostgreSQL"
                      ).set_defaults(run=cmd_search_reindex)

    mail = sub.add_parser("mail", help="emails the local stack sent (moto SES)")
    mail.add_argument("--to", help="only messages to this address")
    mail.add_argument("--body", action="store_true", help="print the bodies too")
    mail.set_defaults(run=cmd_mail)

    spec = sub.add_parser("openapi", help="write the HTTP API's OpenAPI document (the web "
                          "app's types are generated from it)")
    spec.add_argument("-o", "--output", default="-", help="file ('-': stdout)")
    spec.set_defaults(run=cmd_openapi)
    db = sub.add_parser("db", help="database tasks").add_subparsers(metavar="TASK")
    db.add_parser("migrate", help="apply pending SQL migrations").set_defaults(run=cmd_migrate)

    local = sub.add_parser("local", help="the local Lambda runtime").add_subparsers(
        metavar="TASK")
    inv = local.add_parser("invoke", help="invoke one function, like `sam local invoke`")
    inv.add_argument("function", help="logical id of the function in template.yaml")
    inv.add_argument("-e", "--event", help="event JSON file ('-' or omitted: stdin)")
    _env_vars_arg(inv)
    _debug_args(inv, one_function=True)
    inv.add_argument("--no-event", action="store_true", help="invoke with an empty event {}")
    _template_args(inv)
    inv.set_defaults(run=cmd_invoke)
    for name, text in (("start-api", "serve the HTTP API, like `sam local start-api`"),
                       ("start-lambda", "serve the Lambda Invoke API, like `sam local "
                        "start-lambda`")):
        api = local.add_parser(name, help=text + "; both APIs, triggers and /metrics run")
        _env_vars_arg(api)
        _debug_args(api)
        api.add_argument("-p", "--port", type=int, default=None, help="HTTP API port")
        api.add_argument("--lambda-port", type=int, default=None, help="Lambda API port")
        api.add_argument("--host", default="127.0.0.1",
                         help="address to listen on (default 127.0.0.1); another than "
                         "loopback needs --expose")
        api.add_argument("--expose", action="store_true",
                         help="allow --host beyond this machine: the Lambda Invoke API, "
                         "/metrics and /_edu/mail then answer anyone on the network")
        api.add_argument("--no-triggers", action="store_true",
                         help="do not poll queues or wire S3/SNS/EventBridge/schedules")
        api.add_argument("--no-watch", action="store_true", help="no hot reload")
        api.add_argument("--site", default=None, help="static web app to serve for paths no "
                         "route matches (default: web/out beside the template, if built)")
        _budget_args(api)
        api.add_argument("--snapstart", action="store_true",
                         help="fork cold starts from an initialised process for every "
                         "function (default: only functions with SnapStart in the template)")
        _template_args(api)
        api.set_defaults(run=cmd_start_api)
    logs = sub.add_parser("logs", help="a function's log lines (all functions' without FN), "
                          "like `sam logs`")
    logs.add_argument("function", nargs="?", default=None, help="logical id of the function")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.add_argument("-s", "--since", default=None, help="only lines this recent: 30s, 10m, "
                      "2h, 1d")
    logs.add_argument("--filter", default=None, help="only lines containing this text")
    logs.add_argument("-t", "--template", default=None, help="the template `edu up -t` was "
                      "given (default: ./template.yaml)")
    logs.set_defaults(run=cmd_logs)
    gen = local.add_parser("generate-event", help="print a sample event for `edu local "
                           "invoke -e -`, like `sam local generate-event`")
    gen.add_argument("service", help="apigateway, s3, sqs, sns, eventbridge or dynamodb")
    gen.add_argument("event", help="e.g. http-api-proxy, aws-proxy, put, delete, "
                     "receive-message, notification, scheduled-event, custom, update")
    gen.add_argument("options", nargs=argparse.REMAINDER, metavar="--flag VALUE",
                     help="the event's fields, e.g. --bucket RawVideoBucket --key a/b.mp4 "
                     "(a logical id of the template stands for its resource)")
    _template_args(gen)
    gen.set_defaults(run=cmd_generate_event)
    build = sub.add_parser("build", help="build the template's layers for its Python, as "
                           "`sam build` does (cached; edu up and edu local build what they need)")
    _template_args(build)
    build.set_defaults(run=cmd_build)
    lock = sub.add_parser("lock", help="pin exact versions: requirements.lock from .venv, each "
                          "layer's requirements.txt from its requirements.in")
    _template_args(lock)
    lock.set_defaults(run=cmd_lock)
    rep = local.add_parser("report", help="per-function invocations, errors, cold starts")
    rep.add_argument("--url", default=None, help="Lambda API URL of the running runtime")
    rep.set_defaults(run=cmd_report)
    calls = local.add_parser("calls", help="AWS calls the local cloud served, by operation, "
                             "with its CPU time (heaviest first)")
    calls.add_argument("--reset", action="store_true", help="print, then start counting anew")
    calls.set_defaults(run=cmd_calls)
    return p


def _budget_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-concurrency", type=int, default=None, metavar="N",
                   help="invocations running at once, all functions together (default: 32 "
                   "per CPU); beyond it requests queue, then get 429 + Retry-After")
    p.add_argument("--max-cold-starts", type=int, default=None, metavar="N",
                   help="workers starting at once (default: one per CPU)")
    p.add_argument("--max-queue-wait", type=float, default=None, metavar="SECONDS",
                   help="the longest a request waits for a running slot before it is "
                   "throttled (default: 1)")
    p.add_argument("--max-start-wait", type=float, default=None, metavar="SECONDS",
                   help="the longest a request waits in all, its worker's start included, "
                   "before it is throttled (default: 10)")


def _budget(args: argparse.Namespace) -> Any:
    from localcloud.runtime.admission import Budget

    return Budget.for_machine(args.max_concurrency, args.max_cold_starts, args.max_start_wait,
                              args.max_queue_wait)


def _config(args: argparse.Namespace) -> CloudConfig:
    """The stack of the template `-t` names, else of the template.yaml here or above."""
    given = getattr(args, "template", None)
    return CloudConfig.from_env(template=Path(given) if given else None)


FUNCTION_LOGS = Path("logs/functions")  # under the stack's home: what `edu logs` reads


def cmd_logs(args: argparse.Namespace) -> int:
    from localcloud.runtime.function_logs import follow, parse_since, read_lines

    folder = _config(args).home / FUNCTION_LOGS
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


def _debug_args(p: argparse.ArgumentParser, one_function: bool = False) -> None:
    if not one_function:
        p.add_argument("--debug-function", default=None, metavar="FN",
                       help="the function whose worker waits for a debugger (with "
                       "--debug-port)")
    p.add_argument("-d", "--debug-port", type=int, default=None, metavar="PORT",
                   help="the function's worker listens here for a DAP debugger (debugpy) "
                   "and waits for it; one worker, no timeout while it is debugged")


def _debug(args: argparse.Namespace, template: Any, function: str | None) -> None:
    from localcloud.runtime.debug import debug_function

    if args.debug_port is None:
        return
    if not function:
        raise TemplateError("--debug-port needs --debug-function FN")
    debug_function(template, function, args.debug_port)


def _env_vars_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("-n", "--env-vars", default=None, metavar="FILE",
                   help="JSON file of environment overrides in SAM's format: "
                   '{"Parameters": {...} for every function, "FunctionId": {...} for one}')


def _template_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-t", "--template", default=None,
                   help="template file (default: ./template.yaml)")
    p.add_argument("--parameter-overrides", default="",
                   help="space-separated Key=Value template parameters")


def _overrides(text: str) -> dict[str, str]:
    out = {}
    for item in text.split():
        if "=" not in item:
            raise SystemExit(f"--parameter-overrides: {item!r} is not Key=Value")
        k, v = item.split("=", 1)
        out[k.removeprefix("ParameterKey=")] = v
    return out


# --- up / down / status ----------------------------------------------------------------


def cmd_up(args: argparse.Namespace) -> int:
    from localcloud.runtime.server import LocalRuntime, serve
    from localcloud.runtime.site import default_site_dir
    from localcloud.stack import LocalCloud

    cfg = _config(args)
    if port_open(cfg.api_port):
        raise PortInUse("HTTP API", cfg.api_port, "EDU_API_PORT")
    if port_open(cfg.lambda_port):
        raise PortInUse("Lambda Invoke API", cfg.lambda_port, "EDU_LAMBDA_PORT")
    cloud = LocalCloud(cfg, durable=not args.ephemeral, stack_name=args.stack_name,
                       overrides=_overrides(" ".join([*args.param, args.parameter_overrides])))
    t0 = time.monotonic()
    # `edu down` sends SIGTERM: leave through the finally below, like Ctrl-C does.
    signal.signal(signal.SIGTERM, _exit_cleanly)
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
        _debug(args, template, args.debug_function)
        if not args.no_demo and cloud.extras.setup == "eduplatform":
            _load_demo(cloud)
        site = default_site_dir(template.path)
        api_url = f"http://127.0.0.1:{cfg.api_port}"
        lambda_url = f"http://127.0.0.1:{cfg.lambda_port}"

        def announce() -> None:  # once the runtime has wired every trigger
            cloud.write_state({"api": api_url, "lambda": lambda_url})
            print(_banner(cloud, template, api_url, lambda_url, site, time.monotonic() - t0),
                  flush=True)

        app = LocalRuntime(template, cloud.function_env(), api_port=cfg.api_port,
                           lambda_port=cfg.lambda_port, endpoint=cloud.aws_url,
                           snapstart=True if args.snapstart else None, site=site,
                           budget=_budget(args),
                           stream_positions=cloud.state_dir / STREAM_POSITIONS,
                           on_ready=announce, function_logs=cfg.home / FUNCTION_LOGS)
        serve(app)
    finally:
        print("edu: stopping ...", flush=True)
        cloud.stop()
        cloud.clear_state()
        print("edu: stopped", flush=True)
    return 0


SERVICE_NAMES = {"postgres": "PostgreSQL", "redis": "Redis", "stripe": "Stripe (local)"}


def _banner(cloud: Any, template: Any, api_url: str, lambda_url: str, site: Path | None,
            took_s: float) -> str:
    """What `edu up` started and where, once it is up."""
    platform = cloud.extras.setup == "eduplatform"
    title = "EduPlatform" if platform else f"Stack {template.stack_name}"
    lines = [f"\n{title} is up in {took_s:.1f}s",
             f"  HTTP API        {api_url}" + (f"        (try: curl {api_url}/health)"
                                                if platform else "")]
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


def _loopback(host: str) -> bool:
    import ipaddress

    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _exit_cleanly(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def _load_demo(cloud: Any) -> None:
    from localcloud.domain import load_demo

    print("  demo accounts:")
    for line in load_demo(cloud):
        print(f"    {line}")


DOWN_WAIT_S = 60.0


def cmd_down(args: argparse.Namespace) -> int:
    from localcloud.stack import read_state

    cfg = _config(args)
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
    from localcloud.services import (
        aws_endpoint_healthy,
        pg_ready,
        redis_ready,
        stripe_healthy,
    )
    from localcloud.stack import read_state

    cfg = _config(args)
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
              "stripe": stripe_healthy, "api": _api_healthy}
    print(f"edu up: {'running, pid ' + str(state['pid']) if state else 'not running'}")
    all_ok = True
    for name, url in urls.items():
        if name not in running:
            continue
        ok = checks[name](url)
        all_ok &= ok
        print(f"  {name:<9} {'healthy' if ok else 'DOWN':<8} {url}")
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

    cfg = _config(args)
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


def _api_healthy(url: str) -> bool:
    """The local gateway answers (any HTTP answer: a template may have no /health route)."""
    import urllib.error

    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as resp:
            return bool(resp.status == 200)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def cmd_admin_create(args: argparse.Namespace) -> int:
    import getpass

    from localcloud.domain import create_admin
    from localcloud.stack import LocalCloud

    password = args.password or getpass.getpass("Password for the new admin: ")
    cloud = LocalCloud.attach(CloudConfig.from_env())
    try:
        user_id = create_admin(cloud, args.email, password, args.name)
    except Exception as exc:  # domain errors carry a readable detail
        detail = getattr(exc, "detail", None) or str(exc)
        errors = getattr(exc, "errors", [])
        print(f"edu: {detail}", *(f"  {e.field}: {e.message}" for e in errors), sep="\n",
              file=sys.stderr)
        return 1
    print(f"admin created: {args.email} (id {user_id})")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from localcloud.domain import jwt_secret_name, rotate_keys
    from localcloud.stack import LocalCloud

    cfg = CloudConfig.from_env()
    if args.aws:
        if not args.secret_id:
            print("edu: --aws needs --secret-id (the stack's <stack>/jwt-keys)", file=sys.stderr)
            return 2
        kids = rotate_keys(None, os.environ.get("AWS_REGION", "us-east-1"), args.secret_id, None)
    else:
        cloud = LocalCloud.attach(cfg)
        kids = rotate_keys(cloud.aws_url, cloud.template().region, jwt_secret_name(cloud),
                           cfg.home / "jwt-keys.json")
    print(f"signing key {kids[0]}; still valid: {', '.join(kids[1:]) or 'none'}")
    return 0


def cmd_stripe_pay(args: argparse.Namespace) -> int:
    from localcloud.domain import stripe_pay
    from localcloud.stack import LocalCloud

    print(stripe_pay(LocalCloud.attach(CloudConfig.from_env()), args.payment_id, args.card))
    return 0


def cmd_stripe_refund(args: argparse.Namespace) -> int:
    from localcloud.domain import stripe_refund
    from localcloud.stack import LocalCloud

    print(stripe_refund(LocalCloud.attach(CloudConfig.from_env()), args.payment_id))
    return 0


def cmd_events_tail(args: argparse.Namespace) -> int:
    from localcloud.events import tap
    from localcloud.stack import LocalCloud

    cloud = LocalCloud.attach(CloudConfig.from_env())
    template = cloud.template()
    bus = template.resources.get(args.bus)
    bus_name = bus.physical_name if bus else args.bus
    deadline = time.monotonic() + args.seconds if args.seconds else None
    print(f"edu: tailing {bus_name} (Ctrl-C stops)", flush=True)
    with tap(template, cloud.aws_url, bus_name) as read:
        while deadline is None or time.monotonic() < deadline:
            for event in read(1):
                detail = event.get("detail") or {}
                print(f"{event.get('time', '')}  {event.get('detail-type', ''):<20} "
                      f"{detail.get('id', event.get('id', ''))}  {event.get('source', '')}  "
                      f"{json.dumps(detail.get('data', detail))[:120]}", flush=True)
    return 0


def cmd_events_redrive(args: argparse.Namespace) -> int:
    from localcloud.events import redrive
    from localcloud.stack import LocalCloud

    cloud = LocalCloud.attach(CloudConfig.from_env())
    moved = redrive(cloud.template(), cloud.aws_url, args.queue)
    print(f"moved {moved} messages back to {args.queue}")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from localcloud.domain import seed
    from localcloud.stack import LocalCloud

    cloud = LocalCloud.attach(CloudConfig.from_env())
    for line in seed(cloud, args.users, args.courses, args.teachers, args.enrollments,
                     args.seed_value, args.reset):
        print(f"seeded {line}")
    return 0


def cmd_bench_cold_start(args: argparse.Namespace) -> int:
    from localcloud.coldstart import measure, table, write_json
    from localcloud.stack import LocalCloud

    cfg = CloudConfig.from_env()
    try:  # the functions' first requests reach the running stack's stores
        env = LocalCloud.attach(cfg).function_env()
    except RuntimeError as exc:
        print(f"edu: {exc}", file=sys.stderr)
        return 1
    results = measure(cfg.root / "template.yaml", cfg.root / "loadtests/bench/template.yaml",
                      args.functions, args.n, env)
    print(table(results))
    print(f"JSON: {write_json(results, cfg.root / 'loadtests' / 'results')}")
    return 0


def cmd_chaos(args: argparse.Namespace) -> int:
    import json

    from localcloud.chaos import run_drill

    report = run_drill(CloudConfig.from_env().root, outage_s=args.outage,
                       settle_s=args.settle, users=args.users)
    print(json.dumps(report, indent=2))
    lost = sum(len(v) for v in report["lost"].values())
    print(f"lost acknowledged writes: {lost}")
    return 0 if lost == 0 else 1


def cmd_bench_analytics(args: argparse.Namespace) -> int:
    from localcloud.domain import bench_analytics
    from localcloud.stack import LocalCloud

    try:
        results = bench_analytics(LocalCloud.attach(CloudConfig.from_env()), args.n)
    except RuntimeError as exc:
        print(f"edu: {exc}", file=sys.stderr)
        return 1
    print(f"{results['student_rows']} student rows, {results['teachers']} teachers, "
          f"{results['samples']} samples per read (ms, domain + PostgreSQL):")
    for name, q in results["reads"].items():
        print(f"  {name:<24} p50 {q['p50']:>7}  p95 {q['p95']:>7}  p99 {q['p99']:>7}")
    return 0


def cmd_search_reindex(args: argparse.Namespace) -> int:
    from localcloud.domain import search_reindex
    from localcloud.stack import LocalCloud

    print(search_reindex(LocalCloud.attach(CloudConfig.from_env())))
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from localcloud.loadrun import run_load

    return run_load(args)


def cmd_mail(args: argparse.Namespace) -> int:
    import re

    from localcloud.aws import sent_emails
    from localcloud.stack import LocalCloud

    messages = sent_emails(LocalCloud.attach(CloudConfig.from_env()).aws_url)
    if args.to:
        messages = [m for m in messages if args.to.lower() in (t.lower() for t in m["to"])]
    for m in messages:
        print(f"{', '.join(m['to']):<40} {m['subject']}")
        if args.body:
            text = re.sub(r"<[^>]+>", " ", m["body"])
            print("    " + " ".join(text.split())[:500] + "\n")
    print(f"({len(messages)} messages)")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from edu.adapters.migrations import migrate

    cfg = CloudConfig.from_env()
    url = cfg.database_url or f"postgresql://postgres@127.0.0.1:{cfg.pg_port}/edu"
    applied = migrate(url)
    print("\n".join(f"applied {name}" for name in applied) or "up to date")
    return 0


# --- local runtime --------------------------------------------------------------------


def _load(args: argparse.Namespace) -> Any:
    cfg = _config(args)
    path = cfg.template_path
    endpoint = cfg.aws_endpoint_url or f"http://127.0.0.1:{cfg.aws_port}"
    overrides = _overrides(args.parameter_overrides)
    if cfg.database_url:
        overrides.setdefault("DatabaseUrl", cfg.database_url)
    if cfg.redis_url:
        overrides.setdefault("RedisUrl", cfg.redis_url)
    template = load_template(path, endpoint=endpoint, parameter_overrides=overrides)
    for warning in template.warnings:
        print(f"edu: warning: {warning}", file=sys.stderr)
    if getattr(args, "env_vars", None):
        apply_env_vars(template, Path(args.env_vars))
    if getattr(args, "debug_port", None) is not None:
        _debug(args, template, getattr(args, "debug_function", None)
               or getattr(args, "function", None))
    base_env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_ENDPOINT_URL": endpoint}
    if "EDU_AWS_PLACEHOLDER_SIGNATURE" in os.environ:  # "false": functions sign fully
        base_env["EDU_AWS_PLACEHOLDER_SIGNATURE"] = os.environ["EDU_AWS_PLACEHOLDER_SIGNATURE"]
    return template, base_env


def cmd_invoke(args: argparse.Namespace) -> int:
    from localcloud.runtime.pool import FunctionPool

    template, base_env = _load(args)
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
    template, _base_env = _load(args)
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

    if not _loopback(args.host) and not args.expose:
        print(f"edu: --host {args.host} would let anyone who reaches it invoke any function "
              "(Lambda Invoke API), read /metrics and the sent mail (/_edu/mail), with no "
              "authentication; add --expose if that is what you want", file=sys.stderr)
        return 2
    template, base_env = _load(args)
    cfg = CloudConfig.from_env()
    port = args.port or cfg.api_port
    lambda_port = args.lambda_port or cfg.lambda_port
    site = Path(args.site) if args.site else default_site_dir(template.path)
    app = LocalRuntime(template, base_env, api_port=port, lambda_port=lambda_port,
                       endpoint=base_env["AWS_ENDPOINT_URL"], triggers=not args.no_triggers,
                       watch=not args.no_watch, snapstart=True if args.snapstart else None,
                       site=site, budget=_budget(args),
                       function_logs=_config(args).home / FUNCTION_LOGS)
    routes = sorted({f"{e.properties.get('Method', 'ANY').upper():>6} "
                     f"{e.properties.get('Path', '$default')}  -> {fn.name}"
                     for fn in template.functions.values() for e in fn.events
                     if e.type in ("HttpApi", "Api")})
    print(f"edu: HTTP API on http://{args.host}:{port} ({len(routes)} routes), Lambda API "
          f"and /metrics on http://{args.host}:{lambda_port}", flush=True)
    for line in routes:
        print(f"  {line}")
    serve(app, args.host)
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from localcloud.artifacts import Artifacts

    template, _env = _load(args)
    artifacts = Artifacts(template)
    artifacts.build()
    for plan in artifacts.plans():
        where = plan.built_dir or ", ".join(str(p) for p in plan.in_place)
        print(f"{plan.name:<24} python{plan.version}  {where}")
    return 0


def cmd_lock(args: argparse.Namespace) -> int:
    from localcloud.artifacts import python_for
    from localcloud.lock import lock_all

    template, _env = _load(args)
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
    from localcloud.runtime.observe import format_report

    cfg = CloudConfig.from_env()
    url = args.url or f"http://127.0.0.1:{cfg.lambda_port}"
    try:
        with urllib.request.urlopen(url + "/_edu/report", timeout=5) as resp:
            report = json.loads(resp.read())
    except OSError as exc:
        print(f"edu: no local runtime answers at {url} ({exc})", file=sys.stderr)
        return 1
    print(format_report(report))
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


if __name__ == "__main__":
    sys.exit(main())
