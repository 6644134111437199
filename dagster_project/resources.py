"""Resources: the working DuckDB warehouse (the only writer) and the pseudonymizer.

DuckDB allows one writer process. Every asset and check that opens the warehouse declares `pool="duckdb"`
(limit 1 in `dagster_home/dagster.yaml`), and every connection here is closed when its block ends, even on error.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb
import pandas as pd

from dagster_project.pseudonymize import Pseudonymizer
from dagster_project.settings import DBT_PROJECT_DIR

DUCKDB_POOL = "duckdb"


@contextmanager
def transaction(connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Everything in the block commits together, or nothing does."""
    connection.execute("begin transaction")
    try:
        yield
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise


class WarehouseResource(dg.ConfigurableResource):
    """The working DuckDB file that ingest, dbt and the checks share; analysts never open it."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        db_path = Path(self.path)
        if not read_only:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        connection = duckdb.connect(str(db_path), read_only=read_only)
        try:
            yield connection
        finally:
            connection.close()

    def replace_table(self, schema: str, table: str, frame: pd.DataFrame) -> int:
        """Write `frame` as `schema.table`, replacing what was there, in one transaction. Returns the row count."""
        with self.connect() as connection:
            connection.execute(f"create schema if not exists {schema}")
            connection.register("incoming_frame", frame)
            try:
                with transaction(connection):
                    connection.execute(f"create or replace table {schema}.{table} as select * from incoming_frame")
            finally:
                connection.unregister("incoming_frame")
            return int(connection.execute(f"select count(*) from {schema}.{table}").fetchone()[0])

    def read_table(self, schema: str, table: str) -> pd.DataFrame:
        """The whole table as a DataFrame, through a read-only connection that is closed before returning."""
        with self.connect(read_only=True) as connection:
            return connection.execute(f"select * from {schema}.{table}").df()

    def table_schema(self, schema: str, table: str) -> dict[str, str]:
        with self.connect(read_only=True) as connection:
            rows = connection.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
        return {name: dtype for name, dtype in rows}


class PseudonymizerResource(dg.ConfigurableResource):
    """HMAC-SHA256 keyed hashing; the key file lives outside the repo and the warehouse."""

    key_file: str

    def get(self) -> Pseudonymizer:
        return Pseudonymizer.from_key_file(Path(self.key_file))


class QualityResource(dg.ConfigurableResource):
    """Where the GX suites are read from, where Data Docs pages are written, and the values suites take as
    `{"$PARAMETER": name}`: reference code lists from the dbt seeds and configurable bounds."""

    expectations_dir: str
    data_docs_dir: str
    seeds_dir: str = str(DBT_PROJECT_DIR / "seeds")
    registry_max_monthly_stock_change: float = 0.2

    def suite_parameters(self) -> dict:
        from dagster_project.quality.parameters import suite_parameters

        return suite_parameters(Path(self.seeds_dir), self.registry_max_monthly_stock_change)
