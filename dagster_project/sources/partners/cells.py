"""Cells of partner workbooks and CSVs → the trimmed text the raw partner tables keep.

Partner files are kept as text in the raw layer so that a bad value (a count typed as "n/a") reaches the checks
instead of being lost in a cast; these helpers turn whatever a cell holds into that text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from pathlib import Path
from typing import Callable

import ftfy
import pandas as pd
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

from dagster_project.sources.landing import LandingFileError
from dagster_project.sources.tabular import read_delimited_text

Rows = list[list[object]]

_SPACES = re.compile(r"\s+")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})(?:-\d{1,2}(?:[ T][\d:.]+)?)?")


def cell_text(value: object) -> str | None:
    """A cell as trimmed text; None when empty. Excel numbers lose a spurious `.0`, dates become ISO text."""
    if value is None:
        return None
    if isinstance(value, bool):  # before int: bool is an int
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        # 15 significant digits is what Excel shows: 0.1 + 0.2 reads "0.3", as the partner typed it
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def fix_text(text: str | None) -> str | None:
    """Repair double-encoded text ('OrientaciÃ³n' → 'Orientación'); other text is left alone."""
    return ftfy.fix_encoding(text) if text else text


def fold(value: object) -> str:
    """A header or code as compared: repaired, trimmed, single-spaced, case and accents ignored."""
    text = fix_text(cell_text(value)) or ""
    without_accents = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )
    return _SPACES.sub(" ", without_accents).casefold()


def normalize_month(text: str | None) -> str | None:
    """YYYY-MM for YYYY-MM, YYYY-MM-DD and Excel dates (already ISO text here); anything else as sent."""
    if text is None:
        return None
    match = _MONTH.fullmatch(text)
    if match and 1 <= int(match.group(2)) <= 12:
        return f"{match.group(1)}-{int(match.group(2)):02d}"
    return text


def read_workbook(path: Path, name: str) -> list[tuple[str, Rows]]:
    """Every worksheet as (sheet name, rows); rows[i] is spreadsheet row i + 1 (leading blank rows kept)."""
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        return [
            (sheet.name, workbook.get_sheet_by_name(sheet.name).to_python(skip_empty_area=False))
            for sheet in workbook.sheets_metadata
            if sheet.typ == SheetTypeEnum.WorkSheet
        ]
    except (CalamineError, OSError) as error:
        raise LandingFileError(name, f"cannot be read as a workbook: {error}") from error


def read_csv(path: Path, name: str, usecols: Callable[[str], bool] | None = None) -> pd.DataFrame:
    """A delimited text file as stripped strings (encoding and , or ; detected); errors name the file.

    `usecols` (called with each lower-cased header) leaves columns unread.
    """
    return read_delimited_text(path, usecols=usecols, display_name=name)


def read_csv_rows(path: Path, name: str) -> Rows:
    """A delimited text file as rows, header first, like a sheet (header = row 1)."""
    frame = read_csv(path, name)
    return [list(frame.columns), *frame.astype(object).where(frame.notna(), None).values.tolist()]
