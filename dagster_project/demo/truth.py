"""The planted truth of the demo data (truth.yaml) and what follows from it analytically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

TRUTH_FILE = Path(__file__).with_name("truth.yaml")
GROUPS = ("host", "migrant")
SEXES = ("female", "male")
SIZE_KEYS_SCALED = ("enaho_households", "enahopv_households", "enpove_households", "registry_people",
                    "fivew_rows_per_month", "beneficiary_records_per_file")


def load_truth(path: Path | None = None) -> dict:
    """The planted parameters and size presets, as a plain dict."""
    with open(path or TRUTH_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def resolve_sizes(truth: dict, scale: str | float) -> dict:
    """Sizes for a preset name ("tiny", "demo", "national") or a float multiplier of the "demo" sizes, with the
    survey options filled in (`enaho_waves`: the survey year alone unless the preset lists waves;
    `label_valued`: off unless the preset sets it)."""
    defaults = {"enaho_waves": [truth["year"]], "label_valued": False}
    presets = truth["sizes"]
    if isinstance(scale, str):
        try:
            return {"name": scale, **defaults, **presets[scale]}
        except KeyError:
            try:
                scale = float(scale)
            except ValueError:
                raise ValueError(f"unknown scale {scale!r}: use one of {', '.join(presets)} or a number") from None
    factor = float(scale)
    if not factor > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    sizes = {"name": f"demo×{factor:g}", **defaults, **presets["demo"]}
    for key in SIZE_KEYS_SCALED:
        sizes[key] = max(1, int(round(sizes[key] * factor)))
    return sizes


def hours_distribution(survey: dict, group: str) -> tuple[np.ndarray, np.ndarray]:
    """Main-job hours (p513t before the zero-hours share) and their probabilities."""
    cfg = survey["hours_main"]
    hours = np.arange(cfg["min"], cfg["max"] + 1)
    weights = np.exp(-0.5 * ((hours - cfg[group]["mean"]) / cfg[group]["sd"]) ** 2)
    return hours, weights / weights.sum()


def hours_per_hourly_wage(survey: dict, group: str) -> float:
    """E[hourly wage × main-job hours] / E[hourly wage] = E[h^(1+b)] / E[h^b] over the latent hours, b the wage
    model's log_hours slope (hours are drawn independently of every other wage covariate)."""
    hours, probs = hours_distribution(survey, group)
    b = survey["wage_model"]["beta"]["log_hours"]
    return float((hours ** (1 + b) * probs).sum() / (hours**b * probs).sum())


def expected_labor_income_monthly(survey: dict, group: str, sex: str, hourly: float | None = None) -> float:
    """E[monthly labor income] over the employed, from the planted parameters (blanks = 0); `hourly`: the mean
    main-job hourly wage of a subpopulation (an age group) instead of the group × sex planted mean."""
    planted = survey["hourly_income_mean"][group][sex]
    hourly = planted if hourly is None else hourly
    main = 4.33 * hourly * hours_per_hourly_wage(survey, group)
    sec = survey["secondary_job"]
    low, high = sec["hours"]
    secondary = sec["share"] * 4.33 * sec["hourly_mean_ratio"] * planted * (low + high) / 2
    return main + secondary


def derived_expectations(truth: dict) -> dict:
    """Expected values of indicators defined from the planted ones (wage gaps, monthly labor income, unemployment,
    discrimination at work)."""
    survey = truth["survey"]
    hourly = survey["hourly_income_mean"]
    discrimination = survey["discrimination"]
    return {
        "wage_gap_raw": {s: 1 - hourly["migrant"][s] / hourly["host"][s] for s in SEXES},
        "gender_wage_gap": {g: 1 - hourly[g]["female"] / hourly[g]["male"] for g in GROUPS},
        "labor_income_monthly_mean": {
            g: {s: expected_labor_income_monthly(survey, g, s) for s in SEXES} for g in GROUPS},
        "unemployment_rate": {
            g: {s: _expected_unemployment(survey, g, s) for s in SEXES} for g in GROUPS},
        # migrants only (ENAHOPV P1009/P1011_1, ENPOVE P701/P703_1): the two planted probabilities are independent
        "discrimination_at_work_rate": {
            "migrant": {s: round(discrimination["felt_discriminated"][s]
                                 * discrimination["at_work_given_discriminated"], 10) for s in SEXES}},
    }


def _expected_unemployment(survey: dict, group: str, sex: str) -> float:
    employed = survey["employment_rate"][group][sex]
    open_unemployed = (1 - employed) * survey["nonemployed_split"]["open_unemployed"]
    return open_unemployed / (employed + open_unemployed)
