"""The whole local stack: AWS (moto), PostgreSQL, Redis, resources, migrations, the runtime.

`edu up` and the test fixtures both use `LocalCloud`; each part can also start alone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from localcloud.aws import bootstrap
from localcloud.backing import (
    Service,
    aws_endpoint_healthy,
    ensure_database,
    pg_ready,
    redis_ready,
    start_moto,
    start_postgres,
    start_redis,
    start_stripe,
    stripe_healthy,
)
from localcloud.config import CloudConfig
from localcloud.template import (
    LocalExtras,
    Template,
    TemplateError,
    load_template,
    read_local_extras,
)

LOCAL_AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass
class LocalCloud:
    """The local stack. `durable`: its state is kept under the home directory and survives
    restarts and crashes (the AWS endpoint's in `aws/`, PostgreSQL's in `pg/`, Redis's and
    Stripe's beside); a stack that is not durable keeps nothing it can lose (tests, CI,
    `edu up --ephemeral`): the AWS endpoint and Stripe in memory, PostgreSQL and Redis in a
    directory of their own that `stop` removes."""

    config: CloudConfig
    durable: bool = True
    services: dict[str, Service] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)  # extra template parameters
    stack_name: str | None = None  # default: samconfig.toml's, else sam-app
    _scratch: Path | None = field(default=None, repr=False)
    _extras: LocalExtras | None = field(default=None, repr=False)

    @property
    def extras(self) -> LocalExtras:
        """What the template asks `edu up` to run besides the AWS endpoint."""
        if self._extras is None:
            self._extras = read_local_extras(self.config.template_path)
        return self._extras

    @property
    def aws_url(self) -> str:
        return self.services["aws"].url

    @property
    def database_url(self) -> str:
        return self.services["postgres"].url

    @property
    def redis_url(self) -> str:
        return self.services["redis"].url

    @property
    def stripe_url(self) -> str:
        return self.services["stripe"].url

    def start(self, log: bool = True) -> None:
        cfg = self.config
        logs = cfg.home / "logs"
        try:
            if cfg.aws_endpoint_url:
                self.services["aws"] = _given("aws", cfg.aws_endpoint_url, aws_endpoint_healthy,
                                              "AWS_ENDPOINT_URL")
            else:
                self.services["aws"] = start_moto(
                    cfg.aws_port, logs / "moto.log",
                    state=self.state_dir / "aws" if self.durable else None)
            wanted = self.extras.services
            if "postgres" in wanted and cfg.database_url:
                ensure_database(cfg.database_url)
                self.services["postgres"] = _given("postgres", cfg.database_url, pg_ready,
                                                   "DATABASE_URL")
            elif "postgres" in wanted:
                self.services["postgres"] = start_postgres(
                    self.state_dir / "pg", cfg.pg_port, logs / "postgres.log", durable=self.durable)
            if "redis" in wanted and cfg.redis_url:
                self.services["redis"] = _given("redis", cfg.redis_url, redis_ready,
                                                "REDIS_URL")
            elif "redis" in wanted:
                self.services["redis"] = start_redis(self.state_dir / "redis", cfg.redis_port,
                                                     logs / "redis.log")
            if "stripe" in wanted and cfg.stripe_api_base:
                self.services["stripe"] = _given("stripe", cfg.stripe_api_base,
                                                 stripe_healthy, "EDU_STRIPE_API_BASE")
            elif "stripe" in wanted:
                self.services["stripe"] = start_stripe(
                    cfg.stripe_port, logs / "stripe.log",
                    cfg.home / "stripe.pickle" if self.durable else None)
        except BaseException:
            self.stop()
            raise

    @classmethod
    def attach(cls, config: CloudConfig) -> LocalCloud:
        """The stack a running `edu up` describes in its state file (nothing is started)."""
        state = read_state(config)
        if not state:
            raise RuntimeError("edu up is not running here (no .edu/state.json); start it "
                               "first")
        cloud = cls(config)
        services = state.get("services") or {}
        assert isinstance(services, dict)
        for name, info in services.items():
            cloud.services[name] = Service(name, str(info["url"]))
        return cloud

    def template(self) -> Template:
        return load_template(self.config.template_path, endpoint=self.aws_url,
                             parameter_overrides=self.parameter_overrides(),
                             stack_name=self.stack_name)

    def parameter_overrides(self) -> dict[str, str]:
        """The template's local parameters (`Metadata.edu.parameters`, pointing functions at
        this stack's services), then those given."""
        api = f"http://127.0.0.1:{self.config.api_port}"
        urls = {name: service.url for name, service in self.services.items()}
        urls.update(api=api, api_port=str(self.config.api_port))
        overrides = {}
        for name, value in self.extras.parameters.items():
            try:
                overrides[name] = value.format(**urls)
            except KeyError as missing:
                raise TemplateError(
                    f"{self.config.template_path}: Metadata.edu.parameters.{name} names "
                    f"{missing}, which this stack does not run") from None
        overrides.update(self.overrides)
        return overrides

    def provision(self) -> list[str]:
        """Creates the template's AWS resources (dropping those a durable stack's template no
        longer declares), then runs the template's declared setup; a line per change."""
        from localcloud.provisioned import drop_removed

        template = self.template()
        dropped = (drop_removed(template, self.aws_url, self.state_dir / "provisioned.json")
                   if self.durable else [])
        report = bootstrap(template, self.aws_url)
        lines = [f"created {line}" for line in report.created] + dropped
        if self.extras.setup:
            from localcloud.setups import run_setup

            lines += run_setup(self.extras.setup, self)
        return lines

    def function_env(self) -> dict[str, str]:
        """What every local function sees besides its template variables."""
        return {**LOCAL_AWS_ENV, "AWS_ENDPOINT_URL": self.aws_url}

    @property
    def state_dir(self) -> Path:
        """Where the stack's services keep their data."""
        if self.durable:
            return self.config.home
        if self._scratch is None:
            import tempfile

            self._scratch = Path(tempfile.mkdtemp(prefix="edu-ephemeral-"))
        return self._scratch

    def stop(self) -> None:
        for name in reversed(list(self.services)):
            self.services[name].stop()
        if self._scratch is not None:
            import shutil

            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def write_state(self, extra: dict[str, str]) -> None:
        self.config.home.mkdir(parents=True, exist_ok=True)
        state = {"pid": os.getpid(),
                 "services": {n: {"url": s.url, "pid": s.pid, "embedded": s.embedded}
                              for n, s in self.services.items()},
                 **extra}
        self.config.state_file.write_text(json.dumps(state, indent=2))

    def clear_state(self) -> None:
        self.config.state_file.unlink(missing_ok=True)


@contextmanager
def throwaway_cloud(root: Path) -> Iterator[LocalCloud]:
    """A started and provisioned stack on free ports in a temp dir (benchmarks), stopped on
    exit; nothing survives it."""
    import tempfile

    cloud = LocalCloud(CloudConfig.ephemeral(root, Path(tempfile.mkdtemp(prefix="edu-"))),
                       durable=False)
    cloud.start()
    try:
        cloud.provision()
        yield cloud
    finally:
        cloud.stop()


def _given(name: str, url: str, healthy: object, setting: str) -> Service:
    check = healthy if callable(healthy) else None
    if check is not None and not check(url):
        raise RuntimeError(f"{setting}={_redact(url)} does not answer; start it or unset "
                           f"{setting} to use an embedded {name}")
    return Service(name, url, note=f"given by {setting}")


def _redact(url: str) -> str:
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


def read_state(config: CloudConfig) -> dict[str, object] | None:
    path: Path = config.state_file
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
