"""What a durable local stack keeps under its home directory, how big it is, and wiping it
(`edu status`, `edu reset`)."""

from __future__ import annotations

import shutil
from pathlib import Path

# name -> what it holds; paths relative to the stack's home (LocalCloud.state_dir)
STATE_PARTS = {
    "aws": "the AWS endpoint: control-plane journal, DynamoDB items and stream records, SQS "
           "messages, SES mail (aws.sqlite), S3 objects (objects/)",
    "runtime": "the local runtime: where each DynamoDB stream mapping has read up to",
    "pg": "PostgreSQL's cluster",
    "redis": "Redis's snapshot",
    "stripe.pickle": "the local Stripe server's objects",
}


STREAM_POSITIONS = Path("runtime/stream-positions.json")  # under the stack's state directory


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def state_sizes(home: Path) -> list[tuple[str, Path, int]]:
    """(part, path, bytes) of each part that exists."""
    return [(name, home / name, size_of(home / name))
            for name in STATE_PARTS if (home / name).exists()]


def wipe(home: Path) -> list[str]:
    """Removes every part of the state; returns what it removed."""
    removed = []
    for name, path, _size in state_sizes(home):
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
        removed.append(name)
    return removed


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
