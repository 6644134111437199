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

A table whose files come from many senders (`reject_unreadable`, the partners' 5W files) does not stop at a file that
cannot be read at all: that file is rejected whole (its rows, if an earlier version had loaded, leave the table),
listed in `raw.<table>_rejected_files` with the reason, and kept in the ledger as failed, so the table's blocking
check fails until a readable file replaces it; the other files load. A `fingerprint` of what the rules compare
against (reference lists) is part of each file's signature: when it changes, every file is validated again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import json

import duckdb
import pandas as pd

from dagster_project.pseudonymize import Pseudonymizer
from dagster_project.resources import transaction
from dagster_project.quality.quarantine import rows_set_aside
from dagster_project.sources.landing import LandedFile, LandingFileError, file_sha256, find_files, relative_name

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
    # what the row rules compare against, as a short text (landing_dir → fingerprint): part of each file's signature
    fingerprint: Callable[[Path], str] | None = None
    # values the row rules take as {"$PARAMETER": ...} besides the quality resource's (landing_dir → parameters)
    parameters: Callable[[Path], dict] | None = None
    # a file that cannot be read is rejected whole and the other files still load (else the load stops there)
    reject_unreadable: bool = False
    # lists the files itself (landing_dir → paths), e.g. in month sub-folders; else `pattern` in `folder`
    find: Callable[[Path], list[Path]] | None = None
    # rows carry source_sheet (workbooks read sheet by sheet): the quarantine key is (file, sheet, row)
    with_sheet: bool = False


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
    rejected: dict[str, str] = field(default_factory=dict)      # file read now that could not be read → why
    quarantined_by_rule: dict[str, dict[str, int]] = field(default_factory=dict)  # file read now → rule → rows


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
                       pseudonymizer: Pseudonymizer | None, log=None, gate: "RowRuleGate | None" = None,
                       on_file_checked: Callable[[Path, str, pd.DataFrame, "GateResult | None"], None] | None = None,
                       ) -> IncrementalLoad:
    """Bring `raw.<table>` up to date with the landing zone, reading only new or changed files.
    `connect()` opens the warehouse (a context manager). A LandingFileError from the reader propagates: files
    written before it stay loaded (each file is its own transaction), the failing one is not. With a `gate`,
    each file's rows are validated as read and those breaking a row rule go to `raw.<table>_quarantine`.
    `on_file_checked(path, name, rows as read, gate result)` runs after each file read now (error reports)."""
    result = IncrementalLoad()
    suffix = f"{batches.reader_version}|{pseudonymizer.fingerprint() if pseudonymizer else '-'}"
    if batches.fingerprint is not None:
        suffix = f"{batches.fingerprint(landing_dir)}|{suffix}"
    paths = batches.find(landing_dir) if batches.find else find_files(landing_dir / batches.folder, batches.pattern)
    with connect() as connection:
        _ensure_ledger(connection)
        ledger = {name: (sha, signature) for name, sha, signature in connection.execute(
            f"select source_file, sha256, signature from {LEDGER} where raw_table = ?", [table]).fetchall()}
        if any(not signature.endswith("|" + suffix) for _, signature in ledger.values()) \
                or (ledger and not _table_exists(connection, "raw", table)):
            connection.execute(f"drop table if exists raw.{table}")
            connection.execute(f"drop table if exists raw.{table}_quarantine")
            connection.execute(f"drop table if exists {rejected_files_table(table)}")
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
        try:
            frame = batches.read_file(path, landing_dir, pseudonymizer)
        except LandingFileError as error:
            if not batches.reject_unreadable:
                raise
            _reject_file(connect, table, name, sha, f"{sha}|{suffix}", error)
            result.rejected[name] = str(error)
            if log:
                log.warning(f"raw.{table}: {name} rejected whole: {error}")
            continue
        checked = gate(frame) if gate else None
        if on_file_checked is not None:
            on_file_checked(path, name, frame, checked)
        if checked is not None:
            del frame
            frame = checked.valid
            result.quarantined[name] = rows_set_aside(checked.quarantined)
            result.quarantined_by_rule[name] = {
                str(rule): int(count) for rule, count in checked.quarantined.groupby("rule").size().items()}
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
        if batches.reject_unreadable:
            connection.execute(
                "create schema if not exists raw; "
                f"create table if not exists {rejected_files_table(table)} (source_file varchar, sha256 varchar, "
                "reason varchar, source_row bigint, column_name varchar, rejected_at timestamp)")
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
                _forget_rejection(connection, table, name)
                connection.execute(f"delete from {LEDGER} where raw_table = ? and source_file = ?", [table, name])
                connection.execute(
                    f"insert into {LEDGER} (raw_table, source_file, sha256, signature, row_count, loaded_at, "
                    "validated, quarantined_rows, load_validation) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [table, name, sha, signature, len(frame), loaded_at,
                     bool(checked and checked.passed),
                     None if checked is None else rows_set_aside(checked.quarantined),
                     None if checked is None else checked.outcome_json])
        finally:
            connection.unregister("incoming_batch")
            if checked is not None:
                connection.unregister("incoming_quarantine")


def rejected_files_table(table: str) -> str:
    return f"raw.{table}_rejected_files"


def _reject_file(connect, table: str, name: str, sha: str, signature: str, error) -> None:
    """A file that cannot be read: its rows (from an earlier version) out, a rejection line in, the ledger entry
    failed with the reason, in one transaction."""
    rejected_at = datetime.now(timezone.utc).replace(tzinfo=None)
    outcome = {"suite": table, "success": False, "evaluated": 1, "rows": 0, "data_docs_url": "", "failed": [{
        "expectation": "file_can_be_read", "column": error.column, "kwargs": {}, "reason": "The file must be readable.",
        "unexpected_count": None, "unexpected_percent": None, "examples": [], "error": str(error)}]}
    with connect() as connection:
        connection.execute("create schema if not exists raw")
        connection.execute(
            f"create table if not exists {rejected_files_table(table)} (source_file varchar, sha256 varchar, "
            "reason varchar, source_row bigint, column_name varchar, rejected_at timestamp)")
        with transaction(connection):
            for target in (f"raw.{table}", f"raw.{table}_quarantine", rejected_files_table(table)):
                schema, name_only = target.split(".")
                if _table_exists(connection, schema, name_only):
                    connection.execute(f"delete from {target} where source_file = ?", [name])
            connection.execute(f"insert into {rejected_files_table(table)} values (?, ?, ?, ?, ?, ?)",
                               [name, sha, error.reason, error.row, error.column, rejected_at])
            connection.execute(f"delete from {LEDGER} where raw_table = ? and source_file = ?", [table, name])
            connection.execute(
                f"insert into {LEDGER} (raw_table, source_file, sha256, signature, row_count, loaded_at, validated, "
                "quarantined_rows, load_validation) values (?, ?, ?, ?, 0, ?, false, 0, ?)",
                [table, name, sha, signature, rejected_at, json.dumps(outcome, ensure_ascii=False)])


def _forget_rejection(connection: duckdb.DuckDBPyConnection, table: str, name: str) -> None:
    if _table_exists(connection, "raw", f"{table}_rejected_files"):
        connection.execute(f"delete from {rejected_files_table(table)} where source_file = ?", [name])


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
