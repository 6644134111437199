"""Write-audit-publish on small real DuckDB files: swap, readers of the old file, versions, rollback."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from dagster_project.publish.publisher import DictionaryEntry, PublishError, list_versions, publish, rollback


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_warehouse(path: Path, value: int) -> None:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema if not exists marts")
        connection.execute(f"create or replace table marts.gaps as select {value} as estimate, 'all' as sex")


def publish_once(tmp_path: Path, value: int, keep: int = 5):
    warehouse = tmp_path / "warehouse.duckdb"
    make_warehouse(warehouse, value)
    return publish(
        warehouse_db=warehouse, published_db=tmp_path / "published" / "analytics.duckdb",
        versions_dir=tmp_path / "published" / "versions", marts=["gaps"], run_id=f"run-{value}",
        input_files=[{"table": "t", "file": "f.csv", "sha256": "0" * 64, "rows": 1}],
        check_summary={"evaluated": 1, "failed": 0},
        dictionary=[DictionaryEntry("gaps", "estimate", "INTEGER", "the estimate")], keep_versions=keep,
    )


def read_estimate(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute("select estimate from gaps").fetchone()[0]


def test_publish_writes_marts_log_and_dictionary(tmp_path):
    result = publish_once(tmp_path, 1)
    assert result.version == 1 and result.table_rows == {"gaps": 1}
    with duckdb.connect(str(result.published_db), read_only=True) as connection:
        assert connection.execute("select estimate from gaps").fetchone()[0] == 1
        version, run_id, files = connection.execute(
            "select version, run_id, input_files from meta.publish_log").fetchone()
        assert (version, run_id) == (1, "run-1") and "f.csv" in files
        assert connection.execute("select description from meta.dictionary where column_name = 'estimate'").fetchone()[0]


def test_reader_of_the_old_file_keeps_working_across_a_swap(tmp_path):
    first = publish_once(tmp_path, 1)
    reader = duckdb.connect(str(first.published_db), read_only=True)
    try:
        second = publish_once(tmp_path, 2)
        assert reader.execute("select estimate from gaps").fetchone()[0] == 1  # the old inode, still readable
    finally:
        reader.close()
    assert read_estimate(second.published_db) == 2
    with duckdb.connect(str(second.published_db), read_only=True) as connection:
        assert [r[0] for r in connection.execute("select version from meta.publish_log order by 1").fetchall()] == [1, 2]


def test_old_versions_are_pruned_and_rollback_restores_the_previous_bytes(tmp_path):
    results = [publish_once(tmp_path, value, keep=3) for value in range(1, 6)]
    versions_dir = tmp_path / "published" / "versions"
    assert list_versions(versions_dir) == [3, 4, 5]
    published = results[-1].published_db
    restored = rollback(published_db=published, versions_dir=versions_dir)
    assert restored == 4 and read_estimate(published) == 4
    assert sha256(published) == sha256(versions_dir / "analytics-v0004.duckdb")
    assert rollback(published_db=published, versions_dir=versions_dir, version=5) == 5 and read_estimate(published) == 5
    with pytest.raises(PublishError, match="not kept"):
        rollback(published_db=published, versions_dir=versions_dir, version=1)
    # a publish after a rollback gets a new number, never reuses one
    assert publish_once(tmp_path, 9, keep=3).version == 6


def test_a_failed_write_leaves_the_published_file_byte_identical(tmp_path):
    first = publish_once(tmp_path, 1)
    before = sha256(first.published_db)
    with pytest.raises(duckdb.CatalogException):
        publish(
            warehouse_db=tmp_path / "warehouse.duckdb", published_db=first.published_db,
            versions_dir=tmp_path / "published" / "versions", marts=["gaps", "missing_mart"], run_id="bad",
            input_files=[], check_summary={}, dictionary=[],
        )
    assert sha256(first.published_db) == before
    assert list_versions(tmp_path / "published" / "versions") == [1]
    assert not list((tmp_path / "published" / "versions").glob(".candidate*"))
