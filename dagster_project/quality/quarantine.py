"""Row rules at load: rows that break a rule are set aside with their reason, the rest of the file loads.

A suite's row rules are its expectations whose `meta.rule` names the rule (`expectations/raw__registry_extracts.json`
has a dozen). The load step validates each file's rows with the suite as it reads them (GX, COMPLETE results so every
failing row is listed), then splits the rows: those listed by a row rule go to the quarantine table, one line per
row × rule with the columns and values involved (never a personal value) and the rule's reason in words; the others
are written. A rule broken by more rows than its `mostly` tolerates fails the suite: the valid rows still load, but
the file stays "not validated" and the table's blocking check keeps publishing stopped until a corrected file comes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

QUARANTINE_COLUMNS = ["source_file", "source_row", "rule", "column_name", "reason", "value_as_sent"]
# Columns whose values are personal data (pseudonyms included): never copied into a quarantine line; named by the
# column the partner or registry sent.
PERSONAL_COLUMNS = {"person_key": "id_persona", "document_key": "num_documento", "beneficiary_key": "beneficiary_id"}
# The reader's helper columns, as a partner or operator should read them in a quarantine line.
HELPER_LABELS = {"_extract_last_day": "last day of the extract month",
                 "_duplicate_of_row": "same values as row"}


@dataclass
class GateResult:
    valid: pd.DataFrame               # rows to write (helper columns dropped)
    quarantined: pd.DataFrame         # QUARANTINE_COLUMNS + the carried columns, one line per row × rule
    passed: bool                      # the suite passed (row rules within their tolerance, structure fine)
    outcome_json: str                 # the validation outcome, for the ledger and the check's report
    summary: str                      # plain-language summary


def row_keys(frame: pd.DataFrame) -> list[str]:
    """The columns that identify a row within its file: (source_sheet, source_row) for workbooks read sheet by
    sheet (a row number repeats across sheets), else source_row."""
    return ["source_sheet", "source_row"] if "source_sheet" in frame.columns else ["source_row"]


def rows_set_aside(quarantined: pd.DataFrame) -> int:
    """How many distinct rows the quarantine lines cover (a row breaking two rules has two lines)."""
    if quarantined.empty:
        return 0
    return int(len(quarantined[row_keys(quarantined)].astype("string").fillna("").drop_duplicates()))


def _sent(value) -> str:
    return "(empty)" if value is None or value is pd.NA or (isinstance(value, float) and value != value) \
        else repr(value)


def quarantine_lines(frame: pd.DataFrame, row_failures: list[dict], carry: list[str]) -> pd.DataFrame:
    """One line per failing row × rule (several expectations of one rule on one row merge into one line)."""
    keys = row_keys(frame)
    with_sheet = "source_sheet" in keys
    by_row = frame.assign(_sheet_key=frame["source_sheet"].fillna("") if with_sheet else "").set_index(
        ["_sheet_key", "source_row"])
    lines = []
    for failure in row_failures:
        named = [c for c in failure.get("columns") or [] if not c.startswith("_")]
        for entry in failure["rows"]:
            shown = []
            columns = []
            where = (entry.get("source_sheet") or "" if with_sheet else "", int(entry["source_row"]))
            if failure.get("columns"):
                # the rule names the columns the sender filled in: show those, as sent (after text repair)
                columns = [c for c in named if c not in PERSONAL_COLUMNS]
                shown = [f"{c} = {_sent(by_row.loc[where, c])}" for c in columns]
                shown += [f"{HELPER_LABELS.get(c, c)} = {_sent(entry.get(c))}" for c in failure["columns"]
                          if c.startswith("_") and c in entry]
            else:
                for name, value in entry.items():
                    if name in PERSONAL_COLUMNS:
                        columns.append(PERSONAL_COLUMNS[name])
                        continue
                    if name in ("source_file", "source_sheet", "source_row"):
                        continue
                    if name == "_dates_not_understood":  # "fecha_x '31/02/2024'": already names the column
                        shown.append(str(value))
                        columns += [part.split(" ", 1)[0] for part in str(value).split("; ")]
                        continue
                    label = HELPER_LABELS.get(name, name)
                    if not name.startswith("_"):
                        columns.append(name)
                    shown.append(f"{label} = {'(empty)' if value is None else repr(value)}")
            whole_row = bool(failure.get("columns")) and not columns  # e.g. a duplicate: every column
            lines.append({"_sheet_key": where[0], "source_row": where[1], "rule": failure["rule"],
                          "column_name": "(all columns)" if whole_row else
                          ", ".join(dict.fromkeys(columns)) or failure["column"],
                          "reason": failure["reason"], "value_as_sent": "; ".join(shown) or None})
    sheet_column = ["source_sheet"] if with_sheet else []
    if not lines:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in [
            "source_file", *sheet_column, *QUARANTINE_COLUMNS[1:], *carry]}).astype({"source_row": "int64"})
    found = pd.DataFrame(lines)
    merged = (found.groupby(["_sheet_key", "source_row", "rule"], sort=True, as_index=False)
              .agg(column_name=("column_name", lambda v: ", ".join(dict.fromkeys(", ".join(v).split(", ")))),
                   reason=("reason", lambda v: " ".join(dict.fromkeys(v))),
                   value_as_sent=("value_as_sent", _merged_values)))
    where = pd.MultiIndex.from_arrays([merged["_sheet_key"], merged["source_row"]])
    merged["source_file"] = by_row.loc[where, "source_file"].to_numpy()
    if with_sheet:
        merged["source_sheet"] = by_row.loc[where, "source_sheet"].to_numpy()
    for column in carry:
        merged[column] = by_row.loc[where, column].to_numpy()
    out = merged[["source_file", *sheet_column, *QUARANTINE_COLUMNS[1:], *carry]]
    return out.astype({c: "string" for c in out.columns if c != "source_row"})


def _merged_values(values: pd.Series) -> str | None:
    """The values shown for one row × rule; a date column shown empty because what was sent is not a date is
    shown once, as sent ("fecha_x '31/02/2024'")."""
    parts = list(dict.fromkeys(part for value in values if value for part in str(value).split("; ")))
    sent = {part.split(" ", 1)[0] for part in parts if " '" in part and " = " not in part}
    parts = [part for part in parts if not (part.endswith(" = (empty)") and part.split(" ", 1)[0] in sent)]
    return "; ".join(parts) or None


class RowRuleGate:
    """Validate one file's rows with `suite` at load and split them into valid rows and quarantine lines."""

    def __init__(self, quality, suite: str, run_name: str | None = None, carry: list[str] | None = None,
                 parameters: dict | None = None, with_sheet: bool = False):
        self.quality, self.suite, self.run_name, self.carry = quality, suite, run_name, list(carry or [])
        self.parameters = dict(parameters or {})  # besides the quality resource's (e.g. lists from the landing zone)
        self.with_sheet = with_sheet  # the table's rows carry source_sheet (quarantine key: file, sheet, row)

    def empty_quarantine(self) -> pd.DataFrame:
        """The quarantine table's columns, for a table that exists before any row was set aside."""
        empty = {"source_file": [], **({"source_sheet": []} if self.with_sheet else {}), "source_row": []}
        return quarantine_lines(pd.DataFrame(empty), [], self.carry)

    def __call__(self, frame: pd.DataFrame) -> GateResult:
        from dagster_project.quality.gx_runner import validate_frame

        outcome = validate_frame(frame, Path(self.quality.expectations_dir) / f"{self.suite}.json",
                                 Path(self.quality.data_docs_dir), ["source_file", "source_sheet", "source_row"],
                                 run_name=self.run_name,
                                 parameters={**self.quality.suite_parameters(), **self.parameters},
                                 collect_rows=True)
        quarantined = quarantine_lines(frame, outcome.row_failures, self.carry)
        keys = row_keys(frame)
        as_text = lambda rows: pd.MultiIndex.from_frame(rows[keys].astype("string").fillna(""))  # noqa: E731
        valid = frame[~as_text(frame).isin(as_text(quarantined))] if len(quarantined) else frame
        valid = valid[[c for c in valid.columns if not c.startswith("_")]].reset_index(drop=True)
        report = outcome.to_dict()
        report["quarantined_rows"] = rows_set_aside(quarantined)
        return GateResult(valid=valid, quarantined=quarantined, passed=outcome.success,
                          outcome_json=json.dumps(report, ensure_ascii=False, default=str), summary=outcome.summary())
