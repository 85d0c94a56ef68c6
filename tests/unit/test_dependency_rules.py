"""The layering rules of docs/architecture.md, read from every module's imports (inline ones
too): handlers use the shared package, never the local cloud; the shared package never
imports the local cloud; the Lambda runtime knows no domain; domain code imports no SDK or
adapter (those come in through its ports)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = ["analytics", "apikeys", "courses", "enrollment", "events", "identity", "live",
           "notifications", "video", "webhooks"]
SDKS = {"aws_lambda_powertools", "argon2", "boto3", "botocore", "httpx", "jwt", "meilisearch",
        "psycopg", "psycopg_pool", "pynamodb", "redis", "stripe"}


def imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def offenders(folders: list[Path], refused: set[str]) -> list[str]:
    """`file: module` for each import whose module is, or is inside, a refused one."""
    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            for module in imports(path):
                if any(module == r or module.startswith(r + ".") for r in refused):
                    shown = path.relative_to(ROOT if path.is_relative_to(ROOT) else folder)
                    found.append(f"{shown}: {module}")
    return found


@pytest.mark.parametrize(("rule", "folders", "refused"), [
    ("handlers use the shared package, never the local cloud",
     [ROOT / "functions"], {"localcloud", "tests"}),
    ("the shared package never imports the local cloud",
     [ROOT / "shared" / "edu"], {"localcloud", "tests"}),
    ("the Lambda runtime knows no domain", [ROOT / "infra" / "localcloud" / "runtime"],
     {"edu", "functions"}),
    ("domain code imports no SDK and no adapter or wiring",
     [ROOT / "shared" / "edu" / d for d in DOMAINS],
     SDKS | {"edu.adapters", "edu.services", "localcloud"}),
])
def test_a_layering_rule_holds(rule: str, folders: list[Path], refused: set[str]) -> None:
    assert all(folder.is_dir() for folder in folders)
    assert offenders(folders, refused) == [], rule


def test_the_rules_see_an_inline_import(tmp_path: Path) -> None:
    (tmp_path / "handler.py").write_text(
        "import json\n\ndef handler(event, context):\n    import boto3.session\n")
    assert offenders([tmp_path], {"boto3"}) == ["handler.py: boto3.session"]
