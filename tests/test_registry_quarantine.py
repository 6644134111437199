"""Registry row rules at load: rows that break one are set aside with file, row, column and reason, the rest of the
month loads; a month whose stock jumps beyond the configured bound blocks publishing.

The tiny demo extracts carry planted defects (one row per rule per month; a duplicated id is two rows), known to the
generator's truth (`truth["registry"]["months"][M]["quarantined"]`).
"""

from __future__ import annotations

import hashlib

import duckdb
import pandas as pd

from dagster_project.demo.failure import rewrite_csv
from dagster_project.sources.tabular import read_delimited_text
from tests.conftest import clone_refresh, run_refresh_in

EXTRACTS = "registry/migraciones"


def quarantine(refresh) -> pd.DataFrame:
    with duckdb.connect(str(refresh.settings.warehouse_db), read_only=True) as connection:
        return connection.execute("select * from raw.registry_extracts_quarantine").df()


def test_each_planted_defect_is_quarantined_under_its_rule_and_the_rest_loads(refreshed):
    months = refreshed.truth["registry"]["months"]
    lines = quarantine(refreshed)
    found = lines.groupby(["extract_month", "rule"]).size().to_dict()
    planted = {(m, rule): rows for m, t in months.items() for rule, rows in t["quarantined"].items() if rows}
    assert planted and found == planted
    with duckdb.connect(str(refreshed.settings.warehouse_db), read_only=True) as connection:
        loaded = dict(connection.execute(
            "select extract_month, count(*) from raw.registry_extracts group by 1").fetchall())
    for month, figures in months.items():  # valid rows all load, quarantined ones do not
        assert loaded[month] == figures["registered_stock"] == figures["rows_written"] - figures["quarantined_rows"]
    with duckdb.connect(str(refreshed.settings.published_db), read_only=True) as connection:
        published = connection.execute(
            "select extract_month, rule, sum(rows_quarantined) from registry_rows_quarantined group by 1, 2").fetchall()
    assert {(m, r): n for m, r, n in published} == planted


def test_a_quarantine_line_names_the_file_row_column_and_reason(refreshed):
    lines = quarantine(refreshed)
    assert lines[["source_file", "source_row", "rule", "column_name", "reason"]].notna().all().all()
    sex = lines[lines.rule == "sex_code"].iloc[0]
    sent = read_delimited_text(refreshed.settings.landing_dir / sex.source_file)
    assert sent.loc[sex.source_row - 2, "sexo"].strip().upper() not in ("M", "F")  # row numbers are file lines
    assert sex.column_name == "sexo" and "M or F" in sex.reason and sent.loc[sex.source_row - 2, "sexo"].strip()\
        .upper() in sex.value_as_sent
    dates = lines[lines.rule == "date_format"].iloc[0]
    assert dates.column_name.startswith("fecha_") and "'" in dates.value_as_sent
    duplicated = lines[lines.rule == "unique_person"]
    assert (duplicated.column_name == "id_persona").all() and duplicated.value_as_sent.isna().all()


def test_quarantine_is_reported_and_does_not_block_publishing(refreshed):
    assert refreshed.result.success
    check = next(e for e in refreshed.result.get_asset_check_evaluations()
                 if e.check_name == "gx_raw__registry_extracts")
    total = sum(t["quarantined_rows"] for t in refreshed.truth["registry"]["months"].values())
    assert check.passed and check.metadata["rows_quarantined"].value == total
    materialization = refreshed.result.asset_materializations_for_node("raw__registry_extracts")[0]
    assert materialization.metadata["rows_quarantined_now"].value == total
    assert "sex_code" in materialization.metadata["quarantine_preview"].value


def test_a_month_whose_stock_halves_blocks_publishing_until_the_bound_is_raised(refreshed, tmp_path, monkeypatch):
    months = sorted(refreshed.truth["registry"]["months"])
    root = clone_refresh(refreshed, tmp_path / "halved")
    published_before = hashlib.sha256(refreshed.settings.published_db.read_bytes()).hexdigest()
    rewrite_csv(root / "landing" / EXTRACTS / f"extract_{months[-1]}.csv",
                lambda rows: rows.__delitem__(slice(1 + (len(rows) - 1) // 2, None)))  # a half delivery
    refresh = run_refresh_in(root, monkeypatch, refreshed.truth)
    assert not refresh.result.success
    check = next(e for e in refresh.result.get_asset_check_evaluations()
                 if e.check_name == "gx_intermediate__int_registry_extract_months")
    assert not check.passed and "stock_change_ratio" in check.metadata["summary"].value
    assert hashlib.sha256((root / "published" / "analytics.duckdb").read_bytes()).hexdigest() == published_before

    monkeypatch.setenv("WAREHOUSE_REGISTRY_MAX_MONTHLY_STOCK_CHANGE", "0.6")  # the operator confirms the drop
    refresh = run_refresh_in(root, monkeypatch, refreshed.truth)
    assert refresh.result.success
