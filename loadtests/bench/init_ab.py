"""A/B of functions' cold starts between two commits: Init Duration (the handler's import, as
REPORT prints it) and the first response, p50 over forced cold starts, rounds interleaved.

The old commit is checked out into a temporary git worktree and measured with its own code
(its runtime, template and layers); the new one is the working tree. Functions' calls go to
closed local ports (they fail at once), so the figures are the runtime's and the imports'.
Not a test.

    .venv/bin/python loadtests/bench/init_ab.py --old REV [--n 10] [--rounds 3] [FN ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FUNCTIONS = ["HealthFunction", "CatalogFunction", "LoginFunction", "EnrollFunction",
                     "NotificationsFunction", "TranscodeFunction"]
CLOSED = "127.0.0.1:9"  # discard port: nothing listens, connections are refused at once

MEASURE = f"""
import asyncio, json, sys
from localcloud.coldstart import samples
from localcloud.template import load_template
tree, n, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
tpl = load_template(tree + "/template.yaml", endpoint="http://{CLOSED}", parameter_overrides={{
    "DatabaseUrl": "postgresql://postgres@{CLOSED}/edu", "RedisUrl": "redis://{CLOSED}/0"}})
env = {{"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": "http://{CLOSED}"}}
out = {{}}
for name in names:
    found = asyncio.run(samples(tpl, tpl.functions[name], env, False, n))
    out[name] = [found["init_p50_ms"], found["first_p50_ms"]]
print(json.dumps(out))
"""


def measure(tree: Path, n: int, functions: list[str]) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": f"{tree / 'infra'}{os.pathsep}{tree / 'shared'}"}
    out = subprocess.run([sys.executable, "-c", MEASURE, str(tree), str(n), *functions],
                         capture_output=True, text=True, env=env, cwd=tree, check=True)
    result: dict[str, list[float]] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--old", required=True, help="the commit to compare with")
    parser.add_argument("--n", type=int, default=10, help="cold starts per function and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("functions", nargs="*", default=DEFAULT_FUNCTIONS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "--detach", str(old), args.old], cwd=ROOT,
                       check=True, capture_output=True)
        try:
            rounds: dict[str, list[dict[str, list[float]]]] = {"old": [], "new": []}
            for _ in range(args.rounds):
                rounds["old"].append(measure(old, args.n, args.functions))
                rounds["new"].append(measure(ROOT, args.n, args.functions))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT,
                           check=False, capture_output=True)
    print(f"{'function':<24} {'init old':>16} {'init new':>16} {'first old':>16} "
          f"{'first new':>16}  (ms, p50 per round)")
    for name in args.functions:
        cells = [" / ".join(f"{r[name][i]:.0f}" for r in rounds[tree])
                 for i in (0, 1) for tree in ("old", "new")]
        print(f"{name:<24} {cells[0]:>16} {cells[1]:>16} {cells[2]:>16} {cells[3]:>16}")


if __name__ == "__main__":
    main()
