"""Writes events/schemas/<type>.json from the payload models (the contracts' one source)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from edu.events import EVENT_TYPES, Envelope


def schema_for(event_type: str) -> dict[str, Any]:
    envelope = Envelope.model_json_schema()
    envelope["title"] = event_type
    envelope["properties"]["type"] = {"const": event_type}
    envelope["properties"]["data"] = EVENT_TYPES[event_type].model_json_schema()
    envelope["required"] = ["id", "type", "version", "occurred_at", "source", "data"]
    envelope["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return envelope


def render_all() -> dict[str, str]:
    return {f"{t}.json": json.dumps(schema_for(t), indent=2, sort_keys=True) + "\n"
            for t in sorted(EVENT_TYPES)}


def main(out_dir: str = "events/schemas") -> None:
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    for name, text in render_all().items():
        (target / name).write_text(text)
        print(f"wrote {target / name}")


if __name__ == "__main__":
    main(*sys.argv[1:])
