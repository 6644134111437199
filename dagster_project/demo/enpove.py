"""ENPOVE 2022 (II Encuesta dirigida a la Población Venezolana que reside en el país): INEI's integrated person
file `survey/enpove/2022/ENPOVE2022_V_200-300-400-500-600-700-800.csv` (UTF-8 with BOM, blanks empty), one row
per member of every sampled household, in ENPOVE's own questionnaire variables.

The persons are an ENAHOPV-style sample (`survey.build_enahopv`: same design and planted migrant parameters)
drawn for 2022, then ENCODED as the inverse of the warehouse's crosswalk
`sources/survey/crosswalks/enpove-2022.yaml`, so that the crosswalk decodes the file back to the same ENAHO-coded
values. Where ENPOVE cannot hold a value as drawn (money per pay period with 2 decimals, four health insurance
items instead of eight, employee and worker merged in P612, secondary jobs not split dependent / independent, no
contract type, informality or pension), the persons' values are replaced by what the crosswalk decodes (the
second frame `build_enpove` returns); the realized estimates are computed from those decoded persons, so the
warehouse must reproduce them exactly. Migrants are P208 == 1 (the generator's P209A == 2).

Arrival years: truth.yaml's shares run to 2024; ENPOVE keeps the shares of the years up to 2022, renormalized
(`_arrival_before_interview`), and arrivals in 2022 fall no later than the household's interview month, so no
one arrives after the interview.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from .geography import DEPARTMENT_BY_CODE
from .io_utils import int_text, write_csv
from .survey import (DEPENDENT_CATEGORIES, INCOME_COLUMNS, _choice, _estimates_by_cell, _person_arrays,
                     _ratio, build_enahopv, discrimination_at_work_by_sex, sample_summary)

ENPOVE_YEAR = 2022  # the only ENPOVE wave with a crosswalk (enpove-2022.yaml)
FILE_NAME = f"ENPOVE{ENPOVE_YEAR}_V_200-300-400-500-600-700-800.csv"
BLANK = ""  # the integrated file's empty cells

ACTIVITY_ITEMS = [f"P605_{k}" for k in range(1, 13)]  # twelve paid or family-helper activities last week
MAIN_DAYS = [f"P615_{k}" for k in range(1, 8)]  # main-job hours Sunday..Saturday
SECONDARY_DAYS = [f"P615_{k}" for k in range(8, 15)]  # secondary jobs, same days
MOTIVES = [f"P702_{k}" for k in range(1, 8)]  # 702 why discriminated (5 nacionalidad)
PLACES = [f"P703_{k}" for k in range(1, 11)]  # 703 where (1 en su centro de trabajo)
HEADER = [
    "CCDD", "DEPARTAMENTO", "CCPP", "CCDI", "CIUDAD", "CONGLOMERADO", "VIVIENDA", "THOGAR", "NHOGAR", "ESTRATO",
    "RESFIN", "P200_N", "P203", "P204", "P205_A", "P205_B", "P208", "P303_MES", "P303_ANIO", "P307",
    "P401_1", "P401_2", "P401_3", "P401_4", "P401_5", "P501A", "P501", "P501B",
    "P601", "P603", "P604", *ACTIVITY_ITEMS, "P609_COD", "P611_COD", "P612", "P613", *MAIN_DAYS, *SECONDARY_DAYS,
    "P615_T", "P617", "P618", "P621", "P622_1", "P622_2", "P623_1", "P623_2", "P624_1", "P624_2",
    "P626", "P627", "P629", "P630", "P701", *MOTIVES, *PLACES, "factorfinal",
]  # in the real header's order (a subset of its 487 columns), weight last

# the crosswalk's code lists, inverted: ENAHO code → the ENPOVE codes that decode to it (one drawn at random)
P501_VENEZUELA = {2: {2: 1.0}, 3: {3: 1.0}, 5: {4: 0.5, 5: 0.5}, 6: {6: 1.0}, 7: {7: 1.0}, 8: {8: 1.0},
                  9: {9: 1.0}, 10: {10: 1.0}, 11: {11: 1.0}}  # p301a → P501 (básica completa 4 is secundaria inc.)
P501B_PERU = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 12: 7, 7: 8, 8: 9, 9: 10, 10: 11, 11: 12}  # p301a → P501B
P612_OF_P507 = {1: {1: 1.0}, 2: {2: 1.0}, 3: {3: 1.0}, 4: {3: 1.0}, 5: {4: 0.5, 5: 0.5}, 6: {6: 1.0},
                7: {7: 0.7, 8: 0.3}}
P507_OF_P612 = {1: 1, 2: 2, 3: 3, 4: 5, 5: 5, 6: 6, 7: 7, 8: 7}  # the crosswalk's recode
P307_OF_P1002 = {1: {1: 1.0}, 2: {9: 1.0}, 3: {2: 0.30, 3: 0.35, 4: 0.05, 5: 0.15, 6: 0.10, 8: 0.05},
                 4: {7: 1.0}, 5: {10: 0.35, 11: 0.15, 12: 0.20, 13: 0.10, 14: 0.20}, 6: {15: 1.0}}
P1002_OF_P307 = {1: 1, 2: 3, 3: 3, 4: 3, 5: 3, 6: 3, 7: 4, 8: 3, 9: 2, 10: 5, 11: 5, 12: 5, 13: 5, 14: 5, 15: 6}
PERIODS_PER_YEAR = {2: 52, 3: 24, 4: 12}  # P621 weekly, fortnightly, monthly; 1 daily = 52 × days worked
PAY_FREQUENCY_MIX = {1: 0.15, 2: 0.25, 3: 0.20, 4: 0.40}  # P621 of dependent workers

STUDIED_IN_VENEZUELA = 0.8  # P501A = 1 for migrants whose level exists in Venezuela's list
WORKED_LAST_WEEK = 0.85  # employed answering P601 = 1; the others are absent (P603 / P604) or did an activity (P605)
INACTIVE_WANTING_WORK = 0.3  # inactive with P629 = 1 (wants to work) but P630 = 2 (not available)
ESTIMATED = ("employment_rate", "unemployment_rate", "underemployment_time_rate", "labor_income_monthly_mean",
             "hourly_income_mean", "contract_rate", "overqualification_rate", "health_insurance_rate")


def _arrival_before_interview(survey: dict) -> dict:
    """The planted parameters with arrival_year_shares cut at ENPOVE_YEAR (renormalized by survey._arrival)."""
    shares = {year: share for year, share in survey["arrival_year_shares"].items() if int(year) <= ENPOVE_YEAR}
    return {**survey, "arrival_year_shares": shares}


def _draw(rng: np.random.Generator, codes: np.ndarray, inverse: dict[int, dict[int, float]]) -> np.ndarray:
    """Per person, one ENPOVE code among those that decode to its ENAHO code (NaN stays NaN)."""
    out = np.full(codes.size, np.nan)
    for code, options in inverse.items():
        mask = codes == code
        out[mask] = _choice(rng, options, int(mask.sum()))
    return out


def _mapped(codes: np.ndarray, mapping: dict[int, int]) -> np.ndarray:
    """Codes through a one-to-one code list (NaN and unlisted codes → NaN)."""
    return pd.Series(codes).map(mapping).to_numpy(dtype=float)


def _flag(condition: np.ndarray, asked: np.ndarray, yes: int = 1, no: int = 2) -> np.ndarray:
    """A yes/no question's answers (ENPOVE: 1 Sí, 2 No), blank where it was not asked."""
    return np.where(asked, np.where(condition, yes, no), np.nan)


# ----------------------------------------------------------------------------------------------------------------
# encoding, chapter by chapter: each returns ENPOVE columns and the ENAHO-coded values they decode to

def _education(rng: np.random.Generator, p: pd.DataFrame, migrant: np.ndarray) -> tuple[dict, dict]:
    """501A where the last level was passed (1 Venezuela, 2 Perú, 3 sin nivel), 501 / 501B the level; persons 3+."""
    p301a = p["p301a"].to_numpy()
    n = p301a.size
    venezuela = migrant & np.isin(p301a, list(P501_VENEZUELA)) & (rng.random(n) < STUDIED_IN_VENEZUELA)
    p501a = np.where(np.isnan(p301a), np.nan, np.where(p301a == 1, 3, np.where(venezuela, 1, 2)))
    columns = {"P501A": p501a,
               "P501": np.where(p501a == 1, _draw(rng, p301a, P501_VENEZUELA), np.nan),
               "P501B": np.where(p501a == 2, _mapped(p301a, P501B_PERU), np.nan)}
    return columns, {"p301a": p301a}


def _health(p: pd.DataFrame) -> tuple[dict, dict]:
    """401 as 0/1 flags, everyone: 1 EsSalud, 2 private (ENAHO's private and EPS), 3 SIS, 4 other (armed forces,
    university, school, other), 5 not affiliated. Decoded: p4191, p4192, p4195, p4198; the rest absent."""
    def affiliated(*columns: str) -> np.ndarray:
        return (p[list(columns)].to_numpy() == 1).any(axis=1)

    items = [affiliated("p4191"), affiliated("p4192", "p4193"), affiliated("p4195"),
             affiliated("p4194", "p4196", "p4197", "p4198")]
    none = ~np.any(items, axis=0)
    columns = {f"P401_{k}": item.astype(float) for k, item in enumerate([*items, none], start=1)}
    decoded = {c: np.where(item, 1.0, 2.0) for c, item in zip(("p4191", "p4192", "p4195", "p4198"), items)}
    decoded.update({c: np.full(len(p), np.nan) for c in ("p4193", "p4194", "p4196", "p4197")})
    return columns, decoded


def _labor_status(rng: np.random.Generator, p: pd.DataFrame) -> dict:
    """601 worked last week, 603/604 absent from a job/business, 605 activities, 626/627 searched (last 4 weeks /
    last week), 629 wants to work, 630 available; persons 14+, questions not reached blank. The crosswalk's rule
    gives back ocu500: employed (1), searched last week (2), wants and available (3), else inactive (4)."""
    ocu = p["ocu500"].to_numpy()
    n = ocu.size
    asked = np.isfinite(ocu)
    employed = ocu == 1
    route = np.where(rng.random(n) < WORKED_LAST_WEEK, 0, rng.integers(1, 4, size=n))  # 1 P603, 2 P604, 3 P605
    route = np.where(employed, route, 4)  # the not employed answer no to all four
    reached = {"P601": asked, "P603": asked & (route != 0), "P604": asked & (route >= 2),
               "P605": asked & (route >= 3)}
    activity = rng.integers(1, 13, size=n)
    columns = {"P601": _flag(route == 0, reached["P601"]), "P603": _flag(route == 1, reached["P603"]),
               "P604": _flag(route == 2, reached["P604"])}
    columns.update({item: _flag((route == 3) & (activity == k), reached["P605"])
                    for k, item in enumerate(ACTIVITY_ITEMS, start=1)})
    not_employed = asked & ~employed
    wants = (ocu == 3) | ((ocu == 4) & (rng.random(n) < INACTIVE_WANTING_WORK))
    columns.update({"P626": _flag(ocu == 2, not_employed), "P627": np.where(ocu == 2, 1.0, np.nan),
                    "P629": _flag(wants, not_employed & (ocu != 2)), "P630": _flag(ocu == 3, wants)})
    return columns


def _job(rng: np.random.Generator, p: pd.DataFrame, employed: np.ndarray) -> tuple[dict, dict]:
    """609/611 occupation and industry codes, 612 category, 613 contract or payment receipt (asked of dependent
    workers here: p507 3, 4, 6), 617/618 wants / available for more hours."""
    p507 = np.where(employed, p["p507"].to_numpy(), np.nan)
    p612 = _draw(rng, p507, P612_OF_P507)
    dependent = np.isin(p507, DEPENDENT_CATEGORIES)
    contract = np.isin(p["p511a"].to_numpy(), range(1, 7))
    columns = {"P609_COD": p["p505r4"].to_numpy(), "P611_COD": p["p506r4"].to_numpy(), "P612": p612,
               "P613": _flag(contract, dependent), "P617": p["p521"].to_numpy(), "P618": p["p521a"].to_numpy()}
    return columns, {"p507": _mapped(p612, P507_OF_P612), "contract_or_receipt": columns["P613"]}


def _spread_over_days(rng: np.random.Generator, hours: np.ndarray, days_mix: dict[int, float],
                      day_order: list[int]) -> np.ndarray:
    """Weekly hours as 7 day cells (Sunday..Saturday) of whole hours summing to `hours`: a number of days drawn
    from `days_mix` (at most the whole hours), filled in `day_order`, any fraction on the first day; NaN rows
    (not asked) stay NaN, 0 hours give 7 zeros."""
    n = hours.size
    total = np.nan_to_num(hours)
    whole = np.floor(total)
    days = np.clip(_choice(rng, days_mix, n), 1, np.maximum(whole, 1)).astype(np.int64)
    days = np.where(total > 0, days, 0)
    safe_days = np.maximum(days, 1)
    rank = np.arange(7)[None, :]
    per_rank = np.where(rank < days[:, None], (whole // safe_days)[:, None] + (rank < (whole % safe_days)[:, None]),
                        0.0)
    per_rank[:, 0] += total - whole
    cells = np.empty((n, 7))
    cells[:, day_order] = per_rank
    cells[~np.isfinite(hours)] = np.nan
    return cells


def _hours(rng: np.random.Generator, p: pd.DataFrame) -> tuple[dict, dict, np.ndarray]:
    """615: main-job hours over Monday..Saturday (5-7 days), secondary jobs mostly at the weekend; P615_T the
    total. Returns the columns, the decoded p513t / p518 and the days worked in the main job (daily pay)."""
    main = _spread_over_days(rng, p["p513t"].to_numpy(), {5: 0.55, 6: 0.35, 7: 0.10}, [1, 2, 3, 4, 5, 6, 0])
    secondary = _spread_over_days(rng, p["p518"].to_numpy(), {1: 0.3, 2: 0.5, 3: 0.2}, [6, 0, 5, 4, 3, 2, 1])
    p513t, p518 = main.sum(axis=1), secondary.sum(axis=1)  # NaN where not asked, as the crosswalk's list_sum
    columns = {**dict(zip(MAIN_DAYS, main.T)), **dict(zip(SECONDARY_DAYS, secondary.T)),
               "P615_T": np.where(np.isfinite(p513t), p513t + np.nan_to_num(p518), np.nan)}
    return columns, {"p513t": p513t, "p518": p518}, (main > 0).sum(axis=1)


def _per_period(annual: np.ndarray, periods: np.ndarray, paid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Amount per pay period (2 decimals) and the annual amount it decodes to (amount × periods); NaN where not
    paid or the component is missing."""
    amount = np.where(paid & np.isfinite(annual), np.round(annual / np.where(paid, periods, 1), 2), np.nan)
    return amount, amount * periods


def _incomes(rng: np.random.Generator, p: pd.DataFrame, employed: np.ndarray, main_days: np.ndarray
             ) -> tuple[dict, dict]:
    """621 pay frequency and 622 pay per period (dependent main job), 623 last month's net profit (independent),
    624 last month's secondary-job income; cash _1, in kind _2. Decoded annual components = amount × periods."""
    n = len(p)
    dependent = employed & np.isin(p["p507"].to_numpy(), DEPENDENT_CATEGORIES)
    frequency = _choice(rng, PAY_FREQUENCY_MIX, n)
    no_daily = _choice(rng, {k: v for k, v in PAY_FREQUENCY_MIX.items() if k != 1}, n)
    frequency = np.where((frequency == 1) & (main_days == 0), no_daily, frequency)  # daily pay needs a day worked
    p621 = np.where(dependent, frequency, np.nan)
    periods = np.where(p621 == 1, 52 * main_days, _mapped(p621, PERIODS_PER_YEAR))
    independent = employed & ~dependent
    secondary = np.isfinite(p["p518"].to_numpy())
    annual = {c: p[c].to_numpy() for c in INCOME_COLUMNS}
    twelve = np.full(n, 12)
    columns, decoded = {"P621": p621}, {}
    for name, target, amount, per_year, paid in (
            ("P622_1", "i524a1", annual["i524a1"], periods, dependent),
            ("P622_2", "d529t", annual["d529t"], periods, dependent & (np.nan_to_num(annual["d529t"]) > 0)),
            ("P623_1", "i530a", annual["i530a"], twelve, independent),
            ("P623_2", "d536", annual["d536"], twelve, independent),
            # ENPOVE does not split secondary jobs into dependent and independent: both go to i538a1 / d540t
            ("P624_1", "i538a1", np.nansum([annual["i538a1"], annual["i541a"]], axis=0), twelve, secondary),
            ("P624_2", "d540t", np.nansum([annual["d540t"], annual["d543"]], axis=0), twelve, secondary)):
        columns[name], decoded[target] = _per_period(amount, per_year, paid)
    decoded.update({c: np.full(n, np.nan) for c in ("i541a", "d543", "d544t")})  # absent in the crosswalk
    return columns, decoded


def _migration(rng: np.random.Generator, p: pd.DataFrame, migrant: np.ndarray) -> tuple[dict, dict]:
    """303 month and year of the last entry to Peru, 307 permit type (ENPOVE's 15 codes); migrants only."""
    p307 = np.where(migrant, _draw(rng, p["p1002"].to_numpy(), P307_OF_P1002), np.nan)
    columns = {"P303_MES": np.where(migrant, p["p1000_mes"].to_numpy(), np.nan),
               "P303_ANIO": np.where(migrant, p["p1000_anho"].to_numpy(), np.nan), "P307": p307}
    return columns, {"p1002": _mapped(p307, P1002_OF_P307), "p1000_mes": columns["P303_MES"],
                     "p1000_anho": columns["P303_ANIO"]}


def _discrimination(rng: np.random.Generator, p: pd.DataFrame, migrant: np.ndarray) -> tuple[dict, dict]:
    """701 felt discriminated since arriving (1/2), migrants 5+ (drawn by build_enahopv as p1009 / p1011_1); if
    yes, 702 motives and 703 places as 0/1 flags, P703_1 = at the workplace. Everyone discriminated marks at least
    one motive (mostly nationality, 5) and one place (street and transport most often after work)."""
    n = len(p)
    p701 = np.where(migrant, p["p1009"].to_numpy(), np.nan)
    felt = p701 == 1
    at_work = felt & (p["p1011_1"].to_numpy() == 1)
    motive = _choice(rng, {5: 0.85, 1: 0.03, 2: 0.03, 3: 0.03, 4: 0.02, 6: 0.02, 7: 0.02}, n)
    also = rng.random((n, len(MOTIVES))) < 0.08
    columns = {"P701": p701}
    for k, name in enumerate(MOTIVES, start=1):
        columns[name] = np.where(felt, ((motive == k) | also[:, k - 1]).astype(float), np.nan)
    place = _choice(rng, {2: 0.35, 3: 0.25, 4: 0.10, 5: 0.08, 6: 0.07, 7: 0.05, 8: 0.04, 9: 0.03, 10: 0.03}, n)
    another = rng.random((n, len(PLACES))) < 0.10
    columns["P703_1"] = np.where(felt, at_work.astype(float), np.nan)
    for k, name in enumerate(PLACES[1:], start=2):
        marked = np.where(at_work, another[:, k - 1], place == k)  # not at work: at least one other place
        columns[name] = np.where(felt, marked.astype(float), np.nan)
    return columns, {"p1009": p701, "p1011_1": columns["P703_1"]}


# ----------------------------------------------------------------------------------------------------------------
# building, writing, realized estimates

def build_enpove(rng: np.random.Generator, survey: dict, n_households: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the ENPOVE file's rows as numbers/text in HEADER order, the persons as the crosswalk decodes them)."""
    persons = build_enahopv(rng, _arrival_before_interview(survey), n_households, ENPOVE_YEAR)
    n = len(persons)
    migrant = persons["p209a"].to_numpy() == 2
    employed = persons["ocu500"].to_numpy() == 1
    age = persons["p208a"].to_numpy()
    ubigeo = persons["ubigeo"].astype(str)
    baby = age == 0
    columns: dict[str, np.ndarray] = {
        "CCDD": ubigeo.str[:2].astype(int).to_numpy(), "DEPARTAMENTO": ubigeo.str[:2].map(_department_name).to_numpy(),
        "CCPP": ubigeo.str[2:4].astype(int).to_numpy(), "CCDI": ubigeo.str[4:].astype(int).to_numpy(),
        "CIUDAD": persons["city"].to_numpy(), "CONGLOMERADO": persons["conglome"].astype(int).to_numpy(),
        "VIVIENDA": persons["vivienda"].astype(int).to_numpy(), "THOGAR": np.ones(n), "NHOGAR": np.ones(n),
        "ESTRATO": persons["estrato"].to_numpy(), "RESFIN": np.ones(n),
        "P200_N": persons["codperso"].astype(int).to_numpy(), "P203": persons["p203"].to_numpy(),
        "P204": persons["p207"].to_numpy(), "P205_A": np.where(baby, np.nan, age),
        "P205_B": np.where(baby, rng.integers(1, 12, size=n), np.nan), "P208": np.where(migrant, 1, 2),
        "factorfinal": persons["weight"].to_numpy(),
    }
    columns.update(_labor_status(rng, persons))  # decodes to the drawn ocu500
    hours, decoded_hours, main_days = _hours(rng, persons)
    decoded: dict[str, np.ndarray] = {"hogar": np.full(n, "01")}  # NHOGAR 1, zero-padded by the reader
    for encoded, values in (_education(rng, persons, migrant), _health(persons), _job(rng, persons, employed),
                            (hours, decoded_hours), _incomes(rng, persons, employed, main_days),
                            _migration(rng, persons, migrant), _discrimination(rng, persons, migrant)):
        columns.update(encoded)
        decoded.update(values)
    not_in_enpove = {c: np.full(n, np.nan) for c in ("ocupinf", "p511a", "p558a1", "p558a2", "p558a3", "p558a4",
                                                     "p558a5")}
    return pd.DataFrame(columns)[HEADER], persons.assign(**decoded, **not_in_enpove)


def _department_name(code: str) -> str:
    """INEI's department name as the integrated file writes it: upper case, no accents (ANCASH)."""
    name = unicodedata.normalize("NFKD", DEPARTMENT_BY_CODE[code].name)
    return "".join(ch for ch in name if not unicodedata.combining(ch)).upper()


def _number_text(values: np.ndarray, decimals: int) -> np.ndarray:
    """Numbers rounded to `decimals`, whole ones without a decimal point (`800`, `12.5`); NaN → empty."""
    values = np.round(np.asarray(values, dtype=float), decimals)
    whole = np.isfinite(values) & (values == np.round(values))
    out = values.astype(str).astype(object)
    out[whole] = int_text(values[whole], blank=BLANK)
    out[~np.isfinite(values)] = BLANK
    return out


def write_enpove(rows: pd.DataFrame, landing_dir: Path) -> Path:
    """The integrated file: codes as integers, hours and money with at most 2 decimals, factorfinal 4."""
    text = {}
    for column in rows.columns:
        values = rows[column]
        if column in ("DEPARTAMENTO", "CIUDAD"):
            text[column] = values.to_numpy(dtype=object)
        elif column in ("P609_COD", "P611_COD"):
            text[column] = np.where(pd.isna(values), BLANK, values).astype(object)
        elif column == "factorfinal":
            text[column] = _number_text(values.to_numpy(), 4)
        else:
            text[column] = _number_text(values.to_numpy(), 2)
    path = landing_dir / "survey" / "enpove" / str(ENPOVE_YEAR) / FILE_NAME
    write_csv(pd.DataFrame(text), path, encoding="utf-8-sig")
    return path


def enpove_estimates(persons: pd.DataFrame) -> dict:
    """estimates[indicator]["migrant"][female|male|all] over the decoded persons with P208 == 1, every figure
    weighted by factorfinal (ENPOVE has one weight): the labor and health indicators ENPOVE can publish,
    contract_rate from P613 (contract or payment receipt), no_permit_rate, discrimination_at_work_rate and
    female_share (`all` only)."""
    migrants = persons[persons["p209a"] == 2]
    w = migrants["weight"].to_numpy()
    arrays = {**_person_arrays(migrants), "contract": migrants["contract_or_receipt"].to_numpy() == 1}
    by_cell = _estimates_by_cell({"migrant": (migrants, arrays, w, w)})
    out = {indicator: by_cell[indicator] for indicator in ESTIMATED}
    everyone = np.ones(len(migrants), dtype=bool)
    p207 = migrants["p207"].to_numpy()
    no_permit = migrants["p1002"].to_numpy() == 6
    out["no_permit_rate"] = {"migrant": {sex: _ratio(no_permit, mask, w) for sex, mask in
                                         (("female", p207 == 2), ("male", p207 == 1), ("all", everyone))}}
    out["discrimination_at_work_rate"] = {"migrant": discrimination_at_work_by_sex(migrants)}
    out["female_share"] = {"migrant": {"all": _ratio(p207 == 2, everyone, w)}}
    return out


def generate_enpove(rng: np.random.Generator, truth: dict, sizes: dict, landing_dir: Path) -> tuple[dict, list[Path]]:
    """Write the ENPOVE 2022 file; return its realized figures {"sample", "estimates"} and its path."""
    rows, persons = build_enpove(rng, truth["survey"], sizes["enpove_households"])
    path = write_enpove(rows, landing_dir)
    return {"sample": sample_summary(persons, venezuelan_only=True), "estimates": enpove_estimates(persons)}, [path]
