"""Raw tables loaded file by file: each refresh reads only the files that are new or changed since the last load.

Meant for big, append-mostly deliveries such as Migraciones' monthly full snapshots (1.6 M people × 12 months
would not fit in memory as one frame). One file = one batch of rows tagged with its `source_file`:
- a new file is inserted; a re-delivered file (different checksum) replaces its own rows, in one transaction, so
  re-delivering a month is idempotent and months may arrive in any order;
- a file that disappears from the landing zone keeps its rows (the warehouse keeps the history the landing zone
  may have pruned), and is listed as such in the asset's metadata;
- a change of the reader or of the pseudonymization key reloads every file (pseudonyms must stay comparable).

`meta.incremental_files` records every batch: file, checksum, signature, rows, when loaded and whether its rows
have passed the table's Great Expectations suite. Each file is validated as it is read (the table's `gate`, see
`quality/quarantine.py`): rows breaking a row rule go to `raw.<table>_quarantine`, the rest to `raw.<table>`, and
the outcome is kept in the ledger for the table's check to report. A file that failed stays pending (and blocks
publishing) until a corrected one replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import duckdb
import pandas as pd

from dagster_project.pseudonymize import Pseudonymizer
from dagster_project.resources import transaction
from dagster_project.sources.landing import LandedFile, file_sha256, find_files, relative_name

if TYPE_CHECKING:  # pragma: no cover
    from dagster_project.quality.quarantine import GateResult, RowRuleGate

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
    quarantined: dict[str, int] = field(default_factory=dict)   # file read now → rows set aside by a row rule
    quarantine_preview: pd.DataFrame | None = None              # first quarantine lines of this load
    failed: dict[str, str] = field(default_factory=dict)        # file read now → why its rows failed the suite


def _ensure_ledger(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute(
        "create schema if not exists meta; "
        f"create table if not exists {LEDGER} (raw_table varchar, source_file varchar, sha256 varchar, "
        "signature varchar, row_count bigint, loaded_at timestamp, validated boolean); "
        # added with load-time row rules: rows set aside, and the validation outcome (JSON) when checked at load
        f"alter table {LEDGER} add column if not exists quarantined_rows bigint; "
        f"alter table {LEDGER} add column if not exists load_validation varchar"
    )


def _table_exists(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return connection.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()[0] > 0


def load_incrementally(connect, table: str, batches: FileBatches, landing_dir: Path,
                       pseudonymizer: Pseudonymizer | None, log=None, gate: "RowRuleGate | None" = None) -> IncrementalLoad:
    """Bring `raw.<table>` up to date with the landing zone, reading only new or changed files.
    `connect()` opens the warehouse (a context manager). A LandingFileError from the reader propagates: files
    written before it stay loaded (each file is its own transaction), the failing one is not. With a `gate`,
    each file's rows are validated as read and those breaking a row rule go to `raw.<table>_quarantine`."""
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
            connection.execute(f"drop table if exists raw.{table}_quarantine")
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
        checked = gate(frame) if gate else None
        if checked is not None:
            del frame
            frame = checked.valid
            result.quarantined[name] = int(checked.quarantined["source_row"].nunique())
            if result.quarantine_preview is None or len(result.quarantine_preview) < 50:
                result.quarantine_preview = pd.concat(
                    [p for p in (result.quarantine_preview, checked.quarantined.head(50)) if p is not None])
            if not checked.passed:
                result.failed[name] = checked.summary
        frame = frame[[c for c in frame.columns if not c.startswith("_")]]  # the reader's helper columns
        _replace_batch(connect, table, name, sha, f"{sha}|{suffix}", frame, checked)
        result.loaded.append(LandedFile(name, sha, len(frame)))
        if log:
            log.info(f"raw.{table}: {name} {'replaced' if name in ledger else 'added'} ({len(frame)} rows)"
                     + (f", {result.quarantined[name]} row(s) quarantined" if checked is not None else ""))
            if name in result.failed:
                log.warning(result.failed[name])
        del frame, checked
    result.kept = sorted(set(ledger) - landed_names)
    with connect() as connection:
        _ensure_ledger(connection)
        if gate is not None and not _table_exists(connection, "raw", f"{table}_quarantine"):
            connection.execute("create schema if not exists raw")
            connection.register("empty_quarantine", gate.empty_quarantine())
            connection.execute(f"create table raw.{table}_quarantine as select * from empty_quarantine")
            connection.unregister("empty_quarantine")
        result.files = [LandedFile(name, sha, rows) for name, sha, rows in connection.execute(
            f"select source_file, sha256, row_count from {LEDGER} where raw_table = ? order by source_file",
            [table]).fetchall()]
        if _table_exists(connection, "raw", table):
            result.rows = int(connection.execute(f"select count(*) from raw.{table}").fetchone()[0])
    return result


def _replace_batch(connect, table: str, name: str, sha: str, signature: str, frame: pd.DataFrame,
                   checked: "GateResult | None" = None) -> None:
    """One file's rows (and quarantine lines) in, its previous ones (if any) out, and the ledger entry: one
    transaction."""
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    # every row carries when its file was loaded: incremental models downstream rebuild from the earliest changed month
    frame = frame.assign(loaded_at=pd.Series(loaded_at, index=frame.index, dtype="datetime64[us]"))
    with connect() as connection:
        connection.execute("create schema if not exists raw")
        connection.register("incoming_batch", frame)
        if checked is not None:
            connection.register("incoming_quarantine", checked.quarantined)
        try:
            with transaction(connection):
                _replace_rows(connection, f"raw.{table}", "incoming_batch", name)
                if checked is not None:
                    _replace_rows(connection, f"raw.{table}_quarantine", "incoming_quarantine", name)
                connection.execute(f"delete from {LEDGER} where raw_table = ? and source_file = ?", [table, name])
                connection.execute(
                    f"insert into {LEDGER} (raw_table, source_file, sha256, signature, row_count, loaded_at, "
                    "validated, quarantined_rows, load_validation) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [table, name, sha, signature, len(frame), loaded_at,
                     bool(checked and checked.passed),
                     None if checked is None else int(checked.quarantined["source_row"].nunique()),
                     None if checked is None else checked.outcome_json])
        finally:
            connection.unregister("incoming_batch")
            if checked is not None:
                connection.unregister("incoming_quarantine")


def _replace_rows(connection: duckdb.DuckDBPyConnection, target: str, incoming: str, source_file: str) -> None:
    schema, table = target.split(".")
    if _table_exists(connection, schema, table):
        connection.execute(f"delete from {target} where source_file = ?", [source_file])
        connection.execute(f"insert into {target} by name select * from {incoming}")
    else:
        connection.execute(f"create table {target} as select * from {incoming}")


def has_quarantine(connection: duckdb.DuckDBPyConnection, table: str) -> bool:
    """raw.<table> is validated file by file as it loads (its load always creates raw.<table>_quarantine)."""
    return _table_exists(connection, "raw", f"{table}_quarantine")


def load_validations(connection: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, bool, int, str]]:
    """Per file of a table validated at load: (file, passed, rows quarantined, outcome JSON)."""
    if not _table_exists(connection, "meta", "incremental_files"):
        return []
    has_outcomes = connection.execute(
        "select count(*) from information_schema.columns where table_schema = 'meta' "
        "and table_name = 'incremental_files' and column_name = 'load_validation'").fetchone()[0]
    if not has_outcomes:
        return []
    return connection.execute(
        f"select source_file, validated, coalesce(quarantined_rows, 0), load_validation from {LEDGER} "
        "where raw_table = ? order by source_file", [table]).fetchall()
