"""R4V's consolidation (sector level, intersector "sum" and "max-sector", country level; monthly and year to date)
and the coverage mart, read from the PUBLISHED file of the tiny demo refresh, equal the truth computed
independently: the generator's own sums of the 5W rows it wrote (demo_truth.json, `partners.consolidation`: valid
rows of PiN-type indicators that are RMRP activities) and the People in Need / targets read here, with pandas, from
the Proportions.xlsx it wrote. They are sums, so the comparison is exact.

The max-sector model (population-type totals split by the PiN proportions, then the maximum per age/sex group across
sectors) is checked on a hand-made case by the dbt unit test `r4v_intersector_max_sector_by_hand` (in
dbt/models/marts/programs/_consolidation.yml), which every refresh runs; the test here makes sure it ran and passed,
and recomputes the model from the generator's truth for the demo data.
"""

from __future__ import annotations

from collections import defaultdict

import duckdb
import pandas as pd
import pytest

POPULATION_TYPES = ["in_destination", "in_transit", "host_communities", "pendulars", "returnees"]
AGE_SEX = ["girls", "boys", "women", "men", "other_under_18", "other_above_18"]
# the generator's column names → the marts' column names
TRUTH_COLUMNS = {"total_monthly": "monthly_total_beneficiaries", "total_cva": "monthly_cva_beneficiaries",
                 "new_beneficiaries": "new_beneficiaries", "new_cva": "new_cva_beneficiaries",
                 **{p: f"new_{p}" for p in POPULATION_TYPES},
                 **{g: f"new_{g}" for g in AGE_SEX[:4]},
                 "other_under": "new_other_under_18", "other_above": "new_other_above_18"}
NEW_MEASURES = ["new_beneficiaries", *[f"new_{p}" for p in POPULATION_TYPES], *[f"new_{g}" for g in AGE_SEX],
                "new_cva_beneficiaries"]
MEASURES = ["monthly_total_beneficiaries", "monthly_cva_beneficiaries", *NEW_MEASURES]
COUNTRY = "Peru"


# ----------------------------------------------------------------------------------------------------------------
# the truth, from the generator's files and sums

def sector_truth(refresh) -> dict[tuple[str, str, str], dict[str, int]]:
    """(month, admin1, subsector) → every consolidated column, from the generator's sums of the rows it wrote."""
    out = {}
    for month, cells in refresh.truth["partners"]["consolidation"].items():
        for key, sums in cells.items():
            admin1, subsector = key.split("|")
            out[(month, admin1, subsector)] = {TRUTH_COLUMNS[k]: v for k, v in sums.items()}
    return out


def months_reported(refresh) -> list[str]:
    return sorted(refresh.truth["partners"]["files"])


def year_to_date(monthly: dict[tuple, dict[str, int]], months: list[str]) -> dict[tuple, dict[str, int]]:
    """(month, *cell) → the sums of the new_* columns from the first month through that month (one year)."""
    cells = {key[1:] for key in monthly}
    out = {}
    for cell in cells:
        running = dict.fromkeys(NEW_MEASURES, 0)
        for month in months:
            for m in NEW_MEASURES:
                running[m] += monthly.get((month, *cell), {}).get(m, 0)
            out[(month, *cell)] = dict(running)
    return out


def need_from_proportions(refresh) -> pd.DataFrame:
    """The PiN and Target sheets the generator wrote, read with pandas: admin1 × subsector × column → people."""
    path = refresh.root / "landing" / "partners" / "reference" / "Proportions.xlsx"
    sheets = pd.read_excel(path, sheet_name=None)
    pin = next(frame for name, frame in sheets.items() if name.startswith("PiN"))
    target = sheets["Target"]
    pin = pin[pin["PiN Country"] == COUNTRY].set_index(["PiN Admin1", "Subsector"])
    target = target[target["Target Country"] == COUNTRY].set_index(["Target Admin1", "Subsector"])
    return pin, target


def published(refresh) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(refresh.settings.published_db), read_only=True)


def read(refresh, sql: str) -> pd.DataFrame:
    with published(refresh) as connection:
        return connection.execute(sql).df()


def as_cells(frame: pd.DataFrame, keys: list[str], columns: list[str]) -> dict[tuple, dict[str, float]]:
    return {tuple(row[k] for k in keys): {c: row[c] for c in columns} for _, row in frame.iterrows()}


# ----------------------------------------------------------------------------------------------------------------
# sector level

def test_sector_consolidation_monthly_equals_the_generators_sums(refreshed):
    truth = sector_truth(refreshed)
    assert truth, "the tiny demo has PiN-type RMRP rows"
    mart = read(refreshed, "select * from r4v_sector_consolidation where period_type = 'month'")
    assert set(mart["country"]) == {COUNTRY}
    published_cells = as_cells(mart, ["month", "admin1", "subsector"], MEASURES)
    reported = {key: values for key, values in published_cells.items() if values["new_beneficiaries"] > 0}
    assert reported == {key: {c: float(v) for c, v in values.items()} for key, values in truth.items()}
    # the other rows are the months a cell had no reach: all zero, and only for cells with reach that year
    zero_rows = {key: values for key, values in published_cells.items() if key not in truth}
    assert all(v == 0 for values in zero_rows.values() for v in values.values())
    assert {key[1:] for key in zero_rows} <= {key[1:] for key in truth}
    assert set(mart["month"]) == set(months_reported(refreshed))


def test_sector_consolidation_year_to_date_sums_the_months(refreshed):
    months = months_reported(refreshed)
    expected = year_to_date(sector_truth(refreshed), months)
    mart = read(refreshed, "select * from r4v_sector_consolidation where period_type = 'year_to_date'")
    assert as_cells(mart, ["month", "admin1", "subsector"], NEW_MEASURES) == {
        key: {c: float(v) for c, v in values.items()} for key, values in expected.items()}
    # R4V's monthly totals count a person again each month: no year-to-date sum
    assert mart["monthly_total_beneficiaries"].isna().all() and mart["monthly_cva_beneficiaries"].isna().all()


def test_consolidation_leaves_out_non_pin_and_non_rmrp_rows(refreshed):
    """The generator also writes capacity-building, other and non-RMRP rows; none of them may count."""
    program_reach_total = sum(v for by_admin1 in refreshed.truth["partners"]["new_beneficiaries"].values()
                              for by_sub in by_admin1.values() for v in by_sub.values())
    consolidated_total = sum(v["new_beneficiaries"] for v in sector_truth(refreshed).values())
    published_total = read(refreshed, "select sum(new_beneficiaries) as n from r4v_sector_consolidation "
                                      "where period_type = 'month'")["n"].iloc[0]
    assert published_total == consolidated_total
    assert consolidated_total < program_reach_total  # the ~10% non-RMRP PiN rows are out


# ----------------------------------------------------------------------------------------------------------------
# coverage

# (sex, age group) → (the 5W groups summed for reach, the PiN sheet's groups summed for need); [] = no PiN
COVERAGE_GROUPS = {
    ("all", "all"): (["new_beneficiaries"], ["Total"]),
    ("female", "0-17"): (["new_girls"], ["Girls"]),
    ("male", "0-17"): (["new_boys"], ["Boys"]),
    ("female", "18+"): (["new_women"], ["Women"]),
    ("male", "18+"): (["new_men"], ["Men"]),
    ("other", "0-17"): (["new_other_under_18"], []),
    ("other", "18+"): (["new_other_above_18"], []),
    ("all", "0-17"): (["new_girls", "new_boys", "new_other_under_18"], ["Girls", "Boys"]),
    ("all", "18+"): (["new_women", "new_men", "new_other_above_18"], ["Women", "Men"]),
    ("female", "all"): (["new_girls", "new_women"], ["Girls", "Women"]),
    ("male", "all"): (["new_boys", "new_men"], ["Boys", "Men"]),
}


def sheet_total(row: pd.Series, measure: str, groups: list[str], year: int) -> float:
    """A PiN/Target sheet cell sum over age/sex groups; the real layout writes the year in some headers."""
    total = 0.0
    for group in groups:
        if group == "Total":
            total += row[f"{measure} Total"]
            continue
        candidates = [f"{measure} {year} Total {group}", f"{measure} Total {group}"]
        total += row[next(c for c in candidates if c in row.index)]
    return total


def test_coverage_equals_reach_year_to_date_against_pin_and_target(refreshed):
    months = months_reported(refreshed)
    through = months[-1]
    year = int(through[:4])
    ytd = year_to_date(sector_truth(refreshed), months)
    reached = {key[1:]: values for key, values in ytd.items() if key[0] == through}
    pin, target = need_from_proportions(refreshed)
    cells = set(reached) | {(a, s) for (a, s), row in pin.iterrows() if row["PiN Total"] > 0 and s != "Intersector"}

    mart = read(refreshed, "select * from program_coverage where subsector <> 'Intersector'")
    assert set(mart["through_month"]) == {through} and set(mart["year"]) == {year}
    got = as_cells(mart, ["admin1", "subsector", "sex", "age_group"],
                   ["new_beneficiaries_ytd", "people_in_need", "target", "coverage_rate", "target_attainment",
                    "coverage_gap"])
    expected = {}
    for admin1, subsector in cells:
        for (sex, age_group), (reach_columns, need_groups) in COVERAGE_GROUPS.items():
            n = float(sum(reached.get((admin1, subsector), {}).get(c, 0) for c in reach_columns))
            has_need = bool(need_groups) and (admin1, subsector) in pin.index
            p = sheet_total(pin.loc[(admin1, subsector)], "PiN", need_groups, year) if has_need else None
            t = sheet_total(target.loc[(admin1, subsector)], "Target", need_groups, year) if has_need else None
            expected[(admin1, subsector, sex, age_group)] = {
                "new_beneficiaries_ytd": n, "people_in_need": p, "target": t,
                "coverage_rate": n / p if p else None, "target_attainment": n / t if t else None,
                "coverage_gap": max(p - n, 0.0) if p is not None else None}
    assert set(got) == set(expected)
    for key, values in expected.items():
        for column, value in values.items():
            if value is None:
                assert pd.isna(got[key][column]), (key, column, got[key][column])
            else:
                assert got[key][column] == pytest.approx(value, rel=1e-12), (key, column)
    # coverage gaps: PiN with nobody reached is in the mart with the whole PiN as the gap
    gaps = mart[(mart["sex"] == "all") & (mart["age_group"] == "all") & (mart["new_beneficiaries_ytd"] == 0)]
    assert len(gaps) > 0 and (gaps["coverage_gap"] == gaps["people_in_need"]).all()


def test_coverage_lists_integration_first(refreshed):
    ordered = read(refreshed, "select distinct subsector, subsector_order from program_coverage "
                              "order by subsector_order, subsector")
    assert ordered["subsector"].iloc[0] == "Integration"
    assert ordered["subsector_order"].is_unique
