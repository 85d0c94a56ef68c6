"""The platform's own tasks against a running stack: admins, keys, Stripe, mail, events,
seeding, load, benchmarks, chaos."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from localcloud.config import CloudConfig


def cmd_admin_create(args: argparse.Namespace) -> int:
    import getpass

    from localcloud.platform_tasks import create_admin
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
    from localcloud.platform_tasks import jwt_secret_name, rotate_keys
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
    from localcloud.platform_tasks import stripe_pay
    from localcloud.stack import LocalCloud

    print(stripe_pay(LocalCloud.attach(CloudConfig.from_env()), args.payment_id, args.card))
    return 0


def cmd_stripe_refund(args: argparse.Namespace) -> int:
    from localcloud.platform_tasks import stripe_refund
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
    from localcloud.platform_tasks import seed
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
    from localcloud.platform_tasks import bench_analytics
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
    from localcloud.platform_tasks import search_reindex
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
