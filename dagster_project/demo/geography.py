"""Peru's departments as the demo data uses them: INEI codes, R4V admin1 names, populations, district codes.

Only real, valid INEI ubigeo codes are listed (district codes seen in the real ENAHOPV 2024 file, department
capitals `XX0101` and a few other district capitals). Populations are rounded 2024 projections (thousands).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LIMA_METRO_DISTRICTS = [f"1501{i:02d}" for i in range(1, 44) if i not in (38, 39)]


@dataclass(frozen=True)
class Department:
    code: str            # INEI department code, first two digits of every ubigeo in it
    admin1: str          # the name R4V writes (Proportions.xlsx, 5W Admin1)
    name: str            # INEI's official name (accents: Áncash, Apurímac, San Martín)
    population_k: int    # residents, thousands (2024, rounded)
    dominio: int         # ENAHO `dominio` (1 costa norte … 7 selva, 8 Lima Metropolitana)
    districts: tuple[str, ...]


DEPARTMENTS: tuple[Department, ...] = (
    Department("01", "Amazonas", "Amazonas", 435, 7, ("010101", "010201", "010301")),
    Department("02", "Ancash", "Áncash", 1200, 2, ("021801", "021803", "021809", "020101")),
    Department("03", "Apurimac", "Apurímac", 430, 6, ("030101", "030201")),
    Department("04", "Arequipa", "Arequipa", 1520, 6, ("040101", "040102", "040103", "040104", "040109", "040110",
                                                        "040112", "040117", "040122", "040123", "040126", "040129")),
    Department("05", "Ayacucho", "Ayacucho", 670, 5, ("050101", "050201")),
    Department("06", "Cajamarca", "Cajamarca", 1470, 4, ("060101", "060201")),
    Department("07", "Callao", "Callao", 1150, 8, ("070101", "070102", "070103", "070104", "070106")),
    Department("08", "Cusco", "Cusco", 1380, 6, ("080101", "080104", "080105", "080108")),
    Department("09", "Huancavelica", "Huancavelica", 370, 5, ("090101", "090201")),
    Department("10", "Huánuco", "Huánuco", 770, 5, ("100101", "100201")),
    Department("11", "Ica", "Ica", 990, 2, ("110101", "110102", "110106")),
    Department("12", "Junín", "Junín", 1380, 5, ("120101", "120114", "120201")),
    Department("13", "La Libertad", "La Libertad", 2050, 1, ("130101", "130102", "130103", "130105", "130111")),
    Department("14", "Lambayeque", "Lambayeque", 1340, 1, ("140101", "140105", "140106")),
    Department("15", "Lima", "Lima", 11000, 8, tuple(LIMA_METRO_DISTRICTS) + ("150201", "150501", "150801")),
    Department("16", "Loreto", "Loreto", 1050, 7, ("160101", "160201")),
    Department("17", "Madre de Dios", "Madre de Dios", 180, 7, ("170101", "170201")),
    Department("18", "Moquegua", "Moquegua", 195, 3, ("180101", "180301")),
    Department("19", "Pasco", "Pasco", 275, 5, ("190101", "190201")),
    Department("20", "Piura", "Piura", 2100, 1, ("200101", "200104", "200115")),
    Department("21", "Puno", "Puno", 1240, 6, ("210101", "211101")),
    Department("22", "San Martin", "San Martín", 925, 7, ("220101", "220901")),
    Department("23", "Tacna", "Tacna", 375, 3, ("230101", "230110")),
    Department("24", "Tumbes", "Tumbes", 260, 1, ("240101",)),
    Department("25", "Ucayali", "Ucayali", 600, 7, ("250101", "250105")),
)

DEPARTMENT_BY_CODE = {d.code: d for d in DEPARTMENTS}
ADMIN1_NAMES = [d.admin1 for d in DEPARTMENTS]

# The 8 cities of ENAHOPV 2024 (Lima Metropolitana and Callao are one city) and the share of the Venezuelan
# population living in each (weights are calibrated to these).
ENAHOPV_CITIES: dict[str, tuple[tuple[str, ...], float]] = {
    "Lima y Callao": (("15", "07"), 0.70),
    "Arequipa": (("04",), 0.05),
    "La Libertad": (("13",), 0.07),
    "Lambayeque": (("14",), 0.04),
    "Piura": (("20",), 0.04),
    "Ica": (("11",), 0.04),
    "Cusco": (("08",), 0.02),
    "Tumbes": (("24",), 0.04),
}


def city_districts(department_codes: tuple[str, ...]) -> list[str]:
    """Urban districts of an ENAHOPV city (Lima: the metropolitan districts only)."""
    out: list[str] = []
    for code in department_codes:
        districts = DEPARTMENT_BY_CODE[code].districts
        out.extend(d for d in districts if code != "15" or d.startswith("1501"))
    return out


def dominio_of(ubigeos: np.ndarray) -> np.ndarray:
    """ENAHO `dominio` per ubigeo: the department's, except Lima outside the metropolitan area (costa centro)."""
    uniques, inverse = np.unique(np.asarray(ubigeos, dtype=str), return_inverse=True)
    per_unique = np.array(
        [2 if u.startswith("15") and not u.startswith("1501") else DEPARTMENT_BY_CODE[u[:2]].dominio
         for u in uniques], dtype=np.int64)
    return per_unique[inverse] if uniques.size else np.zeros(0, dtype=np.int64)
