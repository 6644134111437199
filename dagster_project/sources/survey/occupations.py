"""Occupations open to migrants: per ISCO-08 group, the share of the employed of each population group who work in
it and their median hourly income, with design-based standard errors (same engine and rules as the indicators).

`p505r4` is coded with INEI's CIUO 2015, which keeps ISCO-08's major and sub-major groups: its first one and two
digits are the ISCO-08 major and sub-major group.
"""

from __future__ import annotations

import pandas as pd

from dagster_project.sources.survey.estimation import Design, estimate_ratio, finalize, weighted_quantile
from dagster_project.sources.survey.indicators import SURVEY_LABELS, load_spec, prepare_persons

ISCO_LEVELS = {"major": 1, "sub_major": 2}
MEASURE_COLUMNS = ["estimate", "se", "ci_low", "ci_high", "cv", "n_unweighted", "reliability"]
OUTPUT_COLUMNS = ["source", "period", "population_group", "isco_level", "isco_code", "measure", *MEASURE_COLUMNS]


def _employed_frame(wave: pd.DataFrame) -> pd.DataFrame:
    employed = wave.eval("working_age & employed").fillna(False).astype(bool)
    code = wave["occupation_code"].astype("string")
    valid = code.str.fullmatch(r"\d{4}").fillna(False)
    frame = wave[["stratum_id", "psu", "population_group"]].copy()
    frame["_w"] = wave["weight_employment"].fillna(0.0).where(employed, 0.0).astype(float)
    frame["_x"] = (employed & valid).astype(float)  # the employed whose occupation is coded
    frame["_hourly"] = pd.to_numeric(wave["hourly_income"], errors="coerce").where(employed & valid)
    frame["_has_hourly"] = frame["_hourly"].notna()
    for level, digits in ISCO_LEVELS.items():
        frame[level] = code.str[:digits].where(valid)
    return frame


def compute_occupations(persons: pd.DataFrame) -> pd.DataFrame:
    data = prepare_persons(persons, load_spec()["age_groups"])
    data = data[data["weight_members"].notna()]
    design = Design(weight="_w", stratum="stratum_id", psu="psu")
    parts = []
    for (survey, year), wave in data.groupby(["survey", "year"], sort=True):
        frame = _employed_frame(wave)
        source = f"{SURVEY_LABELS.get(survey, survey.upper())} {year}"
        for level in ISCO_LEVELS:
            for code in sorted(frame[level].dropna().unique()):
                frame["_y"] = (frame[level] == code).fillna(False).astype(float) * frame["_x"]
                shares = estimate_ratio(frame, "_y", "_x", design, ["population_group"])
                parts.append(finalize(shares, share=True).assign(isco_level=level, isco_code=code,
                                                                 measure="employed_share", source=source, period=str(year)))
            medians = weighted_quantile(frame, "_hourly", "_has_hourly", design, ["population_group", level], q=0.5)
            medians = medians.rename(columns={level: "isco_code"})
            parts.append(finalize(medians, share=False).assign(isco_level=level, measure="median_hourly_income",
                                                               source=source, period=str(year)))
    if not parts:
        return pd.DataFrame(columns=OUTPUT_COLUMNS)
    result = pd.concat(parts, ignore_index=True)
    result = result[result["population_group"].notna() & result["isco_code"].notna() & (result["n_unweighted"] > 0)]
    return result[OUTPUT_COLUMNS].sort_values(["period", "isco_level", "isco_code", "population_group", "measure"],
                                              ignore_index=True)
