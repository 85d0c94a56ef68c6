"""The `edu` command: its arguments (`_parser`); the commands are in `cli_stack`,
`cli_local` and `cli_platform`, the options they share in `cli_args`."""

from __future__ import annotations

import argparse
import sys

from localcloud.artifacts import BuildError
from localcloud.cli_args import budget_args, debug_args, env_vars_arg, template_args
from localcloud.cli_local import (
    cmd_build,
    cmd_calls,
    cmd_generate_event,
    cmd_invoke,
    cmd_lock,
    cmd_openapi,
    cmd_report,
    cmd_start_api,
)
from localcloud.cli_platform import (
    cmd_admin_create,
    cmd_bench_analytics,
    cmd_bench_cold_start,
    cmd_chaos,
    cmd_events_redrive,
    cmd_events_tail,
    cmd_keys_rotate,
    cmd_load,
    cmd_mail,
    cmd_migrate,
    cmd_search_reindex,
    cmd_seed,
    cmd_stripe_pay,
    cmd_stripe_refund,
)
from localcloud.cli_stack import cmd_down, cmd_logs, cmd_reset, cmd_status, cmd_up
from localcloud.procs import PortInUse
from localcloud.template import (
    TemplateError,
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
    budget_args(up)
    up.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="template parameter override, e.g. LoginLimitPerIp=100000 for "
                    "load tests (repeatable)")
    template_args(up)
    env_vars_arg(up)
    debug_args(up)
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
    env_vars_arg(inv)
    debug_args(inv, one_function=True)
    inv.add_argument("--no-event", action="store_true", help="invoke with an empty event {}")
    template_args(inv)
    inv.set_defaults(run=cmd_invoke)
    for name, text in (("start-api", "serve the HTTP API, like `sam local start-api`"),
                       ("start-lambda", "serve the Lambda Invoke API, like `sam local "
                        "start-lambda`")):
        api = local.add_parser(name, help=text + "; both APIs, triggers and /metrics run")
        env_vars_arg(api)
        debug_args(api)
        api.add_argument("-p", "--port", type=int, default=None, help="HTTP API port")
        api.add_argument("--lambda-port", type=int, default=None, help="Lambda API port")
        api.add_argument("--ws-port", type=int, default=None,
                         help="WebSocket API port, when the template declares one "
                         "(default 3002, EDU_WS_PORT)")
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
        budget_args(api)
        api.add_argument("--snapstart", action="store_true",
                         help="fork cold starts from an initialised process for every "
                         "function (default: only functions with SnapStart in the template)")
        template_args(api)
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
    template_args(gen)
    gen.set_defaults(run=cmd_generate_event)
    build = sub.add_parser("build", help="build the template's layers for its Python, as "
                           "`sam build` does (cached; edu up and edu local build what they need)")
    template_args(build)
    build.set_defaults(run=cmd_build)
    lock = sub.add_parser("lock", help="pin exact versions: requirements.lock from .venv, each "
                          "layer's requirements.txt from its requirements.in")
    template_args(lock)
    lock.set_defaults(run=cmd_lock)
    rep = local.add_parser("report", help="per-function invocations, errors, cold starts")
    rep.add_argument("--url", default=None, help="Lambda API URL of the running runtime")
    rep.set_defaults(run=cmd_report)
    calls = local.add_parser("calls", help="AWS calls the local cloud served, by operation, "
                             "with its CPU time (heaviest first)")
    calls.add_argument("--reset", action="store_true", help="print, then start counting anew")
    calls.set_defaults(run=cmd_calls)
    return p


if __name__ == "__main__":
    sys.exit(main())

