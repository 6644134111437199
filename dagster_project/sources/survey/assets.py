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


def _estimates_asset(table: str, compute_path: str, description: str) -> dg.AssetsDefinition:
    """A Python estimation step: read the harmonized persons, estimate with the survey designs, write estimates.<table>."""

    @dg.asset(
        key=["estimates", table],
        deps=[dg.AssetKey(["intermediate", "int_survey_persons_harmonized"])],
        group_name="estimates_survey",
        owners=OWNERS["survey"],
        kinds={"pandas", "duckdb"},
        pool=DUCKDB_POOL,
        tags={"family": "survey", "layer": "estimates"},
        description=description,
    )
    def _estimates(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        import importlib

        module_name, function_name = compute_path.rsplit(".", 1)
        compute = getattr(importlib.import_module(module_name), function_name)  # heavy imports only when run
        estimates = compute(warehouse.read_table("intermediate", "int_survey_persons_harmonized"))
        rows = warehouse.replace_table("estimates", table, estimates)
        reliability = {k: int(v) for k, v in estimates["reliability"].value_counts().items()}
        context.log.info(f"estimates.{table}: {rows} rows {reliability}")
        return dg.MaterializeResult(metadata={"dagster/row_count": rows, "reliability": dg.MetadataValue.json(reliability)})

    return _estimates


survey_indicator_estimates = _estimates_asset(
    "survey_indicators", "dagster_project.sources.survey.indicators.compute_survey_indicators",
    "Design-based estimates of every survey indicator (indicators.yaml) by population group × sex × region × age "
    "group: Taylor-linearized SEs over strata and PSUs, 95% CI, CV, n and INEI's reliability rule; the adjusted "
    "(Oaxaca–Blinder) wage gap with bootstrap SEs.",
)
survey_occupation_estimates = _estimates_asset(
    "survey_occupations", "dagster_project.sources.survey.occupations.compute_occupations",
    "Per ISCO-08 major and sub-major group: share of each population group's employed working in it and their "
    "median hourly income, with design-based SEs.",
)


@dg.asset(
    key=["estimates", "indicator_definitions"],
    group_name="estimates_survey",
    owners=OWNERS["survey"],
    kinds={"pandas", "duckdb"},
    pool=DUCKDB_POOL,
    tags={"family": "survey", "layer": "estimates"},
    description="The definition of every survey indicator (indicators.yaml): universe, numerator, weight, estimator.",
)
def survey_indicator_definitions(warehouse: WarehouseResource) -> dg.MaterializeResult:
    from dagster_project.sources.survey.indicators import indicator_definitions

    rows = warehouse.replace_table("estimates", "indicator_definitions", indicator_definitions())
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})
