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
HELPER_LABELS = {"_extract_last_day": "last day of the extract month"}


@dataclass
class GateResult:
    valid: pd.DataFrame               # rows to write (helper columns dropped)
    quarantined: pd.DataFrame         # QUARANTINE_COLUMNS + the carried columns, one line per row × rule
    passed: bool                      # the suite passed (row rules within their tolerance, structure fine)
    outcome_json: str                 # the validation outcome, for the ledger and the check's report
    summary: str                      # plain-language summary


def quarantine_lines(frame: pd.DataFrame, row_failures: list[dict], carry: list[str]) -> pd.DataFrame:
    """One line per failing row × rule (several expectations of one rule on one row merge into one line)."""
    lines = []
    for failure in row_failures:
        for entry in failure["rows"]:
            shown = []
            columns = []
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
            lines.append({"source_row": int(entry["source_row"]), "rule": failure["rule"],
                          "column_name": ", ".join(dict.fromkeys(columns)) or failure["column"],
                          "reason": failure["reason"], "value_as_sent": "; ".join(shown) or None})
    if not lines:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in [*QUARANTINE_COLUMNS, *carry]}).astype(
            {"source_row": "int64"})
    found = pd.DataFrame(lines)
    merged = (found.groupby(["source_row", "rule"], sort=True, as_index=False)
              .agg(column_name=("column_name", lambda v: ", ".join(dict.fromkeys(", ".join(v).split(", ")))),
                   reason=("reason", lambda v: " ".join(dict.fromkeys(v))),
                   value_as_sent=("value_as_sent", _merged_values)))
    by_row = frame.set_index("source_row")
    merged["source_file"] = by_row.loc[merged["source_row"], "source_file"].to_numpy()
    for column in carry:
        merged[column] = by_row.loc[merged["source_row"], column].to_numpy()
    out = merged[[*QUARANTINE_COLUMNS, *carry]]
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

    def __init__(self, quality, suite: str, run_name: str | None = None, carry: list[str] | None = None):
        self.quality, self.suite, self.run_name, self.carry = quality, suite, run_name, list(carry or [])

    def empty_quarantine(self) -> pd.DataFrame:
        """The quarantine table's columns, for a table that exists before any row was set aside."""
        return quarantine_lines(pd.DataFrame({"source_file": [], "source_row": []}), [], self.carry)

    def __call__(self, frame: pd.DataFrame) -> GateResult:
        from dagster_project.quality.gx_runner import validate_frame

        outcome = validate_frame(frame, Path(self.quality.expectations_dir) / f"{self.suite}.json",
                                 Path(self.quality.data_docs_dir), ["source_file", "source_row"],
                                 run_name=self.run_name, parameters=self.quality.suite_parameters(),
                                 collect_rows=True)
        quarantined = quarantine_lines(frame, outcome.row_failures, self.carry)
        valid = frame[~frame["source_row"].isin(quarantined["source_row"])]
        valid = valid[[c for c in valid.columns if not c.startswith("_")]].reset_index(drop=True)
        report = outcome.to_dict()
        report["quarantined_rows"] = int(quarantined["source_row"].nunique())
        return GateResult(valid=valid, quarantined=quarantined, passed=outcome.success,
                          outcome_json=json.dumps(report, ensure_ascii=False, default=str), summary=outcome.summary())
