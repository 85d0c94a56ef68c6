"""Where the local cloud runs: ports, data directory, and given URLs (read from env once)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from localcloud.template import find_template


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        port = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a port number") from None
    if not 0 < port < 65536:
        raise SystemExit(f"{name}={port} is out of range 1..65535")
    return port


@dataclass(frozen=True)
class CloudConfig:
    root: Path
    home: Path
    aws_port: int
    pg_port: int
    redis_port: int
    api_port: int
    lambda_port: int
    aws_endpoint_url: str | None
    database_url: str | None
    redis_url: str | None
    stripe_port: int = 8420
    ws_port: int = 3002  # the template's WebSocket API, when it declares one
    stripe_api_base: str | None = None  # a Stripe-compatible server you already run
    template_file: Path | None = None  # `-t`; default: template.yaml in `root`

    @property
    def template_path(self) -> Path:
        return self.template_file or self.root / "template.yaml"

    @property
    def state_file(self) -> Path:
        return self.home / "state.json"

    @classmethod
    def ephemeral(cls, root: Path, home: Path, **given: str | None) -> CloudConfig:
        """A throwaway stack on free ports (tests, benchmarks); `given` may name URLs of
        servers to use instead (database_url, redis_url, aws_endpoint_url)."""
        from localcloud.procs import free_port

        return cls(root=root, home=home, aws_port=free_port(), pg_port=free_port(),
                   redis_port=free_port(), api_port=free_port(), lambda_port=free_port(),
                   aws_endpoint_url=given.get("aws_endpoint_url"),
                   database_url=given.get("database_url"),
                   redis_url=given.get("redis_url"), stripe_port=free_port(),
                   ws_port=free_port())

    @classmethod
    def from_env(cls, root: Path | None = None, template: Path | None = None) -> CloudConfig:
        """`template` (edu's `-t`) also sets the root: its folder, where `.edu` goes."""
        if template is not None:
            template = template.resolve()
            root = template.parent
        root = root or find_template().parent
        home = Path(os.environ.get("EDU_HOME", root / ".edu")).resolve()
        return cls(
            template_file=template,
            root=root,
            home=home,
            aws_port=_port("EDU_AWS_PORT", 4566),
            pg_port=_port("EDU_PG_PORT", 5433),
            redis_port=_port("EDU_REDIS_PORT", 6380),
            api_port=_port("EDU_API_PORT", 3000),
            lambda_port=_port("EDU_LAMBDA_PORT", 3001),
            ws_port=_port("EDU_WS_PORT", 3002),
            aws_endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
            database_url=os.environ.get("DATABASE_URL") or None,
            redis_url=os.environ.get("REDIS_URL") or None,
            stripe_port=_port("EDU_STRIPE_PORT", 8420),
            stripe_api_base=os.environ.get("EDU_STRIPE_API_BASE") or None,
        )
