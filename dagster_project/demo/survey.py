"""Survey microdata: ENAHO 2024 (host population) and ENAHOPV 2024 (Venezuelan population), modules 200, 300,
400, 500 (and 1000 for ENAHOPV), in INEI's real shapes (see landing-contract.md). ENPOVE 2022 (enpove.py) reuses
`build_enahopv` for its persons and encodes them into ENPOVE's own questionnaire variables.

Design: two-stage cluster sample. PSUs (`conglome`) are nested in strata (`estrato`) and departments (ENAHO) or
cities (ENAHOPV); each holds 6..10 households of 1..6 persons. A PSU's weight is an inverse inclusion
probability (stratum multiplier × department/city calibration) times a nonresponse factor, the same for every
person of its households. Outcomes are drawn with constant probabilities per group × sex (truth.yaml), so the
weighted estimators are unbiased for the planted values. The main-job hourly wage follows a log-linear model
(truth.yaml `wage_model`: same slopes for both groups, intercepts per group × sex calibrated by wage_model.py) so an
Oaxaca–Blinder decomposition of the gap has a known explained and unexplained part. Pension affiliation (module 500
p558a1..p558a5) and the ENAHOPV arrival month and year (module 1000 P1000_MES, P1000_ANHO) draw from a child stream
spawned at the end of each build, and discrimination since arriving (module 1000 P1009, at the workplace P1011_1;
truth.yaml `discrimination`) from a second one, so every other variable is the same as without them.

Everything is vectorized over persons; loops run over groups, sexes, categories or files only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from .geography import DEPARTMENT_BY_CODE, DEPARTMENTS, ENAHOPV_CITIES, city_districts, dominio_of
from .io_utils import BLANK, atomic_path, float_text, int_text, unique_ints, write_csv
from .truth import GROUPS, SEXES, hours_distribution

HOST, MIGRANT = 0, 1
DEPENDENT_CATEGORIES = (3, 4, 6)
INCOME_COLUMNS = ["i524a1", "d529t", "i530a", "d536", "i538a1", "d540t", "i541a", "d543", "d544t"]
MAIN_INCOME_COLUMNS = ["i524a1", "d529t", "i530a", "d536"]
HEALTH_COLUMNS = [f"p419{i}" for i in range(1, 9)]
EMPLOYMENT_COLUMNS = ["ocu500", "ocupinf", "p505r4", "p506r4", "p507", "p511a", "p513t", "p518", "p521", "p521a",
                      *INCOME_COLUMNS]
PENSION_COLUMNS = [f"p558a{i}" for i in range(1, 6)]  # option code (1..5) when marked, else 0; blank if not asked
AFFILIATED_COLUMNS = PENSION_COLUMNS[:4]  # AFP, ONP (ley 19990), other regime (ley 20530), other; a5 = not affiliated
MODULE_500_COLUMNS = [*EMPLOYMENT_COLUMNS[:10], *PENSION_COLUMNS, *INCOME_COLUMNS]  # as written (p558a* before incomes)
ARRIVAL_COLUMNS = ["p1000_mes", "p1000_anho"]  # ENAHOPV module 1000: month and year of arrival in Peru
# ENAHOPV module 1000: felt discriminated since arriving (1 yes, 2 no); place "en su centro de trabajo" (the option's
# code 1 when marked, blank otherwise: ENAHOPV's multi-answer cells hold the option's own code)
DISCRIMINATION_COLUMNS = ["p1009", "p1011_1"]
KEYS = ["conglome", "vivienda", "hogar", "codperso"]

ENAHO_STRATUM_MULTIPLIER = {1: 1.0, 2: 1.0, 3: 1.05, 4: 1.05, 5: 1.1, 6: 1.1, 7: 1.2, 8: 1.3}
ENAHOPV_STRATUM_PROBS = {1: 0.7, 2: 0.2, 3: 0.1}
ENAHOPV_STRATUM_MULTIPLIER = {1: 1.0, 2: 0.3, 3: 0.15}
LARGE_CITY_DEPARTMENTS = ("04", "13", "14", "20")

ISCO_CODES = {  # p505r4: real ISCO-08 unit groups per major group
    1: ["1120", "1211", "1324", "1411", "1420"],
    2: ["2211", "2221", "2310", "2330", "2411", "2421", "2512", "2611", "2635"],
    3: ["3112", "3221", "3251", "3313", "3322", "3343", "3411"],
    4: ["4110", "4120", "4211", "4222", "4311", "4321"],
    5: ["5120", "5131", "5141", "5142", "5153", "5221", "5223", "5230", "5243", "5311", "5322", "5414"],
    6: ["6111", "6113", "6121", "6221"],
    7: ["7112", "7115", "7126", "7212", "7231", "7411", "7512", "7531", "7533"],
    8: ["8152", "8322", "8331", "8332", "8341"],
    9: ["9111", "9112", "9121", "9129", "9211", "9312", "9313", "9329", "9333", "9411", "9412", "9520", "9621",
        "9622", "9629"],
}
CIIU_BY_MAJOR = {  # p506r4: CIIU rev.4 classes plausible for each occupation major group
    1: ["4711", "5610", "8299", "4690"],
    2: ["8510", "8521", "8530", "8610", "6920", "6201", "7110"],
    3: ["8610", "8620", "6419", "4772", "2100"],
    4: ["6419", "8211", "8411", "5210", "4711"],
    5: ["5610", "4711", "4719", "4721", "4781", "4782", "9602", "8010", "5510", "4771"],
    6: ["0111", "0113", "0141", "0122", "0311"],
    7: ["4100", "4330", "1410", "1071", "4520", "3100", "2511"],
    8: ["4921", "4922", "4923", "1010", "2220", "5320"],
    9: ["9700", "8121", "4781", "4799", "5610", "0111", "4100", "3811", "4923"],
}

P301A_QUESTION = "¿cuál es el último año o grado de estudios y nivel que aprobó?"
P301A_LABELS = {1: "sin nivel", 2: "educación inicial", 3: "primaria incompleta", 4: "primaria completa",
                5: "secundaria incompleta", 6: "secundaria completa", 7: "superior no universitaria incompleta",
                8: "superior no universitaria completa", 9: "superior universitaria incompleta",
                10: "superior universitaria completa", 11: "maestria/doctorado", 12: "básica especial"}
ESTRATO_LABELS = {1: "de 500 000 a más habitantes", 2: "de 100 000 a 499 999 habitantes",
                  3: "de 50 000 a 99 999 habitantes", 4: "de 20 000 a 49 999 habitantes",
                  5: "de 2 000 a 19 999 habitantes", 6: "de 500 a 1 999 habitantes",
                  7: "área de empadronamiento rural (aer) compuesto", 8: "área de empadronamiento rural (aer) simple"}
HEALTH_LABELS = {"p4191": "essalud", "p4192": "seguro privado de salud", "p4193": "entidad prestadora de salud",
                 "p4194": "seguro de ff.aa./policiales", "p4195": "seguro integral de salud (sis)",
                 "p4196": "seguro universitario", "p4197": "seguro escolar privado", "p4198": "otro"}

ENAHOPV_200_HEADER = ["AÑO", "MES", "CONGLOME", "SEGMENTO", "VIVIENDA", "HOGAR", "CODPERSO", "UBIGEO", "DOMINIO",
                      "ESTRATO", "P201", "P201P", "P203", "P203A", "P203B", "P204", "P205", "P206", "P207", "P208A",
                      "P208B", "P209", "P210", "P211A", "P211D", "P212", "P213", "P214", "T211", "TICUEST01",
                      "ESTRATOSOCIO", "OCUPAC_R4", "RAMA_R4", "CODTAREA", "CODTIEMPO", "P209A", "T209A", "FACTOR"]
ENAHO_500_COLUMNS = ["aÑo", "mes", "conglome", "vivienda", "hogar", "codperso", "ubigeo", "dominio", "estrato",
                     *MODULE_500_COLUMNS, "fac500a"]

# label-valued module 500 (INEI's labelled CSV export, as the real enaho01a-2023-500_sample.csv): these variables
# hold their value labels (with INEI's accents; the warehouse maps them through crosswalks/inei-labels.yaml)
YES_NO_LABELS = {1: "si", 2: "no"}
MODULE_500_LABELS = {
    "dominio": {1: "costa norte", 2: "costa centro", 3: "costa sur", 4: "sierra norte", 5: "sierra centro",
                6: "sierra sur", 7: "selva", 8: "lima metropolitana"},
    "estrato": {k: " " + v for k, v in ESTRATO_LABELS.items()},  # the real export has a leading space
    "ocu500": {1: "ocupado", 2: "desocupado abierto", 3: "desocupado oculto", 4: "no pea"},
    "ocupinf": {1: "empleo informal", 2: "empleo formal"},
    "p507": {1: "empleador o patrono", 2: "trabajador independiente", 3: "empleado", 4: "obrero",
             5: "trabajador familiar no remunerado", 6: "trabajador del hogar", 7: "otro"},
    "p511a": {1: "contrato indefinido, nombrado, permanente", 2: "contrato a plazo fijo (sujeto a modalidad)",
              3: "está en periodo de prueba",
              4: "convenios de formación laboral juvenil/prácticas pre-profesionales",
              5: "contrato de aprendizaje", 6: "contrato administrativo de servicios (cas)", 7: "sin contrato",
              8: "otro"},
    "p521": YES_NO_LABELS,
    "p521a": YES_NO_LABELS,
}

# CIIU rev.4 sections by division (first two digits of p506r4): the wage model's sector
CIIU_SECTIONS = (("A", 1, 3), ("B", 5, 9), ("C", 10, 33), ("D", 35, 35), ("E", 36, 39), ("F", 41, 43),
                 ("G", 45, 47), ("H", 49, 53), ("I", 55, 56), ("J", 58, 63), ("K", 64, 66), ("L", 68, 68),
                 ("M", 69, 75), ("N", 77, 82), ("O", 84, 84), ("P", 85, 85), ("Q", 86, 88), ("R", 90, 93),
                 ("S", 94, 96), ("T", 97, 98), ("U", 99, 99))
WAGE_TERMS = ("education", "age", "region", "hours", "sector")  # the wage model's covariate groups
AGE_GROUPS = (("14-24", 14, 24), ("25-44", 25, 44), ("45-64", 45, 64), ("65+", 65, 200))


# ----------------------------------------------------------------------------------------------------------------
# small vectorized helpers

def _choice(rng: np.random.Generator, mapping: dict, size: int) -> np.ndarray:
    """Draw `size` keys of {key: probability} (probabilities renormalized)."""
    keys = np.array(list(mapping.keys()))
    probs = np.array(list(mapping.values()), dtype=float)
    return keys[rng.choice(len(keys), size=size, p=probs / probs.sum())]


def _cell_table(table: dict) -> np.ndarray:
    """{group: {sex: value}} → array [group, sex] with sex 0 = female, 1 = male."""
    return np.array([[table[g][s] for s in SEXES] for g in GROUPS], dtype=float)


def _sex_index(p207: np.ndarray) -> np.ndarray:
    return (p207 == 1).astype(np.int64)  # 0 female (p207 = 2), 1 male (p207 = 1)


# ----------------------------------------------------------------------------------------------------------------
# design: PSUs, households, members, weights

def _psu_household_counts(rng: np.random.Generator, n_households: int, bounds: list[int]) -> np.ndarray:
    low, high = bounds
    counts = rng.integers(low, high + 1, size=n_households // low + 2)
    cumulative = np.cumsum(counts)
    n_psu = int(np.searchsorted(cumulative, n_households) + 1)
    counts = counts[:n_psu].copy()
    counts[-1] -= cumulative[n_psu - 1] - n_households
    return counts


def _enaho_psus(rng: np.random.Generator, n_psu: int) -> pd.DataFrame:
    """Department, stratum and district of each ENAHO PSU (small departments oversampled, as INEI does)."""
    codes = np.array([d.code for d in DEPARTMENTS])
    alloc = np.sqrt([d.population_k for d in DEPARTMENTS])
    dept = codes[rng.choice(len(codes), size=n_psu, p=alloc / alloc.sum())]
    rural_share = np.array([_rural_share(c) for c in dept])
    rural = rng.random(n_psu) < rural_share
    estrato = np.where(rural, rng.choice([7, 8], size=n_psu), 0)
    large = np.isin(dept, LARGE_CITY_DEPARTMENTS)
    urban_large = rng.choice([1, 2, 3, 4, 5, 6], size=n_psu, p=[0.55, 0.10, 0.05, 0.10, 0.15, 0.05])
    urban_other = rng.choice([2, 3, 4, 5, 6], size=n_psu, p=[0.45, 0.10, 0.15, 0.20, 0.10])
    estrato = np.where(rural, estrato, np.where(large, urban_large, urban_other))
    metro = np.isin(dept, ("07",)) | ((dept == "15") & (rng.random(n_psu) < 0.93))
    estrato = np.where(metro & ~rural, 1, estrato)
    ubigeo = _enaho_districts(rng, dept, estrato, metro)
    return pd.DataFrame({"dept": dept, "estrato": estrato, "ubigeo": ubigeo,
                         "mes": rng.integers(1, 13, size=n_psu),
                         "multiplier": pd.Series(estrato).map(ENAHO_STRATUM_MULTIPLIER).to_numpy()})


def _rural_share(code: str) -> float:
    if code in ("07",):
        return 0.0
    if code == "15":
        return 0.03
    if code == "04":
        return 0.15
    return 0.45 if DEPARTMENT_BY_CODE[code].dominio in (4, 5, 7) else 0.25


def _enaho_districts(rng: np.random.Generator, dept: np.ndarray, estrato: np.ndarray, metro: np.ndarray) -> np.ndarray:
    out = np.empty(dept.size, dtype=object)
    for code in np.unique(dept):
        districts = list(DEPARTMENT_BY_CODE[code].districts)
        mask = dept == code
        if code == "15":
            metro_d = [d for d in districts if d.startswith("1501")]
            rest = [d for d in districts if not d.startswith("1501")]
            pick_metro = rng.choice(metro_d, size=mask.sum())
            pick_rest = rng.choice(rest, size=mask.sum())
            out[mask] = np.where(metro[mask] & (estrato[mask] == 1), pick_metro, pick_rest)
            continue
        capital = np.full(mask.sum(), districts[0], dtype=object)
        anywhere = rng.choice(districts, size=mask.sum())
        out[mask] = np.where(estrato[mask] <= 2, capital, anywhere)
    return out.astype(str)


def _enahopv_psus(rng: np.random.Generator, n_psu: int) -> pd.DataFrame:
    """City, district and stratum of each ENAHOPV PSU (8 cities; small cities oversampled)."""
    names = list(ENAHOPV_CITIES)
    shares = np.array([ENAHOPV_CITIES[c][1] for c in names])
    alloc = np.sqrt(shares)
    city = np.array(names)[rng.choice(len(names), size=n_psu, p=alloc / alloc.sum())]
    ubigeo = np.empty(n_psu, dtype=object)
    for name in names:
        mask = city == name
        departments = ENAHOPV_CITIES[name][0]
        if len(departments) > 1:  # Lima y Callao: Lima province 82%, Callao 18%
            lima = rng.random(mask.sum()) < 0.82
            ubigeo[mask] = np.where(lima, rng.choice(city_districts(("15",)), size=mask.sum()),
                                    rng.choice(city_districts(("07",)), size=mask.sum()))
        else:
            ubigeo[mask] = rng.choice(city_districts(departments), size=mask.sum())
    estrato = _choice(rng, ENAHOPV_STRATUM_PROBS, n_psu)
    return pd.DataFrame({"city": city, "estrato": estrato, "ubigeo": ubigeo.astype(str),
                         "mes": rng.integers(8, 12, size=n_psu),
                         "multiplier": pd.Series(estrato).map(ENAHOPV_STRATUM_MULTIPLIER).to_numpy()})


def _households(rng: np.random.Generator, psus: pd.DataFrame, counts: np.ndarray, survey: dict) -> pd.DataFrame:
    """One row per household with its PSU's design variables, `conglome` and `vivienda` keys and size."""
    n_psu = len(psus)
    conglome = np.sort(unique_ints(rng, n_psu, 1, 1_000_000))
    psus = psus.assign(conglome=np.char.zfill(conglome.astype(str), 6),
                       nonresponse=rng.uniform(*survey["nonresponse_factor"], size=n_psu),
                       fac500=rng.uniform(*survey["fac500a_factor"], size=n_psu))
    psu_of = np.repeat(np.arange(n_psu), counts)
    # vivienda: distinct numbers within each PSU, in increasing order
    candidates = np.sort(rng.random((n_psu, 400)).argsort(axis=1)[:, : counts.max()] + 1, axis=1)
    position = np.arange(psu_of.size) - np.repeat(np.cumsum(counts) - counts, counts)
    vivienda = candidates[psu_of, position]
    households = psus.iloc[psu_of].reset_index(drop=True)
    households["vivienda"] = np.char.zfill(vivienda.astype(str), 3)
    households["size"] = rng.choice(np.arange(1, 7), size=psu_of.size, p=survey["persons_per_household_probs"])
    households["psu"] = psu_of
    return households


def _members(rng: np.random.Generator, households: pd.DataFrame, migrant_households: bool) -> pd.DataFrame:
    """Persons: codperso, relationship to the head (p203) and age (p208a)."""
    sizes = households["size"].to_numpy()
    hh = np.repeat(np.arange(len(households)), sizes)
    position = np.arange(hh.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    n = hh.size
    if migrant_households:
        head_age = np.clip(rng.normal(36, 9, size=len(households)), 18, 75).round().astype(np.int64)
    else:
        head_age = np.clip(rng.normal(48, 14, size=len(households)), 18, 92).round().astype(np.int64)
    p203 = np.where(position == 0, 1, 0)
    second = position == 1
    p203 = np.where(second, np.where(rng.random(n) < 0.7, 2, 3), p203)
    others = position >= 2
    p203 = np.where(others, _choice(rng, {3: 0.75, 5: 0.10, 6: 0.05, 7: 0.05, 11: 0.05}, n), p203)
    ha = head_age[hh]
    age = np.select(
        [p203 == 1, p203 == 2, p203 == 3, p203 == 5, p203 == 6],
        [ha,
         np.clip(ha + rng.normal(-2, 5, size=n), 16, 95),
         rng.uniform(0, 1, size=n) * np.clip(ha - 16, 1, 32),
         rng.integers(0, 13, size=n),
         np.clip(ha + rng.integers(20, 31, size=n), 0, 97)],
        default=rng.integers(5, 71, size=n))
    return pd.DataFrame({"hh": hh, "codperso": np.char.zfill((position + 1).astype(str), 2), "p203": p203,
                         "p208a": np.floor(age).astype(np.int64)})


def _calibrated_weights(raw: np.ndarray, cell: np.ndarray, targets: dict, counted: np.ndarray) -> np.ndarray:
    """Scale raw PSU weights per calibration cell so the weighted count of `counted` persons in each cell equals
    its target (departments for ENAHO, cities for ENAHOPV)."""
    weights = raw.astype(float).copy()
    for key, target in targets.items():
        in_cell = cell == key
        total = raw[in_cell & counted].sum()
        if total > 0:
            weights[in_cell] *= target / total
    return weights


# ----------------------------------------------------------------------------------------------------------------
# outcomes

def _education(rng: np.random.Generator, age: np.ndarray, group: np.ndarray, survey: dict) -> np.ndarray:
    """p301a (level attained) for persons 3+; NaN below 3."""
    n = age.size
    p301a = np.full(n, np.nan)
    p301a[(age >= 3) & (age <= 5)] = np.where(rng.random(n) < 0.9, 2, 1)[(age >= 3) & (age <= 5)]
    p301a[(age >= 6) & (age <= 11)] = 3
    p301a[(age >= 12) & (age <= 13)] = np.where(rng.random(n) < 0.5, 4, 5)[(age >= 12) & (age <= 13)]
    p301a[(age >= 14) & (age <= 16)] = 5
    young = (age >= 17) & (age <= 21)
    p301a[young] = _choice(rng, {5: 0.15, 6: 0.5, 7: 0.15, 9: 0.2}, n)[young]
    early = (age >= 22) & (age <= 24)
    p301a[early] = _choice(rng, {6: 0.35, 7: 0.10, 8: 0.15, 9: 0.25, 10: 0.15}, n)[early]
    post = survey["postgraduate_share_of_tertiary"]
    for g, name in enumerate(GROUPS):
        adult = (age >= 25) & (group == g)
        tertiary = rng.random(n) < survey["tertiary_share_25plus"][name]
        level = np.where(tertiary, np.where(rng.random(n) < post, 11, 10),
                         _choice(rng, survey["education_mix_25plus"][name], n))
        p301a[adult] = level[adult]
    return p301a


def _health(rng: np.random.Generator, group: np.ndarray, sex: np.ndarray, survey: dict) -> dict[str, np.ndarray]:
    """p4191..p4198 (1 affiliated, 2 not): insured persons hold one scheme (some EsSalud also an EPS)."""
    n = group.size
    insured = rng.random(n) < _cell_table(survey["health_insurance_rate"])[group, sex]
    scheme = np.empty(n, dtype=object)
    for g, name in enumerate(GROUPS):
        mask = group == g
        scheme[mask] = _choice(rng, survey["insurance_scheme_mix"][name], int(mask.sum()))
    columns = {c: np.where(insured & (scheme == c), 1, 2) for c in HEALTH_COLUMNS}
    also_eps = insured & (scheme == "p4191") & (rng.random(n) < 0.05)
    columns["p4193"] = np.where(also_eps, 1, columns["p4193"])
    return columns


def _informal_probabilities(survey: dict) -> np.ndarray:
    """P(informal) for non-dependent workers per [group, sex], solved so each cell's overall rate is planted."""
    mix = survey["category_mix"]
    p_dep = sum(v for k, v in mix.items() if int(k) in DEPENDENT_CATEGORIES) / sum(mix.values())
    given = survey["informality_given_contract"]
    contract = _cell_table(survey["contract_rate"])
    dependent_rate = contract * given["with_contract"] + (1 - contract) * given["dependent_without_contract"]
    solved = (_cell_table(survey["informality_rate"]) - p_dep * dependent_rate) / (1 - p_dep)
    if (solved < 0).any() or (solved > 1).any():
        raise ValueError("truth.yaml: informality_rate is not reachable with informality_given_contract; "
                         f"solved non-dependent rates {solved.round(3).tolist()}")
    return solved


def _employment(rng: np.random.Generator, age: np.ndarray, group: np.ndarray, sex: np.ndarray,
                p301a: np.ndarray, ubigeo: np.ndarray, survey: dict) -> dict[str, np.ndarray]:
    """Module 500 variables for every person (NaN where not asked); rows are later kept for persons 14+."""
    n = age.size
    out: dict[str, np.ndarray] = {c: np.full(n, np.nan) for c in EMPLOYMENT_COLUMNS}
    working_age = age >= 14
    employed = working_age & (rng.random(n) < _cell_table(survey["employment_rate"])[group, sex])
    split = survey["nonemployed_split"]
    u = rng.random(n)
    status = np.where(u < split["open_unemployed"], 2,
                      np.where(u < split["open_unemployed"] + split["hidden_unemployed"], 3, 4))
    out["ocu500"] = np.where(employed, 1, np.where(working_age, status, np.nan))

    category = _choice(rng, {int(k): v for k, v in survey["category_mix"].items()}, n).astype(float)
    dependent = employed & np.isin(category, DEPENDENT_CATEGORIES)
    out["p507"] = np.where(employed, category, np.nan)
    has_contract = dependent & (rng.random(n) < _cell_table(survey["contract_rate"])[group, sex])
    contract_type = _choice(rng, {int(k): v for k, v in survey["contract_type_mix"].items()}, n)
    out["p511a"] = np.where(has_contract, contract_type, np.where(dependent, 7, np.nan))

    given = survey["informality_given_contract"]
    p_informal = np.where(has_contract, given["with_contract"],
                          np.where(dependent, given["dependent_without_contract"],
                                   _informal_probabilities(survey)[group, sex]))
    out["ocupinf"] = np.where(employed, np.where(rng.random(n) < p_informal, 1, 2), np.nan)

    out["p505r4"], out["p506r4"] = _occupation(rng, employed, group, p301a, survey)
    out.update(_hours_and_income(rng, employed, dependent, group, sex, survey,
                                 covariates={"age": age, "p301a": p301a, "ubigeo": ubigeo, "p506r4": out["p506r4"]}))
    return out


def _occupation(rng: np.random.Generator, employed: np.ndarray, group: np.ndarray, p301a: np.ndarray,
                survey: dict) -> tuple[np.ndarray, np.ndarray]:
    """p505r4 / p506r4 codes (text) of the employed: tertiary graduates in groups 4..9 at the planted rate."""
    n = group.size
    major = np.zeros(n, dtype=np.int64)
    tertiary = np.isin(p301a, (10, 11))
    for g, name in enumerate(GROUPS):
        dist = {int(k): v for k, v in survey["occupation_major_groups"][name].items()}
        low_skill = {k: v for k, v in dist.items() if k >= 4}
        general = _choice(rng, dist, n)
        over = _choice(rng, low_skill, n)
        matched = _choice(rng, {1: 0.1, 2: 0.6, 3: 0.3}, n)
        is_over = rng.random(n) < survey["overqualification_rate"][name]
        pick = np.where(tertiary, np.where(is_over, over, matched), general)
        mask = employed & (group == g)
        major[mask] = pick[mask]
    occupation = np.full(n, None, dtype=object)
    industry = np.full(n, None, dtype=object)
    for m, codes in ISCO_CODES.items():
        mask = major == m
        occupation[mask] = np.array(codes, dtype=object)[rng.integers(0, len(codes), size=mask.sum())]
        ciiu = CIIU_BY_MAJOR[m]
        industry[mask] = np.array(ciiu, dtype=object)[rng.integers(0, len(ciiu), size=mask.sum())]
    return occupation, industry


def wage_terms(survey: dict, age: np.ndarray, p301a: np.ndarray, ubigeo: np.ndarray, hours: np.ndarray,
               p506r4: np.ndarray) -> dict[str, np.ndarray]:
    """The wage model's covariate terms (log points) per person, by covariate group (WAGE_TERMS): their sum plus
    the group × sex intercept plus ε is the log hourly main-job wage. Persons without a p506r4 (not employed) get
    sector 0; p301a missing (under 3) counts 0 years; hours below 1 count as 1 (only the employed are paid)."""
    model = survey["wage_model"]
    beta = model["beta"]
    years = np.zeros(max(int(k) for k in model["years_of_schooling"]) + 1)
    for code, value in model["years_of_schooling"].items():
        years[int(code)] = value
    level = np.nan_to_num(np.asarray(p301a, dtype=float), nan=0).astype(np.int64)
    age = np.asarray(age, dtype=float)
    region = pd.Series(np.asarray(ubigeo, dtype=str)).str[:2].map(
        {str(k).zfill(2): float(v) for k, v in model["region"].items()}).to_numpy(dtype=float)
    if np.isnan(region).any():
        raise ValueError("truth.yaml wage_model.region lacks a department the survey draws")
    section_effect = np.zeros(100)
    for section, low, high in CIIU_SECTIONS:
        section_effect[low:high + 1] = model["sector"][section]
    division = pd.to_numeric(pd.Series(p506r4, dtype=object).str[:2], errors="coerce").to_numpy()
    sector = np.where(np.isnan(division), 0.0, section_effect[np.nan_to_num(division, nan=0).astype(np.int64)])
    return {"education": beta["educ_years"] * years[level],
            "age": beta["age"] * age + beta["age2"] * age**2,
            "region": region,
            "hours": beta["log_hours"] * np.log(np.maximum(np.asarray(hours, dtype=float), 1)),
            "sector": sector}


def _hours_and_income(rng: np.random.Generator, employed: np.ndarray, dependent: np.ndarray, group: np.ndarray,
                      sex: np.ndarray, survey: dict, covariates: dict) -> dict[str, np.ndarray]:
    """Hours (p513t, p518), underemployment (p521, p521a) and annual income components, soles, 2 decimals.
    The main-job hourly wage follows the wage model on the latent hours (the ~1% reported as p513t = 0 keep the
    income of their latent hours); the wage terms are returned too (`wage_<term>`, not written to any file)."""
    n = group.size
    latent_hours = np.zeros(n)
    for g, name in enumerate(GROUPS):
        hours, probs = hours_distribution(survey, name)
        mask = group == g
        latent_hours[mask] = rng.choice(hours, size=mask.sum(), p=probs)
    zero = rng.random(n) < survey["hours_main"]["zero_share"]
    sigma = survey["hourly_income_sigma"]
    means = _cell_table(survey["hourly_income_mean"])[group, sex]
    terms = wage_terms(survey, hours=latent_hours, **covariates)
    intercept = _cell_table(survey["wage_model"]["intercept"])[group, sex]
    hourly = np.exp(intercept + sum(terms.values()) + rng.normal(0, sigma, size=n))
    annual = hourly * 4.33 * latent_hours * 12

    sec = survey["secondary_job"]
    has_second = employed & (rng.random(n) < sec["share"])
    second_hours = rng.integers(sec["hours"][0], sec["hours"][1] + 1, size=n)
    second_mu = np.log(means * sec["hourly_mean_ratio"]) - sigma**2 / 2
    second_annual = np.exp(rng.normal(second_mu, sigma)) * 4.33 * second_hours * 12
    second_dependent = rng.random(n) < sec["dependent_share"]

    split = survey["income_split"]
    out = {c: np.full(n, np.nan) for c in INCOME_COLUMNS}
    for columns, mask in (
            (split["dependent"], employed & dependent),
            (split["independent"], employed & ~dependent),
            (split["secondary_dependent"], has_second & second_dependent),
            (split["secondary_independent"], has_second & ~second_dependent)):
        amount = second_annual if "i538a1" in columns or "i541a" in columns else annual
        for column, share in columns.items():
            out[column] = np.where(mask, np.round(amount * share, 2), out[column])
    out["p513t"] = np.where(employed, np.where(zero, 0, latent_hours), np.nan)
    out["p518"] = np.where(has_second, second_hours, np.nan)

    under = survey["underemployment"]
    total_hours = out["p513t"] + np.nan_to_num(out["p518"])
    wants = rng.random(n) < np.where(total_hours < 35, under["wants_more_if_under_35h"], under["wants_more_otherwise"])
    available = rng.random(n) < np.where(wants, under["available_if_wants"], under["available_otherwise"])
    out["p521"] = np.where(employed, np.where(wants, 1, 2), np.nan)
    out["p521a"] = np.where(employed, np.where(available, 1, 2), np.nan)
    out.update({f"wage_{name}": np.where(employed, values, np.nan) for name, values in terms.items()})
    return out


def _permits(rng: np.random.Generator, p209a: np.ndarray, survey: dict) -> np.ndarray:
    """P1002 (module 1000) for Venezuelans (planted no-permit rate) and other foreigners; NaN for Peruvians."""
    n = p209a.size
    with_permit = _choice(rng, {int(k): v for k, v in survey["permit_mix"].items()}, n)
    venezuelan = np.where(rng.random(n) < survey["no_permit_rate"], 6, with_permit)
    other = _choice(rng, {int(k): v for k, v in survey["other_nationality_permit"].items()}, n)
    return np.where(p209a == 2, venezuelan, np.where(p209a == 3, other, np.nan))


def _pension_probabilities(survey: dict) -> np.ndarray:
    """P(pension affiliation) of informal workers per [group, sex], solved so each cell's overall rate is planted
    (formal workers: pension_given_formality.formal; E[formal share] = 1 − informality_rate in every cell)."""
    formal = survey["pension_given_formality"]["formal"]
    informal_share = _cell_table(survey["informality_rate"])
    solved = (_cell_table(survey["pension_affiliation_rate"]) - (1 - informal_share) * formal) / informal_share
    if (solved < 0).any() or (solved > 1).any():
        raise ValueError("truth.yaml: pension_affiliation_rate is not reachable with pension_given_formality; "
                         f"solved informal rates {solved.round(3).tolist()}")
    return solved


def _pension(rng: np.random.Generator, persons: pd.DataFrame, survey: dict) -> dict[str, np.ndarray]:
    """p558a1..p558a5 of the employed (NaN for everyone else), INEI's coding: each column holds its option's code
    when marked, else 0. The affiliated mark one system (pension_scheme_mix), the others p558a5 = 5 only."""
    n = len(persons)
    group = persons["group"].to_numpy()
    sex = _sex_index(persons["p207"].to_numpy())
    employed = persons["ocu500"].to_numpy() == 1
    formal = persons["ocupinf"].to_numpy() == 2
    p_affiliated = np.where(formal, survey["pension_given_formality"]["formal"],
                            _pension_probabilities(survey)[group, sex])
    affiliated = employed & (rng.random(n) < p_affiliated)
    scheme = np.empty(n, dtype=object)
    for g, name in enumerate(GROUPS):
        mask = group == g
        scheme[mask] = _choice(rng, survey["pension_scheme_mix"][name], int(mask.sum()))
    out = {column: np.where(employed, np.where(affiliated & (scheme == column), code, 0), np.nan)
           for code, column in enumerate(AFFILIATED_COLUMNS, start=1)}
    out["p558a5"] = np.where(employed, np.where(affiliated, 0, 5), np.nan)
    return out


def _arrival(rng: np.random.Generator, persons: pd.DataFrame, survey: dict, year: int) -> dict[str, np.ndarray]:
    """P1000_MES / P1000_ANHO of Venezuelans (NaN for everyone else). A person arrives no earlier than
    `year` − 1 − age (a child not before its birth year): persons for whom that bound cuts into the planted years
    draw from arrival_year_shares truncated at it, and everyone else from shares solved over the sample's weighted
    ages, so the weighted share of each year is planted in expectation. Month uniform 1..12 (1..the interview month
    for arrivals in `year`)."""
    n = len(persons)
    shares = {int(k): float(v) for k, v in survey["arrival_year_shares"].items()}
    years = np.array(sorted(shares))
    planted = np.array([shares[y] for y in years]) / sum(shares.values())
    venezuelan = persons["p209a"].to_numpy() == 2
    weight = persons["weight"].to_numpy()
    earliest = np.maximum(year - 1 - persons["p208a"].to_numpy(), years[0])
    bounded = {int(e): planted * (years >= e) / planted[years >= e].sum() for e in np.unique(earliest[venezuelan])
               if e > years[0] and planted[years >= e].sum() > 0}
    free = venezuelan & ~np.isin(earliest, list(bounded))
    remainder = planted * weight[venezuelan].sum()
    for e, probs in bounded.items():
        remainder = remainder - probs * weight[venezuelan & (earliest == e)].sum()
    remainder = np.clip(remainder, 0, None)  # only a tiny sample with many young children would clip
    classes = [(free, remainder / remainder.sum() if remainder.sum() > 0 else planted)]
    classes += [(venezuelan & (earliest == e), probs) for e, probs in bounded.items()]
    arrival_year = np.full(n, np.nan)
    for mask, probs in classes:
        arrival_year[mask] = rng.choice(years, size=int(mask.sum()), p=probs)
    last_month = np.where(arrival_year == year, persons["mes"].to_numpy(), 12)
    month = np.floor(rng.random(n) * last_month) + 1
    return {"p1000_mes": np.where(venezuelan, month, np.nan), "p1000_anho": arrival_year}


def _discrimination(rng: np.random.Generator, persons: pd.DataFrame, survey: dict) -> dict[str, np.ndarray]:
    """P1009 (felt discriminated since arriving in Peru: 1 yes, 2 no) and P1011_1 (at the workplace: 1 when marked,
    NaN otherwise) of Venezuelans 5+ (NaN for everyone else), with the planted probabilities per sex and
    independent of every other variable, so the rate is the same in every age group and cell."""
    n = len(persons)
    planted = survey["discrimination"]
    asked = (persons["p209a"].to_numpy() == 2) & (persons["p208a"].to_numpy() >= 5)
    p_felt = np.array([planted["felt_discriminated"][s] for s in SEXES])[_sex_index(persons["p207"].to_numpy())]
    felt = rng.random(n) < p_felt
    at_work = felt & (rng.random(n) < planted["at_work_given_discriminated"])
    return {"p1009": np.where(asked, np.where(felt, 1, 2), np.nan), "p1011_1": np.where(asked & at_work, 1, np.nan)}


def _outcomes(rng: np.random.Generator, persons: pd.DataFrame, survey: dict) -> pd.DataFrame:
    age = persons["p208a"].to_numpy()
    group = persons["group"].to_numpy()
    sex = _sex_index(persons["p207"].to_numpy())
    persons["p301a"] = _education(rng, age, group, survey)
    for column, values in _health(rng, group, sex, survey).items():
        persons[column] = values
    for column, values in _employment(rng, age, group, sex, persons["p301a"].to_numpy(),
                                      persons["ubigeo"].to_numpy(), survey).items():
        persons[column] = values
    return persons


# ----------------------------------------------------------------------------------------------------------------
# building the two samples

def build_enaho(rng: np.random.Generator, survey: dict, n_households: int) -> pd.DataFrame:
    """ENAHO persons with every module's variables; weights calibrated to department populations."""
    counts = _psu_household_counts(rng, n_households, survey["households_per_psu"])
    households = _households(rng, _enaho_psus(rng, counts.size), counts, survey)
    persons = _members(rng, households, migrant_households=False)
    persons = _attach_households(persons, households)
    persons["group"] = HOST
    persons["p209a"] = np.nan
    persons["p207"] = np.where(rng.random(len(persons)) < survey["female_share"]["host"], 2, 1)
    raw = persons["multiplier"].to_numpy() * persons["nonresponse"].to_numpy()
    scale = survey["host_weighted_persons"] / sum(d.population_k for d in DEPARTMENTS)
    targets = {d.code: d.population_k * scale for d in DEPARTMENTS}
    weights = _calibrated_weights(raw, persons["dept"].to_numpy(), targets, np.ones(len(persons), dtype=bool))
    persons["weight"] = np.round(weights, 4)
    persons["fac500a"] = np.round(persons["weight"] * persons["fac500"], 4)
    persons = _outcomes(rng, persons, survey)
    for column, values in _pension(rng.spawn(1)[0], persons, survey).items():
        persons[column] = values
    return persons


def build_enahopv(rng: np.random.Generator, survey: dict, n_households: int, year: int) -> pd.DataFrame:
    """ENAHOPV persons of the `year` survey: Venezuelan households whose other members may be Peruvian or of
    another nationality."""
    counts = _psu_household_counts(rng, n_households, survey["households_per_psu"])
    households = _households(rng, _enahopv_psus(rng, counts.size), counts, survey)
    persons = _members(rng, households, migrant_households=True)
    persons = _attach_households(persons, households)
    n = len(persons)
    head = persons["codperso"].to_numpy() == "01"
    venezuelan = head | (rng.random(n) < survey["venezuelan_member_share"])
    other = rng.random(n) < survey["other_nationality_share"]
    persons["p209a"] = np.where(venezuelan, 2, np.where(other, 3, 1)).astype(float)
    persons["group"] = np.where(venezuelan, MIGRANT, HOST)
    female_share = np.where(venezuelan, survey["female_share"]["migrant"], survey["female_share"]["host"])
    persons["p207"] = np.where(rng.random(n) < female_share, 2, 1)
    raw = persons["multiplier"].to_numpy() * persons["nonresponse"].to_numpy()
    targets = {c: share * survey["venezuelan_weighted_persons"] for c, (_, share) in ENAHOPV_CITIES.items()}
    weights = _calibrated_weights(raw, persons["city"].to_numpy(), targets, venezuelan)
    persons["weight"] = np.round(weights, 4)
    persons = _outcomes(rng, persons, survey)
    persons["p1002"] = _permits(rng, persons["p209a"].to_numpy(), survey)
    extra = rng.spawn(1)[0]
    for column, values in {**_pension(extra, persons, survey), **_arrival(extra, persons, survey, year)}.items():
        persons[column] = values
    for column, values in _discrimination(rng.spawn(1)[0], persons, survey).items():
        persons[column] = values
    return persons


def _attach_households(persons: pd.DataFrame, households: pd.DataFrame) -> pd.DataFrame:
    design = households.iloc[persons["hh"].to_numpy()].reset_index(drop=True)
    out = pd.concat([design, persons.drop(columns="hh").reset_index(drop=True)], axis=1)
    out["hogar"] = "11"
    out["dominio"] = dominio_of(out["ubigeo"].to_numpy())
    return out.sort_values(KEYS, kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------------------------------------------
# writers

def _key_columns(persons: pd.DataFrame, upper: bool) -> dict[str, np.ndarray]:
    names = ["conglome", "vivienda", "hogar", "codperso", "ubigeo"]
    return {(c.upper() if upper else c): persons[c].to_numpy() for c in names}


def _coded(persons: pd.DataFrame, columns: list[str], upper: bool) -> dict[str, np.ndarray]:
    """Coded and numeric module variables as INEI text (integers, 4-digit codes, money with 2 decimals)."""
    out = {}
    for column in columns:
        values = persons[column].to_numpy()
        name = column.upper() if upper else column
        if column in ("p505r4", "p506r4"):
            out[name] = np.where(pd.isna(values), BLANK, values).astype(object)
        elif column in INCOME_COLUMNS:
            out[name] = float_text(values, 2)
        else:
            out[name] = int_text(values)
    return out


def write_enaho(persons: pd.DataFrame, landing_dir: Path, year: int, label_valued: bool = False) -> list[Path]:
    folder = landing_dir / "survey" / "enaho" / str(year)
    return [_write_enaho_200(persons, folder, year), _write_enaho_300(persons, folder, year),
            _write_enaho_400(persons, folder, year), _write_enaho_500(persons, folder, year, label_valued)]


def _write_enaho_200(persons: pd.DataFrame, folder: Path, year: int) -> Path:
    """Module 200 (members): Latin-1 CSV, lower-case names, header `aÑo`."""
    frame = pd.DataFrame({
        "aÑo": str(year), "mes": int_text(persons["mes"], 2),
        **{k: v for k, v in _key_columns(persons, upper=False).items() if k != "ubigeo"},
        "ubigeo": persons["ubigeo"].to_numpy(), "dominio": int_text(persons["dominio"]),
        "estrato": int_text(persons["estrato"]), "p203": int_text(persons["p203"]),
        "p207": int_text(persons["p207"]), "p208a": int_text(persons["p208a"]),
        "facpob07": float_text(persons["weight"], 4)})
    path = folder / f"enaho01-{year}-200.csv"
    write_csv(frame, path, encoding="latin-1")
    return path


def _write_enaho_300(persons: pd.DataFrame, folder: Path, year: int) -> Path:
    """Module 300 (education), persons 3+: Stata .dta with value labels."""
    sub = persons[persons["p208a"] >= 3]
    frame = pd.DataFrame({**_key_columns(sub, upper=False), "estrato": sub["estrato"].astype(np.int64).to_numpy(),
                          "p301a": sub["p301a"].astype(np.int64).to_numpy(), "factor07": sub["weight"].to_numpy()})
    path = folder / f"enaho01a-{year}-300.dta"
    with atomic_path(path) as tmp:
        pyreadstat.write_dta(frame, tmp, version=15, file_label=f"ENAHO {year} modulo 300 (demo)",
                             column_labels={"p301a": P301A_QUESTION, "factor07": "factor de expansión"},
                             variable_value_labels={"p301a": P301A_LABELS, "estrato": ESTRATO_LABELS})
    return path


def _write_enaho_400(persons: pd.DataFrame, folder: Path, year: int) -> Path:
    """Module 400 (health), all persons: SPSS .sav with value labels."""
    frame = pd.DataFrame({**_key_columns(persons, upper=False),
                          "estrato": persons["estrato"].astype(np.int64).to_numpy(),
                          **{c: persons[c].astype(np.int64).to_numpy() for c in HEALTH_COLUMNS},
                          "factor07": persons["weight"].to_numpy()})
    labels = {c: {1: label, 2: "no"} for c, label in HEALTH_LABELS.items()}
    labels["estrato"] = ESTRATO_LABELS
    path = folder / f"enaho01a-{year}-400.sav"
    with atomic_path(path) as tmp:
        pyreadstat.write_sav(frame, tmp, file_label=f"ENAHO {year} modulo 400 (demo)", variable_value_labels=labels)
    return path


def _write_enaho_500(persons: pd.DataFrame, folder: Path, year: int, label_valued: bool = False) -> Path:
    """Module 500 (employment), persons 14+: UTF-8 with BOM, header `aÑo`, blanks " ". `label_valued`: INEI's
    labelled export instead (MODULE_500_LABELS hold their labels, every blank cell is empty; the pension
    columns p558a1..p558a5 stay codes)."""
    sub = persons[persons["p208a"] >= 14]
    frame = pd.DataFrame({
        "aÑo": str(year), "mes": int_text(sub["mes"], 2), **_key_columns(sub, upper=False),
        "dominio": int_text(sub["dominio"]), "estrato": int_text(sub["estrato"]),
        **_coded(sub, MODULE_500_COLUMNS, upper=False), "fac500a": float_text(sub["fac500a"], 4)})
    if label_valued:
        frame = frame.apply(lambda column: column.where(column != BLANK, ""))
        for column, labels in MODULE_500_LABELS.items():
            frame[column] = _labelled(sub[column].to_numpy(), labels)
    path = folder / f"enaho01a-{year}-500.csv"
    write_csv(frame[ENAHO_500_COLUMNS], path, encoding="utf-8-sig")
    return path


def _labelled(codes: np.ndarray, labels: dict[int, str]) -> np.ndarray:
    """Codes → their value labels (NaN → empty)."""
    codes = np.asarray(codes, dtype=float)
    lookup = np.array([labels.get(k, "") for k in range(max(labels) + 1)], dtype=object)
    present = np.isfinite(codes)
    out = np.full(codes.size, "", dtype=object)
    out[present] = lookup[codes[present].astype(np.int64)]
    return out


def write_enahopv(persons: pd.DataFrame, landing_dir: Path, year: int, rng: np.random.Generator) -> list[Path]:
    folder = landing_dir / "survey" / "enahopv" / str(year)
    paths = [_write_enahopv_200(persons, folder, year, rng)]
    modules = (
        ("300", persons["p208a"] >= 3, ["p301a"]),
        ("400", np.ones(len(persons), dtype=bool), HEALTH_COLUMNS),
        ("500", persons["p208a"] >= 14, MODULE_500_COLUMNS),
        ("1000", persons["p209a"] != 1, [*ARRIVAL_COLUMNS, "p1002", *DISCRIMINATION_COLUMNS]),
    )
    for module, mask, columns in modules:
        paths.append(_write_enahopv_module(persons[np.asarray(mask)], folder, year, module, columns))
    return paths


def _write_enahopv_200(persons: pd.DataFrame, folder: Path, year: int, rng: np.random.Generator) -> Path:
    """Module 200 with exactly the real ENAHOPV 2024 header; columns not used by the warehouse filled plausibly
    (marital status, socio-economic stratum) or blank."""
    n = len(persons)
    order = persons["codperso"].astype(int).to_numpy()
    p203 = persons["p203"].to_numpy()
    age = persons["p208a"].to_numpy()
    marital = _choice(rng, {1: 0.35, 2: 0.15, 3: 0.02, 4: 0.02, 5: 0.08, 6: 0.38}, n).astype(float)
    blank = np.full(n, BLANK, dtype=object)
    key = (str(year) + persons["conglome"] + persons["vivienda"] + persons["hogar"] + persons["codperso"]).to_numpy()
    frame = pd.DataFrame({
        "AÑO": str(year), "MES": int_text(persons["mes"], 2), "CONGLOME": persons["conglome"].to_numpy(),
        "SEGMENTO": persons["conglome"].to_numpy(), "VIVIENDA": persons["vivienda"].to_numpy(),
        "HOGAR": persons["hogar"].to_numpy(), "CODPERSO": persons["codperso"].to_numpy(),
        "UBIGEO": persons["ubigeo"].to_numpy(), "DOMINIO": int_text(persons["dominio"]),
        "ESTRATO": int_text(persons["estrato"]), "P201": int_text(order), "P201P": key, "P203": int_text(p203),
        "P203A": "1", "P203B": int_text(np.minimum(p203, 3)), "P204": "1", "P205": "2", "P206": blank,
        "P207": int_text(persons["p207"]), "P208A": int_text(age), "P208B": blank,
        "P209": int_text(np.where(age >= 12, marital, np.nan)), "P210": blank, "P211A": blank, "P211D": blank,
        "P212": int_text(order), "P213": int_text(order), "P214": "0", "T211": blank, "TICUEST01": "2",
        "ESTRATOSOCIO": int_text(_choice(rng, {60: 0.5, 25: 0.1, 55: 0.1, 45: 0.1, 34: 0.1, 11: 0.1}, n)),
        "OCUPAC_R4": blank, "RAMA_R4": blank, "CODTAREA": blank, "CODTIEMPO": blank,
        "P209A": int_text(persons["p209a"]), "T209A": int_text(persons["p209a"]),
        "FACTOR": float_text(persons["weight"], 4)})
    path = folder / f"Enahopv01-{year}-200.csv"
    write_csv(frame[ENAHOPV_200_HEADER], path, encoding="utf-8")
    return path


def _write_enahopv_module(persons: pd.DataFrame, folder: Path, year: int, module: str, columns: list[str]) -> Path:
    """Modules 300/400/500/1000: UTF-8, UPPER-CASE names, weight FACTOR."""
    frame = pd.DataFrame({
        "AÑO": str(year), "MES": int_text(persons["mes"], 2), **_key_columns(persons, upper=True),
        "ESTRATO": int_text(persons["estrato"]), **_coded(persons, columns, upper=True),
        "FACTOR": float_text(persons["weight"], 4)})
    frame = frame[["AÑO", "MES", "CONGLOME", "VIVIENDA", "HOGAR", "CODPERSO", "UBIGEO", "ESTRATO",
                   *[c.upper() for c in columns], "FACTOR"]]
    path = folder / f"Enahopv01a-{year}-{module}.csv"
    write_csv(frame, path, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------------------------------
# realized estimates (what the warehouse must compute from these files, by indicator-definitions.md)

def _ratio(numerator: np.ndarray, denominator: np.ndarray, weight: np.ndarray) -> dict:
    den = float(weight[denominator].sum())
    return {"estimate": float((weight * (numerator & denominator)).sum() / den) if den else None,
            "n": int(denominator.sum())}


def _mean(values: np.ndarray, universe: np.ndarray, weight: np.ndarray) -> dict:
    den = float(weight[universe].sum())
    return {"estimate": float((weight[universe] * values[universe]).sum() / den) if den else None,
            "n": int(universe.sum())}


def _person_arrays(p: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per-person inputs of the indicators (computed once per sample, then masked per cell)."""
    age = p["p208a"].to_numpy()
    ocu = p["ocu500"].to_numpy()
    main = np.nan_to_num(p[MAIN_INCOME_COLUMNS].to_numpy()).sum(axis=1)
    hours = p["p513t"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        hourly = main / 12 / (4.33 * hours)
        log_hourly = np.log(hourly)
    return {
        "age": age, "ocu": ocu, "hours": hours, "hourly": hourly, "log_hourly": log_hourly,
        "income": np.nan_to_num(p[INCOME_COLUMNS].to_numpy()).sum(axis=1),
        "dependent": np.isin(p["p507"].to_numpy(), DEPENDENT_CATEGORIES),
        "underemployed": ((hours + np.nan_to_num(p["p518"].to_numpy())) < 35) & (p["p521"].to_numpy() == 1)
        & (p["p521a"].to_numpy() == 1),
        "informal": p["ocupinf"].to_numpy() == 1,
        "contract": np.isin(p["p511a"].to_numpy(), range(1, 7)),
        "tertiary": np.isin(p["p301a"].to_numpy(), (10, 11)),
        "major": pd.Series(p["p505r4"]).str[0].astype(float).to_numpy(),
        "insured": (p[HEALTH_COLUMNS].to_numpy() == 1).any(axis=1),
        "pension": (np.nan_to_num(p[AFFILIATED_COLUMNS].to_numpy()) > 0).any(axis=1),
        "pension_answer": p[PENSION_COLUMNS].notna().any(axis=1).to_numpy(),
    }


def _group_estimates(a: dict, labor_weight: np.ndarray, weight: np.ndarray, sex_mask: np.ndarray) -> dict:
    wa = (a["age"] >= 14) & sex_mask
    ocu = a["ocu"]
    employed = wa & (ocu == 1)
    hourly_universe = employed & (a["hours"] > 0)
    return {
        "employment_rate": _ratio(ocu == 1, wa, labor_weight),
        "unemployment_rate": _ratio(ocu == 2, wa & np.isin(ocu, (1, 2)), labor_weight),
        "informality_rate": _ratio(a["informal"], employed, labor_weight),
        "underemployment_time_rate": _ratio(a["underemployed"], employed, labor_weight),
        "labor_income_monthly_mean": _mean(a["income"] / 12, employed, labor_weight),
        "hourly_income_mean": _mean(a["hourly"], hourly_universe, labor_weight),
        "mean_log_hourly_income": _mean(a["log_hourly"], hourly_universe, labor_weight),
        "contract_rate": _ratio(a["contract"], employed & a["dependent"], labor_weight),
        "overqualification_rate": _ratio(a["major"] >= 4, employed & a["tertiary"], labor_weight),
        "pension_affiliation_rate": _ratio(a["pension"], employed & a["pension_answer"], labor_weight),
        "health_insurance_rate": _ratio(a["insured"], sex_mask, weight),
        "tertiary_share_25plus": _ratio(a["tertiary"], sex_mask & (a["age"] >= 25), weight),
    }


def _samples(enaho: pd.DataFrame, enahopv: pd.DataFrame) -> dict:
    """group → (persons, person arrays, labor weight, weight): ENAHO = host, ENAHOPV P209A == 2 = migrant."""
    migrants = enahopv[enahopv["p209a"] == 2]
    return {"host": (enaho, _person_arrays(enaho), enaho["fac500a"].to_numpy(), enaho["weight"].to_numpy()),
            "migrant": (migrants, _person_arrays(migrants), migrants["weight"].to_numpy(),
                        migrants["weight"].to_numpy())}


def _estimates_by_cell(samples: dict, age_range: tuple[int, int] | None = None) -> dict:
    """estimates[indicator][group][female|male|all], persons restricted to an age range if given."""
    out: dict = {}
    for group, (frame, arrays, labor_weight, weight) in samples.items():
        p207 = frame["p207"].to_numpy()
        in_range = np.ones(len(frame), dtype=bool)
        if age_range is not None:
            in_range = (arrays["age"] >= age_range[0]) & (arrays["age"] <= age_range[1])
        for sex, mask in (("female", p207 == 2), ("male", p207 == 1), ("all", np.ones(len(frame), dtype=bool))):
            for indicator, value in _group_estimates(arrays, labor_weight, weight, mask & in_range).items():
                out.setdefault(indicator, {}).setdefault(group, {})[sex] = value
    return out


def survey_estimates_by_age_group(enaho: pd.DataFrame, enahopv: pd.DataFrame) -> dict:
    """The same estimates for each age group (AGE_GROUPS) of the persons: [age_group][indicator][group][sex]."""
    samples = _samples(enaho, enahopv)
    return {name: _estimates_by_cell(samples, (low, high)) for name, low, high in AGE_GROUPS}


def survey_estimates(enaho: pd.DataFrame, enahopv: pd.DataFrame) -> dict:
    """Weighted sample estimates per indicator × group × sex (and both sexes), with unweighted denominators."""
    samples = _samples(enaho, enahopv)
    migrants = samples["migrant"][0]
    out = _estimates_by_cell(samples)
    w = migrants["weight"].to_numpy()
    out["no_permit_rate"] = {"migrant": {"all": _ratio(migrants["p1002"].to_numpy() == 6,
                                                       np.ones(len(migrants), dtype=bool), w)}}
    out["female_share"] = {"migrant": {"all": _ratio(migrants["p207"].to_numpy() == 2,
                                                     np.ones(len(migrants), dtype=bool), w)}}
    arrival = migrants["p1000_anho"].to_numpy()
    out["arrival_year_mean"] = {"migrant": {"all": _mean(arrival, np.isfinite(arrival), w)}}
    out["discrimination_at_work_rate"] = {"migrant": discrimination_at_work_by_sex(migrants)}
    _add_gaps(out)
    return out


def discrimination_at_work_by_sex(migrants: pd.DataFrame) -> dict:
    """discrimination_at_work_rate per sex (female, male, all): migrants 14+ who answered P1009 (ENPOVE P701);
    numerator: felt discriminated (1) and the workplace marked (p1011_1 == 1), weighted by `weight`."""
    w = migrants["weight"].to_numpy()
    p1009 = migrants["p1009"].to_numpy()
    answered = (migrants["p208a"].to_numpy() >= 14) & np.isfinite(p1009)
    at_work = (p1009 == 1) & (migrants["p1011_1"].to_numpy() == 1)
    p207 = migrants["p207"].to_numpy()
    return {sex: _ratio(at_work, answered & mask, w)
            for sex, mask in (("female", p207 == 2), ("male", p207 == 1), ("all", np.ones(len(p207), dtype=bool)))}


def _add_gaps(out: dict) -> None:
    hourly = out["hourly_income_mean"]
    out["wage_gap_raw"] = {s: 1 - hourly["migrant"][s]["estimate"] / hourly["host"][s]["estimate"]
                           for s in ("female", "male", "all")}
    out["gender_wage_gap"] = {g: 1 - hourly[g]["female"]["estimate"] / hourly[g]["male"]["estimate"]
                              for g in GROUPS}
    log_hourly = out["mean_log_hourly_income"]
    out["log_wage_gap"] = {s: log_hourly["host"][s]["estimate"] - log_hourly["migrant"][s]["estimate"]
                           for s in ("female", "male", "all")}


def sample_summary(persons: pd.DataFrame, venezuelan_only: bool = False) -> dict:
    weight = persons["weight"].to_numpy()
    summary = {"psus": int(persons["conglome"].nunique()),
               "households": int(persons[["conglome", "vivienda", "hogar"]].drop_duplicates().shape[0]),
               "persons": int(len(persons)), "persons_14plus": int((persons["p208a"] >= 14).sum()),
               "weighted_persons": round(float(weight.sum()), 4)}
    if venezuelan_only:
        ven = persons["p209a"].to_numpy() == 2
        summary.update({"venezuelans": int(ven.sum()), "weighted_venezuelans": round(float(weight[ven].sum()), 4),
                        "p209a_counts": {str(int(k)): int(v) for k, v in
                                         persons["p209a"].value_counts().sort_index().items()}})
    return summary


def generate_surveys(enaho_rngs: dict[int, np.random.Generator], rng_enahopv: np.random.Generator, truth: dict,
                     sizes: dict, landing_dir: Path) -> tuple[dict, list[Path]]:
    """ENAHO for every wave of `enaho_rngs` (wave → its random stream; the same planted parameters each wave) and
    ENAHOPV for `truth["year"]`. The realized estimates are those of the `year` wave (host) and ENAHOPV (migrant).
    `sizes["label_valued"]`: ENAHO module 500 written with INEI value labels instead of codes."""
    survey, year = truth["survey"], truth["year"]
    if year not in enaho_rngs:
        raise ValueError(f"the ENAHO waves {sorted(enaho_rngs)} must include the survey year {year}")
    paths: list[Path] = []
    waves = {}
    for wave in sorted(enaho_rngs):
        waves[wave] = build_enaho(enaho_rngs[wave], survey, sizes["enaho_households"])
        paths += write_enaho(waves[wave], landing_dir, wave, label_valued=bool(sizes.get("label_valued")))
    enaho = waves[year]
    enahopv = build_enahopv(rng_enahopv, survey, sizes["enahopv_households"], year)
    paths += write_enahopv(enahopv, landing_dir, year, rng_enahopv)
    realized = {"enaho": sample_summary(enaho), "enahopv": sample_summary(enahopv, venezuelan_only=True),
                "estimates": survey_estimates(enaho, enahopv),
                "estimates_by_age_group": survey_estimates_by_age_group(enaho, enahopv)}
    if len(waves) > 1:
        realized["enaho_waves"] = {str(wave): sample_summary(frame) for wave, frame in waves.items()}
    return realized, paths
