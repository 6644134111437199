"""Dagster asset checks that validate a warehouse table with its Great Expectations suite.

Each check reads `schema.table` through the WarehouseResource (read-only connection, closed before validating),
validates the DataFrame with `expectations/<suite_name>.json` (see `gx_runner`), and reports the outcome as an
ERROR-severity, blocking check: a failure stops the assets downstream of the checked one.

No `from __future__ import annotations` here: Dagster inspects the check function's `context` annotation at
definition time and rejects it when it is a string.
"""

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Union

import dagster as dg

from dagster_project.resources import DUCKDB_POOL
from dagster_project.sources.incremental import has_quarantine, load_validations

# Where a failing row came from, when the table carries it (every raw table does; marts do not).
DEFAULT_INDEX_COLUMNS = ["source_file", "source_sheet", "source_row"]

CoercibleAssetKey = Union[dg.AssetKey, str, Sequence[str]]


def gx_asset_check(
    asset_key: dg.AssetKey,
    schema: str,
    table: str,
    suite_name: str,
    warehouse_resource_key: str = "warehouse",
    *,
    unexpected_index_columns: list[str] | None = None,
) -> dg.AssetChecksDefinition:
    """A blocking check named `gx_<suite_name>` on `asset_key` that validates `schema.table`.

    `unexpected_index_columns` name the columns that identify a failing row in the report (default: the
    provenance columns `source_file`, `source_sheet`, `source_row`, those the table has).
    """
    key = dg.AssetKey.from_coercible(asset_key)
    index_columns = list(unexpected_index_columns or DEFAULT_INDEX_COLUMNS)

    @dg.asset_check(
        asset=key,
        name=f"gx_{suite_name}",
        description=f"Great Expectations suite `{suite_name}` on `{schema}.{table}` (expectations/{suite_name}.json).",
        blocking=True,
        pool=DUCKDB_POOL,
        required_resource_keys={warehouse_resource_key, "quality"},
    )
    def _gx_check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        import duckdb

        quality = context.resources.quality
        warehouse = getattr(context.resources, warehouse_resource_key)
        with warehouse.connect(read_only=True) as connection:
            loaded_file_by_file = schema == "raw" and has_quarantine(connection, table)
        if loaded_file_by_file:  # each file was validated as it loaded (row rules, quarantine): report the ledger
            return _report_load_validation(context, warehouse, schema, table, suite_name)
        try:
            frame = warehouse.read_table(schema, table)
        except duckdb.CatalogException as error:
            message = f"The table {schema}.{table} is not in the warehouse, so it could not be checked: {error}"
            return dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.ERROR,
                description=message,
                metadata={"suite": suite_name, "table": f"{schema}.{table}", "summary": dg.MetadataValue.text(message)},
            )

        outcome = _validate(context, quality, frame, suite_name, index_columns)
        return _check_result(context, outcome, suite_name, schema, table)

    return _gx_check


def _validate(context, quality, frame, suite_name: str, index_columns: list[str]):
    from dagster_project.quality.gx_runner import validate_frame

    return validate_frame(frame, Path(quality.expectations_dir) / f"{suite_name}.json", Path(quality.data_docs_dir),
                          index_columns, run_name=context.run.run_id, parameters=quality.suite_parameters())


def _report_load_validation(context, warehouse, schema: str, table: str, suite_name: str) -> dg.AssetCheckResult:
    """A table whose files are validated as they load (row rules, quarantine): report what the ledger holds.
    Any file whose rows failed the suite (a structural failure, or a row rule broken beyond its tolerance) fails
    the check, and keeps failing on later runs until a corrected file replaces it."""
    with warehouse.connect(read_only=True) as connection:
        files = load_validations(connection, table)
    failing = [(name, json.loads(outcome or "{}")) for name, passed, _, outcome in files if not passed]
    quarantined = {name: rows for name, _, rows, _ in files if rows}
    metadata = {
        "suite": suite_name,
        "table": f"{schema}.{table}",
        "files": len(files),
        "rows_quarantined": sum(quarantined.values()),
        "rows_quarantined_by_file": dg.MetadataValue.json(quarantined),
        "failing_files": dg.MetadataValue.json([name for name, _ in failing]),
    }
    if not failing:
        message = (f"{len(files)} file(s) of {schema}.{table} passed suite {suite_name} when loaded; "
                   f"{sum(quarantined.values())} row(s) set aside in {schema}.{table}_quarantine")
        context.log.info(message)
        return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.ERROR, description=message,
                                   metadata=metadata)
    from dagster_project.quality.gx_runner import ValidationOutcome

    summaries = []
    for name, outcome in failing:
        rebuilt = ValidationOutcome(**{k: outcome[k] for k in ("suite", "success", "evaluated", "rows", "failed",
                                                              "data_docs_url") if k in outcome})
        summaries.append(f"{name}: " + rebuilt.summary())
    summary = "\n\n".join(summaries)
    context.log.warning(summary)
    headline = f"{failing[0][0]} failed suite {suite_name}: " + summaries[0].split(": ", 1)[1].splitlines()[0]
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR, description=headline,
                               metadata={**metadata, "summary": dg.MetadataValue.text(summary),
                                         "failing_expectations_json": dg.MetadataValue.json(
                                             {name: outcome.get("failed", []) for name, outcome in failing})})


def _check_result(context, outcome, suite_name: str, schema: str, table: str, extra: dict | None = None,
                  headline: str | None = None) -> dg.AssetCheckResult:
    summary = outcome.summary()
    if outcome.success:
        context.log.info(summary)
    else:
        context.log.warning(summary)
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR,
        description=headline or summary.splitlines()[0],
        metadata={
            "suite": suite_name,
            "table": f"{schema}.{table}",
            "rows": outcome.rows,
            "evaluated": outcome.evaluated,
            "failed": outcome.failed_count,
            "failing_expectations": dg.MetadataValue.md(outcome.failed_markdown()),
            "failing_expectations_json": dg.MetadataValue.json(outcome.failed),
            "summary": dg.MetadataValue.text(summary),
            "data_docs": dg.MetadataValue.url(outcome.data_docs_url),
            **(extra or {}),
        },
    )


def gx_checks_for(
    tables: Sequence[tuple[CoercibleAssetKey, str, str, str]],
    warehouse_resource_key: str = "warehouse",
) -> list[dg.AssetChecksDefinition]:
    """One `gx_asset_check` per `(asset_key, schema, table, suite_name)`."""
    return [
        gx_asset_check(dg.AssetKey.from_coercible(asset_key), schema, table, suite_name, warehouse_resource_key)
        for asset_key, schema, table, suite_name in tables
    ]
