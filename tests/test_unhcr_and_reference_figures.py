"""UNHCR statistics for Venezuelans in Peru and the published reference figures (DataInventory.csv), on the real files.

One refresh for the module: the three real Refugee Data Finder tables and UNHCR Peru's DataInventory.csv are copied
from ../shared/data/real into a tmp_path landing zone laid out per the landing contract, next to one small
synthetic Migraciones extract for August 2025 (the month of the Migraciones figures in DataInventory.csv), so that
every kind of pairing in registry_published_figures is exercised. Skipped where the real folder is absent. The
reader's refusals are tested without a refresh.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.sources.landing import LandingFileError
from dagster_project.sources.registry.reference_figures import read_reference_figures
from tests.conftest import real_data_dir, run_refresh_in

LAYOUT = {
    "unhcr/population.csv": "registry/unhcr/population.csv",
    "unhcr/asylum_applications.csv": "registry/unhcr/asylum_applications.csv",
    "unhcr/asylum_decisions.csv": "registry/unhcr/asylum_decisions.csv",
    "unhcr/DataInventory.csv": "registry/reference/DataInventory.csv",
}

# SOURCES.md: Venezuela → Peru, (refugees, asylum-seekers, other people in need of international protection)
PUBLISHED = {2022: (4_763, 531_788, 969_817), 2023: (4_906, 493_476, 1_043_622), 2024: (4_942, 522_732, 1_135_215)}

# the synthetic August 2025 extract: Venezuelans 12 CPP + 11 IRREGULAR, Colombians 3 IRREGULAR (every registry count
# the warehouse publishes for it is at least k = 10, so none is suppressed)
EXTRACT_PEOPLE = [("VEN", "CPP")] * 12 + [("VEN", "IRREGULAR")] * 11 + [("COL", "IRREGULAR")] * 3


def write_extract(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id_persona", "tipo_documento", "num_documento", "nombres", "apellidos", "sexo",
                         "fecha_nacimiento", "nacionalidad", "fecha_ultimo_ingreso", "calidad_migratoria",
                         "fecha_inicio_calidad", "fecha_vencimiento", "ubigeo_residencia"])
        for number, (nationality, status) in enumerate(EXTRACT_PEOPLE, start=1):
            regular = status == "CPP"
            expiry = ("2025-09-20" if number <= 10 else "2027-06-01") if regular else ""  # 10 expire within 30 days
            writer.writerow([f"P{number:05d}", "CPP" if regular else "PASAPORTE", f"D{number:07d}", "Nombre",
                             "Apellido", "F" if number % 2 else "M", "1990-05-17", nationality, "2019-03-01",
                             status, "2023-06-01" if regular else "2019-03-01", expiry, ""])


@pytest.fixture(scope="module")
def real_refresh(tmp_path_factory):
    folder = real_data_dir()
    if not folder.is_dir():
        pytest.skip(f"real public data not found at {folder} (set WAREHOUSE_REAL_DATA_DIR to ../shared/data/real)")
    root = tmp_path_factory.mktemp("unhcr_real")
    for source, target in LAYOUT.items():
        (root / "landing" / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / source, root / "landing" / target)
    write_extract(root / "landing" / "registry" / "migraciones" / "extract_2025-08.csv")
    with pytest.MonkeyPatch.context() as monkeypatch:
        refresh = run_refresh_in(root, monkeypatch)
    assert refresh.result.success
    return refresh


def published(refresh, sql: str) -> list[tuple]:
    with duckdb.connect(str(refresh.settings.published_db), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def warehouse(refresh, sql: str) -> list[tuple]:
    with duckdb.connect(str(refresh.settings.warehouse_db), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_the_three_suites_ran_and_passed(real_refresh):
    outcomes = {}
    for event in real_refresh.result.all_events:
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            outcomes[evaluation.check_name] = evaluation.passed
    for suite in ("raw__migraciones_reference_figures", "marts__unhcr_venezuela_peru",
                  "marts__registry_published_figures"):
        assert outcomes.get(f"gx_{suite}") is True, suite


def test_the_mart_reproduces_the_published_unhcr_figures_for_venezuela_to_peru(real_refresh):
    rows = published(real_refresh, "select year, refugees, asylum_seekers, other_in_need_of_international_protection "
                                   "from unhcr_venezuela_peru where year between 2022 and 2024 order by year")
    assert {year: tuple(values) for year, *values in rows} == PUBLISHED
    # applications and decisions: the real table's one row per year (G / N / FI / P) for 2024; zeros suppressed
    row = published(real_refresh, "select applications, decisions_recognized, decisions_complementary, "
                                  "decisions_rejected, decisions_closed, decisions_total, recognition_rate, "
                                  "reliability from unhcr_venezuela_peru where year = 2024")[0]
    assert row[:6] == (30_476, 169, None, 1_051, None, 1_220)
    assert row[6] == pytest.approx(169 / (169 + 0 + 1_051)) and row[7] == "suppressed"
    assert published(real_refresh, "select decisions_closed, decisions_total from unhcr_venezuela_peru "
                                   "where year = 2023") == [(134_554, 135_214)]
    # 2003: 5 asylum-seekers (below k = 10) → NULL
    assert published(real_refresh, "select asylum_seekers, reliability from unhcr_venezuela_peru "
                                   "where year = 2003") == [(None, "suppressed")]


def test_the_indicator_rows_carry_the_same_figures(real_refresh):
    rows = warehouse(real_refresh, """
        select period, indicator_id, estimate, unit, reliability, domain, source, sex, region, age_group,
               se, n_unweighted
        from intermediate.int_unhcr_indicators
        where population_group = 'migrant' and period in ('2022', '2023', '2024')
          and indicator_id in ('unhcr_refugees', 'unhcr_asylum_seekers', 'unhcr_oip')""")
    ids = ["unhcr_refugees", "unhcr_asylum_seekers", "unhcr_oip"]
    assert {(p, i): e for p, i, e, *_ in rows} == {
        (str(year), ids[k]): float(values[k]) for year, values in PUBLISHED.items() for k in range(3)}
    assert {tuple(r[3:]) for r in rows} == {
        ("people", "reliable", "registry", "unhcr", "all", "all", "all", None, None)}
    # every origin: CEPR's 31/12/2024 figures for Peru
    assert warehouse(real_refresh, """
        select indicator_id, estimate from intermediate.int_unhcr_indicators
        where population_group = 'all' and period = '2024'
          and indicator_id in ('unhcr_refugees', 'unhcr_asylum_seekers')
        order by indicator_id""") == [("unhcr_asylum_seekers", 539_957.0), ("unhcr_refugees", 6_742.0)]
    # every indicator has its definition row
    ids_without_definition = warehouse(real_refresh, """
        select distinct indicator_id from intermediate.int_unhcr_indicators
        where indicator_id not in (select indicator_id from reference.unhcr_indicator_definitions)""")
    assert ids_without_definition == []
    # once the indicators mart unions these rows (the lead's change), the published ones agree with them
    in_indicators = published(real_refresh, """
        select period, indicator_id, estimate from indicators
        where source = 'unhcr' and population_group = 'migrant' and period = '2024'
          and indicator_id = 'unhcr_refugees'""")
    assert in_indicators in ([], [("2024", "unhcr_refugees", 4_942.0)])


def test_the_reference_figures_load_with_their_values_parsed(real_refresh):
    rows = warehouse(real_refresh, "select source_row, indicator, value, value_as_sent, reference_date, "
                                   "reference_month, reference_year, source from raw.migraciones_reference_figures "
                                   "order by source_row")
    assert len(rows) == 46 and [r[0] for r in rows] == list(range(2, 48))
    assert all(r[2] is not None for r in rows)
    by_row = {r[0]: r[1:] for r in rows}
    assert by_row[2] == ("# de solicitantes de la condición de refugiado", 539_957.0, "539,957", "2024-12-31",
                         "2024-12", 2024, "CEPR")
    assert by_row[6][1:6] == (0.17, "0.17", None, None, 2024)
    assert by_row[41][1:6] == (386_174.0, "386174", "2025-08-15", "2025-08", 2025)
    assert by_row[44][1:6] == (1_662_889.0, "1662889", None, "2023-12", 2023)  # 'Dec-23'
    assert by_row[47][1:3] == (1_135_215.0, "1,135,215")


def test_published_figures_sit_next_to_ours_of_the_same_date(real_refresh):
    rows = published(real_refresh, "select source_row, published_value, our_source, our_measure, our_nationality, "
                                   "our_period, our_value, difference, ratio, comparison "
                                   "from registry_published_figures order by source_row")
    assert len(rows) == 46
    by_row = {r[0]: r[1:] for r in rows}
    # CEPR 31/12/2024 ↔ UNHCR 2024
    assert by_row[4] == (4_942.0, "unhcr", "unhcr_refugees", "VEN", "2024", 4_942.0, 0.0, 1.0, "same date")
    assert by_row[5] == (522_732.0, "unhcr", "unhcr_asylum_seekers", "VEN", "2024", 522_732.0, 0.0, 1.0, "same date")
    assert by_row[2][1:7] == ("unhcr", "unhcr_asylum_seekers", "all", "2024", 539_957.0, 0.0)
    assert by_row[3][1:7] == ("unhcr", "unhcr_refugees", "all", "2024", 6_742.0, 0.0)
    assert by_row[47][1:] == ("unhcr", "unhcr_oip", "all", "2024", 1_135_215.0, 0.0, 1.0,
                              "same year (UNHCR end-year figure)")  # dated 30/06/2024
    # Migraciones 15/08/2025 ↔ the August 2025 extract, Venezuelans only (12 CPP, 11 IRREGULAR)
    assert by_row[46][1:6] == ("registry", "registered_stock", "VEN", "2025-08", 23.0)
    assert by_row[46][6] == 23 - 1_250_750 and by_row[46][8] == "same month (extract as of the month end)"
    assert by_row[41][1:6] == ("registry", "regular_stock", "VEN", "2025-08", 12.0)
    assert by_row[43][1:6] == ("registry", "irregular_stock", "VEN", "2025-08", 11.0)
    # no counterpart: 'en proceso', the SNM/R4V population estimates, the survey shares
    for row in (42, 44, 45, 6, 20):
        assert by_row[row][1:8] == (None,) * 7 and by_row[row][8] == "no matching measure", row


# ---------------------------------------------------------------------------------------------- reader, no refresh


HEADER = "Área Temática,Indicador,Valor,Fecha,Visibilidad,Tipo de fuente,Fuente,Comentario,Status\n"


def landed(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "registry" / "reference" / "DataInventory.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes((HEADER + body).encode("latin-1"))
    return tmp_path


@pytest.mark.parametrize("value", ["n/d", "1,5", "12,34,567", "0.17.2"])
def test_a_value_that_is_neither_a_number_nor_a_share_is_refused_with_its_row_and_column(tmp_path, value):
    landing = landed(tmp_path, 'Documentación,# de refugiados,"6,742",31/12/2024,Público,Registro,CEPR,,Key data\n'
                               f'Empleo,% ocupados,"{value}",2024,Público,Encuesta,ENAHO 2024,,Otros\n')
    with pytest.raises(LandingFileError) as error:
        read_reference_figures(landing)
    assert (error.value.file, error.value.row, error.value.column) == (
        "registry/reference/DataInventory.csv", 3, "Valor")
    assert repr(value) in str(error.value) and "neither a number" in str(error.value)


def test_an_empty_value_and_an_unknown_date_are_refused_too(tmp_path):
    with pytest.raises(LandingFileError, match="row 2, column 'Valor': value empty"):
        read_reference_figures(landed(tmp_path / "a", "Documentación,# de refugiados,,2024,,,,,\n"))
    with pytest.raises(LandingFileError, match="row 2, column 'Fecha': date '31/02/2024'"):
        read_reference_figures(landed(tmp_path / "b", "Documentación,# de refugiados,10,31/02/2024,,,,,\n"))


def test_values_dates_and_a_missing_file(tmp_path):
    frame, files = read_reference_figures(landed(tmp_path / "a", (
        'A,# uno,"1,135,215",30/06/2024,,,,,\n'
        "A,% dos,17%,2024,,,,,\n"
        "A,# tres,386174,dic-23,,,,,\n"
        "A,# cuatro,0.5,2025-08-15,,,,,\n")))
    assert frame["value"].tolist() == [1_135_215.0, 0.17, 386_174.0, 0.5]
    assert frame["reference_date"].tolist()[::3] == ["2024-06-30", "2025-08-15"]
    assert frame["reference_month"].fillna("-").tolist() == ["2024-06", "-", "2023-12", "2025-08"]
    assert frame["reference_year"].tolist() == [2024, 2024, 2023, 2025]
    assert [f.name for f in files] == ["registry/reference/DataInventory.csv"]
    empty, none = read_reference_figures(tmp_path / "nothing")
    assert len(empty) == 0 and none == [] and list(empty.columns) == list(frame.columns)
