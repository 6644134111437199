"""A corrupted input fails its blocking check, nothing downstream runs, and the published file is unchanged.

Each test starts from a copy of a successful refresh (landing, warehouse, published file), breaks one landed
file the way real deliveries break, refreshes again, and compares the published file byte for byte.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import dagster as dg
import pytest

from tests.conftest import clone_refresh, run_refresh_in
from dagster_project.demo.failure import column_index, rewrite_csv


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def duplicate_first_person(rows):
    rows.append(list(rows[1]))


def negative_weight(rows):
    rows[3][column_index(rows, "FACTOR")] = "-12.5"


def birth_year_in_words(rows):
    rows[2][column_index(rows, "birth_year")] = "mil novecientos noventa"


CASES = {
    "duplicate person key": ("survey/enaho/2024/enaho01a-2024-500.csv", duplicate_first_person,
                             "gx_raw__survey_employment", "raw/survey_employment"),
    "negative weight": ("survey/enahopv/2024/Enahopv01-2024-200.csv", negative_weight,
                        "gx_raw__survey_members", "raw/survey_members"),
    # (a bad 5W row does not block: it is set aside with its reason, see tests/test_partner_5w_rules.py)
    "birth year in words": ("partners/beneficiaries/care/2024-02.csv", birth_year_in_words,
                            "gx_raw__partner_beneficiaries", "raw/partner_beneficiaries"),
}


def downstream_of(key: str, settings) -> set[str]:
    """Every asset that depends, directly or not, on `key` in the real asset graph."""
    from dagster_project.definitions import build_definitions

    graph = build_definitions(settings).resolve_asset_graph()
    found, frontier = set(), [dg.AssetKey(key.split("/"))]
    while frontier:
        for child in graph.get(frontier.pop()).child_keys:
            if child.to_user_string() not in found:
                found.add(child.to_user_string())
                frontier.append(child)
    return found


def materialized_keys(result) -> set[str]:
    return {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}


def failed_checks(result) -> dict[str, dict]:
    failures = {}
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed:
                failures[evaluation.check_name] = {k: v.value for k, v in evaluation.metadata.items()}
    return failures


@pytest.mark.parametrize("case", list(CASES))
def test_corrupted_input_blocks_the_refresh_and_leaves_the_published_file_untouched(case, refreshed, tmp_path, monkeypatch):
    relative, corrupt, check_name, raw_key = CASES[case]
    root = clone_refresh(refreshed, tmp_path)
    rewrite_csv(root / "landing" / relative, corrupt)
    published = root / "published" / "analytics.duckdb"
    before = sha256(published)

    refresh = run_refresh_in(root, monkeypatch)

    assert not refresh.result.success
    failures = failed_checks(refresh.result)
    assert check_name in failures, f"expected {check_name} to fail; failed: {list(failures)}"
    summary = str(failures[check_name]["summary"])
    assert relative in summary, f"the failure must name the file: {summary[:500]}"
    materialized = materialized_keys(refresh.result)
    assert raw_key in materialized  # the raw load itself worked; its check stopped the flow
    ran_downstream = materialized & downstream_of(raw_key, refresh.settings)
    assert ran_downstream == set(), f"nothing downstream of a failed blocking check may run: {ran_downstream}"
    assert "published/analytics_db" in downstream_of(raw_key, refresh.settings)
    assert sha256(published) == before
    assert sorted(p.name for p in (root / "published" / "versions").iterdir()) == ["analytics-v0001.duckdb"]
