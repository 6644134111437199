"""The published `indicators` table: design-based intervals cover the planted population values.

The demo generator plants population values per population group × sex (truth.yaml) under a two-stage cluster
design; regions differ (wages have regional effects, the sample mix differs), so the planted cells are the national
ones. With correct standard errors about 95% of the 95% intervals cover the planted value; we require at least 90%,
and every point estimate within 4 standard errors. (Coverage in small domains is checked by simulation in
test_estimation.py.)
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from dagster_project.demo.truth import load_truth

PLANTED_BY_GROUP_AND_SEX = ["employment_rate", "informality_rate", "contract_rate", "health_insurance_rate",
                            "hourly_income_mean", "pension_affiliation_rate"]


def published_indicators(refresh) -> pd.DataFrame:
    with duckdb.connect(str(refresh.settings.published_db), read_only=True) as connection:
        return connection.execute("select * from indicators").df()


def planted_value(survey: dict, indicator: str, group: str, sex: str, age_group: str) -> float:
    """Rates are planted the same in every age band; wages follow the planted age profile (truth.yaml)."""
    if age_group != "all" and indicator in survey["by_age_group"][age_group]:
        return survey["by_age_group"][age_group][indicator][group][sex]
    return survey[indicator][group][sex]


def planted_cells(indicators: pd.DataFrame) -> pd.DataFrame:
    """Published national female/male cells of planted indicators (all ages and each working-age band), with truth."""
    survey = load_truth()["survey"]
    national = indicators[(indicators.region == "all") & (indicators.reliability != "suppressed")
                          & indicators.age_group.isin(["all", *survey["age_groups"]])]
    cells = national[national.indicator_id.isin(PLANTED_BY_GROUP_AND_SEX) & national.sex.isin(["female", "male"])].copy()
    cells["truth"] = [planted_value(survey, i, g, s, a) for i, g, s, a
                      in zip(cells.indicator_id, cells.population_group, cells.sex, cells.age_group)]
    no_permit = national[(national.indicator_id == "no_permit_rate") & (national.age_group == "all")].copy()
    no_permit["truth"] = survey["no_permit_rate"]
    return pd.concat([cells, no_permit], ignore_index=True)


def test_confidence_intervals_cover_the_planted_values(refreshed):
    cells = planted_cells(published_indicators(refreshed))
    assert len(cells) >= 20, "too few planted cells to judge coverage"
    covered = (cells.ci_low <= cells.truth) & (cells.truth <= cells.ci_high)
    assert covered.mean() >= 0.90, cells[~covered][["indicator_id", "population_group", "sex", "region", "estimate", "se", "truth"]]


def test_point_estimates_are_within_four_standard_errors(refreshed):
    cells = planted_cells(published_indicators(refreshed))
    z = (cells.estimate - cells.truth).abs() / cells.se
    assert (z < 4).all(), cells[z >= 4][["indicator_id", "population_group", "sex", "region", "estimate", "se", "truth"]]
    all_ages = cells[cells.age_group == "all"]
    assert (all_ages.cv < 0.15).all(), "national cells of the demo sample should be reliable"


def test_reliability_follows_inei_rules(refreshed):
    indicators = published_indicators(refreshed)
    # registry and program counts follow k = 10 (test_registry_marts, test_partner_consolidation)
    indicators = indicators[~indicators.domain.isin(["registry", "programs"])]
    suppressed = indicators[indicators.reliability == "suppressed"]
    assert (suppressed.n_unweighted < 30).all() and suppressed.estimate.isna().all() and len(suppressed) > 0
    shown = indicators[indicators.reliability != "suppressed"]
    assert (shown.n_unweighted >= 30).all()
    assert ((shown.reliability == "referential") == (shown.cv > 0.15)).all()
    shares = shown[shown.unit == "share"]
    assert shares.ci_low.between(0, 1).all() and shares.ci_high.between(0, 1).all()


def assert_mart_matches_indicators(refresh, mart: str, indicator_ids: tuple[str, ...]) -> None:
    """The wide mart's columns equal the `indicators` estimates, cell by cell (the mart pivots `indicators`)."""
    indicators = published_indicators(refresh)
    with duckdb.connect(str(refresh.settings.published_db), read_only=True) as connection:
        wide = connection.execute(f"select * from {mart}").df()
    for indicator in indicator_ids:
        long = indicators[(indicators.indicator_id == indicator) & (indicators.age_group == "all")
                          & indicators.estimate.notna()]
        merged = long.merge(wide.assign(period=wide.year.astype(str)), on=["period", "population_group", "sex", "region"])
        merged = merged[merged[indicator].notna()]
        assert len(merged) > 10, (mart, indicator)
        assert merged.estimate.to_numpy() == pytest.approx(merged[indicator].to_numpy(), rel=1e-9), (mart, indicator)


def test_indicators_agree_with_the_labor_gaps_mart(refreshed):
    assert_mart_matches_indicators(refreshed, "labor_gaps",
                                   ("employment_rate", "informality_rate", "hourly_income_mean", "wage_gap_raw"))


def test_indicators_agree_with_the_integration_mart(refreshed):
    assert_mart_matches_indicators(refreshed, "integration_indicators", (
        "formal_employment_rate", "regular_status_share", "health_insurance_rate", "contract_rate"))


def test_every_issue_indicator_is_published(refreshed):
    published = set(published_indicators(refreshed).indicator_id)
    expected = {"employment_rate", "unemployment_rate", "informality_rate", "underemployment_time_rate",
                "labor_income_monthly_mean", "labor_income_monthly_median", "hourly_income_mean", "wage_gap_raw",
                "gender_wage_gap", "overqualification_rate", "contract_rate", "health_insurance_rate",
                "no_permit_rate"}
    assert expected <= published, expected - published


def test_adjusted_wage_gap_recovers_the_planted_explained_and_unexplained_parts(refreshed):
    planted = load_truth()["survey"]["wage_decomposition"]
    indicators = published_indicators(refreshed)
    for sex in ("female", "male"):
        def part(name):
            rows = indicators[(indicators.indicator_id == f"wage_gap_{name}") & (indicators.sex == sex)]
            assert len(rows) == 1, (name, sex)
            return rows.iloc[0]

        gap, explained, unexplained = part("log"), part("explained"), part("unexplained")
        assert gap.estimate == pytest.approx(explained.estimate + unexplained.estimate)
        for row, key in ((gap, "gap"), (explained, "explained"), (unexplained, "unexplained")):
            truth = planted[sex][key]
            assert row.ci_low <= truth <= row.ci_high, (sex, key, row.estimate, row.se, truth)


def test_occupations_show_where_migrants_work_and_what_they_earn(refreshed):
    with duckdb.connect(str(refreshed.settings.published_db), read_only=True) as connection:
        occupations = connection.execute("select * from occupations").df()
    assert set(occupations.source) == {"ENAHO 2024", "ENAHOPV 2024", "ENPOVE 2022"}
    for (source, period), one_survey in occupations[occupations.isco_level == "major"].groupby(["source", "period"]):
        shares = one_survey.employed_share.fillna(0)
        assert shares.sum() == pytest.approx(1.0, abs=0.02), source  # suppressed groups are small
    major = occupations[(occupations.isco_level == "major") & (occupations.period == "2024")]
    assert major.isco_label.notna().all()
    pivot = major.pivot(index="isco_code", columns="population_group", values="employed_share")
    planted = load_truth()["survey"]["occupation_major_groups"]
    # migrants were planted into service/sales (5) far more than hosts (0.42 vs 0.22 among non-tertiary workers)
    assert pivot.loc["5", "migrant"] > pivot.loc["5", "host"] + 0.1
    assert planted["migrant"][5] > planted["host"][5]
    shown = major[major.median_hourly_income_reliability != "suppressed"]
    assert (shown.median_hourly_income_ci_low <= shown.median_hourly_income).all()
    assert (shown.median_hourly_income <= shown.median_hourly_income_ci_high).all()


def test_every_published_indicator_has_its_definition_in_the_database(refreshed):
    with duckdb.connect(str(refreshed.settings.published_db), read_only=True) as connection:
        missing = connection.execute(
            "select distinct indicator_id from indicators "
            "where indicator_id not in (select indicator_id from indicator_definitions)").fetchall()
        universe = connection.execute(
            "select universe from indicator_definitions where indicator_id = 'contract_rate'").fetchone()[0]
    assert missing == []
    assert "dependent_worker" in universe


def test_pension_and_arrival_year_reproduce_the_generators_realized_figures(refreshed):
    realized = refreshed.truth["survey"]["estimates"]
    indicators = published_indicators(refreshed)
    pension = indicators[(indicators.indicator_id == "pension_affiliation_rate") & (indicators.region == "all")
                         & (indicators.age_group == "all")]
    for row in pension.itertuples():
        cell = realized["pension_affiliation_rate"][row.population_group][row.sex]
        assert (row.estimate, row.n_unweighted) == (pytest.approx(cell["estimate"], rel=1e-9), cell["n"])
    with duckdb.connect(str(refreshed.settings.warehouse_db), read_only=True) as connection:
        mean_year, n = connection.execute(
            "select sum(weight_migration * arrival_year) / sum(weight_migration), count(*) "
            "from intermediate.int_survey_persons_harmonized "
            "where survey = 'enahopv' and population_group = 'migrant' and arrival_year is not null").fetchone()
    expected = realized["arrival_year_mean"]["migrant"]["all"]
    assert (mean_year, n) == (pytest.approx(expected["estimate"], rel=1e-12), expected["n"])


def test_enpove_2022_is_read_through_its_crosswalk_and_reproduces_the_generators_figures(refreshed):
    """ENPOVE's own questions (activity, day-by-day hours, pay per period, two education scales, P307 permits)
    reach the same indicators as ENAHO-type surveys: the published national cells equal the figures the generator
    computed from the persons it encoded, and what ENPOVE does not measure is not published."""
    realized = refreshed.truth["survey"]["enpove"]["estimates"]
    indicators = published_indicators(refreshed)
    enpove = indicators[(indicators.source == "ENPOVE 2022") & (indicators.region == "all")
                        & (indicators.age_group == "all") & (indicators.population_group == "migrant")]
    compared = 0
    for indicator_id, by_group in realized.items():
        if indicator_id == "female_share":
            continue
        for sex, cell in by_group["migrant"].items():
            row = enpove[(enpove.indicator_id == indicator_id) & (enpove.sex == sex)]
            assert len(row) == 1, (indicator_id, sex)
            assert row.n_unweighted.iloc[0] == cell["n"], (indicator_id, sex)
            assert row.estimate.iloc[0] == pytest.approx(cell["estimate"], rel=1e-9), (indicator_id, sex)
            compared += 1
    assert compared >= 25
    assert not enpove.indicator_id.isin(["informality_rate", "formal_employment_rate",
                                         "pension_affiliation_rate"]).any()  # not in ENPOVE: absent, never 0
    assert set(indicators[indicators.source == "ENPOVE 2022"].population_group) == {"migrant"}


def test_discrimination_at_work_is_published_for_both_migrant_surveys_and_covers_the_planted_rate(refreshed):
    truth = refreshed.truth["survey"]
    planted = truth["derived"]["discrimination_at_work_rate"]["migrant"]
    indicators = published_indicators(refreshed)
    cells = indicators[(indicators.indicator_id == "discrimination_at_work_rate") & (indicators.region == "all")
                       & (indicators.age_group == "all") & indicators.sex.isin(["female", "male"])]
    assert sorted(set(cells.source)) == ["ENAHOPV 2024", "ENPOVE 2022"] and set(cells.population_group) == {"migrant"}
    for row in cells.itertuples():
        assert abs(row.estimate - planted[row.sex]) < 4 * row.se, row
    enahopv = cells[cells.source == "ENAHOPV 2024"]
    for row in enahopv.itertuples():
        cell = truth["estimates"]["discrimination_at_work_rate"]["migrant"][row.sex]
        assert (row.estimate, row.n_unweighted) == (pytest.approx(cell["estimate"], rel=1e-9), cell["n"])
