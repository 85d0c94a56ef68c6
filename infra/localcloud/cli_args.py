"""What several `edu` commands share: their common options, and the stack, template and
environment those options name."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from localcloud.config import CloudConfig
from localcloud.template import (
    TemplateError,
    apply_env_vars,
    load_template,
)


def budget_args(p: argparse.ArgumentParser) -> None:
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


def machine_budget(args: argparse.Namespace) -> Any:
    from localcloud.runtime.admission import Budget

    return Budget.for_machine(args.max_concurrency, args.max_cold_starts, args.max_start_wait,
                              args.max_queue_wait)


def stack_config(args: argparse.Namespace) -> CloudConfig:
    """The stack of the template `-t` names, else of the template.yaml here or above."""
    given = getattr(args, "template", None)
    return CloudConfig.from_env(template=Path(given) if given else None)


def debug_args(p: argparse.ArgumentParser, one_function: bool = False) -> None:
    if not one_function:
        p.add_argument("--debug-function", default=None, metavar="FN",
                       help="the function whose worker waits for a debugger (with "
                       "--debug-port)")
    p.add_argument("-d", "--debug-port", type=int, default=None, metavar="PORT",
                   help="the function's worker listens here for a DAP debugger (debugpy) "
                   "and waits for it; one worker, no timeout while it is debugged")


def prepare_debugging(args: argparse.Namespace, template: Any, function: str | None) -> None:
    from localcloud.runtime.debug import debug_function

    if args.debug_port is None:
        return
    if not function:
        raise TemplateError("--debug-port needs --debug-function FN")
    debug_function(template, function, args.debug_port)


def env_vars_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("-n", "--env-vars", default=None, metavar="FILE",
                   help="JSON file of environment overrides in SAM's format: "
                   '{"Parameters": {...} for every function, "FunctionId": {...} for one}')


def template_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-t", "--template", default=None,
                   help="template file (default: ./template.yaml)")
    p.add_argument("--parameter-overrides", default="",
                   help="space-separated Key=Value template parameters")


def parse_overrides(text: str) -> dict[str, str]:
    out = {}
    for item in text.split():
        if "=" not in item:
            raise SystemExit(f"--parameter-overrides: {item!r} is not Key=Value")
        k, v = item.split("=", 1)
        out[k.removeprefix("ParameterKey=")] = v
    return out


def load_for_runtime(args: argparse.Namespace) -> Any:
    cfg = stack_config(args)
    path = cfg.template_path
    endpoint = cfg.aws_endpoint_url or f"http://127.0.0.1:{cfg.aws_port}"
    overrides = parse_overrides(args.parameter_overrides)
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
        prepare_debugging(args, template, getattr(args, "debug_function", None)
               or getattr(args, "function", None))
    base_env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_ENDPOINT_URL": endpoint}
    if "EDU_AWS_PLACEHOLDER_SIGNATURE" in os.environ:  # "false": functions sign fully
        base_env["EDU_AWS_PLACEHOLDER_SIGNATURE"] = os.environ["EDU_AWS_PLACEHOLDER_SIGNATURE"]
    return template, base_env


def loopback(host: str) -> bool:
    import ipaddress

    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
