"""The registry history (dbt model int_registry_status_history, incremental SCD2) on DuckDB, explicitly.

Hand-made extracts with a known story per person are loaded month by month with the real loader, and dbt builds the
history after each delivery, incrementally. After every step the incremental table must equal a full rebuild of
the same data, and the spells must tell the planted stories: a status change closes a spell ('status_changed'),
a person absent from a later extract is closed ('left_registry', not deleted), a reappearance opens a new spell,
a month delivered late or re-delivered rewrites what follows it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.pseudonymize import Pseudonymizer
from dagster_project.settings import DBT_PROJECT_DIR
from dagster_project.sources.incremental import FileBatches, load_incrementally
from dagster_project.sources.registry.readers import EXTRACT_PATTERN, read_extract
from dagster_project.transform.project import dbt_executable

KEY = Pseudonymizer(b"history-test-key-0123456789abcdef")
BATCHES = FileBatches(folder="registry/migraciones", pattern=EXTRACT_PATTERN, read_file=read_extract)
HISTORY_COLUMNS = ("person_key, first_month, last_month, valid_from, valid_to, end_reason, is_current, status, "
                   "status_start_date, permit_expiry_date")

# person → {month: (status, status start, expiry)}; a month missing from a person's dict = absent from that extract
STORIES = {
    "1001": {m: ("CPP", "2023-05-02", "2027-05-02") for m in ("2024-01", "2024-02", "2024-03", "2024-04")},
    "1002": {"2024-01": ("IRREGULAR", "2022-01-10", None), "2024-02": ("IRREGULAR", "2022-01-10", None),
             "2024-03": ("CPP", "2024-03-14", "2028-03-14"), "2024-04": ("CPP", "2024-03-14", "2028-03-14")},
    "1003": {"2024-01": ("TURISTA", "2023-12-20", "2024-06-17"), "2024-02": ("TURISTA", "2023-12-20", "2024-06-17")},
    "1004": {"2024-01": ("PTP", "2022-02-01", "2024-02-01"), "2024-02": ("PTP", "2022-02-01", "2024-02-01"),
             "2024-04": ("CPP", "2024-04-02", "2028-04-02")},
    "1005": {"2024-03": ("SOLICITANTE_REFUGIO", "2024-03-05", "2024-06-03"),
             "2024-04": ("REFUGIADO", "2024-04-20", "2027-04-20")},
}
MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04"]


def write_extract(landing: Path, month: str, stories=STORIES) -> Path:
    rows = []
    for person, story in stories.items():
        if month not in story:
            continue
        status, start, expiry = story[month]
        rows.append({"id_persona": person, "tipo_documento": "PASAPORTE", "num_documento": f"P{person}",
                     "nombres": "Ana", "apellidos": "Pérez", "sexo": "F", "fecha_nacimiento": "1990-04-01",
                     "nacionalidad": "VEN", "fecha_ultimo_ingreso": "2019-07-15", "calidad_migratoria": status,
                     "fecha_inicio_calidad": start, "fecha_vencimiento": expiry or "", "ubigeo_residencia": "150101"})
    path = landing / "registry" / "migraciones" / f"extract_{month}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


class Warehouse:
    """A tmp DuckDB file, the real incremental loader and the project's dbt, with its own target folder."""

    def __init__(self, root: Path):
        self.root, self.landing, self.db = root, root / "landing", root / "warehouse.duckdb"

    def connect(self, read_only: bool = False):
        return duckdb.connect(str(self.db), read_only=read_only)

    def load(self) -> None:
        load_incrementally(self.connect, "registry_extracts", BATCHES, self.landing, KEY)

    def dbt(self, *args: str, db: Path | None = None) -> None:
        env = {**os.environ, "WAREHOUSE_DB": str(db or self.db)}
        command = [dbt_executable(), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                   str(DBT_PROJECT_DIR), "--target-path", str(self.root / "target"), "--log-path",
                   str(self.root / "logs")]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-3000:]

    def build_history(self, full_refresh: bool = False, db: Path | None = None) -> None:
        self.dbt("run", "--select", "+int_registry_status_history", "--exclude", "resource_type:seed",
                 *(["--full-refresh"] if full_refresh else []), db=db)

    def history(self, db: Path | None = None) -> pd.DataFrame:
        with duckdb.connect(str(db or self.db), read_only=True) as connection:
            return connection.execute(f"select {HISTORY_COLUMNS} from intermediate.int_registry_status_history "
                                      "order by person_key, first_month").df()

    def assert_equals_full_rebuild(self) -> pd.DataFrame:
        incremental = self.history()
        copy = self.root / "rebuilt.duckdb"
        shutil.copyfile(self.db, copy)
        self.build_history(full_refresh=True, db=copy)
        pd.testing.assert_frame_equal(incremental, self.history(copy))
        return incremental

    def spells(self, person: str) -> list[tuple]:
        key = KEY.hash_series(pd.Series([person]), namespace="registry_person").iloc[0]
        frame = self.history()
        frame = frame[frame.person_key == key]
        return [(r.first_month, r.last_month, r.status, r.end_reason,
                 None if pd.isna(r.valid_to) else str(r.valid_to)[:10]) for r in frame.itertuples()]


@pytest.fixture
def warehouse(tmp_path) -> Warehouse:
    house = Warehouse(tmp_path)
    house.dbt("seed", "--select", "departments")
    return house


def test_history_grows_month_by_month_and_equals_a_full_rebuild(warehouse):
    for month in MONTHS[:2]:
        write_extract(warehouse.landing, month)
    warehouse.load()
    warehouse.build_history()  # first build: the whole table
    for month in MONTHS[2:]:
        write_extract(warehouse.landing, month)
        warehouse.load()
        warehouse.build_history()  # incremental: only the new month and the open spells
        warehouse.assert_equals_full_rebuild()

    assert warehouse.spells("1001") == [("2024-01", "2024-04", "CPP", None, None)]
    assert warehouse.spells("1002") == [("2024-01", "2024-02", "IRREGULAR", "status_changed", "2024-03-31"),
                                        ("2024-03", "2024-04", "CPP", None, None)]
    # left after February: closed, not deleted
    assert warehouse.spells("1003") == [("2024-01", "2024-02", "TURISTA", "left_registry", "2024-03-31")]
    # absent in March, back in April with another status: a closed spell and a new one
    assert warehouse.spells("1004") == [("2024-01", "2024-02", "PTP", "left_registry", "2024-03-31"),
                                        ("2024-04", "2024-04", "CPP", None, None)]
    assert warehouse.spells("1005") == [("2024-03", "2024-03", "SOLICITANTE_REFUGIO", "status_changed", "2024-04-30"),
                                        ("2024-04", "2024-04", "REFUGIADO", None, None)]

    warehouse.build_history()  # nothing new loaded: nothing changes
    warehouse.assert_equals_full_rebuild()


def test_a_late_month_and_a_redelivered_month_rewrite_what_follows_them(warehouse):
    for month in ("2024-01", "2024-03", "2024-04"):  # February arrives late
        write_extract(warehouse.landing, month)
    warehouse.load()
    warehouse.build_history()
    # without February, 1003 was last seen in January and is missing from March, the next extract
    assert warehouse.spells("1003") == [("2024-01", "2024-01", "TURISTA", "left_registry", "2024-03-31")]

    write_extract(warehouse.landing, "2024-02")
    warehouse.load()
    warehouse.build_history()
    warehouse.assert_equals_full_rebuild()
    assert warehouse.spells("1003") == [("2024-01", "2024-02", "TURISTA", "left_registry", "2024-03-31")]
    assert warehouse.spells("1002") == [("2024-01", "2024-02", "IRREGULAR", "status_changed", "2024-03-31"),
                                        ("2024-03", "2024-04", "CPP", None, None)]

    # March is re-delivered: 1002 was still irregular then, 1005 was not registered yet
    corrected = {person: dict(story) for person, story in STORIES.items()}
    corrected["1002"]["2024-03"] = ("IRREGULAR", "2022-01-10", None)
    del corrected["1005"]["2024-03"]
    write_extract(warehouse.landing, "2024-03", corrected)
    warehouse.load()
    warehouse.build_history()
    warehouse.assert_equals_full_rebuild()
    assert warehouse.spells("1002") == [("2024-01", "2024-03", "IRREGULAR", "status_changed", "2024-04-30"),
                                        ("2024-04", "2024-04", "CPP", None, None)]
    assert warehouse.spells("1005") == [("2024-04", "2024-04", "REFUGIADO", None, None)]
