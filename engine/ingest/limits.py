"""What an upload may become: rows, columns, column-name length and decoded size.

The compressed size of an upload says little about what it holds: a small zstd Parquet file can
declare millions of rows. These limits are checked from what a file declares before anything
is decoded (the Parquet footer, the CSV header), and again while the copy is streamed, so that
a file whose footer lies is stopped after one batch.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.ingest.errors import IngestError, format_size

# The setting each limit is configured by, so that a refusal tells an operator what to change.
SETTINGS = {
    "max_rows": "STUDIO_MAX_ROWS",
    "max_columns": "STUDIO_MAX_COLUMNS",
    "max_column_name": "STUDIO_MAX_COLUMN_NAME",
    "max_data_bytes": "STUDIO_MAX_UNCOMPRESSED_MB",
}


@dataclass(frozen=True)
class Limits:
    max_rows: int = 2_000_000
    max_columns: int = 2_000
    max_column_name: int = 255
    max_data_bytes: int = 2**30  # the decoded table, as Arrow holds it in memory

    def check_columns(self, names: list[str]) -> None:
        if len(names) > self.max_columns:
            raise IngestError(
                f"The file has {len(names):,} columns; this studio's limit is "
                f"{self.max_columns:,} ({SETTINGS['max_columns']}).",
                status=413,
                code="too_many_columns",
            )
        for position, name in enumerate(names, start=1):
            if len(name) > self.max_column_name:
                raise IngestError(
                    f"Column {position}'s name is {len(name):,} characters long "
                    f"(it starts {name[:40]!r}); this studio's limit is {self.max_column_name:,} "
                    f"({SETTINGS['max_column_name']}).",
                    code="column_name_too_long",
                )

    def check_rows(self, n_rows: int, *, exact: bool) -> None:
        if n_rows > self.max_rows:
            count = f"{n_rows:,}" if exact else f"more than {self.max_rows:,}"
            raise IngestError(
                f"The file has {count} rows; this studio's limit is {self.max_rows:,} "
                f"({SETTINGS['max_rows']}).",
                status=413,
                code="too_many_rows",
            )

    def check_data_bytes(self, n_bytes: int, *, exact: bool) -> None:
        if n_bytes > self.max_data_bytes:
            size = (
                format_size(n_bytes) if exact else f"more than {format_size(self.max_data_bytes)}"
            )
            raise IngestError(
                f"The file decompresses to {size} of data; this studio's limit is "
                f"{format_size(self.max_data_bytes)} ({SETTINGS['max_data_bytes']}).",
                status=413,
                code="too_large_uncompressed",
            )
