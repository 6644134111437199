"""dbt models as Dagster assets: staging → intermediate → marts, built with `dbt build` (models, seeds, tests).

The translator is rule-based (no per-model special cases): the asset key is [schema, model], the group is
`<layer>_<folder>` from the model's path, so the graph reads as family and layer in the UI.
"""


import os
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from dagster_project.resources import DUCKDB_POOL, WarehouseResource
from dagster_project.transform.project import dbt_project

LAYER_OWNERS = {"marts": ["team:analytics"], "intermediate": ["team:data-platform"], "staging": ["team:data-platform"]}


class WarehouseDbtTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or dbt_resource_props["schema"]
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        folders = fqn[1:-1]  # drop the project name and the model name
        return "_".join(folders[:2]) if folders else "dbt"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        fqn = dbt_resource_props.get("fqn", [])
        layer = fqn[1] if len(fqn) > 2 else ""
        return LAYER_OWNERS.get(layer, ["team:data-platform"])


translator = WarehouseDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@contextmanager
def dbt_environment(warehouse_db: str) -> Iterator[None]:
    """The dbt profile reads WAREHOUSE_DB: point it at the same file the Python assets write, for this call.

    Tests run only when all their parents are selected (cautious indirect selection): materializing the survey
    assets alone must not run a relationships test whose other parent is a registry model that isn't built.
    """
    variables = {"WAREHOUSE_DB": warehouse_db, "DBT_INDIRECT_SELECTION": os.environ.get("DBT_INDIRECT_SELECTION", "cautious")}
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# Models downstream of the Python estimation step (source `estimates`) run after it, the rest before it: two dbt
# assets, so the graph has no cycle through Python.
AFTER_ESTIMATION = "source:estimates+"


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=translator,
            exclude=AFTER_ESTIMATION, name="dbt_models", pool=DUCKDB_POOL)
def warehouse_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """Seeds, staging views, intermediate models and marts, with their dbt tests and unit tests."""
    with dbt_environment(warehouse.path):
        yield from dbt.cli(["build"], context=context).stream()


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=translator,
            select=AFTER_ESTIMATION, name="dbt_models_after_estimation", pool=DUCKDB_POOL)
def warehouse_dbt_models_after_estimation(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                                          warehouse: WarehouseResource):
    """Models built on the design-based estimates (the `indicators` table), with their tests."""
    with dbt_environment(warehouse.path):
        yield from dbt.cli(["build"], context=context).stream()
