"""Per partner 5W file, an error report workbook to send back, in the layout of R4V's `5WErrorReport.xlsx`.

`<reports_dir>/5w_error_reports/<YYYY-MM>/<file stem>_errors.xlsx` (the file's month folder), written each time
the file is validated (when it first arrives, is re-delivered, or a reference list changes), only for a file with
at least one row set aside; a report left from an earlier version of a file that now passes is removed. Layout:

* one sheet per 5W sheet of the file (same name; a CSV gives one sheet named after the file): the file's own header
  row and every data row as sent, in the file's order (values as the partner typed them, before any text repair);
* then one column per rule that fired somewhere in the file (R4V's names: `countryadmincheck`, `PiNNoBenef`, …, and
  the warehouse's own: `negative_count`, `duplicate_row`, …), holding "Review" on the rows that break it, as R4V's
  report does (it also keeps only the rule columns that fired);
* then `Review`: "Please review activity" on every row that broke at least one rule;
* a last sheet `Rules` explaining each rule column in words (from the suite's reasons) and how many rows broke it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from dagster_project.sources.landing import LandingFileError
from dagster_project.sources.partners import readers

REPORTS_FOLDER = "5w_error_reports"
REVIEW_COLUMN = "Review"
REVIEW_TEXT = "Please review activity"
FLAG = "Review"
RULES_SHEET = "Rules"
SUITE_FILE = Path(__file__).resolve().parents[3] / "expectations" / "raw__partner_5w_activities.json"


def report_path(reports_dir: Path, source_file: str) -> Path:
    """`<reports_dir>/5w_error_reports/<month folder>/<file stem>_errors.xlsx`: the month folder keeps apart the
    reports of files a partner names the same every month."""
    relative = Path(source_file)
    if relative.parts[:2] == ("partners", "5w"):
        relative = Path(*relative.parts[2:])
    return Path(reports_dir) / REPORTS_FOLDER / relative.parent / f"{relative.stem}_errors.xlsx"


def rule_explanations(suite_file: Path = SUITE_FILE) -> dict[str, str]:
    """Each row rule of the suite → its reasons in words (one rule may have several expectations)."""
    suite = json.loads(Path(suite_file).read_text(encoding="utf-8"))
    reasons: dict[str, list[str]] = {}
    for expectation in suite["expectations"]:
        meta = expectation.get("meta") or {}
        if meta.get("rule"):
            reasons.setdefault(meta["rule"], [])
            if meta.get("reason") and meta["reason"] not in reasons[meta["rule"]]:
                reasons[meta["rule"]].append(meta["reason"])
    return {rule: " / ".join(texts) for rule, texts in reasons.items()}


def _sheet_as_sent(path: Path, name: str, sheet: str | None) -> tuple[list[str], list[list[object]], int]:
    """The sheet's header (the file's own names), its data rows, and the spreadsheet number of its first data row."""
    mapping = readers.load_5w_mapping()
    rows = dict(readers._sheets_of(path, name))[sheet]
    match = readers._best_header(rows, mapping)
    header = [readers.cell_text(c) or f"column {i + 1}" for i, c in enumerate(rows[match.row_index])]
    width = len(header)
    data = [(list(row) + [None] * width)[:width] for row in rows[match.row_index + 1:]]
    while data and all(readers.cell_text(c) is None for c in data[-1]):
        data.pop()
    return header, data, match.row_index + 2


def _excel_sheet_name(sheet: str | None, source_file: str, taken: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", sheet or Path(source_file).stem)[:31] or "5W"
    candidate, number = base, 2
    while candidate in taken or candidate == RULES_SHEET:
        candidate, number = f"{base[:28]}_{number}", number + 1
    taken.add(candidate)
    return candidate


def write_error_report(path: Path, source_file: str, quarantined: pd.DataFrame, reports_dir: Path,
                       suite_file: Path = SUITE_FILE) -> Path | None:
    """Write (or remove) the error report of one 5W file; returns the report written, None when the file passed."""
    target = report_path(reports_dir, source_file)
    if quarantined.empty:
        target.unlink(missing_ok=True)
        return None
    explanations = rule_explanations(suite_file)
    flags = quarantined.assign(source_sheet=quarantined["source_sheet"] if "source_sheet" in quarantined else None)
    fired = [rule for rule in explanations if rule in set(flags["rule"])]  # the suite's order, like R4V's
    sheets: dict[str, pd.DataFrame] = {}
    taken: set[str] = set()
    sheet_names = list(dict.fromkeys(flags["source_sheet"].astype(object).where(flags["source_sheet"].notna(), None)))
    try:
        read = {sheet: _sheet_as_sent(path, source_file, sheet) for sheet in readers_sheets(path, source_file)}
    except LandingFileError:  # pragma: no cover - the file was just read; a file replaced meanwhile
        return None
    for sheet, (header, data, first_row) in read.items():
        if sheet not in sheet_names and len(read) > 1:
            continue  # another 5W sheet of the file without any failing row: not repeated in the report
        frame = pd.DataFrame(data, columns=_unique(header))
        # a returned error report sent in again: its old flag columns are replaced by this run's
        frame = frame[[c for c in frame.columns if c not in explanations and c != REVIEW_COLUMN]]
        numbers = range(first_row, first_row + len(frame))
        mine = flags[flags["source_sheet"].fillna("").astype(str) == (sheet or "")]
        for rule in fired:
            failing = set(mine.loc[mine["rule"] == rule, "source_row"].astype(int))
            frame[rule] = [FLAG if n in failing else None for n in numbers]
        any_rule = set(mine["source_row"].astype(int))
        frame[REVIEW_COLUMN] = [REVIEW_TEXT if n in any_rule else None for n in numbers]
        sheets[_excel_sheet_name(sheet, source_file, taken)] = frame
    counts = flags.groupby("rule").size()
    rules = pd.DataFrame({"rule column": fired, "what it means": [explanations[r] for r in fired],
                          "rows to review": [int(counts.get(r, 0)) for r in fired]})
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    with pd.ExcelWriter(partial, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
        rules.to_excel(writer, sheet_name=RULES_SHEET, index=False)
    partial.replace(target)
    return target


def readers_sheets(path: Path, source_file: str) -> list[str | None]:
    """The 5W sheets of a file, as the reader finds them (sheets without 5W headers are not 5W sheets)."""
    mapping = readers.load_5w_mapping()
    return [sheet for sheet, rows in readers._sheets_of(path, source_file)
            if not readers._match_sheet(rows, source_file, sheet, mapping).missing]


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in header:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out
