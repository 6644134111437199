"""Calibration of the demo wage model and its population truth (truth.yaml `wage_model.intercept`,
`mean_log_hourly_income`, `wage_decomposition`, `by_age_group`).

    python -m dagster_project.demo.wage_model      # prints the blocks to paste into truth.yaml

The survey generator draws log(hourly main-job wage) = intercept[group][sex] + Σ terms(x) + ε (survey.wage_terms;
same slopes for host and migrant). The population moments of the covariate terms are not available in closed form
(age, schooling, department and sector come out of the household, education and occupation draws), so they are
taken from one large fixed-seed draw of the generator itself (CALIBRATION_HOUSEHOLDS, seed CALIBRATION_SEED): the
weighted hourly-wage universe (employed, p513t > 0; fac500a for ENAHO, FACTOR and P209A == 2 for ENAHOPV). With
M = Σw·exp(xb) / Σw per group × sex:

    intercept = ln(planted mean hourly wage) − ln(M) − sigma²/2          (rounded to 4 decimals)

so E[hourly] = exp(intercept + sigma²/2)·M is the planted mean. Everything else is computed from the rounded
intercepts over the same draw: mean log hourly wage = intercept + E[xb]; the Oaxaca–Blinder decomposition of the
gap in mean log hourly wage (host − migrant) within each sex, with the host as reference (the slopes are common,
so reference choice does not matter): explained = E_host[xb] − E_migrant[xb] (by covariate group too),
unexplained = intercept_host − intercept_migrant (= −δ, the migrant intercept shift), gap = their sum. Monte Carlo
error of the draw: about 0.001–0.002 log points. Change anything that moves the covariates (or the wage model),
then rerun this and paste: tests/test_demo_generator.py checks truth.yaml against a fresh calibration.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import yaml

from .survey import AGE_GROUPS, MIGRANT, WAGE_TERMS, build_enaho, build_enahopv
from .truth import GROUPS, SEXES, expected_labor_income_monthly, load_truth

CALIBRATION_SEED = 20240905
CALIBRATION_HOUSEHOLDS = {"enaho": 200_000, "enahopv": 120_000}
DECIMALS = 4


def population_draw(truth: dict) -> dict[str, pd.DataFrame]:
    """The weighted hourly-wage universe of a large fixed-seed draw, per group: sex, p208a, weight, wage terms."""
    survey = truth["survey"]
    enaho = build_enaho(np.random.default_rng(np.random.SeedSequence([CALIBRATION_SEED, 1])), survey,
                        CALIBRATION_HOUSEHOLDS["enaho"])
    enahopv = build_enahopv(np.random.default_rng(np.random.SeedSequence([CALIBRATION_SEED, 2])), survey,
                            CALIBRATION_HOUSEHOLDS["enahopv"], truth["year"])
    frames = {"host": enaho.assign(w=enaho["fac500a"]),
              "migrant": enahopv[enahopv["group"] == MIGRANT].assign(w=lambda f: f["weight"])}
    out = {}
    for group, frame in frames.items():
        universe = frame[(frame["ocu500"] == 1) & (frame["p513t"] > 0)]
        out[group] = pd.DataFrame({
            "sex": np.where(universe["p207"].to_numpy() == 2, "female", "male"),
            "p208a": universe["p208a"].to_numpy(), "w": universe["w"].to_numpy(),
            **{term: universe[f"wage_{term}"].to_numpy() for term in WAGE_TERMS}})
    return out


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    return float((weights * values).sum() / weights.sum())


def calibrate(truth: dict, draw: dict[str, pd.DataFrame] | None = None) -> dict:
    """The calibrated intercepts and the population values that follow from them (see the module docstring)."""
    survey = truth["survey"]
    sigma2 = survey["hourly_income_sigma"] ** 2
    draw = draw if draw is not None else population_draw(truth)
    intercept: dict = {g: {} for g in GROUPS}
    mean_terms: dict = {g: {} for g in GROUPS}
    cells: dict = {}
    for group in GROUPS:
        for sex in SEXES:
            cell = draw[group][draw[group]["sex"] == sex]
            xb = cell[list(WAGE_TERMS)].sum(axis=1).to_numpy()
            w = cell["w"].to_numpy()
            m = _weighted_mean(np.exp(xb), w)
            intercept[group][sex] = round(float(np.log(survey["hourly_income_mean"][group][sex]) - np.log(m)
                                                - sigma2 / 2), DECIMALS)
            mean_terms[group][sex] = {t: _weighted_mean(cell[t].to_numpy(), w) for t in WAGE_TERMS}
            cells[group, sex] = (cell, xb, w)

    def rounded(value: float) -> float:
        return round(float(value), DECIMALS)

    mean_log = {g: {s: rounded(intercept[g][s] + sum(mean_terms[g][s].values())) for s in SEXES} for g in GROUPS}
    decomposition = {}
    for sex in SEXES:
        by_term = {t: mean_terms["host"][sex][t] - mean_terms["migrant"][sex][t] for t in WAGE_TERMS}
        explained = sum(by_term.values())
        unexplained = intercept["host"][sex] - intercept["migrant"][sex]
        decomposition[sex] = {"gap": rounded(explained + unexplained), "explained": rounded(explained),
                              "unexplained": rounded(unexplained),
                              "explained_by": {t: rounded(v) for t, v in by_term.items()}}
    by_age_group: dict = {}
    for name, low, high in AGE_GROUPS:
        block = {"hourly_income_mean": {}, "mean_log_hourly_income": {}, "labor_income_monthly_mean": {}}
        for group in GROUPS:
            for key in block:
                block[key][group] = {}
            for sex in SEXES:
                cell, xb, w = cells[group, sex]
                age = cell["p208a"].to_numpy()
                band = (age >= low) & (age <= high)
                a = intercept[group][sex]
                hourly = float(np.exp(a + sigma2 / 2) * _weighted_mean(np.exp(xb[band]), w[band]))
                block["hourly_income_mean"][group][sex] = round(hourly, 2)
                block["mean_log_hourly_income"][group][sex] = rounded(a + _weighted_mean(xb[band], w[band]))
                block["labor_income_monthly_mean"][group][sex] = round(
                    expected_labor_income_monthly(survey, group, sex, hourly=hourly), 2)
        by_age_group[name] = block
    return {"intercept": intercept, "mean_log_hourly_income": mean_log, "wage_decomposition": decomposition,
            "by_age_group": by_age_group}


def planted_values(truth: dict) -> dict:
    """What truth.yaml holds for the keys `calibrate` computes (to compare)."""
    survey = truth["survey"]
    return {"intercept": survey["wage_model"]["intercept"], "mean_log_hourly_income": survey["mean_log_hourly_income"],
            "wage_decomposition": survey["wage_decomposition"], "by_age_group": survey["by_age_group"]}


def main() -> None:
    calibrated = calibrate(load_truth())
    print("# survey.wage_model.intercept, then survey-level keys (indented two spaces under `survey:`)")
    yaml.safe_dump(calibrated, sys.stdout, sort_keys=False, default_flow_style=None, width=120,
                   allow_unicode=True)


if __name__ == "__main__":
    main()
