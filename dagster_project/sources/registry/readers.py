"""Migraciones monthly extracts and UNHCR Refugee Data Finder tables → raw registry tables.

Personal data handling happens here, before anything reaches DuckDB: `nombres`/`apellidos` are never read
(the CSV reader skips those columns), `id_persona` and the document number are replaced by keyed hashes.

An extract's rows come out typed for the row rules of `expectations/raw__registry_extracts.json`, which the load
step runs on each file before writing it (rows that break a rule are quarantined, see `quality/quarantine.py`):
codes trimmed and upper-cased, dates as ISO text (NULL when empty or not a date in either contract format, with
what was sent kept in the helper column `_dates_not_understood`), and the extract month's last day in
`_extract_last_day`. Helper columns (names starting with `_`) are dropped before the rows are written.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.pseudonymize import Pseudonymizer
from dagster_project.sources.landing import LandedFile, LandingFileError, file_sha256, find_files, relative_name
from dagster_project.sources.tabular import read_delimited_text

EXTRACT_PATTERN = r"extract_(\d{4}-\d{2})\.csv"
NAME_COLUMNS = {"nombres", "apellidos"}
REQUIRED_EXTRACT_COLUMNS = [
    "id_persona", "tipo_documento", "num_documento", "sexo", "fecha_nacimiento", "nacionalidad",
    "fecha_ultimo_ingreso", "calidad_migratoria", "fecha_inicio_calidad", "fecha_vencimiento", "ubigeo_residencia",
]
DATE_COLUMNS = ["fecha_nacimiento", "fecha_ultimo_ingreso", "fecha_inicio_calidad", "fecha_vencimiento"]
CODE_COLUMNS = ["tipo_documento", "sexo", "nacionalidad", "calidad_migratoria"]
EXTRACT_COLUMNS = ["extract_month", "person_key", "document_key", *CODE_COLUMNS, *DATE_COLUMNS,
                   "ubigeo_residencia", "source_file", "source_row"]

UNHCR_TABLES = {
    "unhcr_population": ("population.csv", ["refugees", "asylum_seekers", "returned_refugees", "idps",
                                            "returned_idps", "stateless", "ooc", "oip", "hst"]),
    "unhcr_asylum_applications": ("asylum_applications.csv", ["applied"]),
    "unhcr_asylum_decisions": ("asylum_decisions.csv", ["dec_recognized", "dec_other", "dec_rejected",
                                                        "dec_closed", "dec_total"]),
}
UNHCR_KEY_COLUMNS = ["year", "coo_name", "coo", "coo_iso", "coa_name", "coa", "coa_iso"]
UNHCR_CODE_COLUMNS = ["procedure_type", "app_type", "dec_level", "app_pc", "dec_pc"]


def normalize_dates(values: pd.Series) -> pd.Series:
    """ISO text for values in either contract format (YYYY-MM-DD, DD/MM/YYYY); NULL for anything else."""
    text = values.astype("string").str.strip()
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    day_first = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    return iso.fillna(day_first).dt.strftime("%Y-%m-%d").astype("string")


def _dates_not_understood(frame: pd.DataFrame, parsed: dict[str, pd.Series]) -> pd.Series:
    """Per row, the date values that were sent but are not dates ("fecha_x '31/02/2024'; …"), NULL if none."""
    out = pd.Series(pd.NA, index=frame.index, dtype="string")
    for column in DATE_COLUMNS:
        sent = frame[column].astype("string").str.strip()
        bad = sent.notna() & (sent != "") & parsed[column].isna()
        if bad.any():
            text = column + " '" + sent[bad] + "'"
            out[bad] = out[bad].where(out[bad].isna(), out[bad] + "; " + text).fillna(text)
    return out


def read_extract(path: Path, landing_dir: Path, pseudonymizer: Pseudonymizer) -> pd.DataFrame:
    name = relative_name(path, landing_dir)
    month = re.fullmatch(EXTRACT_PATTERN, path.name, re.IGNORECASE).group(1)
    frame = read_delimited_text(path, usecols=lambda column: column not in NAME_COLUMNS, display_name=name)
    missing = [c for c in REQUIRED_EXTRACT_COLUMNS if c not in frame.columns]
    if missing:
        raise LandingFileError(name, f"missing columns {', '.join(missing)} (see the landing contract)")
    out = pd.DataFrame({"extract_month": pd.Series(month, index=frame.index, dtype="string")})
    out["person_key"] = pseudonymizer.hash_series(frame["id_persona"], namespace="registry_person")
    document = frame["tipo_documento"].str.upper() + "|" + frame["num_documento"]
    out["document_key"] = pseudonymizer.hash_series(document, namespace="registry_document")
    for column in CODE_COLUMNS:
        out[column] = frame[column].astype("string").str.strip().str.upper().replace("", pd.NA)
    parsed = {column: normalize_dates(frame[column]) for column in DATE_COLUMNS}
    for column in DATE_COLUMNS:
        out[column] = parsed[column]
    ubigeo = frame["ubigeo_residencia"].astype("string").str.strip().replace("", pd.NA)
    digits = ubigeo.str.fullmatch(r"\d{1,6}").fillna(False)
    out["ubigeo_residencia"] = ubigeo.where(~digits, ubigeo.str.zfill(6))
    out["source_file"] = name
    out["source_row"] = np.arange(2, len(frame) + 2, dtype="int64")
    out = out.astype({c: "string" for c in EXTRACT_COLUMNS if c != "source_row"})
    out["_dates_not_understood"] = _dates_not_understood(frame, parsed)
    last_day = (pd.Period(month, freq="M").end_time.normalize()).strftime("%Y-%m-%d")
    out["_extract_last_day"] = pd.Series(last_day, index=frame.index, dtype="string")
    return out


def empty_registry_extracts(_landing_dir: Path, _pseudonymizer) -> tuple[pd.DataFrame, list[LandedFile]]:
    """raw.registry_extracts before any extract was delivered: its columns, no rows. (Extracts themselves are read
    file by file by the incremental loader, with `read_extract`.)"""
    empty = {c: pd.Series(dtype="string") for c in EXTRACT_COLUMNS}
    empty["source_row"] = pd.Series(dtype="int64")
    empty["loaded_at"] = pd.Series(dtype="datetime64[us]")  # what the incremental load adds to each row
    return pd.DataFrame(empty), []


def read_unhcr_table(landing_dir: Path, table: str) -> tuple[pd.DataFrame, list[LandedFile]]:
    file_name, count_columns = UNHCR_TABLES[table]
    files = find_files(landing_dir / "registry" / "unhcr", re.escape(file_name))
    code_columns = [c for c in UNHCR_CODE_COLUMNS if table != "unhcr_population"]
    if not files:
        columns = {c: pd.Series(dtype="string") for c in UNHCR_KEY_COLUMNS[1:] + code_columns}
        columns.update({"year": pd.Series(dtype="Int64"), **{c: pd.Series(dtype="Float64") for c in count_columns},
                        "source_file": pd.Series(dtype="string"), "source_row": pd.Series(dtype="int64")})
        return pd.DataFrame(columns), []
    path = files[0]
    name = relative_name(path, landing_dir)
    frame = read_delimited_text(path, display_name=name)
    expected = UNHCR_KEY_COLUMNS + count_columns
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise LandingFileError(name, f"missing columns {', '.join(missing)} of the Refugee Data Finder table")
    code_columns = [c for c in UNHCR_CODE_COLUMNS if c in frame.columns]
    out = frame[UNHCR_KEY_COLUMNS + code_columns].astype("string")
    out["year"] = _numbers(frame["year"], name, "year").round().astype("Int64")
    for column in count_columns:
        out[column] = _numbers(frame[column], name, column)
    out["source_file"] = name
    out["source_row"] = np.arange(2, len(frame) + 2, dtype="int64")
    return out, [LandedFile(name, file_sha256(path), len(out))]


def _numbers(values: pd.Series, file_name: str, column: str) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise LandingFileError(file_name, f"value {values.iloc[position]!r} is not a number",
                               row=position + 2, column=column)
    return numbers.astype("Float64")
