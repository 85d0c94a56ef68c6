"""`edu bench cold-start`: forces cold starts of the template's functions and reports Init
Duration and first-response latency (p50/p95), normal and with fork snapshots, beside two
baselines measured in the same run: a bare Python handler and a FastAPI+Mangum hello world
(loadtests/bench/functions).

Each sample is a fresh worker pool, so every invocation is a real cold start (a new process,
or a fork of the initialised snapshot). The first request is a minimal event of the
function's first trigger: an HTTP request to its route (placeholders filled with a nil
UUID), a one-message batch for queue consumers, a scheduled event; a 4xx answer or a failed
batch item still counts as a response.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

from localcloud.runtime.pool import FunctionPool
from localcloud.template import Function, Template, load_template

NIL_UUID = "00000000-0000-7000-8000-000000000000"
BASELINES = {"bare": "BareFunction", "fastapi+mangum": "FastApiFunction"}


def first_event(fn: Function) -> dict[str, Any]:
    for ev in fn.events:
        if ev.type in ("HttpApi", "Api"):
            method = str(ev.properties.get("Method", "GET")).upper()
            method = "GET" if method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD") else method
            path = re.sub(r"\{[^}]+\}", NIL_UUID, str(ev.properties.get("Path", "/")))
            return http_event(method, path)
        if ev.type == "SQS":  # one harmless message (S3's test event) in a real batch shape
            return {"Records": [{
                "messageId": NIL_UUID, "receiptHandle": "cold-start",
                "body": json.dumps({"Event": "s3:TestEvent"}),
                "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:cold-start",
                "awsRegion": "us-east-1"}]}
        if ev.type == "Schedule":
            return {"version": "0", "id": NIL_UUID, "detail-type": "Scheduled Event",
                    "source": "aws.events", "account": "123456789012", "time": "",
                    "region": "us-east-1", "resources": [], "detail": {}}
    return {}


def http_event(method: str, path: str) -> dict[str, Any]:
    return {"version": "2.0", "routeKey": f"{method} {path}", "rawPath": path,
            "rawQueryString": "", "headers": {"host": "localhost"}, "isBase64Encoded": False,
            "requestContext": {"http": {"method": method, "path": path,
                                        "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                                        "userAgent": "edu-bench"},
                               "requestId": "cold-start", "routeKey": f"{method} {path}",
                               "stage": "$default", "accountId": "123456789012",
                               "apiId": "local", "domainName": "localhost",
                               "domainPrefix": "localhost", "time": "", "timeEpoch": 0}}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def samples(template: Template, fn: Function, env: dict[str, str], snapstart: bool,
                   n: int) -> dict[str, Any]:
    inits, firsts, statuses = [], [], set()
    event = first_event(fn)
    for _ in range(n):
        pool = FunctionPool(fn, template, env, lambda _line: None, snapstart=snapstart)
        try:
            if snapstart:
                await pool.launcher.ensure_zygote()  # the snapshot exists before traffic, as on AWS
            started = time.perf_counter()
            result = await pool.invoke(event)
            if not result.cold:
                raise RuntimeError(f"{fn.name}: a fresh pool answered warm")
            firsts.append((time.perf_counter() - started) * 1000)
            inits.append(result.init_ms or 0.0)
            statuses.add(result.status)
        finally:
            await pool.close()
    return {"init_p50_ms": statistics.median(inits), "init_p95_ms": percentile(inits, 0.95),
            "first_p50_ms": statistics.median(firsts),
            "first_p95_ms": percentile(firsts, 0.95), "n": n,
            "statuses": sorted(statuses)}


def measure(template_path: Path, baselines_path: Path, functions: list[str], n: int,
            env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """{"<function> <mode>": stats} for the baselines first, then each function."""
    template = load_template(template_path)
    baselines = load_template(baselines_path)
    unknown = [f for f in functions if f not in template.functions]
    if unknown:
        raise SystemExit(f"edu: no such function in the template: {', '.join(unknown)}")
    targets: list[tuple[str, Template, Function, dict[str, str]]] = [
        (label, baselines, baselines.functions[name], {})
        for label, name in BASELINES.items()]
    targets += [(name, template, template.functions[name], env)
                for name in (functions or sorted(template.functions))]
    results: dict[str, dict[str, Any]] = {}
    for label, tpl, fn, fn_env in targets:
        for snapstart in (False, True):
            mode = "snapshot" if snapstart else "normal"
            results[f"{label} {mode}"] = asyncio.run(samples(tpl, fn, fn_env, snapstart, n))
    return results


def table(results: dict[str, dict[str, Any]]) -> str:
    head = (f"{'function':<40} {'init p50':>9} {'init p95':>9} {'first p50':>10} "
            f"{'first p95':>10}  answered")
    lines = [head, "-" * len(head)]
    for label, r in results.items():
        lines.append(f"{label:<40} {r['init_p50_ms']:>9.1f} {r['init_p95_ms']:>9.1f} "
                     f"{r['first_p50_ms']:>10.1f} {r['first_p95_ms']:>10.1f}  "
                     f"{','.join(r['statuses'])}")
    return "\n".join(lines) + "\n(ms; init = Init Duration as REPORT prints it)"


def write_json(results: dict[str, dict[str, Any]], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"cold-start-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    return path
