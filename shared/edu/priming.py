"""SnapStart priming: before a function's snapshot is taken (locally, before the zygote
forks workers), the imports and AWS clients a first request would otherwise pay for
(docs/benchmarks/journal.md). Registered with AWS's snapshot_restore_py hooks when the
function's layers ship it; imported by edu.services, so every handler that wires a service
is primed."""

from __future__ import annotations

from edu.adapters.registry import get_adapters

PRIMED_MODULES = ("psycopg", "psycopg_pool", "redis", "boto3", "pynamodb.models", "jwt",
                  "cryptography.hazmat.primitives.asymmetric.rsa")
PRIMED_CLIENTS = ("events", "secretsmanager", "s3", "sqs")


def prime_for_snapshot() -> None:
    """Runs before the snapshot, not per request. Nothing that holds a socket or a thread: a
    snapshot's connections would be shared by every restored worker, and threads do not
    survive the fork."""
    import importlib

    for module in PRIMED_MODULES:
        try:
            importlib.import_module(module)
        except ImportError:  # not in this function's layers
            continue
    adapters = get_adapters()
    for service in PRIMED_CLIENTS:
        adapters.aws_client(service)  # botocore loads the service model; no connection yet
    try:
        from edu.adapters.dynamo_base import shared_client
    except ImportError:  # no pynamodb in this function's layers
        return
    shared_client(adapters.settings.aws_endpoint_url, adapters.settings.region)


try:
    from snapshot_restore_py import register_before_snapshot
except ImportError:  # a function without the API layer: no priming
    pass
else:
    register_before_snapshot(prime_for_snapshot)


try:
    from snapshot_restore_py import register_before_snapshot
except ImportError:  # a function without the API layer: no priming
    pass
else:
    register_before_snapshot(prime_for_snapshot)
