"""Published reference figures (UNHCR Peru's `DataInventory.csv`) → `raw.migraciones_reference_figures`.

The file is UNHCR Peru's list of key figures (IM-ACNUR-Peru/DataInventory): one row per published figure with its
topic, the indicator in Spanish, the value, its date and who publishes it (CEPR, Migraciones, INEI surveys). It
lands as `registry/reference/DataInventory.csv`, Latin-1 or UTF-8, with Spanish headers:

    Área Temática, Indicador, Valor, Fecha, Visibilidad, Tipo de fuente, Fuente, Comentario, Status

`Valor` is a count with or without thousands commas ("539,957", "386174") or a share ("0.17", or "17%" = 0.17).
Anything else (e.g. "1,5", "n/d", an empty value) is refused with the file, row and column: nothing is guessed.
`Fecha` is DD/MM/YYYY, YYYY-MM-DD, a year ("2024"), or a month ("Dec-23" as Excel writes it, "dic-23", "12/2023");
an empty date stays NULL. Without the file the table is simply empty (the figures are optional context).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.sources.landing import LandedFile, LandingFileError, file_sha256, find_files, relative_name
from dagster_project.sources.tabular import read_delimited_text

FOLDER = Path("registry") / "reference"
FILE_PATTERN = r"DataInventory\.csv"

# header (lower case, accents stripped) → raw column
HEADERS = {
    "area tematica": "topic",
    "indicador": "indicator",
    "valor": "value_as_sent",
    "fecha": "date_as_sent",
    "visibilidad": "visibility",
    "tipo de fuente": "source_type",
    "fuente": "source",
    "comentario": "comment",
    "status": "status",
}
REQUIRED_HEADERS = ["indicador", "valor", "fecha"]
TEXT_COLUMNS = ["topic", "indicator", "value_as_sent", "date_as_sent", "reference_date", "reference_month",
                "visibility", "source_type", "source", "comment", "status"]
COLUMNS = ["topic", "indicator", "value", "value_as_sent", "reference_date", "reference_month", "reference_year",
           "date_as_sent", "visibility", "source_type", "source", "comment", "status", "source_file", "source_row"]

PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")
THOUSANDS_NUMBER = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
PERCENT = re.compile(r"(-?\d+(\.\d+)?)\s*%")

MONTHS = {  # English and Spanish abbreviations, as spreadsheets write a month ("Dec-23", "dic-23", "sept-2023")
    "jan": 1, "ene": 1, "feb": 2, "mar": 3, "apr": 4, "abr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
    "ago": 8, "sep": 9, "sept": 9, "set": 9, "oct": 10, "nov": 11, "dec": 12, "dic": 12,
}
MONTH_NAME = re.compile(r"([a-z]{3,4})\.?[-/ ](\d{2}|\d{4})")


def _plain(text: str) -> str:
    """Lower case without accents: 'Área Temática' → 'area tematica'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def parse_value(text: str) -> float | None:
    """A count ('539,957', '386174', '12.5') or a share ('0.17', '17%' → 0.17) as a float; None if neither."""
    text = text.strip()
    if PLAIN_NUMBER.fullmatch(text):
        return float(text)
    if THOUSANDS_NUMBER.fullmatch(text):
        return float(text.replace(",", ""))
    percent = PERCENT.fullmatch(text)
    if percent:
        return float(percent.group(1)) / 100
    return None


def parse_reference_date(text: str) -> tuple[str | None, str | None, int] | None:
    """(ISO date or None, 'YYYY-MM' or None, year) for a date, a month or a year; None when it is none of them."""
    text = text.strip()
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            day = pd.to_datetime(text, format=pattern)
        except ValueError:
            continue
        return day.strftime("%Y-%m-%d"), day.strftime("%Y-%m"), day.year
    if re.fullmatch(r"\d{4}", text):
        return None, None, int(text)
    numeric_month = re.fullmatch(r"(\d{1,2})/(\d{4})", text)
    if numeric_month and 1 <= int(numeric_month.group(1)) <= 12:
        month, year = int(numeric_month.group(1)), int(numeric_month.group(2))
        return None, f"{year:04d}-{month:02d}", year
    named_month = MONTH_NAME.fullmatch(_plain(text))
    if named_month and named_month.group(1) in MONTHS:
        year = int(named_month.group(2))
        year = year + 2000 if year < 100 else year
        return None, f"{year:04d}-{MONTHS[named_month.group(1)]:02d}", year
    return None


def read_reference_figures_file(path: Path, landing_dir: Path) -> pd.DataFrame:
    name = relative_name(path, landing_dir)
    frame = read_delimited_text(path, display_name=name)
    frame.columns = [_plain(c) for c in frame.columns]
    missing = [h for h in REQUIRED_HEADERS if h not in frame.columns]
    if missing:
        raise LandingFileError(name, f"missing columns {', '.join(missing)} (expected the DataInventory headers "
                               f"{', '.join(HEADERS)})")
    out = pd.DataFrame(index=frame.index)
    for header, column in HEADERS.items():
        out[column] = frame[header].astype("string") if header in frame.columns else pd.Series(
            pd.NA, index=frame.index, dtype="string")

    values, when = [], []
    for position, (value, date) in enumerate(zip(out["value_as_sent"], out["date_as_sent"])):
        row = position + 2  # header = row 1
        number = None if pd.isna(value) else parse_value(value)
        if number is None:
            sent = "empty" if pd.isna(value) else repr(value)
            raise LandingFileError(name, f"value {sent} is neither a number (e.g. 539,957 or 386174) nor a share "
                                   "(e.g. 0.17 or 17%)", row=row, column="Valor")
        values.append(number)
        parsed = (None, None, None) if pd.isna(date) else parse_reference_date(date)
        if parsed is None:
            raise LandingFileError(name, f"date {date!r} is not DD/MM/YYYY, YYYY-MM-DD, a year (2024) or a month "
                                   "(Dec-23, 12/2023)", row=row, column="Fecha")
        when.append(parsed)

    out["value"] = pd.array(values, dtype="Float64")
    out["reference_date"] = pd.array([w[0] for w in when], dtype="string")
    out["reference_month"] = pd.array([w[1] for w in when], dtype="string")
    out["reference_year"] = pd.array([w[2] for w in when], dtype="Int64")
    out["source_file"] = name
    out["source_row"] = np.arange(2, len(frame) + 2, dtype="int64")
    return out[COLUMNS].astype({c: "string" for c in TEXT_COLUMNS + ["source_file"]}).reset_index(drop=True)


def empty_reference_figures() -> pd.DataFrame:
    columns = {c: pd.Series(dtype="string") for c in COLUMNS}
    columns.update({"value": pd.Series(dtype="Float64"), "reference_year": pd.Series(dtype="Int64"),
                    "source_row": pd.Series(dtype="int64")})
    return pd.DataFrame(columns)[COLUMNS]


def read_reference_figures(landing_dir: Path, _pseudonymizer=None) -> tuple[pd.DataFrame, list[LandedFile]]:
    """`registry/reference/DataInventory.csv` as rows of published figures; an empty table when it is absent."""
    files = find_files(landing_dir / FOLDER, FILE_PATTERN)
    if not files:
        return empty_reference_figures(), []
    path = files[0]
    frame = read_reference_figures_file(path, landing_dir)
    return frame, [LandedFile(relative_name(path, landing_dir), file_sha256(path), len(frame))]
