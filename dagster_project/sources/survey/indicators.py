"""Survey indicators with design-based standard errors, in the long shape of the published `indicators` table.

Input: `intermediate.int_survey_persons_harmonized` (one row per survey × wave × person). Each survey-wave is its
own design (strata × PSUs); hosts come from ENAHO, migrants from ENAHOPV/ENPOVE. Every person of a survey-wave
stays in the data, so domain standard errors see all PSUs. What is computed is defined in `indicators.yaml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from dagster_project.sources.survey.decomposition import oaxaca_blinder
from dagster_project.sources.survey.estimation import (
    Design, estimate_ratio, finalize, ratio_gap_independent, ratio_gap_same_design, weighted_quantile,
)

SPEC_FILE = Path(__file__).parent / "indicators.yaml"
SURVEY_LABELS = {"enaho": "ENAHO", "enahopv": "ENAHOPV", "enpove": "ENPOVE"}
CELL_COLUMNS = ["population_group", "sex", "region", "age_group"]
OUTPUT_COLUMNS = ["indicator_id", "domain", "source", "period", *CELL_COLUMNS, "estimate", "se", "ci_low", "ci_high",
                  "cv", "n_unweighted", "unit", "reliability"]
# The cells published for every indicator: one margin at a time beside sex (region × age would be too sparse).
GROUPINGS = [
    ["population_group", "sex"], ["population_group"],
    ["population_group", "sex", "region"], ["population_group", "region"],
    ["population_group", "sex", "age_group"], ["population_group", "age_group"],
]


@dataclass(frozen=True)
class IndicatorSpec:
    id: str
    domain: str
    kind: str  # ratio | median
    universe: str
    weight: str
    unit: str
    description: str
    numerator: str | None = None
    value: str | None = None

    @property
    def is_share(self) -> bool:
        return self.unit == "share"


def load_spec(path: Path = SPEC_FILE) -> dict:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["indicators"] = [IndicatorSpec(**entry) for entry in spec["indicators"]]
    return spec


def indicator_definitions(spec: dict | None = None) -> pd.DataFrame:
    """One row per published survey indicator: what it measures, over whom, from which variables (indicators.yaml)."""
    spec = spec or load_spec()
    rows = [{"indicator_id": i.id, "domain": i.domain, "unit": i.unit, "definition": i.description,
             "universe": i.universe, "numerator": i.numerator or f"median of {i.value}", "weight": i.weight,
             "estimator": "weighted ratio, Taylor-linearized SE" if i.kind == "ratio" else "weighted median, Woodruff SE"}
            for i in spec["indicators"]]
    rows += [{"indicator_id": g["id"], "domain": "labor", "unit": "relative_gap", "definition": g["description"],
              "universe": f"cells of {g['of']}", "numerator": f"1 − {g['a']} / {g['b']} {g['of']}", "weight": "",
              "estimator": "delta method" + (" (independent samples)" if g["compare"] == "population_group"
                                             else " (one design, covariance included)")}
             for g in spec["gaps"]]
    for part, indicator_id in DECOMPOSITION_PARTS.items():
        rows.append({"indicator_id": indicator_id, "domain": "labor", "unit": "log_points",
                     "definition": f"Oaxaca–Blinder decomposition of the host − migrant gap in mean log hourly income: "
                                   f"the {part} part" + (" (= explained + unexplained)" if part == "gap" else ""),
                     "universe": "employed 14+ with hourly income, host (ENAHO) and migrant (ENAHOPV/ENPOVE)",
                     "numerator": "covariates: education, age, age², log hours, region, sector (and sex when pooled)",
                     "weight": "weight_employment", "estimator": "host wage structure as reference; stratified PSU bootstrap SE"})
    return pd.DataFrame(rows)


def prepare_persons(persons: pd.DataFrame, age_groups: dict[str, list[int]]) -> pd.DataFrame:
    """The cell columns, 'has answer' flags and design ids the expressions in indicators.yaml refer to."""
    data = persons.copy()
    flags = [c for c in data.columns if data[c].dtype == bool or str(data[c].dtype) == "boolean"]
    for column in flags:
        data[column] = data[column].fillna(False).astype(bool)
    data["has_labor_status"] = persons["labor_status_code"].notna()
    data["has_hourly_income"] = persons["hourly_income"].notna()
    data["has_occupation"] = persons["low_skill_occupation"].notna()
    data["has_health_answer"] = persons["health_insured"].notna()
    data["has_permit_answer"] = persons["no_permit"].notna()
    data["has_pension_answer"] = persons["pension_affiliated"].notna()
    data["has_discrimination_answer"] = persons["discriminated_at_work"].notna()
    data["weight_health"] = persons["weight_health"].fillna(persons["weight_members"])  # module 400 may lack a weight
    data["region"] = persons["department_name"].fillna("unknown")
    data["age_group"] = pd.Series(pd.NA, index=data.index, dtype="object")
    for label, (low, high) in age_groups.items():
        data.loc[persons["age"].between(low, high), "age_group"] = label
    # strata are numbered within each survey-wave; the design id must not merge strata of different surveys
    data["stratum_id"] = data["survey"] + "-" + data["year"].astype(str) + "-" + data["stratum"].astype(str)
    return data


def _cell_frame(estimates: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    for column in CELL_COLUMNS:
        if column not in by:
            estimates[column] = "all"
    return estimates


def _with_universe(data: pd.DataFrame, indicator: IndicatorSpec) -> pd.DataFrame:
    universe = data.eval(indicator.universe).fillna(False).astype(bool)
    weight = data[indicator.weight].fillna(0.0).where(universe, 0.0)
    frame = data[["stratum_id", "psu", *CELL_COLUMNS]].copy()
    frame["_w"] = weight.astype(float)
    frame["_x"] = universe.astype(float)
    if indicator.kind == "ratio":
        values = data.eval(indicator.numerator)
        frame["_y"] = pd.to_numeric(values, errors="coerce").astype(float).fillna(0.0).where(universe, 0.0)
    else:
        frame["_value"] = pd.to_numeric(data[indicator.value], errors="coerce").where(universe)
        frame["_in"] = universe
    return frame


def estimate_indicator(data: pd.DataFrame, indicator: IndicatorSpec) -> pd.DataFrame:
    """Every published cell of one indicator in one survey-wave (rows without universe members dropped)."""
    frame = _with_universe(data, indicator)
    design = Design(weight="_w", stratum="stratum_id", psu="psu")
    parts = []
    for by in GROUPINGS:
        if indicator.kind == "ratio":
            estimates = estimate_ratio(frame, "_y", "_x", design, by)
        else:
            estimates = weighted_quantile(frame, "_value", "_in", design, by, q=0.5)
        parts.append(_cell_frame(estimates, by))
    estimates = pd.concat(parts, ignore_index=True)
    estimates = estimates[estimates["n_unweighted"] > 0]
    return estimates.assign(indicator_id=indicator.id, domain=indicator.domain, unit=indicator.unit)


def compute_survey_indicators(persons: pd.DataFrame, spec: dict | None = None) -> pd.DataFrame:
    """The survey part of the `indicators` table."""
    spec = spec or load_spec()
    data = prepare_persons(persons, spec["age_groups"])
    data = data[data["weight_members"].notna()]
    rows = []
    for (survey, year), wave in data.groupby(["survey", "year"], sort=True):
        source = f"{SURVEY_LABELS.get(survey, survey.upper())} {year}"
        unmeasured = set(unmeasured_columns(persons[(persons["survey"] == survey) & (persons["year"] == year)]))
        for indicator in spec["indicators"]:
            if unmeasured & set(indicator_inputs(indicator, persons.columns)):
                continue  # this survey-wave does not measure it
            estimates = estimate_indicator(wave, indicator)
            estimates = estimates[estimates["population_group"].notna()]
            rows.append(finalize(estimates, share=indicator.is_share).assign(source=source, period=str(year)))
        rows.append(_gender_gaps(wave, spec, source, str(year)))
    indicators = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=OUTPUT_COLUMNS)
    indicators = pd.concat([indicators, _migrant_host_gaps(indicators, spec), wage_gap_decomposition(data, spec)],
                           ignore_index=True)
    return indicators[OUTPUT_COLUMNS].sort_values(["indicator_id", "period", *CELL_COLUMNS], ignore_index=True)


def unmeasured_columns(wave_persons: pd.DataFrame) -> list[str]:
    """Columns that are NULL for every person of a survey-wave: variables that wave does not have."""
    return [c for c in wave_persons.columns if wave_persons[c].isna().all()]


def indicator_inputs(indicator: IndicatorSpec, columns: pd.Index) -> list[str]:
    """The person columns an indicator's numerator (or median value) reads."""
    expression = indicator.numerator or indicator.value or ""
    return [name for name in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression) if name in columns]


def _gap_spec(spec: dict, compare: str) -> dict:
    return next(g for g in spec["gaps"] if g["compare"] == compare)


def _gender_gaps(wave: pd.DataFrame, spec: dict, source: str, period: str) -> pd.DataFrame:
    """1 − female/male mean hourly income within each group: one design, so the covariance is in the SE."""
    gap = _gap_spec(spec, "sex")
    indicator = next(i for i in spec["indicators"] if i.id == gap["of"])
    frame = _with_universe(wave, indicator)
    frame["sex"] = wave["sex"]
    design = Design(weight="_w", stratum="stratum_id", psu="psu")
    parts = []
    for by in (["population_group"], ["population_group", "region"], ["population_group", "age_group"]):
        estimates = ratio_gap_same_design(frame, "_y", "_x", design, by, "sex", gap["a"], gap["b"])
        parts.append(_cell_frame(estimates, by))
    estimates = pd.concat(parts, ignore_index=True)
    estimates = estimates[estimates["population_group"].notna() & (estimates["n_unweighted"] > 0)]
    estimates = estimates.assign(indicator_id=gap["id"], domain="labor", unit="relative_gap")
    return finalize(estimates, share=False).assign(source=source, period=period)


def _migrant_host_gaps(indicators: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """1 − migrant/host mean hourly income per cell: two independent surveys, so the variances add."""
    gap = _gap_spec(spec, "population_group")
    means = indicators[indicators["indicator_id"] == gap["of"]]
    keys = ["period", "sex", "region", "age_group"]
    migrant = means[means["population_group"] == gap["a"]].set_index(keys)
    host = means[means["population_group"] == gap["b"]].set_index(keys)
    both = migrant.join(host, how="inner", lsuffix="_a", rsuffix="_b")
    both = both[both["estimate_a"].notna() & both["estimate_b"].notna()]
    if both.empty:
        return pd.DataFrame(columns=OUTPUT_COLUMNS)
    estimate, se = ratio_gap_independent(both["estimate_a"].to_numpy(float), both["se_a"].to_numpy(float),
                                         both["estimate_b"].to_numpy(float), both["se_b"].to_numpy(float))
    gaps = pd.DataFrame({
        "estimate": estimate, "se": se,
        # the smaller side decides whether the contrast is publishable
        "n_unweighted": np.minimum(both["n_unweighted_a"], both["n_unweighted_b"]).to_numpy(),
    }, index=both.index).reset_index()
    gaps = gaps.assign(indicator_id=gap["id"], domain="labor", unit="relative_gap", population_group=gap["published_as"],
                       source=(both["source_b"] + " + " + both["source_a"]).to_numpy())
    return finalize(gaps, share=False)


DECOMPOSITION_PARTS = {"gap": "wage_gap_log", "explained": "wage_gap_explained", "unexplained": "wage_gap_unexplained"}


def _decomposition_inputs(data: pd.DataFrame) -> pd.DataFrame:
    """Log hourly wage and the covariates of the adjusted gap (education, age, sex, region, hours, sector)."""
    frame = data[["population_group", "sex", "region", "stratum_id", "psu", "weight_employment", "year"]].copy()
    positive = lambda column: pd.to_numeric(data[column], errors="coerce").where(lambda v: v > 0)  # noqa: E731
    frame["log_hourly_income"] = np.log(positive("hourly_income"))
    frame["log_hours"] = np.log(positive("hours_main_job"))
    frame["age"] = pd.to_numeric(data["age"], errors="coerce")
    frame["age_squared"] = frame["age"] ** 2
    frame["education"] = data["education_level_code"].astype("string")
    frame["sector"] = data["industry_code"].astype("string").str[:2]  # CIIU rev.4 division
    frame["sex_covariate"] = data["sex"]
    frame["weight"] = data["weight_employment"].fillna(0.0)
    return frame


def wage_gap_decomposition(data: pd.DataFrame, spec: dict, replicates: int = 200) -> pd.DataFrame:
    """Oaxaca–Blinder decomposition of the host − migrant gap in mean log hourly income, by sex and overall, with
    the host wage structure as reference; SEs by a stratified PSU bootstrap of each survey. One wave at a time."""
    frame = _decomposition_inputs(data)
    rows = []
    for year, wave in frame.groupby("year", sort=True):
        groups = set(wave["population_group"].dropna())
        if not {"host", "migrant"} <= groups:
            continue
        common = dict(outcome="log_hourly_income", group="population_group", reference="host", comparison="migrant",
                      weight="weight", stratum="stratum_id", psu="psu", replicates=replicates, seed=int(year))
        numeric = ["age", "age_squared", "log_hours"]
        by_sex = oaxaca_blinder(wave, covariates=numeric + ["education", "region", "sector"],
                                categorical=["education", "region", "sector"], by=["sex"], **common)
        pooled = oaxaca_blinder(wave, covariates=numeric + ["education", "region", "sector", "sex_covariate"],
                                categorical=["education", "region", "sector", "sex_covariate"], **common)
        sources = sorted(data.loc[data["year"] == year, "survey"].map(lambda s: SURVEY_LABELS.get(s, s)).unique())
        for result in (by_sex, pooled.assign(sex="all")):
            result = result[result["sex"].notna()]
            for part, indicator_id in DECOMPOSITION_PARTS.items():
                rows.append(pd.DataFrame({
                    "indicator_id": indicator_id, "domain": "labor", "unit": "log_points",
                    "source": " + ".join(f"{s} {year}" for s in sources), "period": str(year),
                    "population_group": "migrant", "sex": result["sex"].to_numpy(), "region": "all", "age_group": "all",
                    "estimate": result[part].to_numpy(), "se": result[f"se_{part}"].to_numpy(),
                    "n_unweighted": np.minimum(result["n_reference"], result["n_comparison"]).to_numpy(),
                }))
    if not rows:
        return pd.DataFrame(columns=OUTPUT_COLUMNS)
    return finalize(pd.concat(rows, ignore_index=True), share=False)
