from pathlib import Path

import pytest

from edu.adapters.migrations import MIGRATIONS_DIR, MigrationError, discover


def test_project_migrations_are_numbered_in_order() -> None:
    found = discover()
    assert found, f"no migrations in {MIGRATIONS_DIR}"
    versions = [m.version for m in found]
    assert versions == sorted(versions)


def test_badly_named_migration_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "1_init.sql").write_text("select 1;")
    with pytest.raises(MigrationError, match="NNNN_snake_case"):
        discover(tmp_path)


def test_duplicate_numbers_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("select 1;")
    (tmp_path / "0001_b.sql").write_text("select 2;")
    with pytest.raises(MigrationError, match="duplicate"):
        discover(tmp_path)
