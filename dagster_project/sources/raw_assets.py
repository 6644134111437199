"""One factory for every raw ingest asset: read landed files with a family's reader, write `raw.<table>`.

Each raw asset replaces its table whole from every complete file in the landing zone, or, for a table declared
with `batches` (sources/incremental.py), brings it up to date file by file, reading only new or changed files.
It records which files (with checksums) the table holds in `meta.landed_files` for the publish log, and reports
rows, columns and files as Dagster metadata. A `LandingFileError` becomes a `dg.Failure` naming file, row, column
and reason.
"""


from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import dagster as dg
import pandas as pd

from dagster_project.pseudonymize import Pseudonymizer
from dagster_project.resources import DUCKDB_POOL, WarehouseResource
from dagster_project.sources.incremental import FileBatches, IncrementalLoad, load_incrementally
from dagster_project.sources.landing import LandedFile, LandingFileError

Reader = Callable[[Path, Pseudonymizer | None], tuple[pd.DataFrame, list[LandedFile]]]


class LandingZoneResource(dg.ConfigurableResource):
    """Where partners, INEI and Migraciones files land (`WAREHOUSE_LANDING_DIR`)."""

    path: str
    # where per-file reports to send back go (5W error report workbooks); empty: the settings' reports_dir
    reports_dir: str = ""

    def reports_path(self) -> Path:
        if self.reports_dir:
            return Path(self.reports_dir)
        from dagster_project.settings import Settings

        return Settings.from_env().reports_dir


@dataclass(frozen=True)
class RawTable:
    name: str
    family: str  # survey | registry | partners
    description: str
    read: Reader
    uses_personal_data: bool = False  # needs the pseudonymizer
    batches: FileBatches | None = None  # load file by file, only new or changed files (big monthly deliveries)
    # with `batches`: the GX suite whose row rules run on each file as it is loaded (rows breaking one are
    # quarantined in raw.<name>_quarantine), and the columns each quarantine line carries besides file and row
    row_rules_suite: str | None = None
    quarantine_carries: tuple[str, ...] = ()
    # with `batches`: writes the report sent back for one file (path, file name, its quarantine lines, reports dir)
    file_report: Callable[[Path, str, pd.DataFrame, Path], Path | None] | None = None


OWNERS = {"survey": ["team:survey-analytics"], "registry": ["team:registry"], "partners": ["team:partner-programs"]}


def _table_schema(frame: pd.DataFrame) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name=str(c), type=str(t)) for c, t in frame.dtypes.items()])


def _files_markdown(files: list[LandedFile]) -> str:
    if not files:
        return "_no files in the landing zone for this table_"
    lines = ["| file | rows | sha256 |", "|---|---:|---|"]
    lines += [f"| {f.name} | {f.rows} | `{f.sha256[:16]}…` |" for f in files]
    return "\n".join(lines)


def record_landed_files(warehouse: WarehouseResource, table: str, files: list[LandedFile]) -> None:
    """Keep the publish log's input list current: this table's files replace its previous entries."""
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    with warehouse.connect() as connection:
        connection.execute(
            "create schema if not exists meta; "
            "create table if not exists meta.landed_files (raw_table varchar, source_file varchar, "
            "sha256 varchar, row_count bigint, loaded_at timestamp)"
        )
        connection.execute("delete from meta.landed_files where raw_table = ?", [table])
        if files:
            connection.executemany(
                "insert into meta.landed_files values (?, ?, ?, ?, ?)",
                [(table, f.name, f.sha256, f.rows, loaded_at) for f in files],
            )


def build_raw_asset(spec: RawTable) -> dg.AssetsDefinition:
    if spec.batches is not None and not spec.row_rules_suite:
        # a table loaded file by file is validated file by file, as it loads: it needs its suite's row rules
        raise ValueError(f"raw.{spec.name} is loaded file by file and needs a row_rules_suite")
    resource_keys = ({"warehouse", "landing"} | ({"pseudonymizer"} if spec.uses_personal_data else set())
                     | ({"quality"} if spec.row_rules_suite else set()))

    specs = [dg.AssetSpec(key=["raw", spec.name], description=spec.description, group_name=f"raw_{spec.family}",
                          owners=OWNERS[spec.family], kinds={"pandas", "duckdb"},
                          tags={"family": spec.family, "layer": "raw"})]
    if spec.row_rules_suite:  # the same load writes the rows set aside, with their reasons
        specs.append(dg.AssetSpec(
            key=["raw", f"{spec.name}_quarantine"], group_name=f"raw_{spec.family}", owners=OWNERS[spec.family],
            kinds={"pandas", "duckdb"}, tags={"family": spec.family, "layer": "raw"}, skippable=False,
            description=f"Rows of raw.{spec.name}'s files that broke a row rule of expectations/"
                        f"{spec.row_rules_suite}.json: file, row, rule, columns, reason, values (never personal data)."))

    @dg.multi_asset(
        name=f"raw__{spec.name}",
        specs=specs,
        pool=DUCKDB_POOL,
        required_resource_keys=resource_keys,
    )
    def _raw_asset(context: dg.AssetExecutionContext):
        result = _load_raw_table(context)
        if spec.row_rules_suite:
            yield dg.MaterializeResult(asset_key=["raw", spec.name], metadata=result.metadata)
            yield dg.MaterializeResult(asset_key=["raw", f"{spec.name}_quarantine"], metadata=_quarantine_rows(
                context.resources.warehouse, spec.name))
        else:
            yield result

    def _load_raw_table(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        landing_dir = Path(context.resources.landing.path)
        pseudonymizer = context.resources.pseudonymizer.get() if spec.uses_personal_data else None
        warehouse: WarehouseResource = context.resources.warehouse
        try:
            if spec.batches is not None:
                gate = None
                if spec.row_rules_suite:
                    from dagster_project.quality.quarantine import RowRuleGate

                    parameters = spec.batches.parameters(landing_dir) if spec.batches.parameters else {}
                    gate = RowRuleGate(context.resources.quality, spec.row_rules_suite, run_name=context.run.run_id,
                                       carry=list(spec.quarantine_carries), parameters=parameters,
                                       with_sheet=spec.batches.with_sheet)
                reports: dict[str, str] = {}
                on_file_checked = None
                if spec.file_report is not None:
                    reports_dir = context.resources.landing.reports_path()

                    def on_file_checked(path, name, _frame, checked):
                        written = spec.file_report(path, name, checked.quarantined, reports_dir) if checked else None
                        if written is not None:
                            reports[name] = str(written)
                load = load_incrementally(warehouse.connect, spec.name, spec.batches, landing_dir, pseudonymizer,
                                          context.log, gate=gate, on_file_checked=on_file_checked)
                if not load.files:  # nothing delivered yet: an empty table with the reader's columns
                    warehouse.replace_table("raw", spec.name, spec.read(landing_dir, pseudonymizer)[0])
                record_landed_files(warehouse, spec.name, load.files)
                return _incremental_result(spec.name, load, warehouse, reports)
            frame, files = spec.read(landing_dir, pseudonymizer)
        except LandingFileError as error:
            raise dg.Failure(
                description=f"raw.{spec.name} was not loaded: {error}",
                metadata={"file": error.file, "row": error.row if error.row is not None else "",
                          "column": error.column or "", "reason": error.reason},
            ) from error
        rows = warehouse.replace_table("raw", spec.name, frame)
        record_landed_files(warehouse, spec.name, files)
        context.log.info(f"raw.{spec.name}: {rows} rows from {len(files)} file(s)")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "dagster/column_schema": _table_schema(frame),
                "source_file_count": len(files),
                "source_files": dg.MetadataValue.md(_files_markdown(files)),
            }
        )

    return _raw_asset


def _quarantine_rows(warehouse: WarehouseResource, table: str) -> dict:
    with warehouse.connect(read_only=True) as connection:
        rows = connection.execute(f"select count(*) from raw.{table}_quarantine").fetchone()[0]
    return {"dagster/row_count": int(rows)}


def _quarantine_metadata(load: IncrementalLoad) -> dict:
    if not load.quarantined and not load.failed:
        return {}
    preview = load.quarantine_preview
    columns = ["source_file", "source_row", "rule", "column_name", "reason", "value_as_sent"]
    if preview is not None and "source_sheet" in preview.columns:
        columns.insert(1, "source_sheet")
    table = "_no row set aside_"
    if preview is not None and len(preview):
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        for row in preview[columns].head(20).itertuples(index=False):
            lines.append("| " + " | ".join(("" if v is None or v is pd.NA else str(v)).replace("|", "\\|") for v in row) + " |")
        table = "\n".join(lines)
    return {
        "rows_quarantined_now": sum(load.quarantined.values()),
        "rows_quarantined_by_file": dg.MetadataValue.json(load.quarantined),
        "quarantine_preview": dg.MetadataValue.md(table),
        "files_failing_their_suite": dg.MetadataValue.json(sorted(load.failed)),
    }


def _rejection_metadata(table: str, load: IncrementalLoad, warehouse: WarehouseResource) -> dict:
    """Files rejected whole because they cannot be read (this run and still pending from earlier runs)."""
    with warehouse.connect(read_only=True) as connection:
        found = connection.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = ?",
            [f"{table}_rejected_files"]).fetchone()[0]
        pending = dict(connection.execute(
            f"select source_file, reason from raw.{table}_rejected_files order by source_file").fetchall()) if found else {}
    if not found:
        return {}
    return {"files_rejected_now": dg.MetadataValue.json(load.rejected),
            "files_rejected_pending": dg.MetadataValue.json(pending)}


def _incremental_result(table: str, load: IncrementalLoad, warehouse: WarehouseResource,
                        reports: dict[str, str] | None = None) -> dg.MaterializeResult:
    schema = warehouse.table_schema("raw", table)
    extra = {}
    if load.quarantined_by_rule:
        extra["rows_quarantined_by_file_and_rule"] = dg.MetadataValue.json(
            {name: rules for name, rules in load.quarantined_by_rule.items() if rules})
    if reports is not None:
        extra["error_reports_written"] = dg.MetadataValue.json(reports)
    return dg.MaterializeResult(
        metadata={
            **_quarantine_metadata(load),
            **_rejection_metadata(table, load, warehouse),
            **extra,
            "dagster/row_count": load.rows,
            "dagster/column_schema": dg.TableSchema(columns=[dg.TableColumn(name=c, type=t) for c, t in schema.items()]),
            "source_file_count": len(load.files),
            "files_loaded_now": len(load.loaded),
            "files_unchanged": len(load.unchanged),
            "files_kept_from_earlier_deliveries": dg.MetadataValue.json(load.kept),
            "rebuilt_all_files": load.rebuilt,
            "loaded_now": dg.MetadataValue.md(_files_markdown(load.loaded)),
            "source_files": dg.MetadataValue.md(_files_markdown(load.files)),
        }
    )
