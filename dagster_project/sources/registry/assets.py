"""Registry family: Migraciones monthly extracts (pseudonymized at read) and UNHCR Refugee Data Finder tables."""

from __future__ import annotations

from dagster_project.sources.incremental import FileBatches
from dagster_project.sources.raw_assets import RawTable, build_raw_asset
from dagster_project.sources.registry.readers import (
    EXTRACT_PATTERN, read_extract, empty_registry_extracts, read_unhcr_table,
)
from dagster_project.sources.registry.reference_figures import read_reference_figures


def _unhcr_reader(table: str):
    def read(landing_dir, _pseudonymizer):
        return read_unhcr_table(landing_dir, table)
    return read


REGISTRY_TABLES = [
    RawTable(
        name="registry_extracts", family="registry", uses_personal_data=True, read=empty_registry_extracts,
        description="Migraciones monthly full snapshots, one row per person per month; id_persona and document "
        "number replaced by keyed hashes, names never read. Loaded month by month: only new or re-delivered "
        "extracts are read. Rows breaking a row rule of expectations/raw__registry_extracts.json are set aside in "
        "raw.registry_extracts_quarantine with the rule and reason; the rest of the month loads.",
        batches=FileBatches(folder="registry/migraciones", pattern=EXTRACT_PATTERN, read_file=read_extract,
                            reader_version="2"),
        row_rules_suite="raw__registry_extracts", quarantine_carries=("extract_month",),
    ),
    RawTable(name="unhcr_population", family="registry", read=_unhcr_reader("unhcr_population"),
             description="UNHCR Refugee Data Finder: population by origin, asylum country and year."),
    RawTable(name="unhcr_asylum_applications", family="registry", read=_unhcr_reader("unhcr_asylum_applications"),
             description="UNHCR Refugee Data Finder: asylum applications by origin, asylum country and year."),
    RawTable(name="unhcr_asylum_decisions", family="registry", read=_unhcr_reader("unhcr_asylum_decisions"),
             description="UNHCR Refugee Data Finder: asylum decisions by origin, asylum country and year."),
    RawTable(name="migraciones_reference_figures", family="registry", read=read_reference_figures,
             description="Published key figures (UNHCR Peru's DataInventory.csv: CEPR, Migraciones, INEI surveys), "
             "one row per figure with its value parsed; empty when registry/reference/DataInventory.csv is absent."),
]


def registry_raw_assets():
    return [build_raw_asset(spec) for spec in REGISTRY_TABLES]
