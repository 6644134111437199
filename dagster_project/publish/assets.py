"""The publish asset: the last step of a refresh, after every blocking check of the run has passed."""


import json
from pathlib import Path

import dagster as dg

from dagster_project.publish.publisher import DictionaryEntry, publish
from dagster_project.resources import DUCKDB_POOL, WarehouseResource
from dagster_project.transform.project import dbt_project


class PublishedDatabaseResource(dg.ConfigurableResource):
    """The analysts' read-only file (`WAREHOUSE_PUBLISHED_DB`) and how many earlier versions to keep."""

    path: str
    keep_versions: int = 5

    @property
    def versions_dir(self) -> Path:
        return Path(self.path).parent / "versions"


def mart_models(manifest_path: Path | None = None) -> list[dict]:
    """The dbt models that make up the published database: everything built into the `marts` schema."""
    manifest = json.loads(Path(manifest_path or dbt_project.manifest_path).read_text())
    return sorted(
        (node for node in manifest["nodes"].values()
         if node["resource_type"] == "model" and node["config"].get("schema") == "marts"),
        key=lambda node: node["name"],
    )


def data_dictionary(models: list[dict]) -> list[DictionaryEntry]:
    entries = []
    for model in models:
        entries.append(DictionaryEntry(model["name"], "*", "table", model.get("description", "")))
        for column in model.get("columns", {}).values():
            entries.append(DictionaryEntry(model["name"], column["name"], column.get("data_type") or "",
                                           column.get("description", "")))
    return entries


def check_summary_for_run(context: dg.AssetExecutionContext) -> dict:
    """Every asset-check evaluation recorded in this run (GX suites and dbt tests)."""
    records = context.instance.all_logs(context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    checks = []
    for record in records:
        evaluation = record.dagster_event.event_specific_data
        checks.append({
            "asset": evaluation.asset_key.to_user_string(),
            "check": evaluation.check_name,
            "passed": bool(evaluation.passed),
            "severity": getattr(evaluation.severity, "value", str(evaluation.severity)),
        })
    failed = [c for c in checks if not c["passed"] and c["severity"] == "ERROR"]
    return {"evaluated": len(checks), "passed": sum(c["passed"] for c in checks), "failed": len(failed),
            "failed_checks": failed, "checks": checks}


def landed_files(warehouse: WarehouseResource) -> list[dict]:
    with warehouse.connect(read_only=True) as connection:
        rows = connection.execute(
            "select raw_table, source_file, sha256, row_count from meta.landed_files order by raw_table, source_file"
        ).fetchall()
    return [{"table": t, "file": f, "sha256": s, "rows": r} for t, f, s, r in rows]


def build_publish_asset(mart_keys: list[dg.AssetKey], gx_check_count: int) -> dg.AssetsDefinition:
    @dg.asset(
        key=["published", "analytics_db"],
        deps=mart_keys,
        group_name="publish",
        owners=["team:data-platform"],
        kinds={"duckdb"},
        pool=DUCKDB_POOL,
        description="Write-audit-publish: the marts, meta.publish_log and meta.dictionary in a new file, "
        "swapped atomically over the analysts' read-only database; earlier versions kept for rollback.",
    )
    def published_analytics_db(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                               published: PublishedDatabaseResource) -> dg.MaterializeResult:
        summary = check_summary_for_run(context)
        gx_evaluated = sum(1 for c in summary["checks"] if c["check"].startswith("gx_"))
        if summary["failed"] or gx_evaluated < gx_check_count:
            # Blocking checks already stop this step; this guards runs that select publish without its checks.
            raise dg.Failure(
                description="not published: this run must evaluate and pass every quality check first "
                f"({gx_evaluated}/{gx_check_count} GX checks evaluated, {summary['failed']} failed)",
                metadata={"failed_checks": dg.MetadataValue.json(summary["failed_checks"])},
            )
        models = mart_models()
        result = publish(
            warehouse_db=Path(warehouse.path), published_db=Path(published.path),
            versions_dir=published.versions_dir, marts=[m["name"] for m in models], run_id=context.run.run_id,
            input_files=landed_files(warehouse), check_summary=summary, dictionary=data_dictionary(models),
            keep_versions=published.keep_versions,
        )
        context.log.info(f"published v{result.version} to {result.published_db}")
        return dg.MaterializeResult(metadata={
            "version": result.version,
            "published_db": dg.MetadataValue.path(str(result.published_db)),
            "tables": dg.MetadataValue.json(result.table_rows),
            "checks_passed": summary["passed"],
            "kept_versions_pruned": len(result.pruned),
        })

    return published_analytics_db

