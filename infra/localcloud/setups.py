"""The setups a template may name in `Metadata.edu.setup`: what `edu up` does after it has
created the template's AWS resources. This project's platform is the one there is; a plain
SAM template names none."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from localcloud.template import TemplateError

if TYPE_CHECKING:
    from localcloud.stack import LocalCloud


def eduplatform(cloud: LocalCloud) -> list[str]:
    """SQL migrations, the local JWT signing keys, the local Stripe server's webhooks."""
    from edu.adapters.migrations import migrate
    from localcloud.platform_tasks import connect_stripe, ensure_jwt_keys

    applied = [f"applied migration {name}" for name in migrate(cloud.database_url)]
    return [*applied, ensure_jwt_keys(cloud), connect_stripe(cloud)]


PLATFORM = "eduplatform"  # this project's setup (`edu up` also loads its demo data)
SETUPS: dict[str, Callable[[LocalCloud], list[str]]] = {PLATFORM: eduplatform}


def run_setup(name: str, cloud: LocalCloud) -> list[str]:
    if name not in SETUPS:
        raise TemplateError(f"Metadata.edu.setup: unknown setup {name!r} "
                            f"(there is: {', '.join(SETUPS)})")
    return SETUPS[name](cloud)
