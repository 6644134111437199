"""Write-audit-publish of the analysts' database.

write:   the marts (read from the working warehouse, attached read-only) plus `meta.publish_log` and
         `meta.dictionary` go into a new candidate file;
audit:   the candidate is reopened read-only and compared with the warehouse (tables, row counts);
publish: the candidate becomes `versions/analytics-vNNNN.duckdb`, and a copy of it is renamed over the
         published file in one `os.replace` — readers that hold the old file open keep reading the old inode.
The newest `keep_versions` files stay for `rollback`. Any failure before the rename leaves the published file
byte-identical.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

VERSION_PATTERN = re.compile(r"analytics-v(\d+)\.duckdb")


class PublishError(RuntimeError):
    pass


@dataclass(frozen=True)
class DictionaryEntry:
    table_name: str
    column_name: str  # "*" for the table itself
    data_type: str
    description: str


@dataclass(frozen=True)
class PublishResult:
    version: int
    published_db: Path
    version_file: Path
    table_rows: dict[str, int]
    pruned: list[Path]


def _version_files(versions_dir: Path) -> dict[int, Path]:
    if not versions_dir.is_dir():
        return {}
    found = {}
    for path in versions_dir.iterdir():
        match = VERSION_PATTERN.fullmatch(path.name)
        if match:
            found[int(match.group(1))] = path
    return dict(sorted(found.items()))


def list_versions(versions_dir: Path) -> list[int]:
    return list(_version_files(versions_dir))


def _previous_log(published_db: Path) -> list[tuple]:
    if not published_db.exists():
        return []
    with duckdb.connect(str(published_db), read_only=True) as connection:
        exists = connection.execute(
            "select count(*) from information_schema.tables where table_schema = 'meta' and table_name = 'publish_log'"
        ).fetchone()[0]
        return connection.execute("select * from meta.publish_log order by version").fetchall() if exists else []


def _write_candidate(candidate: Path, warehouse_db: Path, marts: list[str], log_rows: list[tuple],
                     dictionary: list[DictionaryEntry]) -> None:
    connection = duckdb.connect(str(candidate))
    try:
        connection.execute(f"attach '{warehouse_db}' as warehouse (read_only)")
        for mart in marts:
            connection.execute(f"create table main.{mart} as select * from warehouse.marts.{mart}")
        connection.execute("detach warehouse")
        connection.execute("create schema meta")
        connection.execute(
            "create table meta.publish_log (version integer, published_at timestamp, run_id varchar, "
            "tables varchar, input_files varchar, check_summary varchar)"
        )
        connection.executemany("insert into meta.publish_log values (?, ?, ?, ?, ?, ?)", log_rows)
        connection.execute(
            "create table meta.dictionary (table_name varchar, column_name varchar, data_type varchar, description varchar)"
        )
        if dictionary:
            connection.executemany(
                "insert into meta.dictionary values (?, ?, ?, ?)",
                [(e.table_name, e.column_name, e.data_type, e.description) for e in dictionary],
            )
        connection.execute("checkpoint")
    finally:
        connection.close()


def _audit(candidate: Path, expected_rows: dict[str, int]) -> None:
    with duckdb.connect(str(candidate), read_only=True) as connection:
        for table, rows in expected_rows.items():
            found = connection.execute(f"select count(*) from main.{table}").fetchone()[0]
            if found != rows:
                raise PublishError(f"audit: {table} has {found} rows in the candidate, {rows} in the warehouse")
        if connection.execute("select count(*) from meta.publish_log").fetchone()[0] == 0:
            raise PublishError("audit: the candidate's publish log is empty")


def _atomic_copy(source: Path, target: Path) -> None:
    """Copy `source` next to `target`, flush it to disk, then rename it over `target` in one step."""
    staging = target.with_name(f".{target.name}.incoming")
    shutil.copyfile(source, staging)
    with staging.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(staging, target)


def publish(*, warehouse_db: Path, published_db: Path, versions_dir: Path, marts: list[str], run_id: str,
            input_files: list[dict], check_summary: dict, dictionary: list[DictionaryEntry],
            keep_versions: int = 5) -> PublishResult:
    published_db.parent.mkdir(parents=True, exist_ok=True)
    versions_dir.mkdir(parents=True, exist_ok=True)
    previous_log = _previous_log(published_db)
    known = list_versions(versions_dir) + [row[0] for row in previous_log]
    version = max(known, default=0) + 1

    with duckdb.connect(str(warehouse_db), read_only=True) as connection:
        table_rows = {m: connection.execute(f"select count(*) from marts.{m}").fetchone()[0] for m in marts}
    log_row = (
        version, datetime.now(timezone.utc).replace(tzinfo=None), run_id,
        json.dumps(table_rows), json.dumps(input_files), json.dumps(check_summary),
    )
    candidate = versions_dir / f".candidate-v{version:04d}.duckdb"
    candidate.unlink(missing_ok=True)
    try:
        _write_candidate(candidate, warehouse_db, marts, [*previous_log, log_row], dictionary)
        _audit(candidate, table_rows)
        version_file = versions_dir / f"analytics-v{version:04d}.duckdb"
        os.replace(candidate, version_file)
    finally:
        candidate.unlink(missing_ok=True)
    _atomic_copy(version_file, published_db)
    return PublishResult(version, published_db, version_file, table_rows, prune_versions(versions_dir, keep_versions))


def prune_versions(versions_dir: Path, keep: int) -> list[Path]:
    files = _version_files(versions_dir)
    doomed = [files[v] for v in list(files)[:-keep]] if keep > 0 else []
    for path in doomed:
        path.unlink()
    return doomed


def rollback(*, published_db: Path, versions_dir: Path, version: int | None = None) -> int:
    """Make an earlier kept version the published file again (default: the one before the current)."""
    files = _version_files(versions_dir)
    if not files:
        raise PublishError(f"no kept versions in {versions_dir}")
    if version is None:
        log = _previous_log(published_db)
        current = log[-1][0] if log else max(files)
        earlier = [v for v in files if v < current]
        if not earlier:
            raise PublishError(f"no kept version older than the current v{current}; kept: {list(files)}")
        version = earlier[-1]
    if version not in files:
        raise PublishError(f"version {version} is not kept; kept versions: {list(files)}")
    _atomic_copy(files[version], published_db)
    return version
