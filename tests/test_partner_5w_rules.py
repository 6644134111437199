"""5W rows validated row by row at load: R4V's row checks (and ours) fire on the right row and column, the valid rows
load, every partner file gets its error report workbook, and on the real R4V files the checks agree with R4V's own
error report.

The tiny demo 5W files carry one planted broken row per rule per month (`dagster_project/demo/partners.py`
`plant_fivew_defects`), known to the generator's truth (`truth["partners"]["fivew_quarantined"]`).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from dagster_project.demo.partners import FIVEW_DEFECTS
from dagster_project.quality.quarantine import RowRuleGate
from dagster_project.sources.partners import error_reports, fivew_rules, readers
from tests.conftest import clone_refresh, run_refresh_in

REAL_5W_FILES = {  # file → header variant
    "Activities_5W_2022.xlsx": "english_short", "Activities_5W_2023.xlsx": "english_short",
    "5WErrorReport.xlsx": "english_short", "Translated5W.xlsx": "english_long",
    "RMRP2022ActivitiesSP.xlsx": "spanish",
}


@pytest.fixture(scope="module")
def fivew_refresh(tiny_landing, tmp_path_factory):
    landing, truth = tiny_landing
    root = tmp_path_factory.mktemp("fivew")
    shutil.copytree(landing, root / "landing")
    with pytest.MonkeyPatch.context() as monkeypatch:
        return run_refresh_in(root, monkeypatch, truth)


@pytest.fixture(scope="module")
def refresh_with_unreadable_file(fivew_refresh, tmp_path_factory):
    """The same warehouse, then a second refresh after a partner sent a file that is not a workbook."""
    root = clone_refresh(fivew_refresh, tmp_path_factory.mktemp("fivew_unreadable"))
    (root / "landing" / "partners" / "5w" / "2024-01" / "unreadable_5w.xlsx").write_bytes(b"not a workbook")
    with pytest.MonkeyPatch.context() as monkeypatch:
        return run_refresh_in(root, monkeypatch, fivew_refresh.truth)


def _query(path, sql):
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql).df()


def test_every_planted_defect_is_quarantined_on_its_row_and_column_and_the_valid_rows_load(fivew_refresh):
    refresh = fivew_refresh
    planted = refresh.truth["partners"]["fivew_quarantined"]
    assert set(FIVEW_DEFECTS) <= {rule for rules in planted.values() for rule in rules}  # every rule, every file
    lines = _query(refresh.settings.warehouse_db, "select * from raw.partner_5w_activities_quarantine")
    found = lines.groupby(["source_file", "rule"]).size().to_dict()
    assert found == {(f, rule): n for f, rules in planted.items() for rule, n in rules.items()}
    # each defect row breaks exactly its own rule, on the rows appended after the valid ones, in the columns changed
    assert not lines.duplicated(["source_file", "source_row"]).any()
    for file, figures in ((f"partners/5w/{m}/{v['file']}", v) for m, v in refresh.truth["partners"]["files"].items()):
        mine = lines[lines.source_file == file].sort_values("source_row")
        assert list(mine.rule) == FIVEW_DEFECTS  # planted in this order, one row each, after the valid rows
        assert list(mine.source_row) == list(range(figures["rows"] + 2, figures["rows"] + 2 + len(FIVEW_DEFECTS)))
    columns = lines.drop_duplicates("rule").set_index("rule")["column_name"]
    assert columns["countryadmincheck"] == "country, admin1" and columns["negative_count"] == "in_transit"
    assert columns["zeroCVA"] == "cva, value" and columns["duplicate_row"] == "(all columns)"
    assert "Atlantis" in lines[lines.rule == "countryadmincheck"].value_as_sent.iloc[0]
    loaded = _query(refresh.settings.warehouse_db,
                    "select source_file, count(*) as n from raw.partner_5w_activities group by 1")
    assert dict(zip(loaded.source_file, loaded.n)) == {
        f"partners/5w/{m}/{v['file']}": v["rows"] for m, v in refresh.truth["partners"]["files"].items()}
    # the valid rows' new beneficiaries are the generator's truth (broken copies never reach intermediate)
    sums = _query(refresh.settings.warehouse_db,
                  "select activity_month, admin1, subsector, sum(new_beneficiaries) as n "
                  "from intermediate.int_partner_5w_activities where indicator_type = 'PiN' group by 1, 2, 3")
    got = {(r.activity_month, r.admin1, r.subsector): int(r.n) for r in sums.itertuples()}
    truth = {(m, a, s): n for m, by_admin1 in refresh.truth["partners"]["new_beneficiaries"].items()
             for a, by_subsector in by_admin1.items() for s, n in by_subsector.items()}
    assert got == truth


def test_the_unreadable_file_is_rejected_whole_and_blocks_while_the_others_load(fivew_refresh,
                                                                                refresh_with_unreadable_file):
    assert fivew_refresh.result.success  # without the unreadable file, the planted defects do not block
    refresh = refresh_with_unreadable_file
    assert not refresh.result.success
    rejected = _query(refresh.settings.warehouse_db, "select * from raw.partner_5w_activities_rejected_files")
    assert list(rejected.source_file) == ["partners/5w/2024-01/unreadable_5w.xlsx"]
    assert "cannot be read as a workbook" in rejected.reason.iloc[0]
    materialization = refresh.result.asset_materializations_for_node("raw__partner_5w_activities")[0]
    assert list(materialization.metadata["files_rejected_now"].value) == ["partners/5w/2024-01/unreadable_5w.xlsx"]
    assert materialization.metadata["files_unchanged"].value == 3  # the other files stay loaded, not re-read
    loaded = _query(refresh.settings.warehouse_db, "select count(*) as n from raw.partner_5w_activities")
    assert loaded.n.iloc[0] == sum(v["rows"] for v in refresh.truth["partners"]["files"].values())
    first = fivew_refresh.result.asset_materializations_for_node("raw__partner_5w_activities")[0]
    by_rule = first.metadata["rows_quarantined_by_file_and_rule"].value
    assert by_rule == refresh.truth["partners"]["fivew_quarantined"]
    assert "countryadmincheck" in first.metadata["quarantine_preview"].value
    check = next(e for e in refresh.result.get_asset_check_evaluations()
                 if e.check_name == "gx_raw__partner_5w_activities")
    assert not check.passed and "unreadable_5w.xlsx" in check.description


def test_each_file_gets_an_error_report_workbook_with_the_rule_columns_on_the_failing_rows(fivew_refresh):
    refresh = fivew_refresh
    for month, figures in refresh.truth["partners"]["files"].items():
        report = error_reports.report_path(refresh.settings.reports_dir, f"partners/5w/{month}/{figures['file']}")
        # in the file's month folder: partners often name their file the same every month
        assert report == refresh.settings.reports_dir / "5w_error_reports" / month / figures["file"].replace(
            Path(figures["file"]).suffix, "_errors.xlsx")
        workbook = openpyxl.load_workbook(report, read_only=True)
        sheet = workbook.worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        header = list(rows[0])
        sent_header = list(readers.read_csv(refresh.settings.landing_dir / "partners" / "5w" / month / figures["file"],
                                            figures["file"]).columns) if figures["file"].endswith(".csv") else None
        assert header[-len(FIVEW_DEFECTS) - 1:] == [*FIVEW_DEFECTS, "Review"]  # one column per rule that fired
        if sent_header is not None:
            assert header[:len(sent_header)] == sent_header  # the file's own header names
        for position, rule in enumerate(FIVEW_DEFECTS):
            flagged = [i + 2 for i, row in enumerate(rows[1:]) if row[header.index(rule)] == "Review"]
            assert flagged == [figures["rows"] + 2 + position]
        review = [i + 2 for i, row in enumerate(rows[1:]) if row[header.index("Review")] == "Please review activity"]
        assert review == list(range(figures["rows"] + 2, figures["rows"] + 2 + len(FIVEW_DEFECTS)))
        rules = list(workbook["Rules"].iter_rows(values_only=True))
        assert [r[0] for r in rules[1:]] == FIVEW_DEFECTS and all(r[1] for r in rules[1:])


def test_the_quarantine_mart_counts_by_file_month_and_rule(fivew_refresh):
    refresh = fivew_refresh
    mart = _query(refresh.settings.warehouse_db,
                  "select source_file, rule, sum(rows_quarantined) as n from marts.partner_rows_quarantined group by 1, 2")
    assert {(r.source_file, r.rule): int(r.n) for r in mart.itertuples()} == {
        (f, rule): n for f, rules in refresh.truth["partners"]["fivew_quarantined"].items() for rule, n in rules.items()}
    months = _query(refresh.settings.warehouse_db,
                    "select activity_month from marts.partner_rows_quarantined where rule = 'month_in_future'")
    assert set(months.activity_month) == {"2099-01"}


def test_a_changed_reference_list_validates_the_loaded_files_again(tmp_path):
    lists = fivew_rules.load_reference_lists(tmp_path)  # nothing landed: the seeds
    assert lists.sources["organizations"] == "seed r4v_organizations"
    assert "peru | lima" in lists.country_admin1
    (tmp_path / "partners" / "reference").mkdir(parents=True)
    (tmp_path / "partners" / "reference" / "admin2.csv").write_text("country,admin1,admin2\nPeru,Lima,Huaral\n")
    changed = fivew_rules.load_reference_lists(tmp_path)
    assert changed.admin1_admin2 == {"lima | huaral"} and changed.fingerprint() != lists.fingerprint()


# ---------------------------------------------------------------------------------------------------------------
# the real R4V files


class _Quality:
    def __init__(self, tmp_path):
        from dagster_project.settings import REPO_ROOT
        self.expectations_dir = str(REPO_ROOT / "expectations")
        self.data_docs_dir = str(tmp_path / "data_docs")

    def suite_parameters(self):
        return {}


def _real_rows(real_data) -> dict[str, pd.DataFrame]:
    r4v = real_data / "r4v"
    mapping = readers.load_5w_mapping()
    return {name: readers._combine([readers.read_5w_file(r4v / name, r4v, mapping)], mapping.output_columns)
            for name in REAL_5W_FILES}


def _lists_from_the_rows(real_data, frames) -> fivew_rules.ReferenceLists:
    """R4V's ActivityInfo lists are not public: locations are Proportions.xlsx's pairs plus the (repaired) pairs the
    rows themselves use, organizations and sector–indicator pairs those the rows use (Translated5W.xlsx is R4V's
    row-by-row translation of RMRP2022ActivitiesSP.xlsx, which pairs English and Spanish names). Indicator types are
    not public either: every type is left unknown, so the type-dependent rules (PiNNoBenef, NewBenefvstotal,
    PopTypeBreakdown, AGDBreakdown, CBuildingNoBenef, NoOutput) cannot fire and are not compared."""
    r4v = real_data / "r4v"
    need = readers._read_need_file(r4v / "Proportions.xlsx", r4v, readers._load_yaml(readers.PROPORTIONS_MAPPING))
    rows = pd.concat(frames.values(), ignore_index=True)
    locations = pd.concat([need[["country", "admin1"]], rows[["country", "admin1"]]]).dropna().drop_duplicates()
    names = pd.concat([rows.appealing_org, rows.implementing_partner]).dropna().unique()
    organizations = pd.DataFrame({"name": names, "name_es": None, "role": "appealing"})
    spanish, english = frames["RMRP2022ActivitiesSP.xlsx"], frames["Translated5W.xlsx"]
    assert list(spanish.source_row) == list(english.source_row)
    pairs = pd.concat([
        pd.DataFrame({"subsector": english.subsector, "subsector_es": spanish.subsector.to_numpy(),
                      "indicator": english.indicator, "indicator_es": spanish.indicator.to_numpy()}),
        pd.DataFrame({"subsector": rows.subsector, "subsector_es": None, "indicator": rows.indicator,
                      "indicator_es": None})]).assign(indicator_type="Other")
    lists = fivew_rules.ReferenceLists.from_frames(locations, rows[["country", "admin1", "admin2"]].dropna(),
                                                   organizations, pairs)
    return dataclasses.replace(lists, indicator_types={k: "unknown" for k in lists.indicator_types})


def _validate(frame, lists, tmp_path):
    gate = RowRuleGate(_Quality(tmp_path), "raw__partner_5w_activities", with_sheet=True,
                       parameters={**lists.parameters(), "current_month_index": fivew_rules.current_month_index()})
    return gate(fivew_rules.add_rule_columns(frame, lists))


# What fires on the real files with those lists, each checked against the rows as sent (see the asserts below)
EXPECTED_REAL = {
    "Activities_5W_2022.xlsx": {"miss_implementing_org": 2, "zeroCVA": 2, "missingmechanism": 2},
    "Activities_5W_2023.xlsx": {"duplicate_row": 1},
    "5WErrorReport.xlsx": {},
    "Translated5W.xlsx": {},
    "RMRP2022ActivitiesSP.xlsx": {},
}


def test_every_real_5w_file_loads_with_its_variant_and_no_unexpected_rejection(real_data, tmp_path):
    frames = _real_rows(real_data)
    lists = _lists_from_the_rows(real_data, frames)
    for name, frame in frames.items():
        assert set(frame.header_variant) == {REAL_5W_FILES[name]}
        checked = _validate(frame, lists, tmp_path)
        lines = checked.quarantined
        assert lines.groupby("rule").size().to_dict() == EXPECTED_REAL[name], name
        assert len(checked.valid) == len(frame) - lines.source_row.nunique()
        rows = frame.set_index("source_row")
        for line in lines.itertuples():
            row = rows.loc[line.source_row]
            if line.rule == "duplicate_row":  # the 2023 form repeats a row value for value: the copy is set aside
                first = int(line.value_as_sent.split("= '")[1].rstrip("'"))
                assert first < line.source_row
                same = rows.loc[first, fivew_rules.FORM_COLUMNS].fillna("") == row[fivew_rules.FORM_COLUMNS].fillna("")
                assert same.all()
            elif line.rule == "miss_implementing_org":  # Implementation Yes without an implementing partner
                assert row.implementation == "Yes" and pd.isna(row.implementing_partner)
            elif line.rule == "zeroCVA":  # CVA Yes with an empty or zero transfer value
                assert row.cva == "Yes" and (pd.isna(row.value) or float(row.value) == 0)
            else:  # missingmechanism: CVA Yes without a delivery mechanism
                assert line.rule == "missingmechanism" and row.cva == "Yes" and pd.isna(row.delivery_mechanism)


def test_r4v_error_report_rows_are_flagged_on_the_text_as_sent_and_pass_once_repaired(real_data, tmp_path,
                                                                                      monkeypatch):
    frames = _real_rows(real_data)
    lists = _lists_from_the_rows(real_data, frames)
    r4v = real_data / "r4v"
    sent = pd.read_excel(r4v / "5WErrorReport.xlsx", dtype=object)
    r4v_flagged = {i + 2 for i, v in enumerate(sent["countryadmincheck"]) if v == "Review"}
    assert len(r4v_flagged) == 9 and all("Ã" in sent.loc[r - 2, "Admin1"] for r in r4v_flagged)
    r4v_rule_columns = [c for c in sent.columns if c in fivew_rules_rules()]
    assert r4v_rule_columns == ["countryadmincheck"]  # R4V keeps only the rule columns that fired

    monkeypatch.setattr(readers, "fix_text", lambda text: text)  # the text as sent, not repaired
    as_sent = _real_rows(real_data)["5WErrorReport.xlsx"]
    monkeypatch.undo()
    lines = _validate(as_sent, lists, tmp_path).quarantined
    assert set(lines.rule) == {"countryadmincheck"}  # no rule fires where R4V's did not
    assert set(lines.source_row) == r4v_flagged
    assert all("Ã" in v for v in lines.value_as_sent)

    repaired = frames["5WErrorReport.xlsx"]
    assert "Córdoba" in set(repaired.admin1)
    assert _validate(repaired, lists, tmp_path).quarantined.empty  # the warehouse repairs, then validates


def fivew_rules_rules() -> set[str]:
    return set(error_reports.rule_explanations())
