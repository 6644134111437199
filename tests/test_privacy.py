"""No raw identifier or name from the landed files reaches either DuckDB file, the run's log and Dagster metadata, or any
file the refresh writes (Data Docs, reports, exports)."""

from __future__ import annotations

import html
import re

import duckdb
import pandas as pd

from dagster_project.pseudonymize import normalize_identifier
from dagster_project.sources.landing import find_dirs, find_files
from dagster_project.sources.tabular import read_delimited_text


def landed_identifiers(landing) -> set[str]:
    """Every id, document number (as sent and normalized) and name in the registry and beneficiary files."""
    values: set[str] = set()
    for path in find_files(landing / "registry" / "migraciones", r"extract_.*\.csv"):
        frame = read_delimited_text(path)
        for column in ("id_persona", "num_documento", "nombres", "apellidos"):
            values |= set(frame[column].dropna())
        values |= {normalize_identifier(v) for v in frame["num_documento"].dropna()}
    for organization in find_dirs(landing / "partners" / "beneficiaries"):
        for path in find_files(organization, r".*\.csv"):
            values |= set(read_delimited_text(path)["beneficiary_id"].dropna())
    return {v for v in values if v and len(v) >= 4}


def leaked_values(database, identifiers: set[str]) -> dict[str, int]:
    """Count, per table.column, cells equal to a landed identifier (every column compared as text)."""
    leaks = {}
    with duckdb.connect(str(database), read_only=True) as connection:
        connection.register("identifiers", pd.DataFrame({"value": sorted(identifiers)}))
        columns = connection.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = current_database() and table_schema <> 'reference'"  # public lists (place names)
        ).fetchall()
        for schema, table, name in columns:
            found = connection.execute(
                f"select count(*) from {schema}.{table} where cast({name} as varchar) in (select value from identifiers)"
            ).fetchone()[0]
            if found:
                leaks[f"{schema}.{table}.{name}"] = found
    return leaks


def test_no_raw_identifier_in_either_duckdb_file(refreshed):
    identifiers = landed_identifiers(refreshed.settings.landing_dir)
    assert len(identifiers) > 1000  # the demo files really carry documents, ids and names
    assert any("-" in v or "." in v for v in identifiers), "separator-laden documents exercise normalization"
    for database in (refreshed.settings.warehouse_db, refreshed.settings.published_db):
        assert leaked_values(database, identifiers) == {}, database


def test_pseudonymized_keys_are_present_and_stable_across_months(refreshed):
    with duckdb.connect(str(refreshed.settings.warehouse_db), read_only=True) as connection:
        months_per_person = connection.execute(
            "select max(n) from (select person_key, count(distinct extract_month) n from raw.registry_extracts group by 1)"
        ).fetchone()[0]
        null_keys = connection.execute(
            "select count(*) from raw.registry_extracts where person_key is null or document_key is null").fetchone()[0]
    assert months_per_person == len(refreshed.truth["registry"]["months"])  # the same person links month to month
    assert null_keys == 0


def test_no_raw_identifier_in_the_runs_logs_metadata_or_reports(refreshed):
    """Every log line and event of the run (asset metadata, check metadata and descriptions included), and every
    file the refresh wrote besides the two DuckDB files (Data Docs, GX results, reports, exports)."""
    from dagster._serdes import serialize_value

    identifiers = {v.strip() for v in landed_identifiers(refreshed.settings.landing_dir) if len(v.strip()) >= 6}
    entries = refreshed.instance.all_logs(refreshed.result.run_id)
    assert any(entry.user_message for entry in entries) and len(entries) > 100  # the run's log is really here
    texts = {"run log and events": "\n".join(serialize_value(entry) for entry in entries)}
    metadata = [m.metadata for m in refreshed.result.get_asset_materialization_events() if hasattr(m, "metadata")]
    texts["materialization metadata"] = "\n".join(str(event) for event in refreshed.result.all_events) + str(metadata)
    from dagster_project.quality.gx_runner import RESULTS_DIR_NAME

    for folder in (refreshed.settings.data_docs_dir, refreshed.settings.data_docs_dir.parent / RESULTS_DIR_NAME,
                   refreshed.settings.reports_dir, refreshed.settings.published_db.parent):
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file() and path.suffix not in (".duckdb", ".wal"):
                texts[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    assert len(texts) > 3
    leaks = {where: sorted(identifiers & tokens_of(text))[:5] for where, text in texts.items()}
    assert {where: found for where, found in leaks.items() if found} == {}


def tokens_of(text: str) -> set[str]:
    """The words of a text (ids and documents keep their dots and dashes) and each pair of consecutive words (two-word
    names), after undoing JSON and HTML escapes: a set to intersect with the identifiers, fast on megabytes."""
    text = html.unescape(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text))
    words = re.findall(r"\w[\w.\-]*\w|\w", text)
    return set(words) | {f"{a} {b}" for a, b in zip(words, words[1:])}
