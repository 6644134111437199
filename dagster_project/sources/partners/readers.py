"""Partner files (R4V 5W, R4V reference lists, partner beneficiary records) → the raw partner tables.

Pure pandas: each reader takes the landing directory and returns (DataFrame, [LandedFile]) in the shape of
docs/raw-tables.md, or an empty DataFrame with the same columns when no file has landed. Header variants live in
`mappings/*.yaml`, so a new partner template is a mapping change, not a code change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Collection

import pandas as pd
import yaml

from dagster_project.pseudonymize import Pseudonymizer
from dagster_project.sources.landing import (
    LandedFile,
    LandingFileError,
    file_sha256,
    find_dirs,
    find_files,
    relative_name,
)
from dagster_project.sources.partners.cells import (
    Rows,
    cell_text,
    fix_text,
    fold,
    normalize_month,
    read_csv,
    read_csv_rows,
    read_workbook,
)

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
FIVE_W_MAPPING = MAPPINGS_DIR / "5w_headers.yaml"
PROPORTIONS_MAPPING = MAPPINGS_DIR / "proportions_headers.yaml"

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
MONTH_NAME = re.compile(r"\d{4}-\d{2}")
HEADER_SEARCH_ROWS = 10  # a template may put a title above the header row
LOOKS_LIKE_5W = 0.5  # share of the required headers a sheet needs to count as a 5W sheet (see _match_sheet)

PROVENANCE = {"source_file": "string", "source_sheet": "string", "source_row": "int64"}
NEED_COLUMNS = {
    "plan_year": "int64", "measure": "string", "country": "string", "admin1": "string", "subsector": "string",
    "population_type": "string", "age_sex_group": "string", "people": "Float64",
    **PROVENANCE,
}
INDICATOR_COLUMNS = ["subsector", "subsector_es", "indicator", "indicator_es", "indicator_type"]
ORGANIZATION_COLUMNS = ["name", "name_es", "role"]
BENEFICIARY_TEXT_COLUMNS = [
    "program", "enrolled_on", "completed_on", "sex", "birth_year", "nationality", "admin1", "single_parent",
    "lgbtiq", "disability", "outcome", "outcome_on", "monthly_income_pen",
]
BENEFICIARY_OPTIONAL = {"lgbtiq", "monthly_income_pen"}
BENEFICIARY_COLUMNS = ["organization", "report_month", "beneficiary_key", *BENEFICIARY_TEXT_COLUMNS]


def _empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


def _combine(frames: list[pd.DataFrame], columns: dict[str, str]) -> pd.DataFrame:
    if not frames:
        return _empty_frame(columns)
    return pd.concat(frames, ignore_index=True)[list(columns)].astype(columns)


def _landed(path: Path, landing_dir: Path, rows: int) -> LandedFile:
    return LandedFile(relative_name(path, landing_dir), file_sha256(path), rows)


def _load_yaml(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


# ---------------------------------------------------------------------------------------------------------
# 5W activity rows


@dataclass(frozen=True)
class FiveWMapping:
    kinds: dict[str, str]  # canonical column → text | yes_no | month | number, in output order
    optional: frozenset[str]
    yes_no_values: dict[str, str]  # folded value → Yes | No
    variants: dict[str, dict[str, str]]  # variant → folded header → canonical column

    @property
    def required(self) -> list[str]:
        return [c for c in self.kinds if c not in self.optional]

    @property
    def output_columns(self) -> dict[str, str]:
        return {**{c: "string" for c in self.kinds}, "header_variant": "string", **PROVENANCE}


def load_5w_mapping(path: Path = FIVE_W_MAPPING) -> FiveWMapping:
    spec = _load_yaml(path)
    kinds = dict(spec["columns"])
    variants = {}
    for variant, columns in spec["variants"].items():
        unknown = set(columns) - set(kinds)
        if unknown:
            raise ValueError(f"{path}: variant {variant} maps to unknown columns {sorted(unknown)}")
        variants[variant] = {
            fold(header): column
            for column, headers in columns.items()
            for header in (headers if isinstance(headers, list) else [headers])
        }
    return FiveWMapping(
        kinds=kinds,
        optional=frozenset(spec.get("optional", [])),
        yes_no_values={fold(k): str(v) for k, v in spec["yes_no_values"].items()},
        variants=variants,
    )


@dataclass(frozen=True)
class HeaderMatch:
    variant: str
    row_index: int  # of the header row in the sheet's rows
    positions: dict[str, int]  # canonical column → position in the header row
    duplicated: list[str]  # canonical columns more than one header maps to
    missing: list[str]  # required columns the header row lacks
    matched_required: int


def _match_variant(folded_header: list[str], row_index: int, variant: str, mapping: FiveWMapping) -> HeaderMatch:
    mapped = [mapping.variants[variant].get(cell) for cell in folded_header]
    positions: dict[str, int] = {}
    for index, column in enumerate(mapped):
        if column is not None:
            positions.setdefault(column, index)
    duplicated = sorted({c for c in mapped if c is not None and mapped.count(c) > 1})
    missing = [c for c in mapping.required if c not in positions]
    return HeaderMatch(variant, row_index, positions, duplicated, missing, len(mapping.required) - len(missing))


def _best_header(rows: Rows, mapping: FiveWMapping) -> HeaderMatch:
    """The header row (within the first rows) and variant that match the most required columns."""
    candidates = [
        _match_variant([fold(cell) for cell in row], index, variant, mapping)
        for index, row in enumerate(rows[:HEADER_SEARCH_ROWS] or [[]])
        for variant in mapping.variants
    ]
    return max(candidates, key=lambda match: (match.matched_required, -match.row_index))


def _map_distinct(values: pd.Series, function) -> pd.Series:
    """`function` over a column, called once per distinct value (5W text repeats a lot; ftfy is not free)."""
    distinct = values.dropna().unique()
    return values.map(dict(zip(distinct, map(function, distinct))))


def _clean_5w(frame: pd.DataFrame, mapping: FiveWMapping) -> pd.DataFrame:
    for column, kind in mapping.kinds.items():
        if kind in ("text", "yes_no"):
            frame[column] = _map_distinct(frame[column], fix_text)
        if kind == "yes_no":
            frame[column] = _map_distinct(frame[column], lambda v: mapping.yes_no_values.get(fold(v), v))
        if kind == "month":
            frame[column] = _map_distinct(frame[column], normalize_month)
    return frame


def _sheet_to_5w(rows: Rows, match: HeaderMatch, mapping: FiveWMapping) -> pd.DataFrame:
    records, source_rows = [], []
    for index in range(match.row_index + 1, len(rows)):
        row = rows[index]
        record = {
            column: cell_text(row[position]) if position < len(row) else None
            for column, position in match.positions.items()
        }
        if any(value is not None for value in record.values()):  # blank rows are layout, not data
            records.append(record)
            source_rows.append(index + 1)
    frame = pd.DataFrame(records, columns=list(mapping.kinds), dtype=object)
    frame = frame.where(frame.notna(), None)  # an optional column the file lacks
    frame = _clean_5w(frame, mapping)
    frame["header_variant"] = match.variant
    frame["source_row"] = source_rows
    return frame


def _match_sheet(rows: Rows, name: str, sheet: str | None, mapping: FiveWMapping) -> HeaderMatch:
    """Header row and variant of a sheet, or LandingFileError when it looks like a 5W sheet but is broken.

    A sheet with fewer than half of the required headers is not a 5W sheet (a notes or lists sheet) and the
    caller skips it; one with more but not all is a broken 5W sheet and is rejected rather than half-read.
    """
    match = _best_header(rows, mapping)
    where = f"sheet {sheet!r}: " if sheet is not None else ""
    if match.missing and match.matched_required >= LOOKS_LIKE_5W * len(mapping.required):
        raise LandingFileError(
            name, f"{where}5W headers ({match.variant}) without required columns: {', '.join(match.missing)}"
        )
    if not match.missing and match.duplicated:
        raise LandingFileError(name, f"{where}more than one column for {', '.join(match.duplicated)}")
    return match


def _sheets_of(path: Path, name: str) -> list[tuple[str | None, Rows]]:
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return list(read_workbook(path, name))
    return [(None, read_csv_rows(path, name))]


def read_5w_file(path: Path, landing_dir: Path, mapping: FiveWMapping) -> pd.DataFrame:
    """Every 5W sheet of one workbook or CSV; sheets without 5W headers are skipped."""
    name = relative_name(path, landing_dir)
    frames, closest = [], None
    for sheet, rows in _sheets_of(path, name):
        match = _match_sheet(rows, name, sheet, mapping)
        if match.missing:
            if closest is None or match.matched_required > closest.matched_required:
                closest = match
            continue
        frame = _sheet_to_5w(rows, match, mapping)
        frame["source_sheet"] = sheet
        frames.append(frame)
    if not frames:
        partly = closest is not None and closest.matched_required > 0
        missing = closest.missing if partly else mapping.required
        variant = f" (closest variant: {closest.variant})" if partly else ""
        raise LandingFileError(
            name, f"headers match no 5W variant{variant}; missing columns: {', '.join(missing)}"
        )
    result = pd.concat(frames, ignore_index=True)
    result["source_file"] = name
    return result


def find_5w_files(landing_dir: Path) -> list[Path]:
    """The 5W files under partners/5w/ and its YYYY-MM folders."""
    return _5w_files(landing_dir)


def _5w_files(landing_dir: Path) -> list[Path]:
    root = landing_dir / "partners" / "5w"
    pattern = r".*(" + "|".join(re.escape(s) for s in (*WORKBOOK_SUFFIXES, ".csv")) + ")"
    files = find_files(root, pattern)
    for folder in find_dirs(root):
        if not MONTH_NAME.fullmatch(folder.name):
            raise LandingFileError(relative_name(folder, landing_dir), "5W folders are named YYYY-MM")
        files += find_files(folder, pattern)
    return files


def read_5w_activities(
    landing_dir: Path, mapping_file: Path = FIVE_W_MAPPING
) -> tuple[pd.DataFrame, list[LandedFile]]:
    """raw.partner_5w_activities: every row of every 5W file under partners/5w/ and partners/5w/<YYYY-MM>/."""
    mapping = load_5w_mapping(mapping_file)
    frames, landed = [], []
    for path in _5w_files(landing_dir):
        frame = read_5w_file(path, landing_dir, mapping)
        frames.append(frame)
        landed.append(_landed(path, landing_dir, len(frame)))
    return _combine(frames, mapping.output_columns), landed


# ---------------------------------------------------------------------------------------------------------
# People in need and targets (Proportions.xlsx)


@dataclass(frozen=True)
class NeedColumn:
    population_type: str
    age_sex_group: str
    year: int | None


def _need_column(header: object, prefix: str, spec: dict) -> str | NeedColumn | None:
    """A column of a PiN/Target sheet: a key name, a (population type, age/sex group) measure, or None."""
    words = fold(header).split(" ")
    if words and words[0] == fold(prefix):
        words = words[1:]
    year = int(words.pop(0)) if words and re.fullmatch(r"\d{4}", words[0]) else None
    keys = {fold(v): k for k, v in spec["keys"].items()}
    if len(words) == 1 and words[0] in keys:
        return keys[words[0]]
    populations = {fold(k): v for k, v in spec["population_types"].items()}
    groups = {fold(k): v for k, v in spec["age_sex_groups"].items()}
    if 1 <= len(words) <= 2 and words[0] in populations:
        group = groups.get(words[1]) if len(words) == 2 else "all"
        if group is not None:
            return NeedColumn(populations[words[0]], group, year)
    return None


def _sheet_measure(sheet: str, spec: dict) -> str | None:
    folded = fold(sheet)
    if fold(spec["skip_sheets_containing"]) in folded:
        return None
    return next((m for m, prefix in spec["measures"].items() if folded.startswith(fold(prefix))), None)


def _plan_year(sheet: str, columns: list[str | NeedColumn | None], fallback: int | None) -> int | None:
    in_name = re.search(r"\b(\d{4})\b", sheet)
    if in_name:
        return int(in_name.group(1))
    years = {c.year for c in columns if isinstance(c, NeedColumn) and c.year is not None}
    return years.pop() if len(years) == 1 else fallback


def _people(value: object, name: str, row: int, column: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = cell_text(value)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise LandingFileError(name, f"value {text!r} is not a number", row=row, column=str(column)) from None


@dataclass(frozen=True)
class NeedSheet:
    file: str
    name: str
    measure: str  # pin | target
    year: int
    columns: list[str | NeedColumn | None]  # per header cell


def _need_sheet(rows: Rows, sheet: NeedSheet, key_names: list[str]) -> pd.DataFrame:
    """One PiN or Target sheet, long: one row per place × subsector × population type × age/sex group."""
    header = rows[0] if rows else []
    keys = {column: i for i, column in enumerate(sheet.columns) if isinstance(column, str)}
    measures = {i: column for i, column in enumerate(sheet.columns) if isinstance(column, NeedColumn)}
    missing = [k for k in key_names if k not in keys]
    if missing or not measures:
        reason = f"columns {', '.join(missing)}" if missing else "PiN/Target value columns"
        raise LandingFileError(sheet.file, f"sheet {sheet.name!r} has no {reason}")
    breakdowns = [(c.population_type, c.age_sex_group) for c in measures.values()]
    if len(set(breakdowns)) < len(breakdowns):
        raise LandingFileError(sheet.file, f"sheet {sheet.name!r} has two columns for one breakdown")
    records = []
    for row_number, row in enumerate(rows[1:], start=2):
        cells = row + [None] * (len(header) - len(row))
        if all(cell_text(c) is None for c in cells):
            continue
        place = {key: fix_text(cell_text(cells[i])) for key, i in keys.items()}
        for i, column in measures.items():
            records.append({
                **place, "population_type": column.population_type, "age_sex_group": column.age_sex_group,
                "people": _people(cells[i], sheet.file, row_number, header[i]), "source_row": row_number,
            })
    frame = pd.DataFrame(records, columns=[*key_names, "population_type", "age_sex_group", "people", "source_row"])
    frame.insert(0, "measure", sheet.measure)
    frame.insert(0, "plan_year", sheet.year)
    frame["source_sheet"] = sheet.name
    return frame


def _read_need_file(path: Path, landing_dir: Path, spec: dict) -> pd.DataFrame:
    name = relative_name(path, landing_dir)
    sheets = [(sheet, rows, _sheet_measure(sheet, spec)) for sheet, rows in read_workbook(path, name)]
    # PiN sheets first: a Target sheet without a year of its own takes the PiN sheet's
    sheets = sorted((s for s in sheets if s[2] is not None), key=lambda s: s[2] != "pin")
    if not sheets:
        raise LandingFileError(name, "no PiN or Target sheet")
    frames, pin_years = [], set()
    for sheet, rows, measure in sheets:
        header = rows[0] if rows else []
        columns = [_need_column(cell, spec["measures"][measure], spec) for cell in header]
        year = _plan_year(sheet, columns, next(iter(pin_years)) if len(pin_years) == 1 else None)
        if year is None:
            raise LandingFileError(name, f"sheet {sheet!r}: no plan year in the sheet name or column headers, "
                                         "and no single PiN sheet year to take it from")
        if measure == "pin":
            pin_years.add(year)
        frames.append(_need_sheet(rows, NeedSheet(name, sheet, measure, year, columns), list(spec["keys"])))
    frame = pd.concat(frames, ignore_index=True)
    frame["source_file"] = name
    return frame


def read_partner_need(
    landing_dir: Path, mapping_file: Path = PROPORTIONS_MAPPING
) -> tuple[pd.DataFrame, list[LandedFile]]:
    """raw.partner_need: PiN and Target sheets of partners/reference/Proportions.xlsx, one row per value."""
    spec = _load_yaml(mapping_file)
    frames, landed = [], []
    for path in find_files(landing_dir / "partners" / "reference", r"proportions\.xlsx"):
        frame = _read_need_file(path, landing_dir, spec)
        frames.append(frame)
        landed.append(_landed(path, landing_dir, len(frame)))
    return _combine(frames, NEED_COLUMNS), landed


# ---------------------------------------------------------------------------------------------------------
# Reference lists (indicators.csv, organizations.csv)


def _select_columns(
    frame: pd.DataFrame, name: str, columns: list[str], optional: Collection[str] = ()
) -> pd.DataFrame:
    """The contract's columns of a CSV (headers matched case- and accent-insensitively), as text."""
    by_header = {fold(c): c for c in frame.columns}
    missing = [c for c in columns if fold(c) not in by_header and c not in optional]
    if missing:
        raise LandingFileError(name, f"missing columns {', '.join(missing)} (see the landing contract)")
    out = pd.DataFrame(index=frame.index)
    for column in columns:
        if fold(column) not in by_header:  # an optional column the file lacks
            out[column] = None
            continue
        values = frame[by_header[fold(column)]]
        out[column] = values.astype(object).where(values.notna(), None).map(fix_text)
    return out


def _read_reference_csv(
    landing_dir: Path, file_name: str, columns: list[str]
) -> tuple[pd.DataFrame, list[LandedFile]]:
    output = {**{c: "string" for c in columns}, "source_file": "string", "source_row": "int64"}
    frames, landed = [], []
    for path in find_files(landing_dir / "partners" / "reference", re.escape(file_name)):
        name = relative_name(path, landing_dir)
        frame = _select_columns(read_csv(path, name), name, columns)
        frame["source_file"] = name
        frame["source_row"] = range(2, len(frame) + 2)
        frames.append(frame)
        landed.append(_landed(path, landing_dir, len(frame)))
    return _combine(frames, output), landed


def read_partner_indicators(landing_dir: Path) -> tuple[pd.DataFrame, list[LandedFile]]:
    """raw.partner_indicators: partners/reference/indicators.csv."""
    return _read_reference_csv(landing_dir, "indicators.csv", INDICATOR_COLUMNS)


def read_partner_organizations(landing_dir: Path) -> tuple[pd.DataFrame, list[LandedFile]]:
    """raw.partner_organizations: partners/reference/organizations.csv."""
    return _read_reference_csv(landing_dir, "organizations.csv", ORGANIZATION_COLUMNS)


# ---------------------------------------------------------------------------------------------------------
# Beneficiary records (partners/beneficiaries/<org>/<YYYY-MM>.csv)


def _beneficiary_renames(org_dir: Path, landing_dir: Path) -> dict[str, str]:
    """The partner's own header → contract column, from `<org>.mapping.yaml` next to the folder (optional)."""
    mapping_file = org_dir.parent / f"{org_dir.name}.mapping.yaml"
    if not mapping_file.is_file():
        return {}
    name = relative_name(mapping_file, landing_dir)
    expected = "expected `columns:` with lines `their header: contract column`"
    try:
        content = _load_yaml(mapping_file)
    except yaml.YAMLError as error:
        raise LandingFileError(name, f"not valid YAML ({expected}): {error}") from error
    columns = content.get("columns") if isinstance(content, dict) else None
    if not isinstance(columns, dict):
        raise LandingFileError(name, expected)
    contract = {"beneficiary_id", *BENEFICIARY_TEXT_COLUMNS}
    unknown = sorted(str(v) for v in columns.values() if v not in contract)
    if unknown:
        raise LandingFileError(name, f"maps onto columns the contract does not have: {', '.join(unknown)}")
    return {fold(theirs): ours for theirs, ours in columns.items()}


def _read_beneficiary_file(
    path: Path, landing_dir: Path, renames: dict[str, str], pseudonymizer: Pseudonymizer
) -> pd.DataFrame:
    name = relative_name(path, landing_dir)
    month = path.stem
    if not MONTH_NAME.fullmatch(month):
        raise LandingFileError(name, "beneficiary files are named <YYYY-MM>.csv")
    contract = ["beneficiary_id", *BENEFICIARY_TEXT_COLUMNS]
    # columns outside the contract (names, phone numbers…) are not even read
    wanted = {fold(c) for c in contract}
    raw = read_csv(path, name, usecols=lambda header: fold(renames.get(fold(header), header)) in wanted)
    raw.columns = [renames.get(fold(c), c) for c in raw.columns]
    if len({fold(c) for c in raw.columns}) < len(raw.columns):
        raise LandingFileError(name, "two columns map onto the same contract column (check the mapping file)")
    frame = _select_columns(raw, name, contract, BENEFICIARY_OPTIONAL)
    out = pd.DataFrame({"organization": path.parent.name, "report_month": month}, index=frame.index)
    out["beneficiary_key"] = pseudonymizer.hash_series(frame["beneficiary_id"], namespace="beneficiary").to_numpy()
    out[BENEFICIARY_TEXT_COLUMNS] = frame[BENEFICIARY_TEXT_COLUMNS]
    out["source_file"] = name
    out["source_row"] = range(2, len(out) + 2)
    return out


def read_partner_beneficiaries(
    landing_dir: Path, pseudonymizer: Pseudonymizer
) -> tuple[pd.DataFrame, list[LandedFile]]:
    """raw.partner_beneficiaries: the raw beneficiary_id is replaced by its keyed hash and never returned."""
    output = {**{c: "string" for c in BENEFICIARY_COLUMNS}, "source_file": "string", "source_row": "int64"}
    frames, landed = [], []
    for org_dir in find_dirs(landing_dir / "partners" / "beneficiaries"):
        renames = _beneficiary_renames(org_dir, landing_dir)
        for path in find_files(org_dir, r".*\.csv"):
            frame = _read_beneficiary_file(path, landing_dir, renames, pseudonymizer)
            frames.append(frame)
            landed.append(_landed(path, landing_dir, len(frame)))
    return _combine(frames, output), landed
