"""A full refresh of the tiny demo landing zone into tmp_path, read back from the PUBLISHED file.

Two kinds of truth: the generator's planted population values (truth.yaml: the marts must land near them) and
its realized sample figures (demo_truth.json, computed by the generator from the files it wrote, independently of
the warehouse's SQL: weighted estimates must match to rounding, registry and 5W counts exactly).
"""

from __future__ import annotations

import csv
import math

import duckdb
import pandas as pd
import pytest

from dagster_project.demo.truth import load_truth
from dagster_project.settings import REPO_ROOT

SURVEY_RATES = ["employment_rate", "unemployment_rate", "informality_rate"]


def published(refresh) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(refresh.settings.published_db), read_only=True)


def labor_row(connection, group: str, sex: str) -> dict:
    """The national labor_gaps row of the demo's survey year (ENAHO and ENAHOPV; ENPOVE is 2022)."""
    frame = connection.execute(
        "select * from labor_gaps where region = 'all' and population_group = ? and sex = ? and year = ?",
        [group, sex, planted_year()],
    ).df()
    assert len(frame) == 1, (group, sex)
    return frame.iloc[0].to_dict()


def department_names() -> dict[str, str]:
    with (REPO_ROOT / "dbt" / "seeds" / "departments.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    code_column = next(c for c in rows[0] if "code" in c)
    name_column = next(c for c in rows[0] if c in ("department_name", "inei_name", "name"))
    return {row[code_column].zfill(2): row[name_column] for row in rows}


def test_refresh_succeeds_and_publishes_every_mart_with_log_and_dictionary(refreshed):
    assert refreshed.result.success
    with published(refreshed) as connection:
        tables = {(s, t) for s, t in connection.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}
        for mart in ("labor_gaps", "integration_indicators", "program_reach", "registry_stock"):
            assert ("main", mart) in tables
            assert connection.execute(f"select count(*) from {mart}").fetchone()[0] > 0, mart
        version, files, summary = connection.execute(
            "select version, input_files, check_summary from meta.publish_log").fetchone()
        assert version == 1
        assert '"failed": 0' in summary and "gx_raw__survey_members" in summary
        for name in refreshed.truth["files"]:
            assert name in files, f"{name} missing from the publish log's input files"
        described = connection.execute(
            "select count(*) from meta.dictionary where table_name = 'labor_gaps' and description <> ''").fetchone()[0]
        assert described >= 10


def test_survey_marts_match_the_generators_own_weighted_estimates(refreshed):
    estimates = refreshed.truth["survey"]["estimates"]
    with published(refreshed) as connection:
        for indicator in SURVEY_RATES + ["hourly_income_mean", "labor_income_monthly_mean"]:
            if indicator not in estimates:
                continue
            for group, by_sex in estimates[indicator].items():
                for sex, cell in by_sex.items():
                    row = labor_row(connection, group, sex)
                    assert row[indicator] == pytest.approx(cell["estimate"], rel=1e-9), (indicator, group, sex)


@pytest.mark.parametrize("indicator", SURVEY_RATES[:1] + SURVEY_RATES[2:])
def test_planted_labor_rates_are_recovered(refreshed, indicator):
    planted = load_truth()["survey"][indicator]
    with published(refreshed) as connection:
        for group, by_sex in planted.items():
            for sex, value in by_sex.items():
                row = labor_row(connection, group, sex)
                n = row["n_working_age"] if indicator == "employment_rate" else row["n_employed"]
                # 4 standard errors of a proportion with a design effect of 2: fails on a wrong universe or weight
                tolerance = 4 * math.sqrt(2 * value * (1 - value) / n)
                assert abs(row[indicator] - value) < tolerance, (indicator, group, sex, row[indicator], value)


def test_planted_hourly_wages_and_wage_gap_are_recovered(refreshed):
    planted = load_truth()["survey"]["hourly_income_mean"]
    with published(refreshed) as connection:
        for sex in ("female", "male"):
            host, migrant = labor_row(connection, "host", sex), labor_row(connection, "migrant", sex)
            for group, row in (("host", host), ("migrant", migrant)):
                # lognormal sigma 0.55 (cv ≈ 0.6) plus hours spread, design effect 2, 4 standard errors
                tolerance = 4 * 0.75 * math.sqrt(2 / row["n_employed"])
                assert row["hourly_income_mean"] == pytest.approx(planted[group][sex], rel=tolerance), (group, sex)
            planted_gap = 1 - planted["migrant"][sex] / planted["host"][sex]
            assert migrant["wage_gap_raw"] == pytest.approx(1 - migrant["hourly_income_mean"] / host["hourly_income_mean"])
            assert abs(migrant["wage_gap_raw"] - planted_gap) < 0.1, (sex, migrant["wage_gap_raw"], planted_gap)
            assert pd.isna(host["wage_gap_raw"])


def planted_year() -> int:
    return load_truth()["year"]


def test_planted_integration_indicators_are_recovered(refreshed):
    planted = load_truth()["survey"]
    with published(refreshed) as connection:
        frame = connection.execute("select * from integration_indicators where region = 'all' and year = ?",
                                   [planted_year()]).df()
    cells = {(r.population_group, r.sex): r for r in frame.itertuples()}
    for group in ("host", "migrant"):
        for sex in ("female", "male"):
            row = cells[(group, sex)]
            assert abs(row.health_insurance_rate - planted["health_insurance_rate"][group][sex]) < 0.06, (group, sex)
            assert abs(row.contract_rate - planted["contract_rate"][group][sex]) < 0.08, (group, sex)
    assert abs(cells[("migrant", "all")].regular_status_share - (1 - planted["no_permit_rate"])) < 0.04
    assert pd.isna(cells[("host", "all")].regular_status_share)


def test_registry_stock_equals_the_extract_counts_with_small_cells_suppressed(refreshed):
    names = department_names()
    with published(refreshed) as connection:
        frame = connection.execute("select * from registry_stock").df()
    cells = {(r.extract_month, r.department): r for r in frame.itertuples()}
    months = refreshed.truth["registry"]["months"]
    for month, truth in months.items():
        total = cells[(month, "all")]
        assert (total.registered_stock, total.regular_stock) == (truth["registered_stock"], truth["regular_stock"])
        for code, counts in truth["by_department"].items():
            row = cells[(month, names.get(code, "unknown"))]
            if min(counts["registered"], counts["regular"], counts["registered"] - counts["regular"]) < 10:
                assert row.reliability == "suppressed" and pd.isna(row.registered_stock)
            else:
                assert (row.registered_stock, row.regular_stock) == (counts["registered"], counts["regular"])
    last = months[max(months)]
    assert abs(last["regular_share"] - load_truth()["registry"]["regular_share_target"]) < 0.05


def test_program_reach_equals_the_5w_sums_of_pin_indicators(refreshed):
    expected = {
        (month, admin1, subsector): count
        for month, by_admin1 in refreshed.truth["partners"]["new_beneficiaries"].items()
        for admin1, by_subsector in by_admin1.items()
        for subsector, count in by_subsector.items()
    }
    with published(refreshed) as connection:
        rows = connection.execute(
            "select month, admin1, subsector, new_beneficiaries from program_reach where new_beneficiaries > 0"
        ).fetchall()
        ytd_ok = connection.execute(
            "select bool_and(new_beneficiaries_ytd >= new_beneficiaries) from program_reach").fetchone()[0]
    assert {(m, a, s): v for m, a, s, v in rows} == expected
    assert ytd_ok


def test_the_readmes_example_queries_run_on_the_published_file(refreshed):
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("Three queries to start with:")[1].split("```sql")[1].split("```")[0]
    queries = [q for q in block.split(";") if "select" in q]
    assert len(queries) == 3
    with published(refreshed) as connection:
        for query in queries:
            assert len(connection.sql(query).fetchall()) > 0, query
