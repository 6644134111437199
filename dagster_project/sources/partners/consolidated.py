"""R4V's consolidated-per-organization workbook → raw.partner_consolidated_reports (a historical source).

R4V publishes, per country sheet (and a 'Regional' sheet), the reached beneficiaries each appealing organization
reported per month and subsector, already consolidated: one row per organization × month × subsector, plus one
'Intersector' row per organization × month (R4V's own cross-sector figure for that organization). The table keeps
that wide shape, one row per sheet row, with the counts typed as numbers; a cell that is not a number rejects the
file with its sheet, row and column. Header names come from `mappings/consolidated_headers.yaml`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from dagster_project.sources.landing import LandedFile, LandingFileError, file_sha256, find_files, relative_name
from dagster_project.sources.partners.cells import Rows, cell_text, fix_text, fold, normalize_month, read_workbook

CONSOLIDATED_MAPPING = Path(__file__).resolve().parent / "mappings" / "consolidated_headers.yaml"
MONTH = re.compile(r"\d{4}-\d{2}")
WORKBOOK_PATTERN = r".*\.(xlsx|xlsm|xls)"
HEADER_SEARCH_ROWS = 10  # a title may sit above the header row
LOOKS_LIKE_CONSOLIDATED = 0.5  # share of the headers a sheet needs to count as a consolidated sheet
KINDS = {"text": "string", "month": "string", "count": "Float64"}
PROVENANCE = {"source_file": "string", "source_sheet": "string", "source_row": "int64"}


@dataclass(frozen=True)
class ConsolidatedMapping:
    kinds: dict[str, str]  # column → text | month | count, in output order
    headers: dict[str, str]  # folded header → column

    @property
    def output_columns(self) -> dict[str, str]:
        return {**{column: KINDS[kind] for column, kind in self.kinds.items()}, **PROVENANCE}


def load_consolidated_mapping(path: Path = CONSOLIDATED_MAPPING) -> ConsolidatedMapping:
    with path.open(encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    kinds, headers = {}, {}
    for column, entry in spec["columns"].items():
        if entry["kind"] not in KINDS:
            raise ValueError(f"{path}: column {column} has unknown kind {entry['kind']!r} (one of {', '.join(KINDS)})")
        kinds[column] = entry["kind"]
        for header in entry["headers"]:
            headers[fold(header)] = column
    return ConsolidatedMapping(kinds, headers)


@dataclass(frozen=True)
class SheetHeader:
    row_index: int  # of the header row in the sheet's rows
    positions: dict[str, int]  # column → position in the header row
    labels: dict[str, str]  # column → the header as the sheet writes it (for error messages)
    missing: list[str]


def _find_header(rows: Rows, mapping: ConsolidatedMapping) -> SheetHeader:
    """The row (within the first rows) whose cells name the most of the mapping's columns."""
    candidates = []
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS] or [[]]):
        positions, labels = {}, {}
        for position, cell in enumerate(row):
            column = mapping.headers.get(fold(cell))
            if column is not None and column not in positions:
                positions[column], labels[column] = position, cell_text(cell) or column
        missing = [column for column in mapping.kinds if column not in positions]
        candidates.append(SheetHeader(index, positions, labels, missing))
    return min(candidates, key=lambda header: (len(header.missing), header.row_index))


def _count(value: object, where: str) -> float | None:
    """A number of people from a cell; None when blank. `where` names file, sheet, row and column for errors."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and math.isnan(value):
            return None
        return float(value)
    text = cell_text(value)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is None or isinstance(value, bool) or not math.isfinite(number):
        raise ValueError(f"{where}: {text!r} is not a number of people")
    return number


def _sheet_rows(rows: Rows, header: SheetHeader, mapping: ConsolidatedMapping, file: str, sheet: str) -> list[dict]:
    records = []
    for index in range(header.row_index + 1, len(rows)):
        row = rows[index]
        cells = {column: row[position] if position < len(row) else None
                 for column, position in header.positions.items()}
        if all(cell_text(value) is None for value in cells.values()):  # blank rows are layout, not data
            continue
        row_number = index + 1
        record = {"source_sheet": sheet, "source_row": row_number}
        for column, kind in mapping.kinds.items():
            value = cells[column]
            try:
                if kind == "count":
                    record[column] = _count(value, f"sheet {sheet!r}")
                    continue
                text = fix_text(cell_text(value))
                if kind == "month":
                    month = normalize_month(text)
                    if month is None or not MONTH.fullmatch(month):
                        raise ValueError(f"sheet {sheet!r}: month {text!r} is not YYYY-MM (or a date)")
                    text = month
                record[column] = text
            except ValueError as error:
                raise LandingFileError(file, str(error), row=row_number, column=header.labels[column]) from None
        records.append(record)
    return records


def read_consolidated_file(path: Path, landing_dir: Path, mapping: ConsolidatedMapping) -> pd.DataFrame:
    """Every consolidated sheet of one workbook; sheets without the headers (notes, lists) are skipped."""
    name = relative_name(path, landing_dir)
    records, sheets_read = [], 0
    for sheet, rows in read_workbook(path, name):
        header = _find_header(rows, mapping)
        if header.missing:
            if len(header.positions) >= LOOKS_LIKE_CONSOLIDATED * len(mapping.kinds):
                raise LandingFileError(name, f"sheet {sheet!r} lacks the consolidated-report columns "
                                             f"{', '.join(header.missing)} (see mappings/consolidated_headers.yaml)")
            continue
        records += _sheet_rows(rows, header, mapping, name, sheet)
        sheets_read += 1
    if not sheets_read:
        raise LandingFileError(name, "no sheet has the R4V consolidated-report headers (Country, Admin1, "
                                     "Appealing_org, Month, Subsector, Monthly Total Beneficiaries, …)")
    frame = pd.DataFrame(records, columns=[*mapping.kinds, "source_sheet", "source_row"])
    frame["source_file"] = name
    return frame


def read_consolidated_reports(
    landing_dir: Path, mapping_file: Path = CONSOLIDATED_MAPPING
) -> tuple[pd.DataFrame, list[LandedFile]]:
    """raw.partner_consolidated_reports: every row of every workbook under partners/consolidated/."""
    mapping = load_consolidated_mapping(mapping_file)
    columns = mapping.output_columns
    frames, landed = [], []
    for path in find_files(landing_dir / "partners" / "consolidated", WORKBOOK_PATTERN):
        frame = read_consolidated_file(path, landing_dir, mapping)
        frames.append(frame)
        landed.append(LandedFile(relative_name(path, landing_dir), file_sha256(path), len(frame)))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()}), landed
    return pd.concat(frames, ignore_index=True)[list(columns)].astype(columns), landed
