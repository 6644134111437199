"""Migraciones extracts load month by month: unchanged months are not re-read, a re-delivered month replaces its
own rows (idempotent), months may arrive out of order, and a broken re-delivery (a row rule broken by more rows
than its tolerance) stays pending until fixed.

Each test starts from a copy of the session's successful refresh (tests/conftest.py) and refreshes again.
"""

from __future__ import annotations

import hashlib
import shutil

import duckdb

from dagster_project.demo.failure import column_index, rewrite_csv
from tests.conftest import clone_refresh, run_refresh_in

EXTRACTS = "registry/migraciones"


def ledger(refresh) -> dict[str, tuple]:
    with duckdb.connect(str(refresh.settings.warehouse_db), read_only=True) as connection:
        rows = connection.execute(
            "select source_file, sha256, row_count, loaded_at, validated from meta.incremental_files "
            "where raw_table = 'registry_extracts'").fetchall()
    return {name.rsplit("/", 1)[-1]: rest for name, *rest in rows}


def rows_by_month(refresh) -> dict[str, int]:
    with duckdb.connect(str(refresh.settings.warehouse_db), read_only=True) as connection:
        return dict(connection.execute(
            "select extract_month, count(*) from raw.registry_extracts group by 1 order by 1").fetchall())


def published_stock(refresh) -> dict[str, int]:
    with duckdb.connect(str(refresh.settings.published_db), read_only=True) as connection:
        return dict(connection.execute(
            "select extract_month, registered_stock from registry_stock where department = 'all'").fetchall())


def test_first_refresh_loads_and_validates_every_month(refreshed):
    months = refreshed.truth["registry"]["months"]
    entries = ledger(refreshed)
    assert sorted(entries) == [f"extract_{m}.csv" for m in sorted(months)]
    assert all(validated for *_, validated in entries.values())  # each month passed the GX suite
    assert rows_by_month(refreshed) == {m: t["registered_stock"] for m, t in months.items()}


def test_an_unchanged_month_is_not_read_again_and_a_redelivered_month_replaces_only_itself(refreshed, tmp_path,
                                                                                          monkeypatch):
    root = clone_refresh(refreshed, tmp_path / "again")
    months = sorted(refreshed.truth["registry"]["months"])
    before = ledger(refreshed)
    redelivered = root / "landing" / EXTRACTS / f"extract_{months[-1]}.csv"
    rewrite_csv(redelivered, lambda rows: rows.pop())  # the same month again, one person fewer
    refresh = run_refresh_in(root, monkeypatch, refreshed.truth)
    assert refresh.result.success
    after = ledger(refresh)
    for month in months[:-1]:  # untouched months: same load time, not re-read
        assert after[f"extract_{month}.csv"] == before[f"extract_{month}.csv"]
    last = f"extract_{months[-1]}.csv"
    assert after[last][0] == hashlib.sha256(redelivered.read_bytes()).hexdigest() and after[last][3]
    expected = {m: t["registered_stock"] for m, t in refreshed.truth["registry"]["months"].items()}
    expected[months[-1]] -= 1
    assert rows_by_month(refresh) == expected  # replaced, not appended
    assert published_stock(refresh) == expected

    refresh = run_refresh_in(root, monkeypatch, refreshed.truth)  # delivering nothing new changes nothing
    assert refresh.result.success and ledger(refresh) == after and rows_by_month(refresh) == expected


def test_months_may_arrive_out_of_order_and_a_pruned_month_keeps_its_rows(refreshed, tmp_path, monkeypatch):
    months = sorted(refreshed.truth["registry"]["months"])
    root = clone_refresh(refreshed, tmp_path / "order")
    first = root / "landing" / EXTRACTS / f"extract_{months[0]}.csv"
    held_back = tmp_path / first.name
    shutil.move(first, held_back)  # the landing zone was pruned of the oldest month
    refresh = run_refresh_in(root, monkeypatch, refreshed.truth)
    assert refresh.result.success
    assert months[0] in rows_by_month(refresh)  # the warehouse keeps the history
    materialization = refresh.result.asset_materializations_for_node("raw__registry_extracts")[0]
    assert materialization.metadata["files_kept_from_earlier_deliveries"].value == [f"{EXTRACTS}/{first.name}"]

    # a fresh warehouse receives the newer months first, then the oldest one late
    fresh = tmp_path / "fresh"
    shutil.copytree(root / "landing", fresh / "landing")
    refresh = run_refresh_in(fresh, monkeypatch, refreshed.truth)
    assert refresh.result.success and sorted(rows_by_month(refresh)) == months[1:]
    shutil.move(held_back, fresh / "landing" / EXTRACTS / first.name)
    refresh = run_refresh_in(fresh, monkeypatch, refreshed.truth)
    assert refresh.result.success
    assert rows_by_month(refresh) == {m: t["registered_stock"] for m, t in refreshed.truth["registry"]["months"].items()}
    assert published_stock(refresh) == rows_by_month(refresh)


def test_a_broken_redelivery_stays_pending_and_blocks_publishing_until_it_is_fixed(refreshed, tmp_path, monkeypatch):
    months = sorted(refreshed.truth["registry"]["months"])
    root = clone_refresh(refreshed, tmp_path / "broken")
    path = root / "landing" / EXTRACTS / f"extract_{months[1]}.csv"
    original = path.read_bytes()
    published_before = hashlib.sha256(refreshed.settings.published_db.read_bytes()).hexdigest()

    def unknown_status(rows):  # 5% of the month with a status outside the contract: more than the 1% tolerated
        for row in rows[1::20]:
            row[column_index(rows, "calidad_migratoria")] = "TURISTA_INTERGALACTICO"

    rewrite_csv(path, unknown_status)
    for _ in range(2):  # the second run reads nothing new, and must still refuse to publish
        refresh = run_refresh_in(root, monkeypatch, refreshed.truth)
        assert not refresh.result.success
        check = next(e for e in refresh.result.get_asset_check_evaluations()
                     if e.check_name == "gx_raw__registry_extracts")
        assert not check.passed and f"extract_{months[1]}.csv" in check.description
        assert hashlib.sha256((root / "published" / "analytics.duckdb").read_bytes()).hexdigest() == published_before
        assert ledger(refresh)[path.name][3] is False

    path.write_bytes(original)  # the partner re-delivers a correct file
    refresh = run_refresh_in(root, monkeypatch, refreshed.truth)
    assert refresh.result.success and all(v for *_, v in ledger(refresh).values())


def test_a_new_pseudonymization_key_reloads_every_month(refreshed, tmp_path, monkeypatch):
    root = clone_refresh(refreshed, tmp_path / "rekey")
    (root / "secrets" / "pseudonym.key").write_text("a-brand-new-key-for-this-test-0123456789")
    refresh = run_refresh_in(root, monkeypatch, refreshed.truth)
    assert refresh.result.success
    materialization = refresh.result.asset_materializations_for_node("raw__registry_extracts")[0]
    assert materialization.metadata["rebuilt_all_files"].value is True
    with duckdb.connect(str(refresh.settings.warehouse_db), read_only=True) as new, \
            duckdb.connect(str(refreshed.settings.warehouse_db), read_only=True) as old:
        new_keys = {k for (k,) in new.execute("select distinct person_key from raw.registry_extracts").fetchall()}
        old_keys = {k for (k,) in old.execute("select distinct person_key from raw.registry_extracts").fetchall()}
    assert len(new_keys) == len(old_keys) and not new_keys & old_keys  # one key for every month, never mixed
