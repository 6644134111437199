"""The seeded demo generator (dagster_project/demo): files and exact headers, determinism, planted survey rates
and the planted wage decomposition recovered from the files, demo_truth.json consistent with the files, identifiers
present for pseudonymization, label-valued and multi-wave options, pension affiliation and arrival year,
discrimination at work, the ENPOVE 2022 file (decoded by a pandas re-implementation of its crosswalk's rules), and
the Migraciones extracts' planted defects and registry truth (a pandas re-implementation of the quarantine's row rules
and the shared registry definitions, applied to the files).

Everything is recomputed from the written files with pandas/pyreadstat only (no generator internals), so these
tests say what the warehouse should find. Uses the session fixture `tiny_landing` (conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import unicodedata

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml

from dagster_project.demo.enpove import build_enpove, write_enpove
from dagster_project.demo.generator import generate_demo_landing, generate_survey_landing, main
from dagster_project.demo.io_utils import day as day_number
from dagster_project.demo.registry import completed_years, generate_registry
from dagster_project.demo.survey import build_enahopv
from dagster_project.demo.truth import derived_expectations, expected_labor_income_monthly, load_truth, resolve_sizes
from dagster_project.demo.wage_model import calibrate, planted_values
from dagster_project.sources.survey.readers import read_survey_table

YEAR = 2024
TINY_MONTHS = ["2024-01", "2024-02", "2024-03"]
AGE_GROUPS = {"14-24": (14, 24), "25-44": (25, 44), "45-64": (45, 64), "65+": (65, 200)}
LABELS_FILE = Path(__file__).resolve().parents[1] / "dagster_project/sources/survey/crosswalks/inei-labels.yaml"
ENPOVE_CROSSWALK = LABELS_FILE.with_name("enpove-2022.yaml")
ENPOVE_FILE = "survey/enpove/2022/ENPOVE2022_V_200-300-400-500-600-700-800.csv"
GROUPS, SEXES = ("host", "migrant"), ("female", "male")
SEX_CODE = {"female": 2, "male": 1}
REGULAR = {"PTP", "CPP", "RESIDENTE", "REFUGIADO", "HUMANITARIA", "NACIONALIZADO"}

# headers copied from the real files in ../shared/data/real
ENAHOPV_200_HEADER = ("AÑO,MES,CONGLOME,SEGMENTO,VIVIENDA,HOGAR,CODPERSO,UBIGEO,DOMINIO,ESTRATO,P201,P201P,P203,P203A,"
                      "P203B,P204,P205,P206,P207,P208A,P208B,P209,P210,P211A,P211D,P212,P213,P214,T211,TICUEST01,"
                      "ESTRATOSOCIO,OCUPAC_R4,RAMA_R4,CODTAREA,CODTIEMPO,P209A,T209A,FACTOR")
ENAHO_200 = ["aÑo", "mes", "conglome", "vivienda", "hogar", "codperso", "ubigeo", "dominio", "estrato", "p203",
             "p207", "p208a", "facpob07"]
EMPLOYMENT = ["ocu500", "ocupinf", "p505r4", "p506r4", "p507", "p511a", "p513t", "p518", "p521", "p521a", "i524a1",
              "d529t", "i530a", "d536", "i538a1", "d540t", "i541a", "d543", "d544t"]
PENSION = ["p558a1", "p558a2", "p558a3", "p558a4", "p558a5"]  # option code when marked, else 0; a5 = not affiliated
MODULE_500 = [*EMPLOYMENT[:10], *PENSION, *EMPLOYMENT[10:]]  # module 500's variables as written
ENAHO_500 = ["aÑo", "mes", "conglome", "vivienda", "hogar", "codperso", "ubigeo", "dominio", "estrato", *MODULE_500,
             "fac500a"]
NUMERIC_EMPLOYMENT = [c for c in MODULE_500 if c not in ("p505r4", "p506r4")]  # codes stay text ("0111")
HEALTH = [f"p419{i}" for i in range(1, 9)]
INCOME = EMPLOYMENT[10:]
MAIN_INCOME = ["i524a1", "d529t", "i530a", "d536"]
PV_PREFIX = ["AÑO", "MES", "CONGLOME", "VIVIENDA", "HOGAR", "CODPERSO", "UBIGEO", "ESTRATO"]
KEYS = ["conglome", "vivienda", "hogar", "codperso"]

REGISTRY_STATUSES = ["IRREGULAR", "TURISTA", "PTP", "CPP", "RESIDENTE", "SOLICITANTE_REFUGIO", "REFUGIADO",
                     "HUMANITARIA", "NACIONALIZADO"]
REGISTRY_DATES = ["fecha_nacimiento", "fecha_ultimo_ingreso", "fecha_inicio_calidad", "fecha_vencimiento"]
REGISTRY_RULES = ["status_code", "document_type_code", "sex_code", "nationality_code", "date_format",
                  "birth_before_entry", "entry_before_status_start", "status_start_before_expiry",
                  "date_after_extract_month", "ubigeo_code", "unique_person"]
REGISTRY_COLUMNS = ["id_persona", "tipo_documento", "num_documento", "nombres", "apellidos", "sexo",
                    "fecha_nacimiento", "nacionalidad", "fecha_ultimo_ingreso", "calidad_migratoria",
                    "fecha_inicio_calidad", "fecha_vencimiento", "ubigeo_residencia"]
UNHCR_HEADERS = {
    "population.csv": "year,coo_name,coo,coo_iso,coa_name,coa,coa_iso,refugees,asylum_seekers,returned_refugees,idps,"
                      "returned_idps,stateless,ooc,oip,hst",
    "asylum_applications.csv": "year,coo_name,coo,coo_iso,coa_name,coa,coa_iso,procedure_type,app_type,dec_level,"
                               "app_pc,applied",
    "asylum_decisions.csv": "year,coo_name,coo,coo_iso,coa_name,coa,coa_iso,procedure_type,dec_level,dec_pc,"
                            "dec_recognized,dec_other,dec_rejected,dec_closed,dec_total",
}
CANONICAL_5W = ["country", "admin1", "admin2", "appealing_org", "implementation", "implementing_partner", "month",
                "subsector", "indicator", "activity_name", "activity_description", "rmrp_activity", "covid19", "cva",
                "value", "delivery_mechanism", "quantity_output", "total_monthly", "new_beneficiaries",
                "in_destination", "in_transit", "host_communities", "pendulars", "returnees", "girls", "boys", "women",
                "men", "other_under", "other_above"]
COVID_FIRST = CANONICAL_5W[:11] + ["covid19", "rmrp_activity"] + CANONICAL_5W[13:]
HEADERS_5W = {  # variant: (exact real headers, the canonical column each holds)
    "english_short": (["Country", "Admin1", "Admin2", "Appealing_org", "Implementation", "Implementing_partner",
                       "Month", "Subsector", "Indicator", "Activity_Name", "Activity_Description", "RMRPActivity",
                       "COVID19", "CVA", "Value", "Delivery_mechanism", "Quantity_output", "Total_monthly",
                       "New_beneficiaries", "IN_DESTINATION", "IN_TRANSIT", "Host_Communities", "PENDULARS",
                       "Returnees", "Girls", "Boys", "Women", "Men", "Other_under", "Other_above"], CANONICAL_5W),
    "english_long": (["Country", "Country Admin1", "Admin2", "Appealing organisation Name", "Implementation Set up",
                      "Implementing partner Name", "Month", "Subsector", "Indicator", "Activity Name",
                      "Activity Description", "COVID 19 Situation", "RMRP Activity", "CVA", "Value (in USD)",
                      "Delivery mechanism", "Quantity of output", "Total monthly beneficiaries",
                      "New beneficiaries of the month", "Refugees and Migrants IN DESTINATION",
                      "Refugees and Migrants IN TRANSIT", "Host Communities Beneficiaries",
                      "Refugees and Migrants PENDULARS", "Colombian Returnees", "Women under 18", "Men under 18",
                      "Women above 18", "Men above 18", "Other under 18", "Other above 18"], COVID_FIRST),
    "spanish": (["País Country", "País Admin1", "Admin2", "Socio principal Nombre", "Método de implementacion",
                 "Socio Implementador Nombre", "Month", "Indicador Sector", "Indicador", "Nombre de la actividad",
                 "Descripcion de la actividad", "COVID19", "Actividad RMRP", "CVA", "Valor de transferencia (en USD)",
                 "Modalidad de entrega", "Cantidad de productos generados", "Total beneficiarios mensuales",
                 "Nuevos beneficiarios del mes", "Refugiados y migrantes EN DESTINO",
                 "Refugiados y migrantes EN TRANSITO", "Comunidades de acogida", "Refugiados y migrantes PENDULARES",
                 "Colombianos Retornados", "Ninas y Adolescentes menores de 18", "Ninos y Adolescentes menores de 18",
                 "Mujeres adultas", "Hombres adultos", "Otro menores de 18", "Otro adultos"], COVID_FIRST),
}
FIVEW_FILES = {"2024-01": ("Activities_5W_2024-01.xlsx", "english_short"),
               "2024-02": ("Translated5W_2024-02.csv", "english_long"),
               "2024-03": ("RMRP2024ActivitiesSP_2024-03.xlsx", "spanish")}
PIN_HEADER = ["PiN Platform", "PiN Country", "PiN Admin1", "Subsector", "PiN 2024 Total Girls", "PiN 2024 Total Boys",
              "PiN 2024 Total Women", "PiN Total Men", "PiN Total", "PiN Dest GIrls", "PiN Dest Boys",
              "PiN Dest Women", "PiN Dest Men", "PiN Dest Total", "PiN Transit GIrls", "PiN Transit Boys",
              "PiN Transit Women", "PiN Transit Men", "PiN Transit Total", "PiN HC Girls", "PiN HC Boys",
              "PiN HC Women", "PiN HC Men", "PiN HC Total", "PiN Pendular Girls", "PiN Pendular Boys",
              "PiN Pendular Women", "PiN Pendular Men", "PiN Pendular Total", "PiN Returnees Girls",
              "PiN Returnees Boys", "PiN Returnees Women", "PiN Returnees Men", "PiN Returnees Total"]
R4V_PERU_ADMIN1 = ["Amazonas", "Ancash", "Apurimac", "Arequipa", "Ayacucho", "Cajamarca", "Callao", "Cusco",
                   "Huancavelica", "Huánuco", "Ica", "Junín", "La Libertad", "Lambayeque", "Lima", "Loreto",
                   "Madre de Dios", "Moquegua", "Pasco", "Piura", "Puno", "San Martin", "Tacna", "Tumbes", "Ucayali"]
BENEFICIARY_COLUMNS = ["beneficiary_id", "program", "enrolled_on", "completed_on", "sex", "birth_year", "nationality",
                       "admin1", "single_parent", "lgbtiq", "disability", "outcome", "outcome_on",
                       "monthly_income_pen"]


# ----------------------------------------------------------------------------------------------------------------
# reading the files back

@pytest.fixture(scope="module")
def landing(tiny_landing) -> Path:
    return tiny_landing[0]


@pytest.fixture(scope="module")
def truth(tiny_landing) -> dict:
    return tiny_landing[1]


def read_text_csv(path: Path, encoding: str = "utf-8", sep: str = ",") -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, encoding=encoding, sep=sep, keep_default_na=False)


def numeric(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        text = out[column].str.strip()
        out[column] = pd.to_numeric(text.where(text != ""))
    return out


def survey_frames(landing: Path) -> dict[str, dict[str, pd.DataFrame]]:
    """Each survey's modules, lower-case names, numeric where coded, persons' sex/age/nationality attached."""
    enaho_dir, pv_dir = landing / "survey/enaho/2024", landing / "survey/enahopv/2024"
    host = {"200": read_text_csv(enaho_dir / "enaho01-2024-200.csv", "latin-1"),
            "500": read_text_csv(enaho_dir / "enaho01a-2024-500.csv", "utf-8-sig"),
            "300": pyreadstat.read_dta(enaho_dir / "enaho01a-2024-300.dta")[0],
            "400": pyreadstat.read_sav(enaho_dir / "enaho01a-2024-400.sav")[0]}
    host["200"]["p209a"] = ""
    pv = {m: read_text_csv(pv_dir / f"Enahopv01{'' if m == '200' else 'a'}-2024-{m}.csv").rename(columns=str.lower)
          for m in ("200", "300", "400", "500", "1000")}
    for frames, weight in ((host, "facpob07"), (pv, "factor")):
        members = numeric(frames["200"], ["p207", "p208a", "p209a", weight])
        people = members[KEYS + ["p207", "p208a", "p209a"]]
        frames["200"] = members.rename(columns={weight: "w"})
        for module in [m for m in frames if m != "200"]:
            frame = frames[module].drop(columns=[c for c in ("p207", "p208a", "p209a") if c in frames[module]])
            frames[module] = frame.merge(people, on=KEYS, how="left", validate="one_to_one")
    host["500"] = numeric(host["500"], NUMERIC_EMPLOYMENT + ["fac500a"]).rename(columns={"fac500a": "w"})
    host["300"] = host["300"].rename(columns={"factor07": "w"})
    host["400"] = host["400"].rename(columns={"factor07": "w"})
    pv["500"] = numeric(pv["500"], NUMERIC_EMPLOYMENT + ["factor"]).rename(columns={"factor": "w"})
    pv["300"] = numeric(pv["300"], ["p301a", "factor"]).rename(columns={"factor": "w"})
    pv["400"] = numeric(pv["400"], HEALTH + ["factor"]).rename(columns={"factor": "w"})
    pv["1000"] = numeric(pv["1000"], ["p1000_mes", "p1000_anho", "p1002", "p1009", "p1011_1", "factor"]).rename(
        columns={"factor": "w"})
    migrant = {m: f[f["p209a"] == 2] for m, f in pv.items()}
    return {"host": host, "migrant": migrant, "enahopv_all": pv}


def weighted(values: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Weighted mean (a ratio estimator) and its linearized standard error (persons are independent draws)."""
    values, weights = np.asarray(values, dtype=float), np.asarray(weights, dtype=float)
    estimate = float((weights * values).sum() / weights.sum())
    se = float(np.sqrt((weights**2 * (values - estimate) ** 2).sum()) / weights.sum())
    return estimate, se


def indicator_values(frames: dict[str, pd.DataFrame], sex: str) -> dict[str, tuple[float, float]]:
    """Every planted survey indicator of one group × sex, recomputed from the files (indicator-definitions.md)."""
    code = SEX_CODE[sex]
    m500 = frames["500"][frames["500"]["p207"] == code]
    employed = m500[m500["ocu500"] == 1]
    with_hours = employed[employed["p513t"] > 0]
    hourly = with_hours[MAIN_INCOME].fillna(0).sum(axis=1) / 12 / (4.33 * with_hours["p513t"])
    dependents = employed[employed["p507"].isin([3, 4, 6])]
    m400 = frames["400"][frames["400"]["p207"] == code]
    m300 = frames["300"][(frames["300"]["p207"] == code) & (frames["300"]["p208a"] >= 25)]
    active = m500[m500["ocu500"].isin([1, 2])]
    return {
        "employment_rate": weighted(m500["ocu500"] == 1, m500["w"]),
        "unemployment_rate": weighted(active["ocu500"] == 2, active["w"]),
        "informality_rate": weighted(employed["ocupinf"] == 1, employed["w"]),
        "hourly_income_mean": weighted(hourly, with_hours["w"]),
        "mean_log_hourly_income": weighted(np.log(hourly), with_hours["w"]),
        "labor_income_monthly_mean": weighted(employed[INCOME].fillna(0).sum(axis=1) / 12, employed["w"]),
        "contract_rate": weighted(dependents["p511a"].between(1, 6), dependents["w"]),
        "pension_affiliation_rate": weighted((employed[PENSION[:4]] > 0).any(axis=1), employed["w"]),
        "health_insurance_rate": weighted((m400[HEALTH] == 1).any(axis=1), m400["w"]),
        "tertiary_share_25plus": weighted(m300["p301a"].isin([10, 11]), m300["w"]),
    }


@pytest.fixture(scope="module")
def surveys(landing) -> dict:
    return survey_frames(landing)


def registry_text(landing: Path, month: str) -> pd.DataFrame:
    """A month's extract as sent (text), in that month's delivery format."""
    odd = int(month[5:]) % 2 == 1
    return read_text_csv(landing / f"registry/migraciones/extract_{month}.csv", "utf-8" if odd else "latin-1",
                         "," if odd else ";")


def parse_contract_date(text: pd.Series) -> pd.Series:
    """YYYY-MM-DD or DD/MM/YYYY (the landing contract's two formats); NaT when empty or not a date."""
    text = text.str.strip()
    return pd.to_datetime(text, format="%Y-%m-%d", errors="coerce").fillna(
        pd.to_datetime(text, format="%d/%m/%Y", errors="coerce"))


@pytest.fixture(scope="module")
def reference_codes() -> dict[str, set[str]]:
    """The quarantine's reference lists (dbt seeds): INEI district ubigeos and ISO 3166-1 alpha-3 codes."""
    seeds = Path(__file__).resolve().parents[1] / "dbt/seeds"
    return {"ubigeo": set(read_text_csv(seeds / "inei_ubigeo.csv")["ubigeo"]),
            "iso3": set(read_text_csv(seeds / "iso3166_countries.csv")["iso3"])}


def registry_rule_breaks(frame: pd.DataFrame, month: str, codes: dict[str, set[str]]) -> pd.DataFrame:
    """One boolean column per quarantine rule (the spec's table), True where the row breaks it. Comparisons
    involving an empty or unparseable date do not fire (that row breaks date_format)."""
    as_of = pd.Timestamp(month) + pd.offsets.MonthEnd(0)
    code = {c: frame[c].str.strip().str.upper() for c in ("calidad_migratoria", "tipo_documento", "sexo",
                                                          "nacionalidad")}
    dates = {c: parse_contract_date(frame[c]) for c in REGISTRY_DATES}
    birth, entry, start, expiry = (dates[c] for c in REGISTRY_DATES)
    expiry_sent = frame["fecha_vencimiento"].str.strip() != ""
    ubigeo = frame["ubigeo_residencia"].str.strip()

    def broken(a: pd.Series, b: pd.Series, holds: pd.Series) -> pd.Series:
        return a.notna() & b.notna() & ~holds

    return pd.DataFrame({
        "status_code": ~code["calidad_migratoria"].isin(REGISTRY_STATUSES),
        "document_type_code": ~code["tipo_documento"].isin(["PASAPORTE", "CEDULA", "CE", "CPP", "PTP", "DNI"]),
        "sex_code": ~code["sexo"].isin(["M", "F"]),
        "nationality_code": ~code["nacionalidad"].isin(codes["iso3"]),
        "date_format": birth.isna() | entry.isna() | start.isna() | (expiry_sent & expiry.isna()),
        "birth_before_entry": broken(birth, entry, birth < entry),
        "entry_before_status_start": broken(entry, start, entry <= start),
        "status_start_before_expiry": broken(start, expiry, start <= expiry),
        "date_after_extract_month": (birth > as_of) | (entry > as_of) | (start > as_of),
        "ubigeo_code": (ubigeo != "") & ~ubigeo.str.zfill(6).isin(codes["ubigeo"]),
        "unique_person": frame["id_persona"].str.strip().duplicated(keep=False),
    }, index=frame.index)


def registry_valid_rows(landing: Path, month: str, codes: dict[str, set[str]]) -> pd.DataFrame:
    """The month's rows that pass every quarantine rule, dates parsed, with department, sex, age band and regular
    flag derived by the shared definitions."""
    frame = registry_text(landing, month)
    valid = frame[~registry_rule_breaks(frame, month, codes).any(axis=1)].copy()
    for column in ("calidad_migratoria", "tipo_documento", "sexo", "nacionalidad"):
        valid[column] = valid[column].str.strip().str.upper()
    for column in REGISTRY_DATES:
        valid[column] = parse_contract_date(valid[column])
    as_of = pd.Timestamp(month) + pd.offsets.MonthEnd(0)
    birth = valid["fecha_nacimiento"]
    not_yet = (as_of.month * 100 + as_of.day) < (birth.dt.month * 100 + birth.dt.day)
    age = as_of.year - birth.dt.year - not_yet.astype(int)
    valid["age_band"] = pd.cut(age, [-1, 17, 29, 44, 59, 200], labels=["0-17", "18-29", "30-44", "45-59", "60+"]
                               ).astype(str)
    valid["dept"] = valid["ubigeo_residencia"].str.strip().str.zfill(6).str[:2].where(
        valid["ubigeo_residencia"].str.strip() != "", "unknown")
    valid["sex"] = valid["sexo"].map({"M": "male", "F": "female"})
    valid["regular"] = valid["calidad_migratoria"].isin(REGULAR)
    return valid


def normalize_document(value: str) -> str:
    """The contract's normalization: trimmed, upper case, separators stripped."""
    return re.sub(r"[\s.\-/_]+", "", value.strip().upper())


def fivew_frame(landing: Path, month: str) -> pd.DataFrame:
    name, variant = FIVEW_FILES[month]
    path = landing / "partners/5w" / month / name
    frame = pd.read_csv(path, dtype=str, keep_default_na=False) if path.suffix == ".csv" else pd.read_excel(
        path, dtype=object).fillna("")
    headers, canonical = HEADERS_5W[variant]
    assert list(frame.columns) == headers
    return frame.set_axis(canonical, axis=1)


# ----------------------------------------------------------------------------------------------------------------
# files, names, headers

def test_every_family_is_written_with_the_contract_names(landing, truth):
    expected = [
        "survey/enaho/2024/enaho01-2024-200.csv", "survey/enaho/2024/enaho01a-2024-300.dta",
        "survey/enaho/2024/enaho01a-2024-400.sav", "survey/enaho/2024/enaho01a-2024-500.csv",
        "survey/enahopv/2024/Enahopv01-2024-200.csv", "survey/enahopv/2024/Enahopv01a-2024-300.csv",
        "survey/enahopv/2024/Enahopv01a-2024-400.csv", "survey/enahopv/2024/Enahopv01a-2024-500.csv",
        "survey/enahopv/2024/Enahopv01a-2024-1000.csv", ENPOVE_FILE,
        *[f"registry/migraciones/extract_{m}.csv" for m in TINY_MONTHS],
        "registry/unhcr/population.csv", "registry/unhcr/asylum_applications.csv",
        "registry/unhcr/asylum_decisions.csv",
        "partners/reference/indicators.csv", "partners/reference/organizations.csv",
        "partners/reference/Proportions.xlsx", "partners/consolidated/consolidated_per_org_2024.xlsx",
        *[f"partners/5w/{m}/{name}" for m, (name, _) in FIVEW_FILES.items()],
        *[f"partners/beneficiaries/{org}/{m}.csv" for org in ("care", "hias", "encuentros-sjs") for m in TINY_MONTHS],
    ]
    for name in expected:
        assert (landing / name).is_file(), name
    assert sorted(truth["files"]) == sorted(expected)
    assert not list(landing.rglob("*.tmp"))
    assert json.loads((landing / "demo_truth.json").read_text(encoding="utf-8")) == truth


def test_survey_files_have_inei_headers_encodings_and_blanks(landing):
    enaho = landing / "survey/enaho/2024"
    raw_200 = (enaho / "enaho01-2024-200.csv").read_bytes()
    assert raw_200.startswith(b"a\xd1o,mes,conglome")  # Latin-1 'aÑo'
    assert raw_200.split(b"\n")[0].decode("latin-1").split(",") == ENAHO_200
    raw_500 = (enaho / "enaho01a-2024-500.csv").read_bytes()
    assert raw_500.startswith(b"\xef\xbb\xbfa\xc3\x91o,")  # UTF-8 BOM, 'aÑo'
    assert raw_500.decode("utf-8-sig").split("\n")[0].split(",") == ENAHO_500
    assert ", ," in raw_500.decode("utf-8-sig")  # blanks are a single space
    pv = landing / "survey/enahopv/2024"
    assert (pv / "Enahopv01-2024-200.csv").read_text(encoding="utf-8").split("\n")[0] == ENAHOPV_200_HEADER
    modules = {"300": ["P301A"], "400": [c.upper() for c in HEALTH], "500": [c.upper() for c in MODULE_500],
               "1000": ["P1000_MES", "P1000_ANHO", "P1002", "P1009", "P1011_1"]}
    for module, columns in modules.items():
        header = (pv / f"Enahopv01a-2024-{module}.csv").read_text(encoding="utf-8").split("\n")[0]
        assert header.split(",") == PV_PREFIX + columns + ["FACTOR"]
    frame, meta = pyreadstat.read_dta(enaho / "enaho01a-2024-300.dta")
    assert list(frame.columns) == ["conglome", "vivienda", "hogar", "codperso", "ubigeo", "estrato", "p301a",
                                   "factor07"]
    assert meta.variable_value_labels["p301a"][10] == "superior universitaria completa"
    frame, meta = pyreadstat.read_sav(enaho / "enaho01a-2024-400.sav")
    assert list(frame.columns) == ["conglome", "vivienda", "hogar", "codperso", "ubigeo", "estrato", *HEALTH,
                                   "factor07"]
    assert meta.variable_value_labels["p4195"] == {1.0: "seguro integral de salud (sis)", 2.0: "no"}


def test_survey_keys_design_and_universes(surveys):
    for group in ("host", "enahopv_all"):
        members = surveys[group]["200"]
        widths = {"conglome": 6, "vivienda": 3, "hogar": 2, "codperso": 2, "ubigeo": 6}
        for column, width in widths.items():
            assert members[column].str.fullmatch(rf"\d{{{width}}}").all(), column
        assert not members.duplicated(KEYS).any()
        assert (members.groupby("conglome")["estrato"].nunique() == 1).all()  # PSUs nested in strata
        assert (members.groupby(["conglome", "vivienda"])["w"].nunique() == 1).all()  # one weight per household
        households = members.groupby("conglome")["vivienda"].nunique()
        assert 7 <= households.mean() <= 9 and households.max() <= 10
        sizes = members.groupby(["conglome", "vivienda"]).size()
        assert sizes.min() >= 1 and sizes.max() <= 6
        assert surveys[group]["500"]["p208a"].min() >= 14  # module 500: persons 14+ only
        assert surveys[group]["300"]["p208a"].min() >= 3
        assert len(surveys[group]["400"]) == len(members)
    host = surveys["host"]["200"]
    assert host["w"].sum() == pytest.approx(33_000_000, rel=1e-6)
    assert set(host["ubigeo"].str[:2]) == {f"{i:02d}" for i in range(1, 26)}
    pv = surveys["enahopv_all"]["200"]
    assert pv.loc[pv["p209a"] == 2, "w"].sum() == pytest.approx(1_000_000, rel=1e-6)
    assert set(pv["ubigeo"].str[:2]) <= {"15", "07", "04", "13", "14", "20", "11", "08", "24"}
    assert 0.80 < (pv["p209a"] == 2).mean() < 0.90
    employed = surveys["host"]["500"][surveys["host"]["500"]["ocu500"] == 1]
    assert 0 < (employed["p513t"] == 0).mean() < 0.03
    assert employed["p513t"].max() <= 72 and employed.loc[employed["p513t"] > 0, "p513t"].min() >= 8


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("sex", SEXES)
def test_planted_survey_rates_are_recovered_from_the_files(surveys, truth, group, sex):
    planted = load_truth()["survey"]
    derived = derived_expectations(load_truth())
    for indicator, (estimate, se) in indicator_values(surveys[group], sex).items():
        if indicator == "tertiary_share_25plus":
            expected = planted[indicator][group]
        elif indicator == "unemployment_rate":
            expected = derived[indicator][group][sex]
        else:
            expected = planted[indicator][group][sex]
        assert abs(estimate - expected) <= 4 * se, (indicator, group, sex, estimate, expected, se)
        realized = truth["survey"]["estimates"][indicator][group][sex]["estimate"]
        assert estimate == pytest.approx(realized, rel=1e-9), (indicator, group, sex)


def test_migration_module_and_female_share(surveys, truth):
    m1000 = surveys["migrant"]["1000"]
    estimate, se = weighted(m1000["p1002"] == 6, m1000["w"])
    assert abs(estimate - 0.139) <= 4 * se
    assert estimate == pytest.approx(truth["survey"]["estimates"]["no_permit_rate"]["migrant"]["all"]["estimate"])
    members = surveys["migrant"]["200"]
    estimate, se = weighted(members["p207"] == 2, members["w"])
    assert abs(estimate - 0.52) <= 4 * se
    assert estimate == pytest.approx(truth["survey"]["estimates"]["female_share"]["migrant"]["all"]["estimate"])
    assert set(surveys["enahopv_all"]["1000"]["p209a"]) <= {2, 3}  # Peruvians have no migration-module row


def test_pension_affiliation_follows_inei_coding_and_the_planted_rates(surveys, truth):
    """p558a1..p558a5 (module 500, both surveys) are asked of the employed only; each holds its option's code when
    marked, else 0; affiliated (any of a1..a4) ⇔ p558a5 = 0, not affiliated ⇔ p558a5 = 5 and a1..a4 = 0. The
    weighted affiliation rate recovers the planted one per cell (within 4 SE), realized figures equal the files'."""
    planted = load_truth()["survey"]
    for frame in (surveys["host"]["500"], surveys["enahopv_all"]["500"]):
        employed = frame["ocu500"] == 1
        assert frame.loc[~employed, PENSION].isna().all().all()  # blank for everyone not employed
        answers = frame.loc[employed, PENSION]
        assert answers.notna().all().all()
        for code, column in enumerate(PENSION, start=1):
            assert set(answers[column]) == {0, code}, column
        affiliated = (answers[PENSION[:4]] > 0).any(axis=1)
        assert ((answers["p558a5"] == 0) == affiliated).all() and ((answers["p558a5"] == 5) == ~affiliated).all()
        assert ((answers[PENSION[:4]] > 0).sum(axis=1) <= 1).all()  # one system per affiliated worker
    estimates = truth["survey"]["estimates"]["pension_affiliation_rate"]
    for group in GROUPS:
        m500 = surveys[group]["500"]
        employed = m500[m500["ocu500"] == 1]
        affiliated = (employed[PENSION[:4]] > 0).any(axis=1)
        for sex in (*SEXES, "all"):
            cell = employed["p207"] == SEX_CODE[sex] if sex != "all" else np.ones(len(employed), dtype=bool)
            estimate, se = weighted(affiliated[cell], employed.loc[cell, "w"])
            assert estimate == pytest.approx(estimates[group][sex]["estimate"], rel=1e-9), (group, sex)
            assert estimates[group][sex]["n"] == int(cell.sum())
            if sex != "all":
                expected = planted["pension_affiliation_rate"][group][sex]
                assert abs(estimate - expected) <= 4 * se, (group, sex, estimate, expected, se)
        # correlated with formality: formal workers are affiliated at pension_given_formality.formal
        formal = employed["ocupinf"] == 2
        estimate, se = weighted(affiliated[formal], employed.loc[formal, "w"])
        assert abs(estimate - planted["pension_given_formality"]["formal"]) <= 4 * se, (group, estimate, se)
        assert estimate > weighted(affiliated[~formal], employed.loc[~formal, "w"])[0] + 0.2
        # the system marked follows pension_scheme_mix (AFP most common)
        marked = employed.loc[affiliated, PENSION[:4]].gt(0).idxmax(axis=1)
        mix = planted["pension_scheme_mix"][group]
        for column, share in mix.items():
            estimate, se = weighted(marked == column, employed.loc[affiliated, "w"])
            se = max(se, np.sqrt(share * (1 - share) / affiliated.sum()))
            assert abs(estimate - share) <= 4 * se, (group, column, estimate, share, se)


def test_arrival_month_and_year_of_venezuelans(surveys, truth):
    """ENAHOPV module 1000 P1000_MES (1..12) and P1000_ANHO for Venezuelans (P209A == 2), blank for the other
    members; no one arrives before their birth year nor after the interview; the weighted shares of each year and
    the weighted mean recover arrival_year_shares / arrival_year_mean (within 4 SE)."""
    planted = load_truth()["survey"]
    shares = {int(year): share for year, share in planted["arrival_year_shares"].items()}
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-9)
    assert sorted(shares) == list(range(2015, 2025)) and shares[2017] + shares[2018] + shares[2019] > 0.6
    assert planted["arrival_year_mean"] == pytest.approx(sum(y * s for y, s in shares.items()), abs=0.005)
    m1000 = surveys["enahopv_all"]["1000"]
    others = m1000[m1000["p209a"] != 2]
    assert len(others) > 0 and others[["p1000_mes", "p1000_anho"]].isna().all().all()
    m1000 = surveys["migrant"]["1000"]
    month, year, mes = m1000["p1000_mes"], m1000["p1000_anho"], m1000["mes"].astype(int)
    assert month.notna().all() and year.notna().all()
    assert month.between(1, 12).all() and set(month) == set(range(1, 13)) and year.between(2015, 2024).all()
    assert (year >= YEAR - 1 - m1000["p208a"]).all()  # a child does not arrive before its birth year
    assert ((year < YEAR) | (month <= mes)).all()  # nor anyone after the interview month
    for arrival, share in shares.items():
        estimate, se = weighted(year == arrival, m1000["w"])
        se = max(se, np.sqrt(share * (1 - share) / len(m1000)))
        assert abs(estimate - share) <= 4 * se, (arrival, estimate, share, se)
    estimate, se = weighted(year, m1000["w"])
    assert abs(estimate - planted["arrival_year_mean"]) <= 4 * se, (estimate, planted["arrival_year_mean"], se)
    realized = truth["survey"]["estimates"]["arrival_year_mean"]["migrant"]["all"]
    assert estimate == pytest.approx(realized["estimate"], rel=1e-12) and realized["n"] == len(m1000)


def test_a_missing_nationality_filter_shows(surveys):
    """Non-Venezuelan ENAHOPV members follow host parameters: leaving them in moves the migrant figures."""
    for sex in SEXES:
        all_members = indicator_values(surveys["enahopv_all"], sex)
        migrants = indicator_values(surveys["migrant"], sex)
        assert all_members["health_insurance_rate"][0] - migrants["health_insurance_rate"][0] > 0.03
        assert all_members["hourly_income_mean"][0] > migrants["hourly_income_mean"][0]


def test_overqualification_and_wage_gaps(surveys, truth):
    estimates = truth["survey"]["estimates"]
    for group in GROUPS:
        m500 = surveys[group]["500"]
        education = surveys[group]["300"][KEYS + ["p301a"]]
        employed = m500[m500["ocu500"] == 1].merge(education, on=KEYS, how="left")
        tertiary = employed[employed["p301a"].isin([10, 11])]
        estimate, se = weighted(tertiary["p505r4"].str[0].astype(int) >= 4, tertiary["w"])
        assert abs(estimate - load_truth()["survey"]["overqualification_rate"][group]) <= 4 * se
        assert estimate == pytest.approx(estimates["overqualification_rate"][group]["all"]["estimate"])
    hourly = estimates["hourly_income_mean"]
    for sex in SEXES:
        assert estimates["wage_gap_raw"][sex] == pytest.approx(
            1 - hourly["migrant"][sex]["estimate"] / hourly["host"][sex]["estimate"])
    assert derived_expectations(load_truth())["wage_gap_raw"]["female"] == pytest.approx(0.2762, abs=1e-4)
    assert derived_expectations(load_truth())["wage_gap_raw"]["male"] == pytest.approx(0.248, abs=1e-4)


def in_age_group(frames: dict[str, pd.DataFrame], low: int, high: int) -> dict[str, pd.DataFrame]:
    return {m: f[(f["p208a"] >= low) & (f["p208a"] <= high)] for m, f in frames.items()}


@pytest.mark.parametrize("group", GROUPS)
def test_age_groups_keep_the_planted_rates_and_follow_the_wage_profile(surveys, truth, group):
    """Rates are planted per group × sex only (the same in every age group); wages follow truth.yaml
    by_age_group; demo_truth.json's estimates_by_age_group are the files' figures."""
    planted = load_truth()["survey"]
    derived = derived_expectations(load_truth())
    for name, (low, high) in AGE_GROUPS.items():
        frames = in_age_group(surveys[group], low, high)
        for sex in SEXES:
            with np.errstate(invalid="ignore", divide="ignore"):
                values = indicator_values(frames, sex)
            realized = truth["survey"]["estimates_by_age_group"][name]
            for indicator, (estimate, se) in values.items():
                cell = realized[indicator][group][sex]
                if cell["n"] == 0:
                    assert cell["estimate"] is None and indicator == "tertiary_share_25plus"
                    continue
                assert estimate == pytest.approx(cell["estimate"], rel=1e-9), (name, indicator, group, sex)
                if cell["n"] < 50 or indicator == "tertiary_share_25plus":
                    continue  # too few for a 4-standard-error check; tertiary share depends on the age mix
                if indicator in planted["by_age_group"][name]:
                    expected = planted["by_age_group"][name][indicator][group][sex]
                elif indicator == "unemployment_rate":
                    expected = derived[indicator][group][sex]
                else:
                    expected = planted[indicator][group][sex]
                if indicator.endswith("_rate"):  # a rare outcome in a small cell understates its sample se
                    se = max(se, np.sqrt(expected * (1 - expected) / cell["n"]))
                assert abs(estimate - expected) <= 4 * se, (name, indicator, group, sex, estimate, expected, se)


def wage_sample(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The hourly-wage universe (employed, p513t > 0) with log hourly wage and schooling (module 300)."""
    m500 = frames["500"]
    employed = m500[(m500["ocu500"] == 1) & (m500["p513t"] > 0)].merge(
        frames["300"][KEYS + ["p301a"]], on=KEYS, how="left", validate="one_to_one")
    hourly = employed[MAIN_INCOME].fillna(0).sum(axis=1) / 12 / (4.33 * employed["p513t"])
    return employed.assign(log_hourly=np.log(hourly))


def weighted_ols(y: np.ndarray, x: pd.DataFrame, w: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """Weighted least squares with heteroskedasticity-robust (HC0) standard errors."""
    design = x.to_numpy(dtype=float)
    root = np.sqrt(w)
    coef = np.linalg.lstsq(design * root[:, None], y * root, rcond=None)[0]
    residual = y - design @ coef
    bread = np.linalg.pinv(design.T @ (design * w[:, None]))
    meat = design.T @ (design * (w**2 * residual**2)[:, None])
    se = np.sqrt(np.diag(bread @ meat @ bread))
    return pd.Series(coef, index=x.columns), pd.Series(se, index=x.columns)


@pytest.mark.parametrize("sex", SEXES)
def test_planted_wage_decomposition_is_recovered_from_the_files(surveys, truth, sex):
    """A pooled weighted OLS of the log hourly wage on the planted covariates (schooling years from p301a, age,
    age², department, ln p513t, CIIU division of p506r4) plus a migrant dummy, within one sex, recovers the
    common slopes and the intercept shift (−unexplained); explained = realized gap − unexplained."""
    survey = load_truth()["survey"]
    model, planted = survey["wage_model"], survey["wage_decomposition"][sex]
    samples = {g: wage_sample(surveys[g]) for g in GROUPS}
    pooled = pd.concat([samples[g].assign(migrant=float(g == "migrant")) for g in GROUPS], ignore_index=True)
    pooled = pooled[pooled["p207"] == SEX_CODE[sex]]
    years = pooled["p301a"].map({float(k): v for k, v in model["years_of_schooling"].items()})
    x = pd.concat([
        pd.DataFrame({"const": 1.0, "migrant": pooled["migrant"], "educ_years": years, "age": pooled["p208a"],
                      "age2": pooled["p208a"] ** 2, "log_hours": np.log(pooled["p513t"])}),
        pd.get_dummies(pooled["ubigeo"].str[:2], prefix="dept", dtype=float).drop(columns="dept_15"),
        pd.get_dummies(pooled["p506r4"].str[:2], prefix="division", dtype=float).drop(columns="division_47"),
    ], axis=1)
    coef, se = weighted_ols(pooled["log_hourly"].to_numpy(), x, pooled["w"].to_numpy())
    for name, value in model["beta"].items():
        assert abs(coef[name] - value) <= 4 * se[name], (name, coef[name], value, se[name])
    unexplained = -coef["migrant"]
    assert abs(unexplained - planted["unexplained"]) <= 4 * se["migrant"], (unexplained, planted, se["migrant"])

    means = {g: weighted(samples[g].loc[samples[g]["p207"] == SEX_CODE[sex], "log_hourly"],
                         samples[g].loc[samples[g]["p207"] == SEX_CODE[sex], "w"]) for g in GROUPS}
    gap = means["host"][0] - means["migrant"][0]
    assert gap == pytest.approx(truth["survey"]["estimates"]["log_wage_gap"][sex], abs=1e-9)
    tolerance = 4 * np.sqrt(means["host"][1] ** 2 + means["migrant"][1] ** 2 + se["migrant"] ** 2)
    assert abs((gap - unexplained) - planted["explained"]) <= tolerance, (gap - unexplained, planted, tolerance)
    assert abs(gap - planted["gap"]) <= 4 * np.sqrt(means["host"][1] ** 2 + means["migrant"][1] ** 2)


def test_wage_model_truth_is_its_calibration():
    """truth.yaml's intercepts and population wage values are what wage_model.py computes from the generator
    (rerun `python -m dagster_project.demo.wage_model` after changing anything that moves the covariates)."""
    planted = load_truth()
    fresh = pd.json_normalize(calibrate(planted)).iloc[0]
    written = pd.json_normalize(planted_values(planted)).iloc[0]
    assert sorted(fresh.index) == sorted(written.index)
    for key in written.index:
        soles = key.endswith(("hourly_income_mean.host.female", "hourly_income_mean.host.male",
                              "hourly_income_mean.migrant.female", "hourly_income_mean.migrant.male")) or (
            "labor_income_monthly_mean" in key)
        assert fresh[key] == pytest.approx(written[key], abs=0.011 if soles else 2e-4), key
    survey = planted["survey"]
    intercept = survey["wage_model"]["intercept"]
    for sex in SEXES:
        d = survey["wage_decomposition"][sex]
        assert d["gap"] == pytest.approx(d["explained"] + d["unexplained"], abs=2e-4)
        assert d["explained"] == pytest.approx(sum(d["explained_by"].values()), abs=5e-4)
        assert d["unexplained"] == pytest.approx(intercept["host"][sex] - intercept["migrant"][sex], abs=1e-9)
        mean_log = survey["mean_log_hourly_income"]
        assert d["gap"] == pytest.approx(mean_log["host"][sex] - mean_log["migrant"][sex], abs=2e-4)
    assert survey["age_groups"] == list(AGE_GROUPS) == list(survey["by_age_group"])


def labels_to_codes() -> dict[str, dict[str, int]]:
    """inei-labels.yaml, matched as the warehouse does (case, accents and repeated spaces ignored)."""
    def key(label: str) -> str:
        text = unicodedata.normalize("NFKD", str(label).strip().lower())
        return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).split())

    labels = yaml.safe_load(LABELS_FILE.read_text(encoding="utf-8"))
    return {column: {key(label): code for label, code in mapping.items()} for column, mapping in labels.items()} | {
        "_key": key}


def test_label_valued_module_500_and_extra_waves(tmp_path, landing, truth):
    """--label-valued writes INEI's labelled module 500 (same persons and values); extra ENAHO waves are fresh
    samples in their own folders; the survey year's other files and every estimate stay as in the coded run."""
    other = generate_demo_landing(tmp_path / "labels", scale="tiny", seed=2024, waves=[2023, 2024],
                                  label_valued=True)
    root = tmp_path / "labels"
    assert other["sizes"]["enaho_waves"] == [2023, 2024] and other["sizes"]["label_valued"] is True
    assert other["survey"]["estimates"] == truth["survey"]["estimates"]
    assert set(other["survey"]["enaho_waves"]) == {"2023", "2024"}
    assert other["survey"]["enaho_waves"]["2024"] == truth["survey"]["enaho"]
    assert sorted(p.name for p in (root / "survey/enaho").iterdir()) == ["2023", "2024"]
    assert sorted(p.name for p in (root / "survey/enahopv").iterdir()) == ["2024"]
    wave_2023 = [f for f in other["files"] if f.startswith("survey/enaho/2023/")]
    assert sorted(wave_2023) == sorted(f.replace("2024", "2023") for f in truth["files"]
                                       if f.startswith("survey/enaho/2024/"))
    for name in truth["files"]:
        if name.startswith("survey/") and not name.endswith("-500.csv"):
            assert _content(root / name) == _content(landing / name), name

    coded = read_text_csv(landing / "survey/enaho/2024/enaho01a-2024-500.csv", "utf-8-sig")
    labelled = read_text_csv(root / "survey/enaho/2024/enaho01a-2024-500.csv", "utf-8-sig")
    assert list(labelled.columns) == ENAHO_500 and len(labelled) == len(coded)
    assert labelled.loc[0, "aÑo"] == "2024" and (labelled == " ").to_numpy().sum() == 0  # blanks are empty
    assert {"ocupado", "no pea"} <= set(labelled["ocu500"])
    assert {"empleo formal", "empleo informal"} == set(labelled["ocupinf"]) - {""}
    assert labelled["estrato"].str.startswith(" de ").any()
    assert set(labelled["p558a5"]) == {"", "0", "5"}  # the pension options stay codes (blank cells empty)
    mapping = labels_to_codes()
    for column in ENAHO_500:
        expected = coded[column].str.strip()
        if column in ("ocu500", "ocupinf", "p507", "p511a", "p521", "p521a", "estrato"):
            values = labelled[column].map(lambda v: "" if not v.strip() else str(mapping[column][mapping["_key"](v)]))
            assert (values == expected).all(), column
        elif column != "dominio":
            assert (labelled[column].str.strip() == expected).all(), column
    # the warehouse's reader makes the same raw rows of both files (read from the ENAHO folders only, so that this
    # comparison does not depend on the other surveys' crosswalks)
    shutil.copytree(landing / "survey/enaho", tmp_path / "coded/survey/enaho")
    for survey in ("enahopv", "enpove"):
        shutil.rmtree(root / "survey" / survey)
    read = {name: read_survey_table(path, "survey_employment")[0] for name, path in (("coded", tmp_path / "coded"),
                                                                                    ("labels", root))}
    same = [frame[(frame["survey"] == "enaho") & (frame["wave"] == 2024)].reset_index(drop=True)
            for frame in read.values()]
    pd.testing.assert_frame_equal(same[0], same[1])
    assert set(read["labels"].loc[read["labels"]["survey"] == "enaho", "wave"]) == {2023, 2024}
    wave_2023 = read_text_csv(root / "survey/enaho/2023/enaho01a-2023-500.csv", "utf-8-sig")
    assert set(wave_2023["aÑo"]) == {"2023"} and not wave_2023["conglome"].equals(labelled["conglome"])


# ----------------------------------------------------------------------------------------------------------------
# discrimination at work (ENAHOPV module 1000) and ENPOVE 2022

def test_enahopv_discrimination_at_work(surveys, truth):
    """P1009 (1 yes, 2 no) for Venezuelans 5+ only; P1011_1 holds the option's code 1 when the workplace is marked,
    blank otherwise (and only after P1009 = 1); the rate among migrants 14+ recovers the planted product per sex
    and equals the realized figure."""
    m1000 = surveys["enahopv_all"]["1000"]
    asked = (m1000["p209a"] == 2) & (m1000["p208a"] >= 5)
    assert set(m1000.loc[asked, "p1009"]) == {1, 2} and m1000.loc[~asked, ["p1009", "p1011_1"]].isna().all().all()
    assert set(m1000["p1011_1"].dropna()) == {1} and (m1000.loc[m1000["p1011_1"].notna(), "p1009"] == 1).all()
    expected = derived_expectations(load_truth())["discrimination_at_work_rate"]["migrant"]
    realized = truth["survey"]["estimates"]["discrimination_at_work_rate"]["migrant"]
    m1000 = surveys["migrant"]["1000"]
    answered = m1000[(m1000["p208a"] >= 14) & m1000["p1009"].notna()]
    for sex in (*SEXES, "all"):
        cell = answered if sex == "all" else answered[answered["p207"] == SEX_CODE[sex]]
        estimate, se = weighted((cell["p1009"] == 1) & (cell["p1011_1"] == 1), cell["w"])
        assert estimate == pytest.approx(realized[sex]["estimate"], rel=1e-9) and realized[sex]["n"] == len(cell)
        if sex != "all":
            assert abs(estimate - expected[sex]) <= 4 * se, (sex, estimate, expected[sex], se)


ENPOVE_TEXT = ("departamento", "ciudad", "conglomerado", "vivienda", "nhogar", "p200_n", "ccdd", "ccpp", "ccdi",
               "p609_cod", "p611_cod")
ENPOVE_MAIN_DAYS = [f"p615_{k}" for k in range(1, 8)]
ENPOVE_SECONDARY_DAYS = [f"p615_{k}" for k in range(8, 15)]
ENPOVE_ACTIVITIES = [f"p605_{k}" for k in range(1, 13)]
ENPOVE_INSURANCE = {"p4191": "p401_1", "p4192": "p401_2", "p4195": "p401_3", "p4198": "p401_4"}
# the crosswalk's `derive` code lists, copied from its SQL: ENPOVE level → ENAHO p301a
P301A_OF_P501B = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 12, 8: 7, 9: 8, 10: 9, 11: 10, 12: 11}  # studied in Perú
P301A_OF_P501 = {1: 1, 2: 2, 3: 3, 4: 5, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 10: 10, 11: 11}  # studied in Venezuela


def read_enpove(path: Path) -> pd.DataFrame:
    """The integrated file as the warehouse reads it: lower-case names, empty cells missing, numbers numeric."""
    raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False).rename(columns=str.lower)
    return numeric(raw, [c for c in raw.columns if c not in ENPOVE_TEXT])


def decode_enpove(f: pd.DataFrame) -> pd.DataFrame:
    """ENPOVE's variables → the raw tables' ENAHO-coded columns, by the rules of crosswalks/enpove-2022.yaml
    re-implemented with pandas (its `recode` lists read from the YAML, its `derive` SQL rewritten)."""
    recode = {column: codes for module in yaml.safe_load(ENPOVE_CROSSWALK.read_text(encoding="utf-8"))["modules"]
              for column, codes in (module.get("recode") or {}).items()}
    out = pd.DataFrame({
        "conglome": f["conglomerado"].str.zfill(6), "vivienda": f["vivienda"].str.zfill(3),
        "hogar": f["nhogar"].str.zfill(2), "codperso": f["p200_n"].str.zfill(2),
        "ubigeo": f["ccdd"].str.zfill(2) + f["ccpp"].str.zfill(2) + f["ccdi"].str.zfill(2),
        "w": f["factorfinal"], "migrant": f["p208"] == 1, "p207": f["p204"],
        "p208a": f["p205_a"].where(f["p205_a"].notna(), f["p205_b"].notna().map({True: 0.0, False: np.nan})),
        "p301a": np.select([f["p501a"] == 3, f["p501a"] == 2, f["p501a"] == 1],
                           [1, f["p501b"].map(P301A_OF_P501B), f["p501"].map(P301A_OF_P501)], np.nan),
        "p505r4": f["p609_cod"].replace("", None), "p507": f["p612"].map(recode["p507"]),
        "contract_or_receipt": f["p613"], "p521": f["p617"], "p521a": f["p618"],
        "p1002": f["p307"].map(recode["p1002"]), "p1000_mes": f["p303_mes"], "p1000_anho": f["p303_anio"],
        "p1009": f["p701"], "p1011_1": f["p703_1"]})
    answered = f[[f"p401_{k}" for k in range(1, 6)]].notna().any(axis=1)
    for column, item in ENPOVE_INSURANCE.items():
        out[column] = np.where(answered, np.where(f[item] == 1, 1, 2), np.nan)
    employed = (f["p601"] == 1) | (f["p603"] == 1) | (f["p604"] == 1) | (f[ENPOVE_ACTIVITIES] == 1).any(axis=1)
    out["ocu500"] = np.select([employed, f["p627"] == 1, (f["p629"] == 1) & (f["p630"] == 1), f["p601"] == 2],
                              [1, 2, 3, 4], np.nan)
    out["p513t"] = f[ENPOVE_MAIN_DAYS].sum(axis=1, min_count=1)
    out["p518"] = f[ENPOVE_SECONDARY_DAYS].sum(axis=1, min_count=1)
    days_worked = (f[ENPOVE_MAIN_DAYS] > 0).sum(axis=1)
    periods = f["p621"].map({1: np.nan, 2: 52, 3: 24, 4: 12, 5: 0}).where(f["p621"] != 1, 52 * days_worked)
    for column, variable, per_year in (("i524a1", "p622_1", periods), ("d529t", "p622_2", periods),
                                       ("i530a", "p623_1", 12), ("d536", "p623_2", 12),
                                       ("i538a1", "p624_1", 12), ("d540t", "p624_2", 12)):
        out[column] = f[variable] * per_year
    return out


def enpove_indicators(d: pd.DataFrame, sex: str) -> dict[str, tuple[float, float]]:
    """ENPOVE's realized indicators of migrants (P208 == 1) of one sex ("all": both), from the decoded file."""
    m = d[d["migrant"] & ((d["p207"] == SEX_CODE[sex]) if sex != "all" else True)]
    labor = m[m["p208a"] >= 14]
    employed = labor[labor["ocu500"] == 1]
    active = labor[labor["ocu500"].isin([1, 2])]
    with_hours = employed[employed["p513t"] > 0]
    main = ["i524a1", "d529t", "i530a", "d536"]
    hourly = with_hours[main].fillna(0).sum(axis=1) / 12 / (4.33 * with_hours["p513t"])
    dependents = employed[employed["p507"].isin([3, 4, 6])]
    tertiary = employed[employed["p301a"].isin([10, 11])]
    answered = labor[labor["p1009"].notna()]
    under = (employed["p513t"] + employed["p518"].fillna(0) < 35) & (employed["p521"] == 1) & (employed["p521a"] == 1)
    return {
        "employment_rate": weighted(labor["ocu500"] == 1, labor["w"]),
        "unemployment_rate": weighted(active["ocu500"] == 2, active["w"]),
        "underemployment_time_rate": weighted(under, employed["w"]),
        "labor_income_monthly_mean": weighted(employed[[*main, "i538a1", "d540t"]].fillna(0).sum(axis=1) / 12,
                                              employed["w"]),
        "hourly_income_mean": weighted(hourly, with_hours["w"]),
        "contract_rate": weighted(dependents["contract_or_receipt"] == 1, dependents["w"]),
        "overqualification_rate": weighted(tertiary["p505r4"].str[0].astype(int) >= 4, tertiary["w"]),
        "health_insurance_rate": weighted((m[list(ENPOVE_INSURANCE)] == 1).any(axis=1), m["w"]),
        "no_permit_rate": weighted(m["p1002"] == 6, m["w"]),
        "discrimination_at_work_rate": weighted((answered["p1009"] == 1) & (answered["p1011_1"] == 1),
                                                answered["w"]),
    }


@pytest.fixture(scope="module")
def enpove(landing) -> pd.DataFrame:
    return read_enpove(landing / ENPOVE_FILE)


def test_enpove_file_has_every_variable_its_crosswalk_reads(landing, enpove):
    """UTF-8 with BOM, every variable the crosswalk renames, composes or derives from (case-insensitive) and its
    population rule's P208; none of the variables it marks absent (ENPOVE has no ocupinf, p511a, pension,
    p209a); blanks are empty cells; ubigeo parts without leading zeros; keys as INEI's integers; weight last."""
    raw = (landing / ENPOVE_FILE).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfCCDD,")
    header = raw.decode("utf-8-sig").split("\n")[0].split(",")
    names = {name.lower() for name in header}
    assert len(names) == len(header) and header[-1] == "factorfinal"
    crosswalk = yaml.safe_load(ENPOVE_CROSSWALK.read_text(encoding="utf-8"))
    needed, absent = {crosswalk["population"]["when"]["variable"]}, set()
    for module in crosswalk["modules"]:
        assert module["file"].format(wave=2022) + ".csv" == Path(ENPOVE_FILE).name
        needed |= set((module.get("rename") or {}).values())
        needed |= {v for part in (module.get("compose") or {}).values() for v in part["variables"]}
        needed |= {v for rule in (module.get("derive") or {}).values() for v in rule["from"]}
        absent |= set(module.get("absent") or ())
    assert {"CONGLOMERADO", "P501B", "P605_12", "P622_1", "P703_1"} <= needed  # the YAML was read as meant
    assert {v.lower() for v in needed} <= names, sorted({v.lower() for v in needed} - names)
    assert not names & {c.lower() for c in absent}
    text = raw.decode("utf-8-sig")
    assert ",," in text and ", ," not in text and ",\n" not in text  # empty blanks; factorfinal never blank
    for part in ("ccdd", "ccpp", "ccdi", "conglomerado", "vivienda", "nhogar", "p200_n"):
        assert enpove[part].str.fullmatch(r"[1-9]\d*").all(), part
    assert (enpove["ccdd"].str.len() == 1).any() and (enpove["ccpp"] == "1").any()
    assert set(enpove["nhogar"]) == {"1"} and set(enpove["p208"]) == {1, 2}


def test_enpove_universes_and_codes(enpove):
    """Who answers what: education 3+, labor 14+, migration and discrimination migrants only (discrimination 5+),
    health everyone; babies have months (P205_B) instead of years; codes within ENPOVE's lists; hours whole and
    summing to P615_T; daily pay only with a day worked; no one arrives after 2022 nor before their birth year."""
    f = enpove
    migrant, age = f["p208"] == 1, f["p205_a"].fillna(0)
    assert (f["p205_a"].isna() == f["p205_b"].notna()).all() and f["p205_b"].dropna().between(1, 11).all()
    assert (f["p501a"].notna() == (age >= 3)).all() and set(f["p501a"].dropna()) == {1, 2, 3}
    assert f.loc[~migrant, "p501a"].ne(1).all()  # only migrants studied last in Venezuela
    assert (f["p501"].notna() == (f["p501a"] == 1)).all() and (f["p501b"].notna() == (f["p501a"] == 2)).all()
    assert (f["p601"].notna() == (age >= 14)).all()
    assert set(f["p612"].dropna()) <= set(range(1, 9)) and set(f["p613"].dropna()) == {1, 2}
    insurance = f[[f"p401_{k}" for k in range(1, 6)]]
    uninsured = insurance.iloc[:, :4].sum(axis=1) == 0
    assert insurance.notna().all().all() and (uninsured == (insurance["p401_5"] == 1)).all()
    for columns in (["p303_mes", "p303_anio", "p307"], ["p701"]):
        assert f.loc[~migrant, columns].isna().all().all() and f.loc[migrant & (age >= 5), columns].notna().all().all()
    assert set(f["p307"].dropna()) <= set(range(1, 16)) and {1, 9, 15} <= set(f["p307"].dropna())
    year = f.loc[migrant, "p303_anio"]
    assert year.max() == 2022 and (year >= 2021 - age[migrant]).all() and f["p303_mes"].dropna().between(1, 12).all()
    felt = f["p701"] == 1
    assert f.loc[~felt, ["p702_1", "p703_1", "p703_10"]].isna().all().all()
    assert (f.loc[felt, [f"p703_{k}" for k in range(1, 11)]].sum(axis=1) >= 1).all()
    assert set(f.loc[felt, "p703_1"]) == {0, 1}
    days, secondary = f[ENPOVE_MAIN_DAYS], f[ENPOVE_SECONDARY_DAYS]
    assert (days.dropna() >= 0).all().all() and (days.dropna() % 1 == 0).all().all()
    total = days.sum(axis=1, min_count=1) + secondary.sum(axis=1).fillna(0)
    assert ((total - f["p615_t"]).abs().dropna() < 1e-9).all()
    assert (f["p615_t"].notna() == days.notna().all(axis=1)).all()
    daily = f["p621"] == 1
    assert daily.any() and ((days[daily] > 0).sum(axis=1) > 0).all()


def test_enpove_encoding_round_trips_to_the_drawn_persons(tmp_path):
    """The crosswalk's rules decode the file back to the persons build_enahopv drew (same seed, arrival shares
    cut at 2022): codes, ages, education, labor status, hours exactly; each income to within half a cent per pay
    period (ENPOVE's per-period amounts), exactly to the decoded persons the realized figures use."""
    survey = load_truth()["survey"]
    rows, decoded = build_enpove(np.random.default_rng(11), survey, 400)
    cut = {**survey, "arrival_year_shares": {y: s for y, s in survey["arrival_year_shares"].items() if y <= 2022}}
    drawn = build_enahopv(np.random.default_rng(11), cut, 400, 2022)
    file = decode_enpove(read_enpove(write_enpove(rows, tmp_path)))
    assert len(file) == len(drawn) == len(decoded)
    assert (file["ubigeo"] == drawn["ubigeo"]).all() and (file["conglome"] == drawn["conglome"]).all()
    assert (file["vivienda"] == drawn["vivienda"]).all() and (file["codperso"] == drawn["codperso"]).all()
    assert (file["w"] == drawn["weight"]).all() and (file["migrant"] == (drawn["p209a"] == 2)).all()
    for column in ("p207", "p208a", "p301a", "ocu500", "p513t", "p518", "p521", "p521a"):
        pd.testing.assert_series_equal(file[column], drawn[column], check_names=False, check_dtype=False,
                                       obj=column)
    assert (file["p505r4"].fillna("") == drawn["p505r4"].fillna("")).all()
    assert ((file["p507"] == drawn["p507"]) | ((drawn["p507"] == 4) & (file["p507"] == 3))
            | drawn["p507"].isna()).all()  # ENPOVE does not split employees (3) and workers (4)
    dependent = drawn["p507"].isin([3, 4, 6])
    assert ((file["contract_or_receipt"] == 1) == drawn["p511a"].between(1, 6))[dependent].all()
    assert ((file[list(ENPOVE_INSURANCE)] == 1).any(axis=1) == (drawn[HEALTH] == 1).any(axis=1)).all()
    migrants = drawn["p209a"] == 2
    for column in ("p1002", "p1000_mes", "p1000_anho"):
        pd.testing.assert_series_equal(file.loc[migrants, column], drawn.loc[migrants, column], check_names=False,
                                       check_dtype=False, obj=column)
    pd.testing.assert_series_equal(file["p1009"], drawn["p1009"], check_names=False, check_dtype=False)
    assert ((file["p1011_1"] == 1) == (drawn["p1011_1"] == 1)).all()
    secondary = {"i538a1": drawn[["i538a1", "i541a"]].sum(axis=1, min_count=1),
                 "d540t": drawn[["d540t", "d543"]].sum(axis=1, min_count=1)}
    for column in ("i524a1", "d529t", "i530a", "d536", "i538a1", "d540t"):
        original = secondary.get(column, drawn[column])
        assert (file[column].notna() == original.notna()).all(), column
        per_year = 12 if column not in ("i524a1", "d529t") else 52 * 7  # at most 364 pay periods a year
        assert ((file[column] - original).abs().dropna() <= 0.005 * per_year + 1e-6).all(), column
        assert (file[column].fillna(-1) == decoded[column].fillna(-1)).all(), column
    for column in ("p301a", "ocu500", "p513t", "p518", "p507", "p1002", "p4191", "p4192", "p4195", "p4198"):
        assert (file[column].fillna(-1).to_numpy() == decoded[column].fillna(-1).to_numpy()).all(), column


def test_enpove_realized_figures_are_the_files_and_near_the_planted_values(enpove, truth):
    """demo_truth.json's survey.enpove: the estimates recomputed from the decoded file (every weight
    factorfinal) equal the realized figures, and the planted migrant parameters are recovered (4 SE)."""
    planted = load_truth()["survey"]
    derived = derived_expectations(load_truth())
    realized = truth["survey"]["enpove"]
    d = decode_enpove(enpove)
    assert realized["sample"]["persons"] == len(d) and realized["sample"]["venezuelans"] == int(d["migrant"].sum())
    assert set(realized["estimates"]) == {*enpove_indicators(d, "all"), "female_share"}
    for sex in (*SEXES, "all"):
        for indicator, (estimate, se) in enpove_indicators(d, sex).items():
            cell = realized["estimates"][indicator]["migrant"][sex]
            assert estimate == pytest.approx(cell["estimate"], rel=1e-9), (indicator, sex)
            if sex == "all" or indicator == "underemployment_time_rate":
                continue  # no planted value per sex × all, none for underemployment
            expected = {"unemployment_rate": derived["unemployment_rate"]["migrant"][sex],
                        "discrimination_at_work_rate": derived["discrimination_at_work_rate"]["migrant"][sex],
                        "overqualification_rate": planted["overqualification_rate"]["migrant"],
                        "no_permit_rate": planted["no_permit_rate"]}.get(indicator)
            expected = planted[indicator]["migrant"][sex] if expected is None else expected
            if indicator.endswith("_rate"):
                se = max(se, np.sqrt(expected * (1 - expected) / cell["n"]))
            assert abs(estimate - expected) <= 4 * se, (indicator, sex, estimate, expected, se)
    migrants = d[d["migrant"]]
    estimate, se = weighted(migrants["p207"] == 2, migrants["w"])
    assert estimate == pytest.approx(realized["estimates"]["female_share"]["migrant"]["all"]["estimate"], rel=1e-9)
    assert abs(estimate - planted["female_share"]["migrant"]) <= 4 * se


def test_enpove_has_its_own_random_stream(tmp_path, landing):
    """Resizing ENPOVE changes its file only: the ENAHO and ENAHOPV files are the same bytes."""
    other = generate_survey_landing(tmp_path / "small", scale="tiny", seed=2024, enpove_households=120)
    assert other["sizes"]["enpove_households"] == 120 and other["survey"]["enpove"]["sample"]["households"] == 120
    for name in other["files"]:
        if name.endswith(".csv") and name != ENPOVE_FILE:
            assert (tmp_path / "small" / name).read_bytes() == (landing / name).read_bytes(), name
    assert len(read_enpove(tmp_path / "small" / ENPOVE_FILE)) < len(read_enpove(landing / ENPOVE_FILE))


# ----------------------------------------------------------------------------------------------------------------
# registry

def test_registry_extracts_alternate_formats_and_carry_identifiers(landing, reference_codes):
    for month in TINY_MONTHS:
        raw = (landing / f"registry/migraciones/extract_{month}.csv").read_bytes()
        odd = int(month[5:]) % 2 == 1
        header = raw.split(b"\n")[0].decode("ascii")
        assert header.split("," if odd else ";") == REGISTRY_COLUMNS
        if odd:
            raw.decode("utf-8")
            assert re.search(rb",\d{4}-\d{2}-\d{2},", raw)
        else:
            assert re.search(rb";\d{2}/\d{2}/\d{4};", raw)
            assert re.search(rb"[\xe1\xe9\xed\xf3\xfa\xf1]", raw)  # accented names in Latin-1
        sent = registry_text(landing, month)
        # every date is written in the month's style, the planted bad ones too (31/02/2024, 2024-13-05, empty)
        shape = r"\d{4}-\d{2}-\d{2}" if odd else r"\d{2}/\d{2}/\d{4}"
        for column in REGISTRY_DATES:
            assert (sent[column].str.fullmatch(shape) | (sent[column] == "")).all(), column
        frame = sent[~registry_rule_breaks(sent, month, reference_codes).any(axis=1)]
        assert frame["id_persona"].str.fullmatch(r"\d{9}").all() and frame["id_persona"].is_unique
        assert (frame["num_documento"].str.strip() != "").all()  # every row has a document to pseudonymize
        assert set(frame["tipo_documento"]) <= {"PASAPORTE", "CEDULA", "CE", "CPP", "PTP", "DNI"}
        messy = frame["num_documento"] != frame["num_documento"].map(normalize_document)
        assert 0.03 < messy.mean() < 0.2
        assert frame["num_documento"].str.match(r"^\s*v-\d{2}\.\d{3}\.\d{3}\s*$").any()
        assert 0.6 < frame["nacionalidad"].eq("VEN").mean() < 0.97
        assert 0.0 < frame["ubigeo_residencia"].eq("").mean() < 0.08
        present = frame.loc[frame["ubigeo_residencia"] != "", "ubigeo_residencia"]
        assert present.str.fullmatch(r"\d{6}").all()
        assert 0.6 < present.str[:2].isin(["15", "07"]).mean() < 0.8


def test_registry_dates_are_coherent_and_expiry_follows_the_status(landing, reference_codes):
    for month in TINY_MONTHS:
        frame = registry_valid_rows(landing, month, reference_codes)
        as_of = pd.Timestamp(month) + pd.offsets.MonthEnd(0)
        expiry, start, status = frame["fecha_vencimiento"], frame["fecha_inicio_calidad"], frame["calidad_migratoria"]
        assert expiry[status.isin(["IRREGULAR", "NACIONALIZADO"])].isna().all()
        assert expiry[~status.isin(["IRREGULAR", "NACIONALIZADO"])].notna().all()
        assert (expiry.dropna() >= as_of).all()
        assert ((expiry - start)[status == "TURISTA"] == pd.Timedelta(days=183)).all()
        assert ((expiry - start)[status == "SOLICITANTE_REFUGIO"] == pd.Timedelta(days=60)).all()
        yearly = status.isin(["PTP", "CPP", "RESIDENTE", "REFUGIADO", "HUMANITARIA"])
        one_year = start[yearly].map(lambda d: d + pd.DateOffset(years=1))
        assert (expiry[yearly] == one_year).all()


def test_registry_planted_defects_each_break_exactly_one_rule(landing, truth, reference_codes):
    planted = load_truth()["registry"]["planted_defects_per_month"]
    assert set(planted) == set(REGISTRY_RULES) and truth["registry"]["planted_defects_per_month"] == planted
    expected = {rule: n * (2 if rule == "unique_person" else 1) for rule, n in planted.items() if n}
    for month in TINY_MONTHS:
        frame = registry_text(landing, month)
        breaks = registry_rule_breaks(frame, month, reference_codes)
        bad = breaks[breaks.any(axis=1)]
        assert (bad.sum(axis=1) == 1).all(), bad[bad.sum(axis=1) > 1]  # one rule per corrupted row
        found = {rule: int(n) for rule, n in bad.sum().items() if n}
        figures = truth["registry"]["months"][month]
        assert found == expected == figures["quarantined"]
        assert figures["quarantined_rows"] == len(bad) == sum(expected.values())
        assert figures["rows_written"] == len(frame)
        lines = {(r["source_row"], r["rule"]) for r in figures["planted_defects"]}
        assert lines == {(i + 2, rule) for i, rule in bad.idxmax(axis=1).items()}  # line 1 is the header
        duplicated = frame.loc[breaks["unique_person"], "id_persona"]
        assert duplicated.nunique() == planted["unique_person"]  # a person's row written twice


def test_registry_defects_do_not_change_the_other_rows(tmp_path):
    """Defects draw from their own stream: with none planted, the files hold the same people and values, the
    defect rows excepted."""
    planted = load_truth()
    clean = load_truth()
    clean["registry"]["planted_defects_per_month"] = {rule: 0 for rule in REGISTRY_RULES}
    sizes = resolve_sizes(planted, "tiny")
    with_defects, _ = generate_registry(np.random.default_rng(11), planted, sizes, tmp_path / "defects")
    without, _ = generate_registry(np.random.default_rng(11), clean, sizes, tmp_path / "clean")
    assert all(m["quarantined_rows"] == 0 and m["rows_written"] == m["registered_stock"]
               for m in without["months"].values())
    for month in TINY_MONTHS:
        defects, original = registry_text(tmp_path / "defects", month), registry_text(tmp_path / "clean", month)
        lines = {r["source_row"] - 2 for r in with_defects["months"][month]["planted_defects"]}
        kept = defects.drop(index=sorted(lines)).reset_index(drop=True)
        corrupted_ids = set(defects.loc[sorted(lines), "id_persona"])
        pd.testing.assert_frame_equal(kept, original[~original["id_persona"].isin(corrupted_ids)].reset_index(
            drop=True))
        assert len(original) == len(defects) - planted["registry"]["planted_defects_per_month"]["unique_person"]


def test_registry_truth_is_self_consistent(truth):
    regular = set(truth["registry"]["planted"]["regular_statuses"])
    for month, figures in truth["registry"]["months"].items():
        cells = pd.Series(figures["cells"])
        assert (cells > 0).all()
        parts = cells.index.to_series().str.split("|", expand=True).set_axis(
            ["status", "sex", "age_band", "dept", "nationality"], axis=1)
        parts["n"] = cells
        assert set(parts["sex"]) <= {"male", "female"}
        assert set(parts["age_band"]) <= {"0-17", "18-29", "30-44", "45-59", "60+"}
        assert figures["registered_stock"] == cells.sum() == figures["rows_written"] - figures["quarantined_rows"]
        assert figures["quarantined_rows"] == sum(figures["quarantined"].values())
        assert figures["by_status"] == {s: int(n) for s, n in parts.groupby("status")["n"].sum().items()}
        registered = parts.groupby("dept")["n"].sum()
        regular_n = parts[parts["status"].isin(regular)].groupby("dept")["n"].sum()
        assert figures["by_department"] == {d: {"registered": int(n), "regular": int(regular_n.get(d, 0))}
                                            for d, n in registered.items()}
        assert figures["regular_stock"] == int(regular_n.sum())
        assert figures["regular_share"] == pytest.approx(figures["regular_stock"] / figures["registered_stock"])
        assert figures["expiring"]["90"] == figures["expiring_90d"]
        assert figures["expiring_total"]["90"] == figures["expiring_90d_total"]
        for days in ("30", "60", "90"):
            assert figures["expiring_total"][days] == sum(figures["expiring"][days].values())
            assert all(n > 0 for n in figures["expiring"][days].values())
        for shorter, longer in (("30", "60"), ("60", "90")):
            assert figures["expiring_total"][shorter] <= figures["expiring_total"][longer]
            assert all(n <= figures["expiring"][longer].get(d, 0) for d, n in figures["expiring"][shorter].items())
        for d, n in figures["expiring"]["90"].items():
            assert n <= figures["by_department"][d]["registered"]
    for key, q in truth["registry"]["time_to_regular_status"].items():
        cohort, sex = key.split("|")
        assert sex in {"male", "female", "all"} and 2000 < int(cohort) <= YEAR
        assert q["n"] > 0 and 0 <= q["q1"] <= q["median"] <= q["q3"]
        if sex == "all":
            parts = [truth["registry"]["time_to_regular_status"].get(f"{cohort}|{s}", {"n": 0})["n"] for s in SEXES]
            assert q["n"] == sum(parts)


def test_registry_truth_matches_the_valid_rows(landing, truth, reference_codes):
    months = truth["registry"]["months"]
    assert list(months) == TINY_MONTHS
    previous = None
    for month in TINY_MONTHS:
        frame = registry_valid_rows(landing, month, reference_codes)
        figures = months[month]
        as_of = pd.Timestamp(month) + pd.offsets.MonthEnd(0)
        assert figures["as_of"] == as_of.strftime("%Y-%m-%d")
        assert figures["registered_stock"] == len(frame)
        assert figures["regular_stock"] == int(frame["regular"].sum())
        assert figures["by_status"] == {s: int(n) for s, n in frame["calidad_migratoria"].value_counts().items()}
        by_dept = frame.groupby("dept")["regular"].agg(["size", "sum"])
        assert figures["by_department"] == {d: {"registered": int(r["size"]), "regular": int(r["sum"])}
                                            for d, r in by_dept.iterrows()}
        for days in (30, 60, 90):
            expiring = ((frame["fecha_vencimiento"] > as_of)
                        & (frame["fecha_vencimiento"] <= as_of + pd.Timedelta(days=days)))
            assert figures["expiring"][str(days)] == {d: int(c) for d, c in frame.loc[expiring, "dept"]
                                                      .value_counts().items()}
            assert figures["expiring_total"][str(days)] == int(expiring.sum())
        cube = frame.groupby(["calidad_migratoria", "sex", "age_band", "dept", "nacionalidad"]).size()
        assert figures["cells"] == {"|".join(k): int(n) for k, n in cube.items()}
        if previous is not None:
            both = previous.merge(frame, on="id_persona", suffixes=("_before", "_now"), validate="one_to_one")
            changed = both[both["calidad_migratoria_before"] != both["calidad_migratoria_now"]]
            pairs = (changed["calidad_migratoria_before"] + "->" + changed["calidad_migratoria_now"]).value_counts()
            assert figures["transitions"] == {k: int(v) for k, v in pairs.items()}
            assert figures["arriving"] == int((~frame["id_persona"].isin(previous["id_persona"])).sum())
            assert figures["leaving"] == int((~previous["id_persona"].isin(frame["id_persona"])).sum())
            same_doc = both[both["tipo_documento_before"] == both["tipo_documento_now"]]
            assert (same_doc["num_documento_before"].map(normalize_document)
                    == same_doc["num_documento_now"].map(normalize_document)).all()
        else:
            assert not {"arriving", "leaving", "transitions"} & set(figures)  # no previous month delivered
        previous = frame
    last = months[TINY_MONTHS[-1]]
    assert abs(last["regular_share"] - 0.55) < 0.04  # planted ≈ 0.55 (3,000 people)
    assert months["2024-02"]["transitions"].get("IRREGULAR->CPP", 0) > 0


def test_registry_time_to_regular_status_matches_the_valid_rows(landing, truth, reference_codes):
    rows = pd.concat([registry_valid_rows(landing, m, reference_codes) for m in TINY_MONTHS], ignore_index=True)
    regular = rows[rows["regular"]]
    first = regular.loc[regular.groupby("id_persona")["fecha_inicio_calidad"].idxmin()]
    days = (first["fecha_inicio_calidad"] - first["fecha_ultimo_ingreso"]).dt.days
    people = pd.DataFrame({"cohort": first["fecha_ultimo_ingreso"].dt.year, "sex": first["sex"], "days": days})

    def percentile_disc(values: pd.Series, p: float) -> int:
        ordered = np.sort(values.to_numpy())
        return int(ordered[int(np.ceil(p * len(ordered))) - 1])

    expected = {}
    for (cohort, sex), group in pd.concat([people, people.assign(sex="all")]).groupby(["cohort", "sex"]):
        expected[f"{cohort}|{sex}"] = {"n": len(group), "q1": percentile_disc(group["days"], 0.25),
                                       "median": percentile_disc(group["days"], 0.5),
                                       "q3": percentile_disc(group["days"], 0.75)}
    assert truth["registry"]["time_to_regular_status"] == expected
    assert (people["days"] >= 0).all() and len(people) > 1000


def test_registry_age_is_in_completed_years():
    """Born 29 February: a year older on 1 March in common years, on 29 February in leap years."""
    birth = np.array([day_number("2000-02-29"), day_number("2000-03-01"), day_number("2006-03-31")])
    assert completed_years(birth, day_number("2023-02-28")).tolist() == [22, 22, 16]
    assert completed_years(birth, day_number("2024-02-29")).tolist() == [24, 23, 17]
    assert completed_years(birth, day_number("2024-03-31")).tolist() == [24, 24, 18]


def test_unhcr_tables_have_the_published_columns(landing, truth):
    for name, header in UNHCR_HEADERS.items():
        text = (landing / "registry/unhcr" / name).read_text(encoding="utf-8")
        assert text.split("\n")[0] == header
    population = read_text_csv(landing / "registry/unhcr/population.csv")
    row = population[(population["year"] == "2024.0") & (population["coo_iso"] == "VEN")
                     & (population["coa_iso"] == "PER")].iloc[0]
    assert (row["refugees"], row["asylum_seekers"], row["oip"]) == ("4942.0", "522732.0", "1135215.0")
    assert set(population.loc[population["coa_iso"] == "PER", "year"]) >= {f"{y}.0" for y in range(2018, 2025)}
    assert (population.loc[population["coo_iso"] == "CUB", "oip"] == "").all()
    assert truth["unhcr"]["venezuela_peru_population"]["2024"]["refugees"] == 4942


# ----------------------------------------------------------------------------------------------------------------
# partners

def valid_fivew_rows(landing, truth, month) -> pd.DataFrame:
    """A month's 5W rows without the planted defects, which the generator appends after the valid rows (one per
    row rule; tests/test_partner_5w_rules.py checks each is set aside)."""
    frame = fivew_frame(landing, month)
    rows = truth["partners"]["files"][month]["rows"]
    planted = truth["partners"]["fivew_quarantined"]
    [defects] = [rules for file, rules in planted.items() if file.startswith(f"partners/5w/{month}/")]
    assert len(frame) == rows + sum(defects.values())
    return frame.head(rows)


def test_5w_files_use_the_three_real_header_variants_and_are_coherent(landing, truth):
    indicators = read_text_csv(landing / "partners/reference/indicators.csv")
    assert list(indicators.columns) == ["subsector", "subsector_es", "indicator", "indicator_es", "indicator_type"]
    assert set(indicators["indicator_type"]) <= {"PiN", "Capacity Building", "Other"}
    assert {"Integration", "Protection (General)", "Health", "Education", "Food Security", "WASH",
            "Shelter"} <= set(indicators["subsector"])
    organizations = read_text_csv(landing / "partners/reference/organizations.csv")
    assert list(organizations.columns) == ["name", "name_es", "role"]
    mojibake = 0
    for month in TINY_MONTHS:
        frame = valid_fivew_rows(landing, truth, month)
        variant = FIVEW_FILES[month][1]
        spanish = variant == "spanish"
        pairs = set(zip(indicators["subsector_es" if spanish else "subsector"],
                        indicators["indicator_es" if spanish else "indicator"]))
        assert set(zip(frame["subsector"], frame["indicator"])) <= pairs
        assert set(frame["appealing_org"]) <= set(organizations["name_es" if spanish else "name"])
        assert set(frame["country"]) == {"Peru"} and set(frame["admin1"]) <= set(R4V_PERU_ADMIN1)
        yes = "Si" if spanish else "Yes"
        assert set(frame["implementation"]) <= {yes, "No"}
        assert ((frame["implementation"] == yes) == (frame["implementing_partner"] != "")).all()
        months = frame["month"].map(lambda v: v.strftime("%Y-%m") if isinstance(v, dt.datetime) else v)
        assert set(months) == {month}
        if variant == "english_short":
            assert frame["month"].map(lambda v: isinstance(v, dt.datetime)).any()
        numbers = ["value", "quantity_output", *CANONICAL_5W[17:]]
        counts = frame[numbers].apply(lambda c: pd.to_numeric(c.astype(str).where(c.astype(str) != "")))
        pin = counts["new_beneficiaries"].notna()
        assert (counts.loc[pin, CANONICAL_5W[19:24]].sum(axis=1) == counts.loc[pin, "new_beneficiaries"]).all()
        assert (counts.loc[pin, CANONICAL_5W[24:]].sum(axis=1) == counts.loc[pin, "new_beneficiaries"]).all()
        assert (counts.loc[pin, "total_monthly"] >= counts.loc[pin, "new_beneficiaries"]).all()
        cva = frame["cva"] == yes
        assert (counts.loc[cva, "value"] > 0).all() and (frame.loc[cva, "delivery_mechanism"] != "").all()
        assert counts.loc[~cva, "value"].isna().all()
        mojibake += frame["activity_name"].str.contains("Ã").sum()
    assert mojibake > 0


def test_5w_truth_matches_the_files(landing, truth):
    indicators = read_text_csv(landing / "partners/reference/indicators.csv")
    to_english = dict(zip(indicators["subsector_es"], indicators["subsector"]))
    pin_pairs = set(zip(indicators.loc[indicators["indicator_type"] == "PiN", "subsector"],
                        indicators.loc[indicators["indicator_type"] == "PiN", "indicator"]))
    pin_pairs_es = set(zip(indicators.loc[indicators["indicator_type"] == "PiN", "subsector_es"],
                           indicators.loc[indicators["indicator_type"] == "PiN", "indicator_es"]))
    for month in TINY_MONTHS:
        frame = valid_fivew_rows(landing, truth, month)
        spanish = FIVEW_FILES[month][1] == "spanish"
        is_pin = [(s, i) in (pin_pairs_es if spanish else pin_pairs) for s, i in zip(frame["subsector"],
                                                                                    frame["indicator"])]
        pin = frame[is_pin].assign(
            subsector=lambda f: f["subsector"].map(to_english) if spanish else f["subsector"],
            new=lambda f: pd.to_numeric(f["new_beneficiaries"]))
        sums = pin.groupby(["admin1", "subsector"])["new"].sum()
        expected: dict = {}
        for (admin1, subsector), value in sums.items():
            expected.setdefault(admin1, {})[subsector] = int(value)
        assert truth["partners"]["new_beneficiaries"][month] == expected


def test_proportions_sheets_follow_the_real_layout_and_add_up(landing):
    book = pd.ExcelFile(landing / "partners/reference/Proportions.xlsx")
    assert {"PiN 2024", "Target"} <= set(book.sheet_names)
    pin = book.parse("PiN 2024")
    assert list(pin.columns) == PIN_HEADER
    target = book.parse("Target")
    assert list(target.columns) == [c.replace("PiN", "Target") for c in PIN_HEADER]
    for frame, m in ((pin, "PiN"), (target, "Target")):
        peru = frame[frame[f"{m} Country"] == "Peru"].fillna(0)
        assert set(peru[f"{m} Admin1"]) == set(R4V_PERU_ADMIN1)
        totals = [f"{m} {g} Total" for g in ("Dest", "Transit", "HC", "Pendular", "Returnees")]
        assert (peru[totals].sum(axis=1) == peru[f"{m} Total"]).all()
        parts = [f"{m} 2024 Total Girls", f"{m} 2024 Total Boys", f"{m} 2024 Total Women", f"{m} Total Men"]
        assert (peru[parts].sum(axis=1) == peru[f"{m} Total"]).all()
        for group in ("Dest", "Transit", "HC", "Pendular", "Returnees"):
            cells = [c for c in peru.columns if c.startswith(f"{m} {group} ") and not c.endswith("Total")]
            assert len(cells) == 4 and (peru[cells].sum(axis=1) == peru[f"{m} {group} Total"]).all()


def test_beneficiary_files_and_cross_organization_ids(landing, truth):
    ids: dict[str, set] = {}
    for org, months in truth["partners"]["beneficiaries"]["records"].items():
        for month, count in months.items():
            frame = read_text_csv(landing / "partners/beneficiaries" / org / f"{month}.csv")
            assert list(frame.columns) == BENEFICIARY_COLUMNS
            assert len(frame) == count
            assert frame["beneficiary_id"].str.fullmatch(r"[A-Z]{3}-\d{6}").all()
            assert not frame.duplicated(["beneficiary_id", "program"]).any()
            assert (frame["enrolled_on"] <= f"{month}-31").all()
            done = frame["completed_on"] != ""
            assert (frame.loc[done, "completed_on"] >= frame.loc[done, "enrolled_on"]).all()
            assert set(frame["outcome"]) <= {"", "employed_formal", "employed_informal", "self_employed",
                                             "not_employed"}
            ids.setdefault(org, set()).update(frame["beneficiary_id"])
    orgs = list(ids)
    shared = set().union(*[ids[a] & ids[b] for i, a in enumerate(orgs) for b in orgs[i + 1:]])
    assert len(shared) == truth["partners"]["beneficiaries"]["ids_in_two_or_more_organizations"] > 0


# ----------------------------------------------------------------------------------------------------------------
# determinism, truth.yaml, CLI

def _content(path: Path):
    """What a file says (workbooks and Stata/SPSS files carry their write time, so compare their cells)."""
    def cells(frame: pd.DataFrame) -> dict:
        return frame.astype(object).where(frame.notna(), None).to_dict("split")

    if path.suffix == ".xlsx":
        return {name: cells(frame) for name, frame in pd.read_excel(path, sheet_name=None).items()}
    if path.suffix == ".dta":
        return cells(pyreadstat.read_dta(path)[0])
    if path.suffix == ".sav":
        return cells(pyreadstat.read_sav(path)[0])
    return path.read_bytes()


def test_same_seed_same_files_other_seed_other_files(tmp_path, landing, truth):
    again = generate_demo_landing(tmp_path / "again", scale="tiny", seed=2024)
    assert again == truth
    for name in truth["files"] + ["demo_truth.json"]:
        assert _content(tmp_path / "again" / name) == _content(landing / name), name
    other = generate_demo_landing(tmp_path / "other", scale="tiny", seed=7)
    assert other["registry"]["months"] != truth["registry"]["months"]
    assert (tmp_path / "other/survey/enaho/2024/enaho01-2024-200.csv").read_bytes() != (
        landing / "survey/enaho/2024/enaho01-2024-200.csv").read_bytes()


def test_truth_yaml_presets_and_analytic_income():
    planted = load_truth()
    for name in ("tiny", "demo", "national"):
        assert resolve_sizes(planted, name)["name"] == name
        assert resolve_sizes(planted, name)["label_valued"] is False
    assert resolve_sizes(planted, "tiny")["enaho_waves"] == resolve_sizes(planted, "demo")["enaho_waves"] == [YEAR]
    assert resolve_sizes(planted, "national")["enaho_waves"] == [2020, 2021, 2022, 2023, 2024]
    assert resolve_sizes(planted, 0.5)["enaho_waves"] == [YEAR]
    half = resolve_sizes(planted, 0.5)
    assert half["registry_people"] == planted["sizes"]["demo"]["registry_people"] // 2
    assert half["registry_months"] == planted["sizes"]["demo"]["registry_months"]
    with pytest.raises(ValueError):
        resolve_sizes(planted, "huge")
    survey = planted["survey"]
    for group in GROUPS:
        for sex in SEXES:
            assert survey["labor_income_monthly_mean"][group][sex] == pytest.approx(
                expected_labor_income_monthly(survey, group, sex), abs=0.01)
    assert planted["registry"]["regular_share_target"] == 0.55
    assert survey["no_permit_rate"] == 0.139


def test_command_line_writes_a_scaled_landing(tmp_path, capsys):
    main(["--landing", str(tmp_path / "cli"), "--scale", "0.05", "--seed", "3"])
    assert "demo_truth.json" in capsys.readouterr().out
    written = json.loads((tmp_path / "cli/demo_truth.json").read_text(encoding="utf-8"))
    assert written["sizes"]["enaho_households"] == 200 and written["seed"] == 3
    assert (tmp_path / "cli/registry/migraciones/extract_2024-06.csv").is_file()
    assert written["sizes"]["enaho_waves"] == [2024] and not written["sizes"]["label_valued"]
    main(["--landing", str(tmp_path / "waves"), "--scale", "0.05", "--waves", "2022,2024", "--label-valued"])
    assert (tmp_path / "waves/survey/enaho/2022/enaho01a-2022-500.csv").is_file()
    assert "ocupado" in (tmp_path / "waves/survey/enaho/2024/enaho01a-2024-500.csv").read_text(encoding="utf-8-sig")
    with pytest.raises(ValueError, match="survey year"):
        generate_demo_landing(tmp_path / "no-year", scale=0.05, waves=[2023])
