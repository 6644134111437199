"""Partner-program family: R4V 5W activity reports, PiN/targets, reference lists, beneficiary records."""

from __future__ import annotations

from dagster_project.sources.incremental import FileBatches
from dagster_project.sources.partners import consolidated, error_reports, fivew_rules, readers
from dagster_project.sources.raw_assets import RawTable, build_raw_asset


def _without_pseudonymizer(read):
    def adapted(landing_dir, _pseudonymizer):
        return read(landing_dir)
    return adapted


PARTNER_TABLES = [
    RawTable(name="partner_5w_activities", family="partners", read=_without_pseudonymizer(readers.read_5w_activities),
             description="R4V 5W activity rows from every partner file (three header variants mapped onto one), "
             "as text. Loaded file by file and validated row by row as it loads (R4V's row checks and type/range "
             "checks, expectations/raw__partner_5w_activities.json): rows breaking a rule are set aside in "
             "raw.partner_5w_activities_quarantine (file, sheet, row, rule, columns, reason) and listed in the "
             "file's error report workbook; a file that cannot be read is rejected whole "
             "(raw.partner_5w_activities_rejected_files) and the other files still load.",
             batches=FileBatches(folder="partners/5w", pattern=".*", find=readers.find_5w_files,
                                 read_file=fivew_rules.read_5w_batch, reader_version="1", fingerprint=fivew_rules.rules_fingerprint,
                                 parameters=fivew_rules.rule_parameters, reject_unreadable=True, with_sheet=True),
             row_rules_suite="raw__partner_5w_activities", quarantine_carries=("month",),
             file_report=error_reports.write_error_report),
    RawTable(name="partner_need", family="partners", read=_without_pseudonymizer(readers.read_partner_need),
             description="R4V People in Need and targets (Proportions.xlsx), long by population type and age/sex."),
    RawTable(name="partner_indicators", family="partners", read=_without_pseudonymizer(readers.read_partner_indicators),
             description="The coordinator's sector–indicator list with each indicator's type (PiN, Capacity Building, Other)."),
    RawTable(name="partner_organizations", family="partners",
             read=_without_pseudonymizer(readers.read_partner_organizations),
             description="The coordinator's list of appealing and implementing organizations."),
    RawTable(name="partner_beneficiaries", family="partners", uses_personal_data=True,
             read=readers.read_partner_beneficiaries,
             description="Program participants and outcomes per partner and month; the partner's id keyed-hashed."),
    RawTable(name="partner_consolidated_reports", family="partners",
             read=_without_pseudonymizer(consolidated.read_consolidated_reports),
             description="R4V's consolidated reached beneficiaries per appealing organization × month × subsector "
             "(one sheet per country and 'Regional'), counts typed; a historical source."),
]


def partner_raw_assets():
    return [build_raw_asset(spec) for spec in PARTNER_TABLES]
