"""Raw tables loaded file by file: each refresh reads only the files that are new or changed since the last load.

Meant for big, append-mostly deliveries such as Migraciones' monthly full snapshots (1.6 M people × 12 months
would not fit in memory as one frame). One file = one batch of rows tagged with its `source_file`:
- a new file is inserted; a re-delivered file (different checksum) replaces its own rows, in one transaction, so
  re-delivering a month is idempotent and months may arrive in any order;
- a file that disappears from the landing zone keeps its rows (the warehouse keeps the history the landing zone
  may have pruned), and is listed as such in the asset's metadata;
- a change of the reader or of the pseudonymization key reloads every file (pseudonyms must stay comparable).

`meta.incremental_files` records every batch: file, checksum, signature, rows, when loaded and whether its rows
have passed the table's Great Expectations suite. The GX check validates only the batches not yet validated, one
file at a time, and marks them; a batch that failed stays pending (and blocks publishing) until it is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd

from dagster_project.pseudonymize import Pseudonymizer
from dagster_project.resources import transaction
from dagster_project.sources.landing import LandedFile, file_sha256, find_files, relative_name

LEDGER = "meta.incremental_files"
FileReader = Callable[[Path, Path, "Pseudonymizer | None"], pd.DataFrame]


@dataclass(frozen=True)
class FileBatches:
    """How a raw table is read file by file: the files `pattern` matches under `<landing>/<folder>`, each read
    by `read_file(path, landing_dir, pseudonymizer)`. Bump `reader_version` when the reader's output changes."""

    folder: str
    pattern: str
    read_file: FileReader
    reader_version: str = "1"


@dataclass
class IncrementalLoad:
    loaded: list[LandedFile] = field(default_factory=list)      # read and (re)written by this load
    unchanged: list[str] = field(default_factory=list)          # same checksum as already loaded: not read
    kept: list[str] = field(default_factory=list)               # loaded earlier, no longer in the landing zone
    rebuilt: bool = False                                       # reader or key changed: every file reloaded
    rows: int = 0                                               # rows in the table after the load
    files: list[LandedFile] = field(default_factory=list)      # every file whose rows are in the table


def _ensure_ledger(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute(
        "create schema if not exists meta; "
        f"create table if not exists {LEDGER} (raw_table varchar, source_file varchar, sha256 varchar, "
        "signature varchar, row_count bigint, loaded_at timestamp, validated boolean)"
    )


def _table_exists(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return connection.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()[0] > 0


def load_incrementally(connect, table: str, batches: FileBatches, landing_dir: Path,
                       pseudonymizer: Pseudonymizer | None, log=None) -> IncrementalLoad:
    """Bring `raw.<table>` up to date with the landing zone, reading only new or changed files.
    `connect()` opens the warehouse (a context manager). A LandingFileError from the reader propagates: files
    written before it stay loaded (each file is its own transaction), the failing one is not."""
    result = IncrementalLoad()
    suffix = f"{batches.reader_version}|{pseudonymizer.fingerprint() if pseudonymizer else '-'}"
    paths = find_files(landing_dir / batches.folder, batches.pattern)
    with connect() as connection:
        _ensure_ledger(connection)
        ledger = {name: (sha, signature) for name, sha, signature in connection.execute(
            f"select source_file, sha256, signature from {LEDGER} where raw_table = ?", [table]).fetchall()}
        if any(not signature.endswith("|" + suffix) for _, signature in ledger.values()) \
                or (ledger and not _table_exists(connection, "raw", table)):
            connection.execute(f"drop table if exists raw.{table}")
            connection.execute(f"delete from {LEDGER} where raw_table = ?", [table])
            ledger, result.rebuilt = {}, True
    landed_names = set()
    for path in paths:
        name = relative_name(path, landing_dir)
        landed_names.add(name)
        sha = file_sha256(path)
        if name in ledger and ledger[name][0] == sha:
            result.unchanged.append(name)
            continue
        frame = batches.read_file(path, landing_dir, pseudonymizer)
        _replace_batch(connect, table, name, sha, f"{sha}|{suffix}", frame)
        result.loaded.append(LandedFile(name, sha, len(frame)))
        if log:
            log.info(f"raw.{table}: {name} {'replaced' if name in ledger else 'added'} ({len(frame)} rows)")
        del frame
    result.kept = sorted(set(ledger) - landed_names)
    with connect() as connection:
        _ensure_ledger(connection)
        result.files = [LandedFile(name, sha, rows) for name, sha, rows in connection.execute(
            f"select source_file, sha256, row_count from {LEDGER} where raw_table = ? order by source_file",
            [table]).fetchall()]
        if _table_exists(connection, "raw", table):
            result.rows = int(connection.execute(f"select count(*) from raw.{table}").fetchone()[0])
    return result


def _replace_batch(connect, table: str, name: str, sha: str, signature: str, frame: pd.DataFrame) -> None:
    """One file's rows in, its previous rows (if any) out, and the ledger entry: one transaction."""
    with connect() as connection:
        connection.execute("create schema if not exists raw")
        connection.register("incoming_batch", frame)
        try:
            with transaction(connection):
                if _table_exists(connection, "raw", table):
                    connection.execute(f"delete from raw.{table} where source_file = ?", [name])
                    connection.execute(f"insert into raw.{table} by name select * from incoming_batch")
                else:
                    connection.execute(f"create table raw.{table} as select * from incoming_batch")
                connection.execute(f"delete from {LEDGER} where raw_table = ? and source_file = ?", [table, name])
                connection.execute(
                    f"insert into {LEDGER} values (?, ?, ?, ?, ?, ?, false)",
                    [table, name, sha, signature, len(frame), datetime.now(timezone.utc).replace(tzinfo=None)])
        finally:
            connection.unregister("incoming_batch")


def pending_batches(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str] | None:
    """The files of `schema.table` whose rows have not passed its GX suite yet; None when the table is not loaded
    incrementally (then the whole table is validated)."""
    if schema != "raw" or not _table_exists(connection, "meta", "incremental_files"):
        return None
    rows = connection.execute(f"select source_file, validated from {LEDGER} where raw_table = ? order by source_file",
                              [table]).fetchall()
    if not rows:
        return None
    return [name for name, validated in rows if not validated]


def mark_validated(connection: duckdb.DuckDBPyConnection, table: str, files: list[str]) -> None:
    if files:
        connection.execute(f"update {LEDGER} set validated = true where raw_table = ? and source_file in "
                           f"({', '.join('?' for _ in files)})", [table, *files])
