"""Create TimescaleDB hypertables only where the extension exists.

On plain PostgreSQL (the embedded server, CI) the tables stay ordinary, indexed tables and these
operations do nothing but log that they were skipped.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

log = logging.getLogger(__name__)


def timescale_available(schema_editor: BaseDatabaseSchemaEditor) -> bool:
    if schema_editor.connection.vendor != "postgresql":
        return False
    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
        return cur.fetchone() is not None


class CreateHypertable(migrations.RunPython):
    """Turn ``table`` into a hypertable on ``time_column`` with a compression policy."""

    def __init__(
        self,
        table: str,
        time_column: str,
        *,
        segment_by: str | None = None,
        chunk_interval: str = "7 days",
        compress_after: str = "30 days",
    ) -> None:
        self.table = table
        self.time_column = time_column
        self.segment_by = segment_by
        self.chunk_interval = chunk_interval
        self.compress_after = compress_after
        super().__init__(self._forward, migrations.RunPython.noop, elidable=False)

    def _forward(self, apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if not timescale_available(schema_editor):
            log.info("timescaledb not available: %s stays a plain table", self.table)
            return
        t, col = self.table, self.time_column
        with schema_editor.connection.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            # Hypertable unique indexes must contain the time column: widen the primary key.
            cur.execute(f'ALTER TABLE "{t}" DROP CONSTRAINT IF EXISTS "{t}_pkey"')
            cur.execute(f'ALTER TABLE "{t}" ADD PRIMARY KEY ("id", "{col}")')
            cur.execute(
                "SELECT create_hypertable(%s, %s, chunk_time_interval => %s::interval, "
                "migrate_data => true, if_not_exists => true)",
                [t, col, self.chunk_interval],
            )
            options = [f"timescaledb.compress, timescaledb.compress_orderby = '{col} DESC'"]
            if self.segment_by:
                options.append(f"timescaledb.compress_segmentby = '{self.segment_by}'")
            cur.execute(f'ALTER TABLE "{t}" SET ({", ".join(options)})')
            cur.execute(
                "SELECT add_compression_policy(%s, %s::interval, if_not_exists => true)",
                [t, self.compress_after],
            )
        log.info("timescaledb: %s is a hypertable on %s", t, col)

    def describe(self) -> str:
        return f"Create hypertable {self.table} (only where TimescaleDB exists)"
