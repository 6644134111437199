"""Survey family: INEI microdata modules, one raw table per module, harmonized by each wave's crosswalk."""

from __future__ import annotations


from dagster_project.sources.raw_assets import RawTable, build_raw_asset
from dagster_project.sources.survey.readers import read_survey_table

MODULE_DESCRIPTIONS = {
    "survey_members": "Household members (ENAHO/ENAHOPV module 200): sex, age, nationality, ubigeo, weight.",
    "survey_education": "Education (module 300): level attained (p301a).",
    "survey_health": "Health (module 400): health-insurance affiliation (p4191–p4198).",
    "survey_employment": "Employment and income (module 500): labor status, informality, occupation, hours, income.",
    "survey_migration": "Migration (ENAHOPV module 1000): migratory permit (p1002).",
}


def _reader(table: str):
    def read(landing_dir, _pseudonymizer):
        return read_survey_table(landing_dir, table)
    return read


SURVEY_TABLES = [
    RawTable(name=table, family="survey", description=description, read=_reader(table))
    for table, description in MODULE_DESCRIPTIONS.items()
]


def survey_raw_assets():
    return [build_raw_asset(spec) for spec in SURVEY_TABLES]
