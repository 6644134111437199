"""A refresh on a landing zone this project did not generate: the real public files, laid out per the contract.

The files are linked from ../shared/data/real into tmp_path (never copied into the repo); the test is skipped
where that folder is absent.
"""

from __future__ import annotations

import hashlib

import duckdb
import pytest

from dagster_project.__main__ import failure_report
from tests.conftest import run_refresh_in

LAYOUT = {
    "inei/Enahopv01-2024-200.csv": "survey/enahopv/2024/Enahopv01-2024-200.csv",
    "unhcr/population.csv": "registry/unhcr/population.csv",
    "unhcr/asylum_applications.csv": "registry/unhcr/asylum_applications.csv",
    "unhcr/asylum_decisions.csv": "registry/unhcr/asylum_decisions.csv",
    "r4v/Activities_5W_2022.xlsx": "partners/5w/2022-08/Activities_5W_2022.xlsx",
    "r4v/Activities_5W_2023.xlsx": "partners/5w/2023-01/Activities_5W_2023.xlsx",
    "r4v/Translated5W.xlsx": "partners/5w/2022-01/Translated5W.xlsx",
    "r4v/RMRP2022ActivitiesSP.xlsx": "partners/5w/2022-02/RMRP2022ActivitiesSP.xlsx",
    "r4v/Proportions.xlsx": "partners/reference/Proportions.xlsx",
}


def test_real_public_files_refresh_publish_and_a_broken_delivery_is_refused(real_data, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    for source, target in LAYOUT.items():
        (landing / target).parent.mkdir(parents=True, exist_ok=True)
        (landing / target).symlink_to(real_data / source)

    refresh = run_refresh_in(tmp_path, monkeypatch)
    assert refresh.result.success
    published = refresh.settings.published_db
    with duckdb.connect(str(published), read_only=True) as connection:
        files = connection.execute("select input_files from meta.publish_log").fetchone()[0]
    assert all(target in files for target in LAYOUT.values())
    with duckdb.connect(str(refresh.settings.warehouse_db), read_only=True) as connection:
        migrants = connection.execute(
            "select count(*), sum(weight_members) from intermediate.int_survey_persons_harmonized "
            "where population_group = 'migrant'").fetchone()
        refugees_2024 = connection.execute(
            "select refugees, asylum_seekers, oip from raw.unhcr_population "
            "where coo_iso = 'VEN' and coa_iso = 'PER' and year = 2024").fetchall()
    assert refugees_2024 == [(4_942, 522_732, 1_135_215)]
    # every Venezuelan (P209A == 2) of the real ENAHOPV 2024 module 200 reaches the harmonized persons (module 200
    # alone measures no published indicator: each needs a module 300-1000 universe)
    assert migrants[0] == 9_530 and migrants[1] == pytest.approx(997_614, abs=1)

    before = hashlib.sha256(published.read_bytes()).hexdigest()
    broken = landing / "partners" / "5w" / "2024-05" / "broken.xlsx"
    broken.parent.mkdir()
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    refused = run_refresh_in(tmp_path, monkeypatch)
    assert not refused.result.success
    # the unreadable file is rejected whole (the other 5W files stay loaded) and the 5W check blocks publishing
    report = "\n".join(failure_report(refused.result))
    assert "partners/5w/2024-05/broken.xlsx" in report and "cannot be read as a workbook" in report, report
    assert hashlib.sha256(published.read_bytes()).hexdigest() == before
