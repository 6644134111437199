"""The reference seeds the registry quality gate checks against: INEI ubigeo districts and ISO 3166-1 alpha-3.

Fast: reads the CSVs only (no refresh, no dbt).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from dagster_project.demo.geography import DEPARTMENTS, LIMA_METRO_DISTRICTS
from dagster_project.settings import REPO_ROOT
from tests.conftest import real_data_dir

SEEDS = REPO_ROOT / "dbt" / "seeds"
UBIGEO_COLUMNS = ["ubigeo", "department_code", "department_name", "province_code", "province_name", "district_name"]


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def ubigeo_rows() -> list[dict[str, str]]:
    columns, rows = read_csv(SEEDS / "inei_ubigeo.csv")
    assert columns == UBIGEO_COLUMNS
    return rows


@pytest.fixture(scope="module")
def ubigeos(ubigeo_rows) -> set[str]:
    return {r["ubigeo"] for r in ubigeo_rows}


def test_ubigeo_seed_codes_are_unique_and_well_formed(ubigeo_rows):
    codes = [r["ubigeo"] for r in ubigeo_rows]
    assert len(codes) == len(set(codes))
    assert 1_850 <= len(codes) <= 1_950  # INEI 2025: 1,893 districts
    for r in ubigeo_rows:
        assert re.fullmatch(r"\d{6}", r["ubigeo"]), r
        assert r["department_code"] == r["ubigeo"][:2], r
        assert r["province_code"] == r["ubigeo"][:4], r
        assert r["ubigeo"][4:] != "00", r
        assert all(r[c].strip() == r[c] and r[c] for c in UBIGEO_COLUMNS), r
    assert {r["department_code"] for r in ubigeo_rows} == {f"{i:02d}" for i in range(1, 26)}
    assert 190 <= len({r["province_code"] for r in ubigeo_rows}) <= 200  # 196
    # every province and department has exactly one name
    for level in ("department", "province"):
        names = {(r[f"{level}_code"], r[f"{level}_name"]) for r in ubigeo_rows}
        assert len(names) == len({code for code, _ in names}), level


@pytest.mark.parametrize(("ubigeo", "department", "province", "district"), [
    ("150101", "Lima", "Lima", "Lima"),
    ("070101", "Callao", "Callao", "Callao"),
    ("040101", "Arequipa", "Arequipa", "Arequipa"),
    ("250101", "Ucayali", "Coronel Portillo", "Callería"),
    ("150143", "Lima", "Lima", "Villa María del Triunfo"),
    ("120114", "Junín", "Huancayo", "El Tambo"),
    ("020101", "Áncash", "Huaraz", "Huaraz"),
])
def test_ubigeo_seed_known_districts(ubigeo_rows, ubigeo, department, province, district):
    row = next(r for r in ubigeo_rows if r["ubigeo"] == ubigeo)
    assert (row["department_name"], row["province_name"], row["district_name"]) == (department, province, district)


def test_departments_seed_agrees_with_ubigeo_seed(ubigeo_rows):
    _, departments = read_csv(SEEDS / "departments.csv")
    from_ubigeo = {r["department_code"]: r["department_name"] for r in ubigeo_rows}
    assert {d["department_code"] for d in departments} <= set(from_ubigeo)
    assert {d["department_code"]: d["department_name"] for d in departments} == from_ubigeo


def test_demo_generator_districts_are_real_ubigeos(ubigeos):
    demo = {code for d in DEPARTMENTS for code in d.districts} | set(LIMA_METRO_DISTRICTS)
    assert not demo - ubigeos, sorted(demo - ubigeos)
    for d in DEPARTMENTS:
        assert all(code[:2] == d.code for code in d.districts), d.code


def test_real_enahopv_2024_ubigeos_are_in_the_seed(ubigeos):
    path = real_data_dir() / "inei" / "Enahopv01-2024-200.csv"
    if not path.is_file():
        pytest.skip(f"real ENAHOPV 2024 file not found at {path} (set WAREHOUSE_REAL_DATA_DIR to ../shared/data/real)")
    with open(path, encoding="utf-8-sig", newline="") as f:
        real = {row["UBIGEO"].strip().zfill(6) for row in csv.DictReader(f) if row["UBIGEO"].strip()}
    assert len(real) > 50  # 76 districts in the 8 cities
    assert not real - ubigeos, sorted(real - ubigeos)


def test_iso3166_seed():
    columns, rows = read_csv(SEEDS / "iso3166_countries.csv")
    assert columns == ["iso3", "name"]
    codes = [r["iso3"] for r in rows]
    assert len(codes) == len(set(codes)) == 249
    assert all(re.fullmatch(r"[A-Z]{3}", c) for c in codes)
    assert all(r["name"].strip() for r in rows)
    assert {"VEN", "PER", "COL", "ECU", "HTI", "CUB", "CHN", "BOL", "USA"} <= set(codes)
    assert not {"XKX", "ANT", "XXX"} & set(codes)  # user-assigned / withdrawn / not a code
