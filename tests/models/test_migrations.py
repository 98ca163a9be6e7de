"""The Alembic migrations build exactly the tables the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from models import Base
from models.migrate import current_is_head
from tests.conftest import Database


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_the_test_database_is_at_the_newest_migration(db: Database) -> None:
    assert current_is_head(db.url)


def test_the_instance_state_is_compressed_with_lz4_where_the_server_has_it(db: Database) -> None:
    # PostgreSQL rewrites the state on every step; lz4 costs less than its default (pglz).
    if not db.is_postgresql:
        pytest.skip("SQLite stores the state uncompressed: nothing to check there")
    with db.engine.connect() as connection:
        has_lz4 = connection.scalar(
            text(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                "WHERE name = 'default_toast_compression'"
            )
        )
        compression = connection.scalar(
            text(
                "SELECT attcompression FROM pg_attribute "
                "WHERE attrelid = 'process_instance'::regclass AND attname = 'state_json'"
            )
        )
    assert compression == ("l" if has_lz4 else "")


def test_postgresql_refuses_a_guarded_write_that_wrote_no_row(db: Database) -> None:
    # engine/guarded_writes.py: a write whose row changed meanwhile is a conflict (40001).
    if not db.is_postgresql:
        pytest.skip("SQLite counts the rows written in Python: nothing to check there")
    refuse = text("SELECT iisg_one_row_written(:written, 'the row changed')")
    with db.engine.connect() as connection:
        assert connection.scalar(refuse, {"written": 1}) == 1
        with pytest.raises(DBAPIError) as refused:
            connection.scalar(refuse, {"written": 0})
    assert getattr(refused.value.orig, "sqlstate", None) == "40001"
    assert "the row changed" in str(refused.value)
