"""Partner family: R4V reference lists, Proportions.xlsx (PiN and Target), monthly 5W files in the three real
header variants, and partner beneficiary records.

5W rows are all valid against the reference lists (organizations, Peru × admin1, sector–indicator pairs) and
coherent (new = population-type sum = age/sex sum, total ≥ new, CVA rows with value and mechanism); some text is
double-encoded and some months are real Excel dates, as in R4V's real files. The exact consolidated figures
(new beneficiaries of PiN-type rows by month × admin1 × subsector) are returned.
"""

from __future__ import annotations

import datetime as dt
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from ftfy import fix_text

from .geography import ADMIN1_NAMES
from .io_utils import atomic_path, mojibake, month_list, write_csv
from .partners_consolidated import write_consolidated

# (subsector, subsector_es, indicator, indicator_es, indicator_type): real R4V RMRP pairs
INDICATORS = [
    ("Integration", "Integración",
     "# of refugees, migrants & host community members receiving support activities/interventions enabling them "
     "to access or to keep a job",
     "# de personas refugiadas, migrantes y de comunidades acogidas apoyadas para poder acceder a oportunidades de "
     "empleo o para poder mantener su empleo", "PiN"),
    ("Integration", "Integración",
     "# of refugees, migrants & host community members assisted with support for self-employment or "
     "entrepreneurship initiatives (start up or recovery)",
     "# de personas refugiadas, migrantes y de comunidades acogidas alcanzadas con asistencia para iniciativas de "
     "autoempleo o emprendimiento (inicio o recuperación)", "PiN"),
    ("Integration", "Integración",
     "# of persons capacitated to promote the integration of refugees and migrants",
     "# de personas capacitadas para promover la integración de refugiados y migrantes", "Capacity Building"),
    ("Protection (General)", "Protección (General)",
     "# of refugees and migrants who received protection-related assistance and specialized services",
     "# de personas refugiadas y migrantes de Venezuela que recibieron asistencia de protección y servicios "
     "especializados", "PiN"),
    ("Protection (General)", "Protección (General)",
     "# of advocacy interventions made to promote access to the territory, asylum procedures, regularization, "
     "birth registration and nationality",
     "# de intervenciones de incidencia realizadas para promover el acceso al territorio, trámites de asilo, "
     "regularización, inscripción de nacimientos y nacionalidad", "Other"),
    ("Health", "Salud",
     "# of refugees and migrants benefiting from primary health care consultations",
     "# de refugiados y migrantes beneficiados con consultas de atención primaria de salud", "PiN"),
    ("Health", "Salud",
     "# of health personnel and community workers trained",
     "# de personal de salud y trabajadores comunitarios capacitados", "Capacity Building"),
    ("Education", "Educación",
     "# of refugees and migrants enrolled in formal educational institutions or enrolled in an alternative or "
     "non-formal education activities / programs",
     "# de refugiados y migrantes inscritos en instituciones educativas formales o inscritos en actividades / "
     "programas de educación alternativa o no formal", "PiN"),
    ("Food Security", "Seguridad Alimentaria",
     "# of refugees, migrants and members of affected host communities that receive food assistance",
     "# de refugiados, migrantes y miembros de comunidades de acogida afectadas que reciben asistencia alimentaria",
     "PiN"),
    ("WASH", "WASH",
     "# of refugees and migrants and/or host communities provided with safe access to sufficient and safe water "
     "(at least basic water services level, JMP deft)",
     "# de refugiados y migrantes y/o comunidades de acogida con acceso seguro a agua suficiente y segura (al menos "
     "nivel de servicio básico de agua, definición JMP)", "PiN"),
    ("Shelter", "Alojamiento",
     "# of refugees and migrants provided with rent accommodation support as a short-term solution",
     "# de refugiados y migrantes que recibieron apoyo para el alquiler de vivienda como solución a corto plazo",
     "PiN"),
    ("Multipurpose Cash Assistance (MPC)", "Transferencias Monetarias Multipropósito (MPC)",
     "# of individuals benefitting from multipurpose cash transfers (MPC)",
     "# de personas beneficiados de las transferencias monetarias multipropósito (MPC)", "PiN"),
]
INDICATOR_COLUMNS = ["subsector", "subsector_es", "indicator", "indicator_es", "indicator_type"]

ORGANIZATIONS = [  # (name, name_es, role)
    ("United Nations High Commissioner for Refugees (UNHCR)",
     "Alto Comisionado de las Naciones Unidas para los Refugiados (ACNUR)", "appealing"),
    ("International Organization for Migration (IOM)", "Organización Internacional para las Migraciones (OIM)",
     "appealing"),
    ("United Nations Children's Fund (UNICEF)", "Fondo de las Naciones Unidas para la Infancia (UNICEF)", "appealing"),
    ("World Food Programme (WFP)", "Programa Mundial de Alimentos (PMA)", "appealing"),
    ("CARE", "CARE", "appealing"),
    ("HIAS", "HIAS", "appealing"),
    ("Norwegian Refugee Council (NRC)", "Consejo Noruego para los Refugiados (NRC)", "appealing"),
    ("Caritas Peru", "Cáritas del Perú", "implementing"),
    ("Encuentros - Jesuit Service for Solidarity", "Encuentros - Servicio Jesuita de la Solidaridad", "implementing"),
    ("Peruvian Red Cross", "Cruz Roja Peruana", "implementing"),
    ("Union of Venezuelans in Peru", "Unión Venezolana en Perú", "implementing"),
]

ACTIVITIES = {  # Spanish activity names per subsector (written as partners write them)
    "Integration": ["Orientación laboral y acompañamiento para la inserción en el empleo",
                    "Capacitación en emprendimiento y educación financiera",
                    "Asesoría para la convalidación de títulos profesionales"],
    "Protection (General)": ["Orientación social y legal sobre acceso al asilo, procedimientos de regularización "
                             "migratoria y documentación",
                             "Atención y acompañamiento a personas con necesidades específicas de protección"],
    "Health": ["Atención primaria en salud y consultas médicas", "Campaña de vacunación y salud preventiva"],
    "Education": ["Apoyo para la matrícula escolar de niñas, niños y adolescentes",
                  "Entrega de kits escolares y acompañamiento pedagógico"],
    "Food Security": ["Provisión de kits de alimentos", "Entrega de cupones para la compra de alimentos"],
    "WASH": ["Distribución de kits de higiene y gestión de higiene menstrual", "Acceso a agua segura en albergues"],
    "Shelter": ["Apoyo para el pago de alquiler como solución de alojamiento a corto plazo",
                "Alojamiento temporal en albergues"],
    "Multipurpose Cash Assistance (MPC)": ["Transferencias monetarias multipropósito",
                                           "Asistencia en efectivo para necesidades básicas"],
}
CAPACITY_ACTIVITIES = ["Taller de capacitación a funcionarios públicos y personal de salud",
                       "Capacitación a actores locales sobre integración y no discriminación"]
OTHER_ACTIVITIES = ["Reuniones de incidencia con autoridades locales y regionales"]
DELIVERY = {"Bank transfer": "Transferencia bancaria", "Physical cash": "Dinero en efectivo",
            "Vouchers": "Cupones", "Other electronic cash mechanisms": "Otros mecanismos de dinero electrónico"}
ADMIN2 = {"Lima": "Lima", "Callao": "Callao", "La Libertad": "Trujillo", "Arequipa": "Arequipa", "Piura": "Piura",
          "Tumbes": "Tumbes", "Lambayeque": "Chiclayo", "Ica": "Ica", "Tacna": "Tacna", "Cusco": "Cusco"}

# canonical 5W columns (raw.partner_5w_activities) and each real variant's exact headers, in the variant's order
CANONICAL = ["country", "admin1", "admin2", "appealing_org", "implementation", "implementing_partner", "month",
             "subsector", "indicator", "activity_name", "activity_description", "rmrp_activity", "covid19", "cva",
             "value", "delivery_mechanism", "quantity_output", "total_monthly", "new_beneficiaries",
             "in_destination", "in_transit", "host_communities", "pendulars", "returnees", "girls", "boys", "women",
             "men", "other_under", "other_above"]
VARIANTS = {
    "english_short": dict(zip(CANONICAL, [
        "Country", "Admin1", "Admin2", "Appealing_org", "Implementation", "Implementing_partner", "Month",
        "Subsector", "Indicator", "Activity_Name", "Activity_Description", "RMRPActivity", "COVID19", "CVA", "Value",
        "Delivery_mechanism", "Quantity_output", "Total_monthly", "New_beneficiaries", "IN_DESTINATION",
        "IN_TRANSIT", "Host_Communities", "PENDULARS", "Returnees", "Girls", "Boys", "Women", "Men", "Other_under",
        "Other_above"])),
    "english_long": dict(zip(CANONICAL, [
        "Country", "Country Admin1", "Admin2", "Appealing organisation Name", "Implementation Set up",
        "Implementing partner Name", "Month", "Subsector", "Indicator", "Activity Name", "Activity Description",
        "RMRP Activity", "COVID 19 Situation", "CVA", "Value (in USD)", "Delivery mechanism", "Quantity of output",
        "Total monthly beneficiaries", "New beneficiaries of the month", "Refugees and Migrants IN DESTINATION",
        "Refugees and Migrants IN TRANSIT", "Host Communities Beneficiaries", "Refugees and Migrants PENDULARS",
        "Colombian Returnees", "Women under 18", "Men under 18", "Women above 18", "Men above 18", "Other under 18",
        "Other above 18"])),
    "spanish": dict(zip(CANONICAL, [
        "País Country", "País Admin1", "Admin2", "Socio principal Nombre", "Método de implementacion",
        "Socio Implementador Nombre", "Month", "Indicador Sector", "Indicador", "Nombre de la actividad",
        "Descripcion de la actividad", "Actividad RMRP", "COVID19", "CVA", "Valor de transferencia (en USD)",
        "Modalidad de entrega", "Cantidad de productos generados", "Total beneficiarios mensuales",
        "Nuevos beneficiarios del mes", "Refugiados y migrantes EN DESTINO", "Refugiados y migrantes EN TRANSITO",
        "Comunidades de acogida", "Refugiados y migrantes PENDULARES", "Colombianos Retornados",
        "Ninas y Adolescentes menores de 18", "Ninos y Adolescentes menores de 18", "Mujeres adultas",
        "Hombres adultos", "Otro menores de 18", "Otro adultos"])),
}
# the real files' column order (English long and Spanish put COVID before RMRP)
VARIANT_ORDER = {
    "english_short": CANONICAL,
    "english_long": [c for c in CANONICAL[:11]] + ["covid19", "rmrp_activity"] + CANONICAL[13:],
    "spanish": [c for c in CANONICAL[:11]] + ["covid19", "rmrp_activity"] + CANONICAL[13:],
}
VARIANT_CYCLE = ["english_short", "english_long", "spanish"]
POPULATION_TYPES = ["in_destination", "in_transit", "host_communities", "pendulars", "returnees"]
AGE_SEX = ["girls", "boys", "women", "men", "other_under", "other_above"]
NUMBER_COLUMNS = ["value", "quantity_output", "total_monthly", "new_beneficiaries", *POPULATION_TYPES, *AGE_SEX]

PROPORTION_GROUPS = [("Total", ""), ("Dest", "in_destination"), ("Transit", "in_transit"), ("HC", "host_communities"),
                     ("Pendular", "pendulars"), ("Returnees", "returnees")]
ECUADOR_ADMIN1 = {"Pichincha": 0.45, "Guayas": 0.35, "El Oro": 0.20}  # a few rows of another platform


# ----------------------------------------------------------------------------------------------------------------
# reference lists

def write_reference(landing_dir: Path) -> list[Path]:
    folder = landing_dir / "partners" / "reference"
    indicators = folder / "indicators.csv"
    write_csv(pd.DataFrame(INDICATORS, columns=INDICATOR_COLUMNS), indicators)
    organizations = folder / "organizations.csv"
    write_csv(pd.DataFrame(ORGANIZATIONS, columns=["name", "name_es", "role"]), organizations)
    return [indicators, organizations]


def _venezuelan_population_by_admin1() -> dict[str, float]:
    """Refugees and migrants per admin1 (≈1.6M in Peru), shaped like the registry's residence shares."""
    shares = {"Lima": 0.62, "Callao": 0.08, "La Libertad": 0.047, "Arequipa": 0.035, "Piura": 0.026,
              "Lambayeque": 0.024, "Ica": 0.026, "Tumbes": 0.019, "Cusco": 0.013, "Junín": 0.013, "Ancash": 0.016,
              "Tacna": 0.016}
    rest = [a for a in ADMIN1_NAMES if a not in shares]
    remaining = 1 - sum(shares.values())
    shares.update({a: remaining / len(rest) for a in rest})
    return {a: 1_600_000 * shares[a] for a in ADMIN1_NAMES}


def _need_cells(population: float, pin_share: float, host_share: float, transit_share: float) -> dict:
    """PiN cells (population type × girls/boys/women/men), integers."""
    age_sex = np.array([0.15, 0.15, 0.37, 0.33])
    pin = population * pin_share
    dest = pin * (1 - host_share - transit_share)
    return {"in_destination": np.round(dest * age_sex).astype(np.int64),
            "in_transit": np.round(pin * transit_share * age_sex).astype(np.int64),
            "host_communities": np.round(pin * host_share * age_sex).astype(np.int64),
            "pendulars": np.zeros(4, dtype=np.int64), "returnees": np.zeros(4, dtype=np.int64)}


def _need_frame(cfg: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PiN and Target in R4V's layout (totals equal the sums of their parts), Peru plus a few Ecuador rows."""
    rows = []
    places = [("Peru", a, p) for a, p in _venezuelan_population_by_admin1().items()]
    places += [("Ecuador", a, 480_000 * s) for a, s in ECUADOR_ADMIN1.items()]
    subsectors = list(cfg["pin_share_of_population"])
    for country, admin1, population in places:
        transit = 0.04 if admin1 in ("Tumbes", "Tacna", "El Oro") else 0.0
        sector_cells = {s: _need_cells(population, cfg["pin_share_of_population"][s],
                                       cfg["host_community_pin_share"], transit) for s in subsectors}
        sector_cells["Intersector"] = {k: np.max([c[k] for c in sector_cells.values()], axis=0)
                                       for k in sector_cells[subsectors[0]]}
        for subsector, cells in sector_cells.items():
            rows.append((country, admin1, subsector, cells))
    pin = _layout(rows, "PiN", cfg, scale=1.0)
    target = _layout(rows, "Target", cfg, scale=cfg["target_share_of_pin"])
    return pin, target


def _layout(rows: list, measure: str, cfg: dict, scale: float) -> pd.DataFrame:
    """One sheet in the real column order: `<m> <year> Total Girls`, …, `<m> Total Men`, `<m> Total`,
    `<m> Dest GIrls`, …"""
    year = cfg["year"]
    records = []
    for country, admin1, subsector, cells in rows:
        record = {f"{measure} Platform": country, f"{measure} Country": country, f"{measure} Admin1": admin1,
                  "Subsector": subsector}
        parts = {k: np.round(v * scale).astype(np.int64) for k, v in cells.items()}
        total = sum(parts.values())
        groups = {"Total": total, **{label: parts[key] for label, key in PROPORTION_GROUPS[1:]}}
        for label, values in groups.items():
            for i, age_sex in enumerate(_age_sex_words(label)):
                record[_need_header(measure, year, label, age_sex)] = int(values[i])
            record[f"{measure} {label} Total" if label != "Total" else f"{measure} Total"] = int(values.sum())
        if measure == "Target" and country == "Peru":  # the real Target sheet leaves these empty for Peru
            for label in ("Pendular", "Returnees"):
                for key in [k for k in record if k.startswith(f"Target {label} ")]:
                    record[key] = np.nan
        records.append(record)
    return pd.DataFrame(records)


def _age_sex_words(label: str) -> list[str]:
    """The real file writes `GIrls` (sic) for the destination and transit groups only."""
    return ["GIrls" if label in ("Dest", "Transit") else "Girls", "Boys", "Women", "Men"]


def _need_header(measure: str, year: int, label: str, age_sex: str) -> str:
    if label == "Total":
        return f"{measure} {year} Total {age_sex}" if age_sex != "Men" else f"{measure} Total Men"
    return f"{measure} {label} {age_sex}"


def _proportions(sheet: pd.DataFrame, measure: str, year: int) -> pd.DataFrame:
    """R4V's `pinproportions` / `targetproportions` sheets: each age/sex cell over its population type's total."""
    out = pd.DataFrame({"Country": sheet[f"{measure} Country"], "Admin1": sheet[f"{measure} Admin1"],
                        "Subsector": sheet["Subsector"]})
    for label, _ in PROPORTION_GROUPS:
        total = sheet[f"{measure} Total" if label == "Total" else f"{measure} {label} Total"].astype(float)
        for age_sex in _age_sex_words(label):
            column = _need_header(measure, year, label, age_sex)
            name = (f"{year}_Total_{age_sex}" if age_sex != "Men" else "Total_Men") if label == "Total" \
                else f"{label}_{age_sex}"
            out[name] = (sheet[column].astype(float) / total.where(total > 0)).round(2).fillna(0.0)
    return out


def write_proportions(cfg: dict, landing_dir: Path) -> tuple[Path, dict]:
    pin, target = _need_frame(cfg)
    path = landing_dir / "partners" / "reference" / "Proportions.xlsx"
    year = cfg["year"]
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            pin.to_excel(writer, sheet_name=f"PiN {year}", index=False)
            _proportions(pin, "PiN", year).to_excel(writer, sheet_name="pinproportions", index=False)
            target.to_excel(writer, sheet_name="Target", index=False)
            _proportions(target, "Target", year).to_excel(writer, sheet_name="targetproportions", index=False)
    peru = pin[pin["PiN Country"] == "Peru"]
    peru_target = target[target["Target Country"] == "Peru"]
    figures = {"pin_total": {s: int(v) for s, v in peru.groupby("Subsector")["PiN Total"].sum().items()},
               "target_total": {s: int(v) for s, v in peru_target.groupby("Subsector")["Target Total"].sum().items()},
               "rows": {"PiN": len(pin), "Target": len(target)}}
    return path, figures


# ----------------------------------------------------------------------------------------------------------------
# 5W monthly files

def _fivew_rows(rng: np.random.Generator, n: int, month: str, cfg: dict) -> pd.DataFrame:
    """`n` valid 5W rows of one month, canonical (English) values plus the indicator type."""
    indicators = pd.DataFrame(INDICATORS, columns=INDICATOR_COLUMNS)
    pin_idx = np.flatnonzero(indicators["indicator_type"] == "PiN")
    other_idx = np.flatnonzero(indicators["indicator_type"] != "PiN")
    is_pin = rng.random(n) < cfg["pin_indicator_share"]
    pick = np.where(is_pin, rng.choice(pin_idx, size=n), rng.choice(other_idx, size=n))
    rows = indicators.iloc[pick].reset_index(drop=True)
    appealing = [o[0] for o in ORGANIZATIONS if o[2] == "appealing"]
    implementing = [o[0] for o in ORGANIZATIONS if o[2] == "implementing"]
    weights = np.array([cfg["admin1_weights"].get(a, 0.005) for a in ADMIN1_NAMES])
    admin1 = np.array(ADMIN1_NAMES, dtype=object)[rng.choice(len(ADMIN1_NAMES), size=n, p=weights / weights.sum())]
    with_admin2 = rng.random(n) < 0.05
    implemented = rng.random(n) < cfg["implementation_yes_share"]
    frame = pd.DataFrame({
        "country": cfg["country"], "admin1": admin1,
        "admin2": [ADMIN2.get(a) if flag else None for a, flag in zip(admin1, with_admin2)],
        "appealing_org": rng.choice(appealing, size=n),
        "implementation": np.where(implemented, "Yes", "No"),
        "implementing_partner": np.where(implemented, rng.choice(implementing, size=n), None),
        "month": month, "subsector": rows["subsector"], "indicator": rows["indicator"],
        "indicator_type": rows["indicator_type"],
        "rmrp_activity": np.where(rng.random(n) < 0.9, "Yes", "No"),
        "covid19": np.where(rng.random(n) < 0.03, "Yes", "No")})
    frame = _activities(rng, frame, cfg)
    frame = _cash(rng, frame, cfg)
    return _counts(rng, frame, cfg)


def _activities(rng: np.random.Generator, frame: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    n = len(frame)
    names = np.empty(n, dtype=object)
    for i, (subsector, kind) in enumerate(zip(frame["subsector"], frame["indicator_type"])):
        pool = ACTIVITIES[subsector] if kind == "PiN" else (CAPACITY_ACTIVITIES if kind == "Capacity Building"
                                                               else OTHER_ACTIVITIES)
        names[i] = pool[int(rng.integers(0, len(pool)))]
    description = np.array([f"{a} dirigida a población refugiada, migrante y de acogida en {b}"
                            for a, b in zip(names, frame["admin1"])], dtype=object)
    broken = rng.random(n) < cfg["mojibake_share"]
    frame["activity_name"] = [mojibake(t) if b else t for t, b in zip(names, broken)]
    frame["activity_description"] = [None if e else (mojibake(t) if b else t)
                                     for t, b, e in zip(description, broken, rng.random(n) < 0.1)]
    return frame


def _cash(rng: np.random.Generator, frame: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """CVA: always for MPC, sometimes for Food Security / Shelter; Value (USD) and mechanism only when Yes."""
    n = len(frame)
    mpc = frame["subsector"].str.startswith("Multipurpose").to_numpy()
    eligible = (frame["subsector"].isin(["Food Security", "Shelter"]) & (frame["indicator_type"] == "PiN")).to_numpy()
    cva = mpc | (eligible & (rng.random(n) < cfg["cva_share"]))
    frame["cva"] = np.where(cva, "Yes", "No")
    frame["value"] = np.where(cva, rng.integers(20, 251, size=n) * 5, np.nan)
    frame["delivery_mechanism"] = np.where(cva, rng.choice(list(DELIVERY), size=n), None)
    return frame


def _counts(rng: np.random.Generator, frame: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """PiN rows: new beneficiaries split by population type and age/sex; others: total or quantity only."""
    n = len(frame)
    kind = frame["indicator_type"].to_numpy()
    pin = kind == "PiN"
    mean = cfg["new_beneficiaries_mean"]
    new = 1 + rng.poisson(rng.gamma(2.0, (mean - 1) / 2.0, size=n))
    population = rng.multinomial(new, cfg["population_type_probs"])
    age_sex = rng.multinomial(new, cfg["age_sex_probs"])
    total = new + rng.poisson(new * 0.6)
    trained = rng.integers(5, 61, size=n)
    frame["quantity_output"] = np.where(kind == "Other", rng.integers(1, 11, size=n), np.nan)
    frame["total_monthly"] = np.where(pin, total, np.where(kind == "Capacity Building", trained, np.nan))
    frame["new_beneficiaries"] = np.where(pin, new, np.nan)
    for j, column in enumerate(POPULATION_TYPES):
        frame[column] = np.where(pin, population[:, j], np.nan)
    for j, column in enumerate(AGE_SEX):
        frame[column] = np.where(pin, age_sex[:, j], np.nan)
    return frame


def _as_variant(frame: pd.DataFrame, variant: str, excel_dates: np.ndarray | None) -> pd.DataFrame:
    """The rows under a variant's exact headers and column order (Spanish: names and yes/no in Spanish)."""
    out = frame[CANONICAL].copy()
    for column in NUMBER_COLUMNS:  # whole numbers, empty where not reported
        out[column] = out[column].astype("Int64")
    if variant == "spanish":
        indicators = pd.DataFrame(INDICATORS, columns=INDICATOR_COLUMNS)
        out["subsector"] = out["subsector"].map(dict(zip(indicators["subsector"], indicators["subsector_es"])))
        out["indicator"] = out["indicator"].map(dict(zip(indicators["indicator"], indicators["indicator_es"])))
        names_es = {o[0]: o[1] for o in ORGANIZATIONS}
        out["appealing_org"] = out["appealing_org"].map(names_es)
        out["implementing_partner"] = out["implementing_partner"].map(names_es)
        for column in ("implementation", "rmrp_activity", "covid19", "cva"):
            out[column] = out[column].map({"Yes": "Si", "No": "No"})
        out["delivery_mechanism"] = out["delivery_mechanism"].map(DELIVERY)
    if excel_dates is not None:
        first = dt.datetime.strptime(frame["month"].iloc[0] + "-01", "%Y-%m-%d")
        out["month"] = np.where(excel_dates, first, out["month"]).astype(object)
    out = out[VARIANT_ORDER[variant]]
    return out.rename(columns=VARIANTS[variant])


def _write_fivew_file(frame: pd.DataFrame, variant: str, month: str, folder: Path, year: int) -> Path:
    if variant == "english_short":
        path = folder / f"Activities_5W_{month}.xlsx"
        with atomic_path(path) as tmp:
            frame.to_excel(tmp, sheet_name="Sheet1", index=False, engine="openpyxl")
    elif variant == "english_long":
        path = folder / f"Translated5W_{month}.csv"
        write_csv(frame, path)
    else:
        path = folder / f"RMRP{year}ActivitiesSP_{month}.xlsx"
        with atomic_path(path) as tmp:
            frame.to_excel(tmp, sheet_name=f"5W - RMRP {year} - Español", index=False, engine="openpyxl")
    return path


# One planted defect per 5W row rule: (rule, which valid row it starts from, what is changed). Each broken row is a
# copy of a valid row appended to the month's file, changed so that exactly this one rule breaks; the truth's new
# beneficiaries stay those of the valid rows. Values are in the file's own language (after the variant mapping).
FIVEW_DEFECTS = [
    "missingcountry", "countryadmincheck", "admin1and2check", "miss_appeal_org", "miss_setup",
    "miss_implementing_org", "miss_month", "missing_what", "wrongsectindicator", "zeroCVA", "missingmechanism",
    "CVANotoYes", "MultipurposeSector", "PiNNoBenef", "NewBenefvstotal", "PopTypeBreakdown", "AGDBreakdown",
    "CBuildingNoBenef", "NoOutput", "non_numeric_count", "negative_count", "month_format", "month_in_future",
    "yes_no_value", "duplicate_row",
]


def _defect_source(rule: str, pool: pd.DataFrame) -> pd.Series:
    """A valid (canonical) row the defect of `rule` can be planted on."""
    kind, subsector, cva = pool["indicator_type"], pool["subsector"], pool["cva"]
    mpc = subsector.str.startswith("Multipurpose")
    wanted = {
        "countryadmincheck": pool["admin2"].isna(),
        "admin1and2check": pool["admin1"].isin([a for a in ADMIN2 if a != "Callao"]) & pool["admin2"].isna(),
        "miss_implementing_org": pool["implementation"] == "Yes",
        "zeroCVA": cva == "Yes", "missingmechanism": cva == "Yes",
        "CVANotoYes": (cva == "No") & ~mpc, "MultipurposeSector": mpc,
        "PiNNoBenef": kind == "PiN", "NewBenefvstotal": (kind == "PiN") & (pool["new_beneficiaries"] >= 2),
        "PopTypeBreakdown": kind == "PiN", "AGDBreakdown": kind == "PiN",
        "CBuildingNoBenef": kind == "Capacity Building",
        "NoOutput": kind == "Other", "non_numeric_count": kind == "Other", "negative_count": kind == "Other",
        "wrongsectindicator": kind == "PiN",
    }.get(rule, pd.Series(True, index=pool.index))
    return pool[wanted].iloc[0]


def _break(rule: str, row: dict, headers: dict[str, str], variant: str, valid: pd.DataFrame) -> dict:
    """`row` (variant headers) changed so that it breaks `rule` only."""
    h = headers
    spanish = variant == "spanish"
    if rule == "missingcountry":
        row[h["country"]] = None
    elif rule == "countryadmincheck":
        row[h["admin1"]] = "Atlantis"
    elif rule == "admin1and2check":
        row[h["admin2"]] = "Callao"  # Callao is not a province of any other admin1
    elif rule == "miss_appeal_org":
        row[h["appealing_org"]] = "Organización Desconocida"
    elif rule == "miss_setup":
        row[h["implementation"]] = None
        row[h["implementing_partner"]] = None
    elif rule == "miss_implementing_org":
        row[h["implementing_partner"]] = None
    elif rule == "miss_month":
        row[h["month"]] = None
    elif rule == "missing_what":
        row[h["activity_name"]] = None
    elif rule == "wrongsectindicator":  # an indicator of another subsector
        other = valid[valid[h["subsector"]] != row[h["subsector"]]][h["indicator"]].iloc[0]
        row[h["indicator"]] = other
    elif rule == "zeroCVA":
        row[h["value"]] = 0
    elif rule == "missingmechanism":
        row[h["delivery_mechanism"]] = None
    elif rule == "CVANotoYes":
        row[h["delivery_mechanism"]] = DELIVERY["Vouchers"] if spanish else "Vouchers"
    elif rule == "MultipurposeSector":
        row[h["cva"]], row[h["value"]], row[h["delivery_mechanism"]] = "No", None, None
    elif rule == "PiNNoBenef":
        row[h["total_monthly"]] = None
    elif rule == "NewBenefvstotal":
        row[h["total_monthly"]] = int(row[h["new_beneficiaries"]]) - 1
    elif rule == "PopTypeBreakdown":
        row[h["in_destination"]] = int(row[h["in_destination"]]) + 1
    elif rule == "AGDBreakdown":
        row[h["women"]] = int(row[h["women"]]) + 1
    elif rule == "CBuildingNoBenef":
        row[h["total_monthly"]] = None
    elif rule == "NoOutput":
        row[h["quantity_output"]] = None
    elif rule == "non_numeric_count":
        row[h["in_transit"]] = "n/a"
    elif rule == "negative_count":
        row[h["in_transit"]] = -3
    elif rule == "month_format":
        row[h["month"]] = "marzo"
    elif rule == "month_in_future":
        row[h["month"]] = "2099-01"
    elif rule == "yes_no_value":
        row[h["rmrp_activity"]] = "Maybe"
    # duplicate_row: the copy itself
    return row


def plant_fivew_defects(cfg: dict, month: str, variant: str, valid: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The month's file rows (variant headers) with one broken row per rule appended, and {rule: rows}.

    A generator of its own (seeded by the month) picks the rows to copy, so the valid rows — and every figure the
    truth holds for them — are the same with or without defects."""
    rng = np.random.default_rng(zlib.crc32(f"fivew-defects-{month}".encode()))
    pool = _fivew_rows(rng, 400, month, cfg)
    headers = VARIANTS[variant]
    planted = []
    for rule in FIVEW_DEFECTS:
        if rule == "duplicate_row":
            planted.append(valid.iloc[len(valid) // 2].to_dict())
            continue
        source = _defect_source(rule, pool)
        row = _as_variant(source.to_frame().T.reset_index(drop=True).infer_objects(), variant, None).iloc[0]
        planted.append(_break(rule, row.astype(object).where(row.notna(), None).to_dict(), headers, variant, valid))
    broken = pd.DataFrame(planted, columns=valid.columns, dtype=object)  # whole numbers stay whole
    rows = pd.concat([valid.astype(object), broken.astype(object)], ignore_index=True)
    return rows, {rule: 1 for rule in FIVEW_DEFECTS}


def _without_chance_repeats(rows: pd.DataFrame) -> pd.DataFrame:
    """Random rows can repeat an earlier row value for value (a few hundred in 50,000); the warehouse sets such a
    repeat aside (`duplicate_row`), so the valid rows, which the truth is computed from, are kept unique. Text is
    compared as repaired: a double-encoded copy of a row is the same row."""
    def repaired(column: pd.Series) -> pd.Series:
        texts = {v: fix_text(v) for v in column.dropna().unique() if isinstance(v, str)}  # each distinct text once
        return column.map(lambda v: texts.get(v, v) if isinstance(v, str) else v)

    key = rows[CANONICAL].astype(object).apply(repaired)
    return rows[~key.duplicated()].reset_index(drop=True)


def write_fivew(rng: np.random.Generator, cfg: dict, months: list[str], rows_per_month: int,
                landing_dir: Path) -> tuple[dict, list[Path]]:
    """One file per month, cycling the header variants; returns exact new beneficiaries of PiN-type rows."""
    paths: list[Path] = []
    new_beneficiaries: dict = {}
    consolidation: dict = {}
    rows_per_file: dict = {}
    quarantined: dict = {}  # file → rule → rows set aside (planted defects)
    for i, month in enumerate(months):
        variant = VARIANT_CYCLE[i % len(VARIANT_CYCLE)]
        rows = _without_chance_repeats(_fivew_rows(rng, max(1, int(rng.poisson(rows_per_month))), month, cfg))
        n = len(rows)
        excel_dates = rng.random(n) < cfg["excel_date_month_share"] if variant == "english_short" else None
        folder = landing_dir / "partners" / "5w" / month
        sent = _as_variant(rows, variant, excel_dates)
        defects: dict = {}
        if cfg.get("fivew_defects", {}).get("plant", False):
            sent, defects = plant_fivew_defects(cfg, month, variant, sent)
        path = _write_fivew_file(sent, variant, month, folder, cfg["year"])
        paths.append(path)
        rows_per_file[month] = {"file": path.name, "variant": variant, "rows": n,
                                "excel_date_months": int(excel_dates.sum()) if excel_dates is not None else 0}
        if defects:
            quarantined[f"partners/5w/{month}/{path.name}"] = defects
        pin = rows[rows["indicator_type"] == "PiN"]
        sums = pin.groupby(["admin1", "subsector"])["new_beneficiaries"].sum()
        by_admin1: dict = {}
        for (admin1, subsector), value in sums.items():
            by_admin1.setdefault(admin1, {})[subsector] = int(value)
        new_beneficiaries[month] = by_admin1
        # R4V's sector consolidation: PiN-type RMRP rows, every count column, CVA new beneficiaries
        consolidated = pin[pin["rmrp_activity"] == "Yes"].assign(
            new_cva=lambda f: f["new_beneficiaries"].where(f["cva"] == "Yes", 0),
            total_cva=lambda f: f["total_monthly"].where(f["cva"] == "Yes", 0))
        sums = consolidated.groupby(["admin1", "subsector"])[
            ["total_monthly", "total_cva", "new_beneficiaries", *POPULATION_TYPES, *AGE_SEX, "new_cva"]].sum()
        consolidation[month] = {f"{a}|{s}": {k: int(v) for k, v in r.items()} for (a, s), r in sums.iterrows()}
    return {"new_beneficiaries": new_beneficiaries, "consolidation": consolidation, "files": rows_per_file,
            "fivew_quarantined": quarantined}, paths


# ----------------------------------------------------------------------------------------------------------------
# beneficiary records

BENEFICIARY_ORGS = [("care", "CAR"), ("hias", "HIA"), ("encuentros-sjs", "ENC"), ("caritas-del-peru", "CRT"),
                    ("cruz-roja-peruana", "CRP")]
BENEFICIARY_COLUMNS = ["beneficiary_id", "program", "enrolled_on", "completed_on", "sex", "birth_year",
                       "nationality", "admin1", "single_parent", "lgbtiq", "disability", "outcome", "outcome_on",
                       "monthly_income_pen"]
OUTCOMES = ["employed_formal", "employed_informal", "self_employed", "not_employed"]
PLACEMENTS = OUTCOMES[:3]
INCOME_MEANS = {"employed_formal": 1650.0, "employed_informal": 1050.0, "self_employed": 1200.0}
OUTCOME_WINDOWS = (3, 6)  # months after enrollment (program_outcomes)


def _participants(rng: np.random.Generator, n: int, cfg: dict, admin1_weights: dict) -> pd.DataFrame:
    """People (the attributes that do not change between programs)."""
    weights = np.array([admin1_weights.get(a, 0.005) for a in ADMIN1_NAMES])
    lgbtiq = np.where(rng.random(n) < cfg["lgbtiq_share"], "true", "false").astype(object)
    lgbtiq[rng.random(n) < cfg["lgbtiq_unknown_share"]] = ""
    return pd.DataFrame({
        "sex": np.where(rng.random(n) < cfg["female_share"], "F", "M"),
        "birth_year": rng.integers(1962, 2007, size=n),
        "nationality": rng.choice(["VEN", "PER", "COL"], size=n, p=[0.90, 0.07, 0.03]),
        "admin1": np.array(ADMIN1_NAMES)[rng.choice(len(ADMIN1_NAMES), size=n, p=weights / weights.sum())],
        "single_parent": np.where(rng.random(n) < cfg["single_parent_share"], "true", "false"),
        "lgbtiq": lgbtiq,
        "disability": np.where(rng.random(n) < cfg["disability_share"], "true", "false")})


def _day_in_month(rng: np.random.Generator, month: np.ndarray) -> np.ndarray:
    """A uniformly drawn day of each month (numpy datetime64[M] → datetime64[D])."""
    start = month.astype("datetime64[D]")
    length = ((month + 1).astype("datetime64[D]") - start).astype(np.int64)
    return start + (rng.random(month.size) * length).astype("timedelta64[D]")


def _enrollments(rng: np.random.Generator, people: pd.DataFrame, months: list[str], cfg: dict) -> pd.DataFrame:
    """Each person's program, enrollment, completion (or drop-out) and, for completers, the outcome the partner
    records at follow-up. Month indexes count from the first file (negative: enrolled before it). `last` is the
    person's last reported month: the outcome month for completers, the completion/drop-out month otherwise.
    Everything after the last file (index ≥ len(months)) is drawn but not written: the data are censored there."""
    n = len(people)
    cohort = rng.integers(-cfg["enrolled_months_before_first_file"], len(months), size=n)
    duration = 1 + rng.choice(len(cfg["program_months_probs"]), size=n, p=_normalized(cfg["program_months_probs"]))
    completes = rng.random(n) < cfg["completion_rate"]
    end = cohort + duration - 1
    followup = rng.choice(len(cfg["followup_months_probs"]), size=n, p=_normalized(cfg["followup_months_probs"]))
    outcome_month = end + followup
    last = np.where(completes, outcome_month, end)
    keep = last >= 0  # people whose last report falls before the first file never appear
    people = people[keep].reset_index(drop=True)
    cohort, end, completes, outcome_month, last = (a[keep] for a in (cohort, end, completes, outcome_month, last))
    n = len(people)
    first = np.datetime64(months[0], "M")
    enrolled = _day_in_month(rng, first + cohort.astype("timedelta64[M]"))
    completed_day = np.maximum(_day_in_month(rng, first + end.astype("timedelta64[M]")), enrolled)
    outcome_start = (first + outcome_month.astype("timedelta64[M]"))
    month_end_day = (outcome_start + 1).astype("datetime64[D]") - 1
    same_month = outcome_month == end
    outcome_day = np.where(same_month, np.minimum(completed_day + rng.integers(0, 20, size=n), month_end_day),
                           _day_in_month(rng, outcome_start))
    programs = list(cfg["program_mix"])
    program = np.array(programs)[rng.choice(len(programs), size=n, p=_normalized(cfg["program_mix"]))]
    outcome = np.empty(n, dtype=object)
    for name in programs:
        mask = program == name
        outcome[mask] = np.array(OUTCOMES)[rng.choice(4, size=mask.sum(), p=_normalized(cfg["outcomes"][name]))]
    income = np.array([INCOME_MEANS.get(o, np.nan) for o in outcome]) * rng.lognormal(-0.045, 0.3, size=n)
    return people.assign(program=program, cohort=cohort, end=end, last=last, completes=completes,
                         outcome_month=np.where(completes, outcome_month, -10**6),
                         enrolled_on=enrolled.astype(str),
                         completed_on=np.where(completes, completed_day.astype(str), ""),
                         outcome=np.where(completes, outcome, ""),
                         outcome_on=np.where(completes, outcome_day.astype(str), ""),
                         monthly_income_pen=np.where(completes & ~np.isnan(income), np.round(income, 0), np.nan))


def _normalized(values) -> np.ndarray:
    arr = np.array(list(values.values()) if isinstance(values, dict) else values, dtype=float)
    return arr / arr.sum()


def _monthly_rows(enrolled: pd.DataFrame, months: list[str]) -> dict[str, pd.DataFrame]:
    """One row per participant per month from enrollment to their last report (or the last file): completed_on from
    the completion month on, outcome (and income) only in the month it is recorded."""
    k = len(months)
    first = np.maximum(enrolled["cohort"].to_numpy(), 0)
    last = np.minimum(enrolled["last"].to_numpy(), k - 1)
    counts = np.clip(last - first + 1, 0, None)
    idx = np.repeat(np.arange(len(enrolled)), counts)
    month_idx = np.repeat(first, counts) + (np.arange(idx.size) - np.repeat(np.cumsum(counts) - counts, counts))
    rows = enrolled.iloc[idx].reset_index(drop=True)
    completed = month_idx >= rows["end"].to_numpy()
    rows["completed_on"] = np.where(completed, rows["completed_on"], "")
    recorded = month_idx == rows["outcome_month"].to_numpy()
    for column in ("outcome", "outcome_on"):
        rows[column] = np.where(recorded, rows[column], "")
    rows["monthly_income_pen"] = np.where(recorded, rows["monthly_income_pen"], np.nan)
    return {month: rows[month_idx == i] for i, month in enumerate(months)}


def _as_seen(enrolled: pd.DataFrame, slug: str, months: list[str]) -> pd.DataFrame:
    """Each enrollment as the warehouse can know it from the files: completion and outcome only when they fall in a
    written month (later ones are censored)."""
    k = len(months)
    completed = enrolled["completes"].to_numpy() & (enrolled["end"].to_numpy() <= k - 1)
    recorded = enrolled["completes"].to_numpy() & (enrolled["outcome_month"].to_numpy() <= k - 1)
    yes_no = {"true": "yes", "false": "no", "": "unknown"}
    return pd.DataFrame({
        "organization": slug,
        "beneficiary_id": enrolled["beneficiary_id"].to_numpy(),
        "program": enrolled["program"].to_numpy(),
        "sex": enrolled["sex"].map({"F": "female", "M": "male"}).to_numpy(),
        "single_parent": enrolled["single_parent"].map(yes_no).to_numpy(),
        "lgbtiq": enrolled["lgbtiq"].map(yes_no).to_numpy(),
        "disability": enrolled["disability"].map(yes_no).to_numpy(),
        "enrolled_on": pd.to_datetime(enrolled["enrolled_on"]).to_numpy(),
        "completed_on": pd.to_datetime(enrolled["completed_on"].where(completed, None)).to_numpy(),
        "outcome": enrolled["outcome"].where(recorded, "").to_numpy(),
        "outcome_on": pd.to_datetime(enrolled["outcome_on"].where(recorded, None)).to_numpy()})


def _outcome_truth(seen: pd.DataFrame, months: list[str]) -> dict:
    """program_outcomes' truth. A person enrolled in a program with several organizations counts once: the earliest
    enrollment wins (ties: the organization whose name sorts first) and its completion and outcome are the person's.
    Within N months: date ≤ enrolled_on + N calendar months. Only enrollments whose whole window ends by the last
    day of the last file count (the others cannot be judged yet). Cells: program|sex|single_parent|lgbtiq|disability
    → participants, completed, employed_formal, employed_informal, self_employed (within the window)."""
    first = seen.sort_values(["beneficiary_id", "program", "enrolled_on", "organization"])
    first = first.drop_duplicates(["beneficiary_id", "program"], keep="first")
    data_end = (pd.Period(months[-1], "M") + 1).start_time - pd.Timedelta(days=1)
    truth: dict = {"participants": int(len(first)), "data_through": str(data_end.date()), "windows": {}}
    for window in OUTCOME_WINDOWS:
        limit = first["enrolled_on"] + pd.DateOffset(months=window)
        cohort = first[limit <= data_end].assign(limit=limit)
        within = cohort["outcome_on"].notna() & (cohort["outcome_on"] <= cohort["limit"])
        measures = pd.DataFrame({
            "participants": 1,
            "completed": (cohort["completed_on"].notna() & (cohort["completed_on"] <= cohort["limit"])).astype(int),
            **{p: (within & (cohort["outcome"] == p)).astype(int) for p in PLACEMENTS}})
        keys = cohort["program"] + "|" + cohort["sex"] + "|" + cohort["single_parent"] + "|" + cohort["lgbtiq"] \
            + "|" + cohort["disability"]
        sums = measures.groupby(keys.to_numpy()).sum()
        truth["windows"][str(window)] = {key: {m: int(v) for m, v in row.items()} for key, row in sums.iterrows()}
    return truth


def _overlap_truth(seen: pd.DataFrame) -> dict:
    """program_participant_overlap's truth: per pair of organizations (names sorted), the people enrolled with both
    (any program) and those enrolled with both in the same program."""
    ids = {org: set(g["beneficiary_id"]) for org, g in seen.groupby("organization")}
    pairs_of = {org: set(zip(g["beneficiary_id"], g["program"])) for org, g in seen.groupby("organization")}
    orgs = sorted(ids)
    return {f"{a}|{b}": {"people": len(ids[a] & ids[b]),
                         "people_same_program": len({i for i, _ in pairs_of[a] & pairs_of[b]})}
            for i, a in enumerate(orgs) for b in orgs[i + 1:]}


def write_beneficiaries(rng: np.random.Generator, cfg: dict, sizes: dict, months: list[str],
                        landing_dir: Path) -> tuple[dict, list[Path]]:
    """Per organization and month; a share of each organization's people reuse another's ids (referrals)."""
    bcfg = cfg["beneficiaries"]
    records = sizes["beneficiary_records_per_file"]
    paths: list[Path] = []
    realized: dict = {"records": {}, "outcomes": {}}
    previous: pd.DataFrame | None = None
    seen: list[pd.DataFrame] = []
    for slug, prefix in BENEFICIARY_ORGS[: sizes["beneficiary_organizations"]]:
        # ≈ `records` rows per file: cohorts spread over k + lookback months, ~4 drawn people per row of a file (the
        # early cohorts mostly end before the first file)
        n_people = int(records * (len(months) + bcfg["enrolled_months_before_first_file"]) / 4)
        people = _participants(rng, n_people, bcfg, cfg["admin1_weights"])
        people.insert(0, "beneficiary_id", [f"{prefix}-{i:06d}" for i in rng.permutation(n_people) + 1])
        if previous is not None:
            shared = rng.random(n_people) < bcfg["overlap_share"]
            donors = previous.sample(n=int(shared.sum()), random_state=rng.integers(2**31), replace=False)
            for column in people.columns:
                people.loc[shared, column] = donors[column].to_numpy()
        enrolled = _enrollments(rng, people, months, bcfg)
        previous = people
        seen.append(_as_seen(enrolled, slug, months))
        for month, rows in _monthly_rows(enrolled, months).items():
            path = landing_dir / "partners" / "beneficiaries" / slug / f"{month}.csv"
            write_csv(rows[BENEFICIARY_COLUMNS].astype({"monthly_income_pen": "Float64"}), path)
            paths.append(path)
            realized["records"].setdefault(slug, {})[month] = int(len(rows))
        recorded = seen[-1][seen[-1]["outcome"] != ""]
        realized["outcomes"][slug] = {p: {o: int(c) for o, c in g["outcome"].value_counts().sort_index().items()}
                                      for p, g in recorded.groupby("program")}
    every = pd.concat(seen, ignore_index=True)
    per_person = every.groupby("beneficiary_id")["organization"].nunique()
    realized["ids_in_two_or_more_organizations"] = int((per_person >= 2).sum())
    per_program = every.groupby(["beneficiary_id", "program"])["organization"].nunique()
    realized["ids_in_same_program_with_two_or_more_organizations"] = int(
        per_program[per_program >= 2].index.get_level_values("beneficiary_id").nunique())
    realized["organization_pairs"] = _overlap_truth(every)
    realized["program_outcomes"] = _outcome_truth(every, months)
    return realized, paths


# ----------------------------------------------------------------------------------------------------------------

def generate_partners(rng: np.random.Generator, rng_beneficiaries: np.random.Generator, truth: dict, sizes: dict,
                      landing_dir: Path) -> tuple[dict, list[Path]]:
    cfg = {**truth["partners"], "year": truth["year"]}
    paths = write_reference(landing_dir)
    proportions_path, need = write_proportions(cfg, landing_dir)
    paths.append(proportions_path)
    fivew, fivew_paths = write_fivew(rng, cfg, month_list(truth["first_month"], sizes["fivew_months"]),
                                     sizes["fivew_rows_per_month"], landing_dir)
    beneficiaries, beneficiary_paths = write_beneficiaries(
        rng_beneficiaries, cfg, sizes, month_list(truth["first_month"], sizes["beneficiary_months"]), landing_dir)
    realized = {**fivew, "need": need, "beneficiaries": beneficiaries,
                "valid_pairs": len(INDICATORS), "organizations": len(ORGANIZATIONS)}
    realized["consolidated"] = write_consolidated(rng.spawn(1)[0], truth, sizes, landing_dir, written=paths)
    return realized, paths + fivew_paths + beneficiary_paths
