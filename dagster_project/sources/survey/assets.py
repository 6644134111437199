"""Survey family: INEI microdata modules, one raw table per module, harmonized by each wave's crosswalk."""


import dagster as dg

from dagster_project.resources import DUCKDB_POOL, WarehouseResource
from dagster_project.sources.raw_assets import OWNERS, RawTable, build_raw_asset
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


@dg.asset(
    key=["estimates", "survey_indicators"],
    deps=[dg.AssetKey(["intermediate", "int_survey_persons_harmonized"])],
    group_name="estimates_survey",
    owners=OWNERS["survey"],
    kinds={"pandas", "duckdb"},
    pool=DUCKDB_POOL,
    tags={"family": "survey", "layer": "estimates"},
    description="Design-based estimates of every survey indicator (indicators.yaml) by population group × sex × "
    "region × age group: Taylor-linearized SEs over strata and PSUs, 95% CI, CV, n and INEI's reliability rule.",
)
def survey_indicator_estimates(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    from dagster_project.sources.survey.indicators import compute_survey_indicators

    persons = warehouse.read_table("intermediate", "int_survey_persons_harmonized")
    indicators = compute_survey_indicators(persons)
    rows = warehouse.replace_table("estimates", "survey_indicators", indicators)
    reliability = indicators["reliability"].value_counts().to_dict()
    context.log.info(f"estimates.survey_indicators: {rows} cells {reliability}")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows,
        "indicators": dg.MetadataValue.json(sorted(indicators["indicator_id"].unique().tolist())),
        "reliability": dg.MetadataValue.json({k: int(v) for k, v in reliability.items()}),
    })
