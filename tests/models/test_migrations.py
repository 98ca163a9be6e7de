"""The Alembic migrations build exactly the tables the models describe."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, Engine, bindparam, inspect, text
from sqlalchemy.dialects.postgresql import JSONB

from engine.audit import verify
from models import GENESIS_HASH, AuditEvent, Base, make_engine, make_session_factory
from models.migrate import alembic_config, current_is_head, upgrade
from tests.conftest import Database, empty_database


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


@pytest.fixture
def blank_url(db: Database, tmp_path: Path) -> Iterator[str]:
    """A second, empty database without any migration."""
    with empty_database(db, tmp_path, "blank") as url:
        yield url


# Payloads an intact chain held before revision 0013: scripts, quotes, numbers, nesting.
OLD_PAYLOADS: list[dict[str, Any]] = [
    {"process": "lane_task", "version": 1, "data_keys": ["seat"]},
    {"naslov": "Odluka o članstvu", "ё": ["секретаријат", "\u2705"], "n": None},
    {"quote": 'He said "no" \\ then\nleft', "tenth": 0.1, "big": 2**53 - 1, "ok": True},
    {},
]


def _chain_as_0012_wrote_it(engine: Engine) -> None:
    """Events appended as engine/audit.py did at revision 0012: the payload in a JSON column,
    the hash over its canonical text (ensure_ascii=False)."""
    payload_type = JSON().with_variant(JSONB(), "postgresql")
    insert = text(
        "INSERT INTO audit_event (seq, occurred_at, actor, kind, instance_id, payload, "
        "prev_hash, hash) VALUES (:seq, :at, :actor, 'note', NULL, :payload, :prev, :hash)"
    ).bindparams(
        bindparam("payload", type_=payload_type), bindparam("at", type_=AuditEvent.occurred_at.type)
    )

    def canonical(value: Any) -> str:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        )

    prev = GENESIS_HASH
    with engine.begin() as connection:
        for seq, payload in enumerate(OLD_PAYLOADS, start=1):
            at = datetime(2026, 12, 1, 9, tzinfo=UTC) + timedelta(minutes=seq)
            members = canonical([at.isoformat(), "sekretarijat", "note", None, payload])[1:-1]
            digest = hashlib.sha256(
                f"[{canonical(seq)},{members},{canonical(prev)}]".encode()
            ).hexdigest()
            connection.execute(
                insert,
                {
                    "seq": seq,
                    "at": at,
                    "actor": "sekretarijat",
                    "payload": payload,
                    "prev": prev,
                    "hash": digest,
                },
            )
            prev = digest
        connection.execute(
            text("UPDATE audit_chain_head SET seq = :seq, last_hash = :hash"),
            {"seq": len(OLD_PAYLOADS), "hash": prev},
        )


def test_an_intact_audit_chain_stays_intact_through_the_payload_text_migration(
    blank_url: str,
) -> None:
    upgrade(blank_url, "0012")
    engine = make_engine(blank_url)
    try:
        _chain_as_0012_wrote_it(engine)

        upgrade(blank_url, "0013")
        with make_session_factory(engine)() as session:
            report = verify(session)
            payloads = [e.payload for e in session.query(AuditEvent).order_by(AuditEvent.seq)]
        assert report.intact and report.checked == len(OLD_PAYLOADS), report.reason
        assert payloads == OLD_PAYLOADS

        command.downgrade(alembic_config(blank_url), "0012")
        with engine.connect() as connection:
            kept = connection.execute(
                text("SELECT payload FROM audit_event ORDER BY seq").columns(
                    payload=JSON().with_variant(JSONB(), "postgresql")
                )
            ).scalars()
            assert list(kept) == OLD_PAYLOADS
    finally:
        engine.dispose()


def _head_columns_and_function(url: str) -> tuple[set[str], bool]:
    """The chain head's columns, and whether PostgreSQL has the function iisg_one_row_written."""
    engine = make_engine(url)
    try:
        columns = {column["name"] for column in inspect(engine).get_columns("audit_chain_head")}
        with engine.connect() as connection:
            function = engine.dialect.name == "postgresql" and bool(
                connection.scalar(
                    text("SELECT to_regprocedure('iisg_one_row_written(bigint, text)') IS NOT NULL")
                )
            )
        return columns, function
    finally:
        engine.dispose()


def test_the_plain_writes_migration_drops_the_guarded_write_function_and_downgrade_restores_it(
    blank_url: str,
) -> None:
    postgresql = blank_url.startswith("postgresql")
    upgrade(blank_url, "0014")
    assert _head_columns_and_function(blank_url) == (
        {"id", "seq", "last_hash", "prev_hash"},
        postgresql,
    )

    upgrade(blank_url, "0015")
    assert _head_columns_and_function(blank_url) == ({"id", "seq", "last_hash"}, False)

    command.downgrade(alembic_config(blank_url), "0014")
    assert _head_columns_and_function(blank_url) == (
        {"id", "seq", "last_hash", "prev_hash"},
        postgresql,
    )
