"""R4V's consolidated-per-organization workbook as a historical source: reader, raw table, staging and the
r4v_consolidated_by_month mart, on the real published workbook and on the demo generator's workbook.

The expected figures are computed here independently of the warehouse: the real sheet is read with openpyxl (not
the reader's calamine), and the demo figures are the generator's realized truth.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import dagster as dg
import duckdb
import openpyxl
import pandas as pd
import pytest

from dagster_project.definitions import FULL_REFRESH_JOB, build_definitions
from dagster_project.settings import Settings
from dagster_project.sources.landing import LandingFileError
from dagster_project.sources.partners.consolidated import read_consolidated_reports
from tests.conftest import environment_for

REAL_FILE = "r4v/Consolidated_per_Org_and_Per_Country.xlsx"
ASSETS = [dg.AssetKey(["raw", "partner_consolidated_reports"]),
          dg.AssetKey(["staging", "stg_partners__consolidated_reports"]),
          dg.AssetKey(["marts", "r4v_consolidated_by_month"])]
# the workbook's header → the mart's column (what R4V writes, so the test does not go through the mapping file)
COUNT_HEADERS = {
    "Monthly Total Beneficiaries": "monthly_total_beneficiaries",
    "Monthly CVA Beneficiaries": "monthly_cva_beneficiaries",
    "Consolidated Total": "consolidated_total",
    "Consolidated In Destination": "in_destination",
    "Consolidated In Transit": "in_transit",
    "Consolidated Host Communities": "host_communities",
    "Consolidated Pendular": "pendulars",
    "Consolidated Returnees": "returnees",
    "Consolidated Girls": "girls",
    "Consolidated Boys": "boys",
    "Consolidated Women": "women",
    "Consolidated Men": "men",
    "Consolidated Other under 18": "other_under_18",
    "Consolidated Other above 18": "other_above_18",
    "Consolidated CVA Beneficiaries": "consolidated_cva_beneficiaries",
}


def build_consolidated(root: Path, monkeypatch: pytest.MonkeyPatch):
    """Materialize the raw table, staging view and mart (with their GX checks and dbt tests) into root."""
    for name, value in environment_for(root).items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    job = build_definitions(settings).resolve_job_def(FULL_REFRESH_JOB)
    result = job.execute_in_process(asset_selection=ASSETS, instance=dg.DagsterInstance.ephemeral(),
                                    raise_on_error=False)
    failures = [e.event_specific_data.error.message[:500] for e in result.all_events
                if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert result.success, failures
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["gx_raw__partner_consolidated_reports"] and checks["gx_marts__r4v_consolidated_by_month"], checks
    assert all(checks.values()), checks  # the dbt tests (unique rows, not null) too
    return settings


def query(settings: Settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.warehouse_db), read_only=True) as connection:
        return connection.execute(sql).df()


def sheet_records(path: Path, sheet: str) -> list[dict]:
    """The sheet's data rows as {header: value}, read with openpyxl (blank cells None)."""
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = workbook[sheet].iter_rows(values_only=True)
    header = next(rows)
    records = [dict(zip(header, row)) for row in rows if any(v not in (None, "") for v in row)]
    workbook.close()
    return records


def sums_by_month_and_subsector(records: list[dict]) -> dict[tuple[str, str], dict[str, float | None]]:
    """Sum of every count column per (month, subsector); None when every cell of the column is blank."""
    sums: dict[tuple[str, str], dict[str, float | None]] = defaultdict(lambda: dict.fromkeys(COUNT_HEADERS.values()))
    for record in records:
        cell = sums[(str(record["Month"]), record["Subsector"])]
        for header, column in COUNT_HEADERS.items():
            value = record[header]
            if value not in (None, ""):
                cell[column] = (cell[column] or 0) + value
    return sums


def test_the_real_workbook_loads_every_sheet(real_data, tmp_path):
    landing = tmp_path / "landing"
    (landing / "partners" / "consolidated").mkdir(parents=True)
    (landing / "partners" / "consolidated" / "Consolidated_per_Org.xlsx").symlink_to(real_data / REAL_FILE)

    frame, files = read_consolidated_reports(landing)

    workbook = openpyxl.load_workbook(real_data / REAL_FILE, read_only=True)
    expected_rows = {name: len(sheet_records(real_data / REAL_FILE, name)) for name in workbook.sheetnames}
    workbook.close()
    assert len(expected_rows) == 17 and "Regional" in expected_rows and expected_rows["Peru"] == 461
    assert frame.groupby("source_sheet").size().to_dict() == expected_rows
    assert [f.rows for f in files] == [sum(expected_rows.values())]
    # the sheet is the country (R4V's layout): every row's Country cell names its own sheet
    assert (frame["country"] == frame["source_sheet"]).all()
    # counts are typed and none was lost: the reader's total equals openpyxl's over every sheet
    expected_total = sum(record["Consolidated Total"] for name in expected_rows
                         for record in sheet_records(real_data / REAL_FILE, name))
    assert frame["consolidated_total"].sum() == expected_total
    assert str(frame["consolidated_total"].dtype) == "Float64" and frame["source_row"].min() == 2


def test_peru_mart_totals_per_month_equal_the_sheet_own_sums(real_data, tmp_path, monkeypatch):
    landing = tmp_path / "landing" / "partners" / "consolidated"
    landing.mkdir(parents=True)
    (landing / "Consolidated_per_Org_and_Per_Country.xlsx").symlink_to(real_data / REAL_FILE)
    settings = build_consolidated(tmp_path, monkeypatch)

    records = sheet_records(real_data / REAL_FILE, "Peru")
    # the sheet as SOURCES.md describes it
    assert len(records) == 461
    assert len({r["Appealing_org"] for r in records}) == 26
    assert sorted({r["Month"] for r in records}) == [f"2022-0{m}" for m in range(1, 7)]
    assert len({r["Subsector"] for r in records}) == 14
    assert sum(r["Subsector"] == "Integration" for r in records) == 55

    assert query(settings, "select count(*) as n from raw.partner_consolidated_reports")["n"][0] == 3_190
    mart = query(settings, "select * from marts.r4v_consolidated_by_month where country = 'Peru'")
    expected = sums_by_month_and_subsector(records)
    assert len(mart) == len(expected)
    for row in mart.itertuples():
        cell = expected[(row.month, row.subsector)]
        for column, value in cell.items():
            ours = getattr(row, column)
            assert (pd.isna(ours) if value is None else ours == value), (row.month, row.subsector, column, ours, value)
        in_cell = [r for r in records if (r["Month"], r["Subsector"]) == (row.month, row.subsector)]
        assert row.report_rows == len(in_cell)
        assert row.organizations == len({r["Appealing_org"] for r in in_cell})
        assert row.is_intersector == (row.subsector == "Intersector")

    # country × month totals: the Intersector rows, i.e. the sum of each organization's own cross-sector figure
    totals = mart[mart["is_intersector"]].set_index("month")["consolidated_total"].to_dict()
    by_month = defaultdict(float)
    for record in records:
        if record["Subsector"] == "Intersector":
            by_month[record["Month"]] += record["Consolidated Total"]
    assert totals == dict(by_month) and len(totals) == 6
    # and Integration, month by month
    integration = mart[mart["subsector"] == "Integration"].set_index("month")["consolidated_total"].to_dict()
    expected_integration = defaultdict(float)
    for record in records:
        if record["Subsector"] == "Integration":
            expected_integration[record["Month"]] += record["Consolidated Total"]
    assert integration == dict(expected_integration)


def test_demo_workbook_mart_equals_the_generator_truth(tiny_landing, tmp_path, monkeypatch):
    landing, truth = tiny_landing
    consolidated = truth["partners"]["consolidated"]
    target = tmp_path / "landing" / consolidated["file"]
    target.parent.mkdir(parents=True)
    shutil.copy(landing / consolidated["file"], target)
    settings = build_consolidated(tmp_path, monkeypatch)

    rows = query(settings, "select source_sheet, count(*) as n from raw.partner_consolidated_reports group by 1")
    assert dict(zip(rows["source_sheet"], rows["n"])) == consolidated["rows"]  # the 'Notes' sheet is skipped
    mart = query(settings, "select * from marts.r4v_consolidated_by_month")
    assert len(mart) == len(consolidated["cells"])
    by_key = {(r.country, r.month, r.subsector): r for r in mart.itertuples()}
    for cell in consolidated["cells"]:
        row = by_key[(cell["country"], cell["month"], cell["subsector"])]
        for column, value in cell.items():
            if column in ("country", "month", "subsector"):
                continue
            ours = getattr(row, column)
            assert (pd.isna(ours) if value is None else ours == value), (cell["subsector"], column, ours, value)


def write_workbook(path: Path, sheets: dict[str, list[list]]) -> None:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


HEADER = ["Country", "Admin1", "Appealing_org", "Month", "Subsector", *COUNT_HEADERS]
GOOD_ROW = ["Peru", "Country level", "HIAS", "2022-01", "Integration", 20, 0, 20, 20, 0, 0, 0, 0, 5, 5, 5, 5, 0, 0, 0]


def test_a_bad_count_cell_rejects_the_file_naming_sheet_row_and_column(tmp_path):
    bad = list(GOOD_ROW)
    bad[HEADER.index("Consolidated Women")] = "n/a"
    path = tmp_path / "partners" / "consolidated" / "bad.xlsx"
    write_workbook(path, {"Peru": [HEADER, GOOD_ROW, bad]})

    with pytest.raises(LandingFileError) as raised:
        read_consolidated_reports(tmp_path)
    error = raised.value
    assert (error.file, error.row, error.column) == ("partners/consolidated/bad.xlsx", 3, "Consolidated Women")
    assert "sheet 'Peru'" in error.reason and "'n/a' is not a number" in error.reason


def test_a_bad_month_rejects_the_file(tmp_path):
    bad = list(GOOD_ROW)
    bad[HEADER.index("Month")] = "enero 2022"
    write_workbook(tmp_path / "partners" / "consolidated" / "bad.xlsx", {"Peru": [HEADER, bad]})

    with pytest.raises(LandingFileError) as raised:
        read_consolidated_reports(tmp_path)
    assert (raised.value.row, raised.value.column) == (2, "Month")
    assert "'enero 2022' is not YYYY-MM" in raised.value.reason


def test_headers_match_through_the_mapping_and_broken_sheets_are_named(tmp_path):
    # case, spacing and double-encoding of headers do not matter; an Excel date month becomes YYYY-MM;
    # a title row above the header is fine; a notes sheet is skipped
    import datetime as dt

    header = [h.upper().replace(" ", "  ") for h in HEADER]
    header[0] = "PaÃ\xads"  # 'País', double-encoded
    row = list(GOOD_ROW)
    row[3] = dt.datetime(2022, 2, 1)
    path = tmp_path / "partners" / "consolidated" / "ok.xlsx"
    write_workbook(path, {"Notes": [["read me"]], "Peru": [["R4V consolidated report"], header, row]})
    frame, _ = read_consolidated_reports(tmp_path)
    assert frame[["country", "month", "source_sheet", "source_row"]].values.tolist() == [["Peru", "2022-02", "Peru", 3]]

    path.unlink()
    broken = [h for h in HEADER if h != "Consolidated Men"]
    write_workbook(tmp_path / "partners" / "consolidated" / "broken.xlsx", {"Peru": [broken, GOOD_ROW[:-1]]})
    with pytest.raises(LandingFileError, match="sheet 'Peru' lacks the consolidated-report columns men"):
        read_consolidated_reports(tmp_path)
