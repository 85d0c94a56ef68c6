"""The signature check teachers are told to use, straight from docs/webhooks.md."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_verify() -> Callable[..., bool]:
    """The `verify` function exactly as the docs show it to teachers."""
    (code,) = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.S)
    namespace: dict[str, object] = {}
    exec(compile(code, str(DOCS), "exec"), namespace)
    verify = namespace["verify"]
    assert callable(verify)
    return verify  # type: ignore[return-value]
