"""The registry marts and the registry rows of `indicators`, read from the PUBLISHED file of the tiny demo refresh,
equal the demo generator's own counts (demo_truth.json) exactly: they are counts of valid extract rows, not
estimates (issue 4; definitions in ../shared/indicator-definitions.md and /work/scratch/issue4-spec.md).

k-anonymity: a published count below k = 10 is NULL with reliability 'suppressed', so a suppressed cell is checked
as "the truth is below 10" (or, for a share, "one of the counts it reveals is below 10").
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict

import duckdb
import pandas as pd
import pytest

from dagster_project.demo.truth import load_truth
from dagster_project.settings import REPO_ROOT

K = 10
HORIZONS = (30, 60, 90)
AGE_BANDS = ["0-17", "18-29", "30-44", "45-59", "60+"]
REGISTRY_INDICATORS = {"registered_stock", "regular_share", "expiring_30d", "expiring_60d", "expiring_90d",
                       "arriving", "leaving"}


# ----------------------------------------------------------------------------------------------------------------
# helpers

def read_mart(refresh, table: str) -> pd.DataFrame:
    with duckdb.connect(str(refresh.settings.published_db), read_only=True) as connection:
        return connection.execute(f"select * from {table}").df()


def department_names() -> dict[str, str]:
    """INEI department code → name (the marts' department), 'unknown' → 'unknown'."""
    with (REPO_ROOT / "dbt" / "seeds" / "departments.csv").open(encoding="utf-8") as handle:
        names = {row["department_code"].zfill(2): row["department_name"] for row in csv.DictReader(handle)}
    return {**names, "unknown": "unknown"}


def regular_statuses() -> set[str]:
    return set(load_truth()["registry"]["regular_statuses"])


def months(refresh) -> dict[str, dict]:
    return refresh.truth["registry"]["months"]


def flow_months(refresh) -> list[str]:
    """Months whose previous calendar month was delivered (the demo delivers consecutive months)."""
    ordered = sorted(months(refresh))
    return [m for m in ordered[1:]
            if str(pd.Period(m, "M") - 1) in months(refresh)]


def is_null(value) -> bool:
    return value is None or bool(pd.isna(value))


def assert_count(row, column: str, truth: int, context) -> None:
    """A published count equals the truth, or is suppressed (NULL) exactly when the truth is below k."""
    if truth < K:
        assert row["reliability"] == "suppressed" and is_null(row[column]), (context, truth, row[column])
    else:
        assert row["reliability"] == "reliable" and row[column] == truth, (context, truth, row[column])


def truth_cells(refresh, month: str) -> dict[tuple[str, str, str, str, str], int]:
    """(status, sex, age band, department NAME, nationality) → persons, from the generator's finest cube."""
    names = department_names()
    out = {}
    for key, n in months(refresh)[month]["cells"].items():
        status, sex, band, dept, nationality = key.split("|")
        out[(status, sex, band, names[dept], nationality)] = n
    return out


# ----------------------------------------------------------------------------------------------------------------
# stock cube and regular shares

def test_stock_cube_cells_equal_the_truth_cells(refreshed):
    """Against the generator's finest cube `cells` (valid rows only: the planted defects are quarantined)."""
    frame = read_mart(refreshed, "registry_stock_by_group")
    regular = regular_statuses()
    assert set(frame.extract_month) == set(months(refreshed))
    assert set(frame.age_band) <= set(AGE_BANDS) and set(frame.sex) <= {"male", "female"}
    for month in months(refreshed):
        truth = truth_cells(refreshed, month)
        rows = frame[frame.extract_month == month]
        published = {(r.status, r.sex, r.age_band, r.department, r.nationality): r._asdict()
                     for r in rows.itertuples(index=False)}
        assert len(published) == len(rows), f"duplicate cells in {month}"
        assert set(published) == set(truth), (month, set(published) ^ set(truth))
        for key, n in truth.items():
            row = published[key]
            assert_count(row, "persons", n, (month, key))
            assert bool(row["is_regular_status"]) == (key[0] in regular), key
        assert sum(truth.values()) == months(refreshed)[month]["registered_stock"], month
    assert (frame.reliability == "reliable").any() and (frame.reliability == "suppressed").any()


def regular_share_truth(refresh, month: str) -> dict[tuple[str, str, str, str], tuple[int, int]]:
    """(sex, age band, department, nationality) → (registered, regular) for every grouping the mart publishes."""
    regular = regular_statuses()
    groupings = [(), ("sex",), ("age_band",), ("department",), ("nationality",), ("department", "sex")]
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for (status, sex, band, dept, nationality), n in truth_cells(refresh, month).items():
        values = {"sex": sex, "age_band": band, "department": dept, "nationality": nationality}
        for grouping in groupings:
            key = tuple(values[d] if d in grouping else "all" for d in ("sex", "age_band", "department", "nationality"))
            sums[key][0] += n
            sums[key][1] += n if status in regular else 0
    return {key: (registered, regular_n) for key, (registered, regular_n) in sums.items()}


def test_regular_shares_are_sums_of_the_truth_cells(refreshed):
    """Every rollup of registry_regular_share equals the sum of the generator's `cells`."""
    frame = read_mart(refreshed, "registry_regular_share")
    for month, month_truth in months(refreshed).items():
        truth = regular_share_truth(refreshed, month)
        rows = frame[frame.extract_month == month]
        published = {(r.sex, r.age_band, r.department, r.nationality): r._asdict()
                     for r in rows.itertuples(index=False)}
        assert set(published) == set(truth), (month, set(published) ^ set(truth))
        assert truth[("all", "all", "all", "all")] == (month_truth["registered_stock"], month_truth["regular_stock"])
        for key, (registered, regular_n) in truth.items():
            row = published[key]
            if min(registered, regular_n, registered - regular_n) < K:
                assert row["reliability"] == "suppressed", (month, key, registered, regular_n)
                assert is_null(row["registered"]) and is_null(row["regular"]) and is_null(row["regular_share"])
            else:
                assert row["reliability"] == "reliable", (month, key)
                assert (row["registered"], row["regular"]) == (registered, regular_n), (month, key)
                assert row["regular_share"] == pytest.approx(regular_n / registered, rel=1e-12)


def test_regular_share_by_department_equals_the_truth_by_department(refreshed):
    """The department rows against the generator's long-standing `by_department` (no new truth key needed)."""
    names = department_names()
    frame = read_mart(refreshed, "registry_regular_share")
    frame = frame[(frame.sex == "all") & (frame.age_band == "all") & (frame.nationality == "all")]
    for month, month_truth in months(refreshed).items():
        rows = frame[frame.extract_month == month].set_index("department")
        expected = {names[code]: (c["registered"], c["regular"]) for code, c in month_truth["by_department"].items()}
        expected["all"] = (month_truth["registered_stock"], month_truth["regular_stock"])
        assert set(rows.index) == set(expected), month
        for department, (registered, regular_n) in expected.items():
            row = rows.loc[department]
            if min(registered, regular_n, registered - regular_n) < K:
                assert row.reliability == "suppressed" and is_null(row.registered), (month, department)
            else:
                assert (row.registered, row.regular) == (registered, regular_n), (month, department)


# ----------------------------------------------------------------------------------------------------------------
# flows

def test_status_transitions_equal_the_truth(refreshed):
    frame = read_mart(refreshed, "registry_status_transitions")
    first = min(months(refreshed))
    assert first not in set(frame.extract_month), "no flows into the first delivered month"
    assert set(frame.extract_month) == set(flow_months(refreshed))
    for month in flow_months(refreshed):
        month_truth = months(refreshed)[month]
        rows = frame[frame.extract_month == month]
        changes = rows[rows.flow == "status_change"]
        published = {f"{r.from_status}->{r.to_status}": r._asdict() for r in changes.itertuples(index=False)}
        expected = month_truth["transitions"]
        assert set(published) == set(expected), (month, set(published) ^ set(expected))
        for pair, n in expected.items():
            assert_count(published[pair], "persons", n, (month, pair))
        assert (changes.from_status != changes.to_status).all()
        for flow, fixed_column, fixed_value in (("arriving", "from_status", "NOT_REGISTERED"),
                                                ("leaving", "to_status", "LEFT_REGISTRY")):
            part = rows[rows.flow == flow]
            assert (part[fixed_column] == fixed_value).all(), (month, flow)
            shown = part.loc[part.reliability == "reliable", "persons"]
            hidden = int((part.reliability == "suppressed").sum())
            assert (shown >= K).all()
            # the breakdown by status adds up to the month's total, up to the suppressed rows (each 1..9 persons)
            assert shown.sum() + hidden <= month_truth[flow] <= shown.sum() + (K - 1) * hidden, (month, flow)


# ----------------------------------------------------------------------------------------------------------------
# expiring permits

def test_permits_expiring_by_department_and_horizon_equal_the_truth(refreshed):
    """Against the generator's `expiring` / `expiring_total` (30, 60 and 90 days)."""
    names = department_names()
    frame = read_mart(refreshed, "registry_permits_expiring")
    assert set(frame.horizon_days) == set(HORIZONS)
    for month, month_truth in months(refreshed).items():
        assert month_truth["expiring"]["90"] == month_truth["expiring_90d"]
        rows = frame[frame.extract_month == month]
        present = {names[code] for code in month_truth["by_department"]} | {"all"}
        for horizon in HORIZONS:
            by_department = rows[rows.horizon_days == horizon].set_index("department")
            assert set(by_department.index) == present, (month, horizon)
            expected = {names[code]: n for code, n in month_truth["expiring"][str(horizon)].items()}
            expected["all"] = month_truth["expiring_total"][str(horizon)]
            for department in present:
                assert_count(by_department.loc[department], "persons", expected.get(department, 0),
                             (month, horizon, department))


def test_expiring_90_days_equals_the_long_standing_truth(refreshed):
    """The 90-day counts (issue 4's proof) against `expiring_90d` / `expiring_90d_total` alone."""
    names = department_names()
    frame = read_mart(refreshed, "registry_permits_expiring")
    frame = frame[frame.horizon_days == 90]
    for month, month_truth in months(refreshed).items():
        rows = frame[frame.extract_month == month].set_index("department")
        assert_count(rows.loc["all"], "persons", month_truth["expiring_90d_total"], (month, "all"))
        for code, n in month_truth["expiring_90d"].items():
            assert_count(rows.loc[names[code]], "persons", n, (month, code))


# ----------------------------------------------------------------------------------------------------------------
# time to the first regular status

def test_time_to_regular_status_quartiles_equal_the_truth(refreshed):
    """Against the generator's `time_to_regular_status` (percentile_disc at position ceil(p·n))."""
    truth = refreshed.truth["registry"]["time_to_regular_status"]
    frame = read_mart(refreshed, "registry_time_to_regular_status")
    published = {f"{r.entry_cohort}|{r.sex}": r._asdict() for r in frame.itertuples(index=False)}
    assert set(published) == set(truth), set(published) ^ set(truth)
    for key, cell in truth.items():
        row = published[key]
        if cell["n"] < K:
            assert row["reliability"] == "suppressed", key
            assert all(is_null(row[c]) for c in ("persons", "q1_days", "median_days", "q3_days")), key
        else:
            assert row["reliability"] == "reliable", key
            assert (row["persons"], row["q1_days"], row["median_days"], row["q3_days"]) == (
                cell["n"], cell["q1"], cell["median"], cell["q3"]), key
    assert (frame.reliability == "reliable").any()
    cohorts = {k.split("|")[0] for k in truth}
    for cohort in cohorts:  # 'all' is the union of both sexes
        parts = [truth.get(f"{cohort}|{sex}", {"n": 0})["n"] for sex in ("male", "female")]
        assert truth[f"{cohort}|all"]["n"] == sum(parts), cohort


# ----------------------------------------------------------------------------------------------------------------
# the `indicators` table

def expected_registry_indicators(refresh) -> dict[tuple[str, str, str], tuple[float, int, bool]]:
    """(indicator_id, period, region) → (estimate, n_unweighted, suppressed) from the truth."""
    names = department_names()
    out = {}
    for month, t in months(refresh).items():
        regions = {names[code]: c for code, c in t["by_department"].items()}
        regions["all"] = {"registered": t["registered_stock"], "regular": t["regular_stock"]}
        for region, c in regions.items():
            registered, regular_n = c["registered"], c["regular"]
            out[("registered_stock", month, region)] = (registered, registered, registered < K)
            out[("regular_share", month, region)] = (
                regular_n / registered, registered, min(registered, regular_n, registered - regular_n) < K)
            for horizon in HORIZONS:
                if horizon == 90:
                    by_code, total = t["expiring_90d"], t["expiring_90d_total"]
                else:
                    by_code, total = t["expiring"][str(horizon)], t["expiring_total"][str(horizon)]
                code = next((k for k, v in names.items() if v == region), None)
                n = total if region == "all" else by_code.get(code, 0)
                out[(f"expiring_{horizon}d", month, region)] = (n, n, n < K)
    for month in flow_months(refresh):
        for flow in ("arriving", "leaving"):
            n = months(refresh)[month][flow]
            out[(flow, month, "all")] = (n, n, n < K)
    return out


def test_registry_indicators_equal_the_truth(refreshed):
    """Every registry row of `indicators`, and no other (expiring_30d/60d from the generator's `expiring`)."""
    indicators = read_mart(refreshed, "indicators")
    rows = indicators[indicators.domain == "registry"]
    rows = rows[rows.source == "migraciones"]
    assert set(rows.indicator_id) == REGISTRY_INDICATORS
    assert (rows.population_group == "all").all() and (rows.sex == "all").all() and (rows.age_group == "all").all()
    assert rows[["se", "ci_low", "ci_high", "cv"]].isna().all().all()
    assert set(rows.reliability) <= {"reliable", "suppressed"}
    assert set(rows.loc[rows.indicator_id == "regular_share", "unit"]) == {"share"}
    assert set(rows.loc[rows.indicator_id != "regular_share", "unit"]) == {"people"}
    expected = expected_registry_indicators(refreshed)
    published = {(r.indicator_id, r.period, r.region): r for r in rows.itertuples(index=False)}
    assert len(published) == len(rows)
    assert set(published) == set(expected), set(published) ^ set(expected)
    for key, (estimate, n, suppressed) in expected.items():
        row = published[key]
        if suppressed:
            assert row.reliability == "suppressed" and is_null(row.estimate) and is_null(row.n_unweighted), key
        else:
            assert row.reliability == "reliable", key
            assert row.estimate == pytest.approx(estimate, rel=1e-12) and row.n_unweighted == n, key


def test_registry_indicators_agree_with_the_registry_marts(refreshed):
    """The same counts in `indicators` and in the marts NGOs read (no new truth key needed)."""
    indicators = read_mart(refreshed, "indicators")
    rows = indicators[(indicators.source == "migraciones") & (indicators.reliability == "reliable")]
    stock = read_mart(refreshed, "registry_stock").set_index(["extract_month", "department"])
    expiring = read_mart(refreshed, "registry_permits_expiring").set_index(
        ["extract_month", "department", "horizon_days"])
    compared = Counter()
    for row in rows.itertuples(index=False):
        if row.indicator_id == "registered_stock" and (row.period, row.region) in stock.index:
            mart = stock.loc[(row.period, row.region)]
            if mart.reliability == "reliable":
                assert mart.registered_stock == row.estimate, (row.period, row.region)
                compared[row.indicator_id] += 1
        elif row.indicator_id == "regular_share":
            mart = stock.loc[(row.period, row.region)]
            assert mart.reliability == "reliable", (row.period, row.region)
            assert mart.regular_share == pytest.approx(row.estimate), (row.period, row.region)
            compared[row.indicator_id] += 1
        elif row.indicator_id.startswith("expiring_"):
            horizon = int(row.indicator_id.removeprefix("expiring_").removesuffix("d"))
            assert expiring.loc[(row.period, row.region, horizon)].persons == row.estimate, (row.period, row.region)
            compared[row.indicator_id] += 1
    assert min(compared[i] for i in ("registered_stock", "regular_share", "expiring_90d")) > 0, compared


def test_registry_indicator_definitions_are_published(refreshed):
    definitions = read_mart(refreshed, "indicator_definitions")
    registry = definitions[definitions.domain == "registry"].set_index("indicator_id")
    assert REGISTRY_INDICATORS <= set(registry.index)
    assert registry.loc["regular_share", "unit"] == "share"
    assert (registry.loc[sorted(REGISTRY_INDICATORS - {"regular_share"}), "unit"] == "people").all()
    indicators = read_mart(refreshed, "indicators")
    assert set(indicators.loc[indicators.source == "migraciones", "indicator_id"]) <= set(definitions.indicator_id)
