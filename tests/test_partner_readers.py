"""Partner readers on the real R4V files (5W header variants, Proportions.xlsx) and on small synthetic files."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dagster_project.pseudonymize import Pseudonymizer
from dagster_project.sources.landing import LandingFileError
from dagster_project.sources.partners.readers import (
    read_5w_activities,
    read_partner_beneficiaries,
    read_partner_indicators,
    read_partner_need,
    read_partner_organizations,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
REAL_DATA_DIR = Path(os.environ.get("WAREHOUSE_REAL_DATA_DIR") or REPO_ROOT.parent / "shared" / "data" / "real")
R4V_DIR = REAL_DATA_DIR / "r4v"

CANONICAL_5W = [
    "country", "admin1", "admin2", "appealing_org", "implementation", "implementing_partner", "month", "subsector",
    "indicator", "activity_name", "activity_description", "rmrp_activity", "covid19", "cva", "value",
    "delivery_mechanism", "quantity_output", "total_monthly", "new_beneficiaries", "in_destination", "in_transit",
    "host_communities", "pendulars", "returnees", "girls", "boys", "women", "men", "other_under", "other_above",
]
FIVE_W_COLUMNS = [*CANONICAL_5W, "header_variant", "source_file", "source_sheet", "source_row"]
SHORT_HEADERS = [
    "Country", "Admin1", "Admin2", "Appealing_org", "Implementation", "Implementing_partner", "Month", "Subsector",
    "Indicator", "Activity_Name", "Activity_Description", "RMRPActivity", "COVID19", "CVA", "Value",
    "Delivery_mechanism", "Quantity_output", "Total_monthly", "New_beneficiaries", "IN_DESTINATION", "IN_TRANSIT",
    "Host_Communities", "PENDULARS", "Returnees", "Girls", "Boys", "Women", "Men", "Other_under", "Other_above",
]
KEY = Pseudonymizer(b"0" * 32)


def real_file(name: str) -> Path:
    path = R4V_DIR / name
    if not path.is_file():
        pytest.skip(f"real R4V file {path} not found; set WAREHOUSE_REAL_DATA_DIR to the folder holding r4v/")
    return path


def land(landing: Path, source: Path, folder: str) -> Path:
    target = landing / folder / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def short_row(**values: object) -> list[object]:
    """One 5W row with English short headers: a valid Peru row, overridden by `values` (keyed by header)."""
    row = dict(zip(SHORT_HEADERS, [
        "Peru", "Lima", "", "HIAS", "No", "", "2024-03", "Integration", "# of people employed", "Taller",
        "Taller de empleabilidad", "Yes", "No", "No", "", "", "", 12.0, 10.0, 10.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 6.0, 4.0, 0.0, 0.0,
    ]))
    row.update(values)
    return list(row.values())


def write_workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


# --- real R4V files -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_name", "rows", "variant", "countries"),
    [
        ("Activities_5W_2022.xlsx", 125, "english_short", {"Argentina", "Bolivia", "Paraguay", "Uruguay"}),
        ("Activities_5W_2023.xlsx", 50, "english_short", {"Mexico", "Panama"}),
        ("Translated5W.xlsx", 114, "english_long", {"Mexico", "Panama"}),
        ("RMRP2022ActivitiesSP.xlsx", 114, "spanish", {"Mexico", "Panama"}),
    ],
)
def test_real_5w_variants_load(tmp_path: Path, file_name: str, rows: int, variant: str, countries: set[str]) -> None:
    land(tmp_path, real_file(file_name), "partners/5w/2022-08")
    frame, files = read_5w_activities(tmp_path)

    assert list(frame.columns) == FIVE_W_COLUMNS
    assert len(frame) == rows and [f.rows for f in files] == [rows]
    assert files[0].name == f"partners/5w/2022-08/{file_name}" and len(files[0].sha256) == 64
    assert set(frame["header_variant"]) == {variant}
    assert set(frame["country"]) == countries
    assert frame["source_row"].tolist() == list(range(2, rows + 2))
    assert frame["month"].str.fullmatch(r"\d{4}-\d{2}").all()
    for column in ["implementation", "rmrp_activity", "cva"]:
        assert set(frame[column].dropna()) <= {"Yes", "No"}, column
    # every count is a whole number written without Excel's ".0"
    assert frame["new_beneficiaries"].dropna().str.fullmatch(r"\d+").all()


def test_real_2023_form_has_no_covid19_column(tmp_path: Path) -> None:
    land(tmp_path, real_file("Activities_5W_2023.xlsx"), "partners/5w/2023-01")
    frame, _ = read_5w_activities(tmp_path)
    assert frame["covid19"].isna().all()
    assert frame["cva"].notna().all()


def test_real_mojibake_is_repaired(tmp_path: Path) -> None:
    land(tmp_path, real_file("Activities_5W_2022.xlsx"), "partners/5w/2022-08")
    frame, _ = read_5w_activities(tmp_path)
    text = frame[["admin1", "activity_name", "activity_description"]]
    assert not text.apply(lambda column: column.str.contains("Ã", na=False)).any().any()
    assert "Córdoba" in set(frame["admin1"])
    assert frame["activity_name"].str.startswith("Orientación social y legal").any()


def test_real_spanish_and_translated_files_agree(tmp_path: Path) -> None:
    """R4V's Translated5W is the Spanish file translated: mapped onto one vocabulary, the rows must be equal."""
    land(tmp_path, real_file("RMRP2022ActivitiesSP.xlsx"), "partners/5w/2022-01")
    land(tmp_path, real_file("Translated5W.xlsx"), "partners/5w/2022-01")
    frame, _ = read_5w_activities(tmp_path)
    compared = ["month", "implementation", "rmrp_activity", "covid19", "cva", "value", "total_monthly",
                "new_beneficiaries", "in_destination", "in_transit", "host_communities", "pendulars", "returnees",
                "girls", "boys", "women", "men", "other_under", "other_above", "activity_name"]

    def rows(variant: str) -> list[tuple]:
        part = frame.loc[frame["header_variant"] == variant, compared].fillna("")
        return sorted(map(tuple, part.to_numpy().tolist()))

    assert rows("spanish") == rows("english_long")


def test_real_proportions_pin_and_target(tmp_path: Path) -> None:
    source = land(tmp_path, real_file("Proportions.xlsx"), "partners/reference")
    frame, files = read_partner_need(tmp_path)

    assert set(frame["source_sheet"]) == {"PiN 2022", "Target"}  # the *proportions sheets are skipped
    assert set(frame["plan_year"]) == {2022}
    assert files[0].rows == len(frame)
    assert frame["people"].dtype == "Float64"

    sheet = pd.read_excel(source, sheet_name="PiN 2022", engine="calamine")
    sheet_peru = sheet[sheet["PiN Country"] == "Peru"]
    assert len(sheet_peru) == 338
    peru = frame[(frame["measure"] == "pin") & (frame["country"] == "Peru")]
    assert peru["source_row"].nunique() == 338
    assert len(peru) == 338 * 30  # 6 population types (incl. all) × 5 age/sex groups (incl. all)
    assert set(zip(peru["population_type"], peru["age_sex_group"])) == {
        (p, g)
        for p in ["all", "in_destination", "in_transit", "host_communities", "pendulars", "returnees"]
        for g in ["all", "girls", "boys", "women", "men"]
    }
    totals = peru.groupby(["population_type", "age_sex_group"])["people"].sum()
    assert totals["all", "all"] == sheet_peru["PiN Total"].sum()
    assert totals["in_destination", "girls"] == sheet_peru["PiN Dest GIrls"].sum()
    # the sheet's own breakdowns add up, so the melted groups must too
    assert totals["all"][["girls", "boys", "women", "men"]].sum() == totals["all", "all"]
    population_totals = totals.xs("all", level="age_sex_group")
    assert population_totals.drop("all").sum() == population_totals["all"]

    target = frame[(frame["measure"] == "target") & (frame["country"] == "Peru")]
    assert target["source_row"].nunique() == 162


# --- synthetic 5W files ---------------------------------------------------------------------------------


def test_csv_with_semicolons_in_latin1(tmp_path: Path) -> None:
    header = ";".join(SHORT_HEADERS)
    row = ";".join([
        "Perú", "Lima", "", "Fundación Ayuda", "Sí", "Socio Ñandú", "2024-03-01", "Integración", "# empleados",
        "Taller", "Orientación", "si", "NO", "No", "", "", "", "12", "10", "10", *["0"] * 6, "6", "4", "0", "0",
    ])
    write_text(tmp_path / "partners/5w/2024-03/fundacion.csv", f"{header}\r\n{row}\r\n", encoding="latin-1")
    frame, files = read_5w_activities(tmp_path)

    record = frame.iloc[0]
    assert files[0].name == "partners/5w/2024-03/fundacion.csv"
    assert (record["country"], record["appealing_org"], record["implementing_partner"]) == (
        "Perú", "Fundación Ayuda", "Socio Ñandú")
    assert (record["implementation"], record["rmrp_activity"], record["covid19"]) == ("Yes", "Yes", "No")
    assert record["month"] == "2024-03"
    assert record["total_monthly"] == "12" and pd.isna(record["value"])
    assert pd.isna(record["source_sheet"]) and record["source_row"] == 2


def test_utf8_bom_csv_with_commas(tmp_path: Path) -> None:
    header = ",".join(SHORT_HEADERS)
    row = 'Peru,Lima,,HIAS,No,,2024-03,Integration,"# of people, employed",Taller,Taller,Yes,No,No,,,,' \
          "1,1,1,0,0,0,0,0,0,1,0,0,0"
    write_text(tmp_path / "partners/5w/hias.csv", f"{header}\n{row}\n", encoding="utf-8-sig")
    frame, files = read_5w_activities(tmp_path)
    assert files[0].name == "partners/5w/hias.csv"
    assert frame.loc[0, "country"] == "Peru" and frame.loc[0, "indicator"] == "# of people, employed"


def test_unknown_headers_name_file_and_missing_columns(tmp_path: Path) -> None:
    write_text(tmp_path / "partners/5w/2024-03/other.csv", "Pais;Region;Beneficiarios\nPerú;Lima;3\n")
    with pytest.raises(LandingFileError) as raised:
        read_5w_activities(tmp_path)
    message = str(raised.value)
    assert raised.value.file == "partners/5w/2024-03/other.csv"
    assert "missing columns" in message and "country" in message and "new_beneficiaries" in message


def test_incomplete_5w_sheet_is_rejected(tmp_path: Path) -> None:
    headers = [h for h in SHORT_HEADERS if h not in ("Month", "Girls")]
    write_workbook(tmp_path / "partners/5w/2024-03/partial.xlsx", {"5W": [headers]})
    with pytest.raises(LandingFileError, match=r"sheet '5W'.*month, girls"):
        read_5w_activities(tmp_path)


def test_non_numeric_count_survives_as_text(tmp_path: Path) -> None:
    rows = [SHORT_HEADERS, short_row(New_beneficiaries="n/a", Total_monthly="12 aprox."), short_row(Value=150.5)]
    write_workbook(tmp_path / "partners/5w/2024-03/hias.xlsx", {"Sheet1": rows})
    frame, _ = read_5w_activities(tmp_path)
    assert frame["new_beneficiaries"].tolist() == ["n/a", "10"]
    assert frame["total_monthly"].tolist() == ["12 aprox.", "12"]
    assert frame.loc[1, "value"] == "150.5"


def test_workbook_layout_months_and_sheets(tmp_path: Path) -> None:
    """A title above the header, Excel dates, a blank row, a notes sheet: rows keep their spreadsheet numbers."""
    report = [
        ["5W report - March 2024"],
        [],
        SHORT_HEADERS,
        short_row(Month=dt.datetime(2024, 3, 1)),
        [],
        short_row(Month="2024-03-15", Country="  Peru  "),
        short_row(Month="marzo", COVID19=None),
    ]
    notes = [["Notes"], ["Sent by the partner's M&E officer"]]
    write_workbook(tmp_path / "partners/5w/2024-03/report.xlsx", {"Notes": notes, "Report": report})
    frame, files = read_5w_activities(tmp_path)

    assert files[0].rows == 3
    assert set(frame["source_sheet"]) == {"Report"}
    assert frame["source_row"].tolist() == [4, 6, 7]
    assert frame["month"].tolist() == ["2024-03", "2024-03", "marzo"]  # not a month: kept for the checks
    assert frame["country"].tolist() == ["Peru"] * 3
    assert frame["admin2"].isna().all()


def test_no_files_give_typed_empty_frames(tmp_path: Path) -> None:
    frame, files = read_5w_activities(tmp_path)
    assert files == [] and frame.empty and list(frame.columns) == FIVE_W_COLUMNS
    assert frame["source_row"].dtype == "int64" and frame["country"].dtype == "string"

    need, _ = read_partner_need(tmp_path)
    assert need.empty and need["people"].dtype == "Float64" and need["plan_year"].dtype == "int64"
    for read in (read_partner_indicators, read_partner_organizations):
        reference, files = read(tmp_path)
        assert reference.empty and files == []
    beneficiaries, files = read_partner_beneficiaries(tmp_path, KEY)
    assert beneficiaries.empty and "beneficiary_key" in beneficiaries.columns and files == []


def test_ignored_and_misnamed_5w_files(tmp_path: Path) -> None:
    write_text(tmp_path / "partners/5w/2024-03/report.csv.tmp", "half written")
    write_text(tmp_path / "partners/5w/2024-03/~$report.xlsx", "lock file")
    assert read_5w_activities(tmp_path)[1] == []

    write_text(tmp_path / "partners/5w/2024-03/broken.xlsx", "not a workbook")
    with pytest.raises(LandingFileError, match="broken.xlsx.*cannot be read as a workbook"):
        read_5w_activities(tmp_path)


# --- synthetic reference lists and beneficiaries --------------------------------------------------------


def test_reference_lists(tmp_path: Path) -> None:
    write_text(
        tmp_path / "partners/reference/indicators.csv",
        "subsector;subsector_es;indicator;indicator_es;indicator_type\n"
        "Integration;Integración;# employed;# empleados;PiN\n",
        encoding="latin-1",
    )
    write_text(tmp_path / "partners/reference/organizations.csv", "Name,Name_ES,Role,extra\nHIAS,HIAS,appealing,x\n")

    indicators, files = read_partner_indicators(tmp_path)
    assert indicators.loc[0, "subsector_es"] == "Integración" and files[0].rows == 1
    organizations, _ = read_partner_organizations(tmp_path)
    assert list(organizations.columns) == ["name", "name_es", "role", "source_file", "source_row"]
    assert organizations.loc[0, "role"] == "appealing"

    write_text(tmp_path / "partners/reference/organizations.csv", "name,role\nHIAS,appealing\n")
    with pytest.raises(LandingFileError, match=r"organizations.csv.*missing columns name_es"):
        read_partner_organizations(tmp_path)


BENEFICIARY_HEADER = (
    "beneficiary_id,program,enrolled_on,completed_on,sex,birth_year,nationality,admin1,single_parent,"
    "disability,outcome,outcome_on,full_name"
)


def test_beneficiaries_are_pseudonymized(tmp_path: Path) -> None:
    write_text(
        tmp_path / "partners/beneficiaries/hias/2024-03.csv",
        f"{BENEFICIARY_HEADER}\n"
        "V-12.345.678,job_placement,2024-01-10,,F,1990,VEN,Lima,true,false,employed_formal,2024-03-01,Ana Pérez\n"
        "P999,childcare,2024-02-01,2024-03-01,M,1985,VEN,Callao,false,false,,,Luis Gil\n",
    )
    frame, files = read_partner_beneficiaries(tmp_path, KEY)

    assert files[0].name == "partners/beneficiaries/hias/2024-03.csv" and files[0].rows == 2
    assert "beneficiary_id" not in frame.columns and "full_name" not in frame.columns
    flat = frame.astype(str).to_numpy().ravel().tolist()
    assert not any("12.345.678" in value or "12345678" in value or "Pérez" in value for value in flat)
    assert frame["beneficiary_key"].tolist() == [KEY.hash_one("V12345678", "beneficiary"),
                                                 KEY.hash_one("P999", "beneficiary")]
    assert set(frame["organization"]) == {"hias"} and set(frame["report_month"]) == {"2024-03"}
    assert frame.loc[0, "birth_year"] == "1990" and frame["lgbtiq"].isna().all()
    assert frame["source_row"].tolist() == [2, 3]


def test_beneficiary_mapping_file(tmp_path: Path) -> None:
    write_text(
        tmp_path / "partners/beneficiaries/fundacion.mapping.yaml",
        "columns:\n  Código: beneficiary_id\n  Programa: program\n  Sexo: sex\n",
    )
    header = BENEFICIARY_HEADER.replace("beneficiary_id", "Código").replace("program", "Programa")
    header = header.replace(",sex,", ",Sexo,")
    write_text(
        tmp_path / "partners/beneficiaries/fundacion/2024-04.csv",
        f"{header}\nX1,entrepreneurship,2024-04-01,,F,2000,VEN,Lima,false,false,,,Rosa\n",
    )
    frame, _ = read_partner_beneficiaries(tmp_path, KEY)
    assert frame.loc[0, "program"] == "entrepreneurship" and frame.loc[0, "sex"] == "F"
    assert frame.loc[0, "beneficiary_key"] == KEY.hash_one("X1", "beneficiary")

    write_text(tmp_path / "partners/beneficiaries/fundacion/2024-05.csv", "Código,Programa\nX1,childcare\n")
    with pytest.raises(LandingFileError, match=r"fundacion/2024-05.csv.*missing columns enrolled_on"):
        read_partner_beneficiaries(tmp_path, KEY)


def test_synthetic_proportions_take_target_year_from_pin_sheet(tmp_path: Path) -> None:
    keys = ["PiN Platform", "PiN Country", "PiN Admin1", "Subsector"]
    pin = [[*keys, "PiN Total Girls", "PiN Total", "PiN Dest GIrls", "PiN Dest Total"],
           ["Peru", "Peru", "Lima", "Integration", 10, 40, 8, 30]]
    target = [[h.replace("PiN", "Target") for h in pin[0]], ["Peru", "Peru", "Lima", "Integration", 2, 9, None, 7]]
    write_workbook(tmp_path / "partners/reference/Proportions.xlsx",
                   {"PiN 2024": pin, "Target": target, "pinproportions": [["Country"], ["Peru"]]})
    frame, _ = read_partner_need(tmp_path)

    assert set(frame["plan_year"]) == {2024}
    assert frame.groupby("measure")["people"].sum().to_dict() == {"pin": 88, "target": 18}
    missing = frame[(frame["measure"] == "target") & (frame["population_type"] == "in_destination")
                    & (frame["age_sex_group"] == "girls")]
    assert missing["people"].isna().all() and missing["source_row"].tolist() == [2]


def test_duplicate_5w_column_is_rejected(tmp_path: Path) -> None:
    write_workbook(tmp_path / "partners/5w/2024-03/twice.xlsx", {"5W": [[*SHORT_HEADERS, "country"], short_row()]})
    with pytest.raises(LandingFileError, match="more than one column for country"):
        read_5w_activities(tmp_path)
