"""The runtime's Prometheus endpoint carries per-function Lambda metrics, the app's business
counters (printed by the functions as CloudWatch EMF) and every queue's depth."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx

from tests.support.identity import register
from tests.support.platform import RunningPlatform


def sample(text: str, metric: str, **labels: str) -> float | None:
    selector = ",".join(f'{k}="{v}"' for k, v in labels.items())
    match = re.search(rf"^{re.escape(metric)}\{{{re.escape(selector)}\}} (\S+)$", text, re.M)
    return float(match[1]) if match else None


def test_metrics_expose_business_counters_and_queue_depths(
        platform: RunningPlatform) -> None:
    def scrape() -> str:
        resp = httpx.get(f"{platform.lambda_api}/metrics", timeout=10)
        assert resp.status_code == 200
        return resp.text

    before = sample(scrape(), "app_registrations_total", function="RegisterFunction") or 0
    register(platform.api)
    deadline = time.monotonic() + 10
    while (sample(text := scrape(), "app_registrations_total",
                  function="RegisterFunction") or 0) < before + 1:
        assert time.monotonic() < deadline, text[-3000:]
        time.sleep(0.2)
    assert (sample(text, "lambda_invocations_total", function="RegisterFunction") or 0) >= 1
    for queue in ("edu-platform-notifications", "edu-platform-notifications-dlq",
                  "edu-platform-transcode-dlq", "edu-platform-search-index"):
        assert sample(text, "sqs_messages_visible", queue=queue) is not None, queue


def test_grafana_dashboard_queries_metrics_that_exist(platform: RunningPlatform) -> None:
    root = Path(__file__).resolve().parents[2]
    dashboard = json.loads((root / "infra/observability/grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    names = {m for e in exprs for m in re.findall(r"\b([a-z][a-z0-9_]*)(?=\{|\[)", e)}
    exposed = httpx.get(f"{platform.lambda_api}/metrics", timeout=10).text
    emitted = {m for f in (root / "functions").rglob("*.py")
               for m in re.findall(r'count\("([a-z_]+)"\)', f.read_text())}
    for name in names:
        if name.startswith("app_"):  # business counters appear once their event happened
            assert name.removeprefix("app_").removesuffix("_total") in emitted, name
        else:
            assert re.search(rf"^{name}[{{ ]", exposed, re.M), name
    assert len(names) >= 10
