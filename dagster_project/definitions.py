"""The one Definitions object: source families → raw tables → dbt → quality checks → publish.

Built lazily (`dg.definitions`) from `Settings.from_env()`, so importing this module reads no environment and
touches no file; `build_definitions(settings)` is what tests call with their own tmp_path settings.
"""


from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project.publish.assets import PublishedDatabaseResource, build_publish_asset, mart_models
from dagster_project.quality.checks import gx_asset_check
from dagster_project.resources import PseudonymizerResource, QualityResource, WarehouseResource
from dagster_project.settings import Settings
from dagster_project.sources.partners.assets import partner_raw_assets
from dagster_project.sources.raw_assets import LandingZoneResource
from dagster_project.sources.registry.assets import registry_raw_assets
from dagster_project.sources.survey.assets import (
    survey_indicator_definitions, survey_indicator_estimates, survey_occupation_estimates, survey_raw_assets,
)
from dagster_project.transform.assets import warehouse_dbt_models, warehouse_dbt_models_after_estimation
from dagster_project.transform.project import dbt_executable, dbt_project

FULL_REFRESH_JOB = "full_refresh"


def quality_checks(expectations_dir: Path) -> list[dg.AssetChecksDefinition]:
    """One blocking GX check per suite file: `<schema>__<table>.json` checks the asset [schema, table]."""
    checks = []
    for suite_file in sorted(expectations_dir.glob("*__*.json")):
        schema, table = suite_file.stem.split("__", 1)
        checks.append(gx_asset_check(dg.AssetKey([schema, table]), schema, table, suite_file.stem))
    return checks


def build_definitions(settings: Settings) -> dg.Definitions:
    raw_assets = [*survey_raw_assets(), *registry_raw_assets(), *partner_raw_assets()]
    mart_keys = [dg.AssetKey(["marts", model["name"]]) for model in mart_models()]
    checks = quality_checks(settings.expectations_dir)
    publish_asset = build_publish_asset(mart_keys, gx_check_count=len(checks))

    full_refresh = dg.define_asset_job(
        FULL_REFRESH_JOB,
        selection=dg.AssetSelection.all(),
        description="Load every landed file, build the models, run every quality check, publish if all passed.",
        tags={"dagster/max_runtime": str(4 * 3600)},
        # Every step of a refresh waits for the one-writer pool anyway; one process avoids a process start and
        # a Great Expectations import per step (UI runs: ~30 s instead of ~4 min at demo size).
        executor_def=dg.in_process_executor,
    )
    monthly = dg.ScheduleDefinition(
        name="monthly_full_refresh",
        job=full_refresh,
        cron_schedule="0 6 3 * *",  # the 3rd at 06:00: partners' 5W reports for the month before are in
        execution_timezone="America/Lima",
        description="Monthly refresh after the partners' reporting deadline.",
        default_status=dg.DefaultScheduleStatus.RUNNING,  # runs whenever the Dagster daemon runs (`make ui`)
    )
    return dg.Definitions(
        assets=[*raw_assets, warehouse_dbt_models, survey_indicator_estimates, survey_occupation_estimates,
                survey_indicator_definitions,
                warehouse_dbt_models_after_estimation,
                publish_asset],
        asset_checks=checks,
        jobs=[full_refresh],
        schedules=[monthly],
        resources={
            "warehouse": WarehouseResource(path=str(settings.warehouse_db)),
            "landing": LandingZoneResource(path=str(settings.landing_dir), reports_dir=str(settings.reports_dir)),
            "pseudonymizer": PseudonymizerResource(key_file=str(settings.pseudonym_key_file)),
            "published": PublishedDatabaseResource(path=str(settings.published_db), keep_versions=settings.keep_versions),
            "quality": QualityResource(expectations_dir=str(settings.expectations_dir),
                                       data_docs_dir=str(settings.data_docs_dir),
                                       seeds_dir=str(settings.dbt_project_dir / "seeds"),
                                       registry_max_monthly_stock_change=settings.registry_max_monthly_stock_change),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(Settings.from_env())
