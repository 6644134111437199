"""Program outcomes from partner beneficiary records (issue 5, work package "outcomes"): program_outcomes,
program_participant_overlap and intermediate.int_program_participants, built by the tiny demo refresh, equal the
demo generator's own truth (demo_truth.json → partners.beneficiaries), which it computes from the enrollments it
drew, not from the files or the warehouse. Counts are exact.

Rules under test (the generator applies the same ones to its own draws):
- a person (same beneficiary id, so the same keyed hash) enrolled in a program by several organizations counts once:
  the earliest enrollment wins, its completion and outcome are the person's;
- within N months = dated on or before enrolled_on + N calendar months; only people whose whole window ends by the
  last day of the last report month count (the generator also writes enrollments whose outcomes are censored);
- k = 10: a published count below 10 is NULL with reliability 'suppressed'; a rate is suppressed when the
  participants, those with the outcome or those without it are fewer than 10.
The window arithmetic on edge dates (31 January + 3 months) and the winner rule are also pinned by the dbt unit test
in dbt/models/marts/programs/_outcomes.yml, which runs in the refresh's `dbt build`.
"""

from __future__ import annotations

from collections import defaultdict

import duckdb
import pandas as pd
import pytest

K = 10
DIMENSIONS = ("sex", "single_parent", "lgbtiq", "disability")
OUTCOMES = ("completed", "employed_formal", "employed_informal", "self_employed")
GROUPINGS = [DIMENSIONS, ("sex",), ("single_parent",), ("lgbtiq",), ("disability",), ()]


def published(refresh, table: str) -> pd.DataFrame:
    with duckdb.connect(str(refresh.settings.published_db), read_only=True) as connection:
        return connection.execute(f"select * from {table}").df()


def participants_table(refresh) -> pd.DataFrame:
    with duckdb.connect(str(refresh.settings.warehouse_db), read_only=True) as connection:
        return connection.execute("select * from intermediate.int_program_participants").df()


def beneficiary_truth(refresh) -> dict:
    return refresh.truth["partners"]["beneficiaries"]


def truth_cells(refresh, window: int) -> dict[tuple, dict[str, int]]:
    """(program, sex, single_parent, lgbtiq, disability) → participants and outcome counts, finest cells."""
    cells = beneficiary_truth(refresh)["program_outcomes"]["windows"][str(window)]
    return {tuple(key.split("|")): counts for key, counts in cells.items()}


def rolled_up(cells: dict[tuple, dict[str, int]]) -> dict[tuple, dict[str, int]]:
    """Every grouping the mart publishes: (program, sex, single_parent, lgbtiq, disability) with 'all' for the
    dimensions a row does not break down by."""
    sums: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (program, *values), counts in cells.items():
        by_name = dict(zip(DIMENSIONS, values))
        for grouping in GROUPINGS:
            key = (program, *(by_name[d] if d in grouping else "all" for d in DIMENSIONS))
            for measure, n in counts.items():
                sums[key][measure] += n
    return sums


def yes_no(value) -> str:
    return "unknown" if value is None or pd.isna(value) else ("yes" if value else "no")


def is_null(value) -> bool:
    return value is None or bool(pd.isna(value))


# ----------------------------------------------------------------------------------------------------------------

def test_the_refresh_built_and_checked_the_outcome_marts(refreshed):
    assert refreshed.result.success
    import dagster as dg

    checks = {event.event_specific_data.check_name: event.event_specific_data.passed
              for event in refreshed.result.all_events
              if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION}
    for suite in ("marts__program_outcomes", "marts__program_participant_overlap", "raw__partner_beneficiaries"):
        assert checks.get(f"gx_{suite}") is True, suite


def test_each_person_counts_once_per_program_across_partners(refreshed):
    truth = beneficiary_truth(refreshed)
    frame = participants_table(refreshed)
    assert len(frame) == truth["program_outcomes"]["participants"]
    assert not frame.duplicated(["beneficiary_key", "program"]).any()
    repeated = frame[frame.organizations_in_program >= 2]
    assert repeated.beneficiary_key.nunique() == truth["ids_in_same_program_with_two_or_more_organizations"] > 0
    assert (frame.data_through.astype(str) == truth["program_outcomes"]["data_through"]).all()
    assert "beneficiary_id" not in frame.columns and frame.beneficiary_key.str.fullmatch(r"[0-9a-f]{64}").all()


@pytest.mark.parametrize("window", [3, 6])
def test_window_flags_give_the_truth_counts_per_finest_cell(refreshed, window):
    """Before suppression: the intermediate's per-person flags summed per finest cell equal the truth cells."""
    frame = participants_table(refreshed)
    frame = frame[frame[f"is_observable_{window}m"]]
    counts: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in frame.itertuples(index=False):
        key = (row.program, row.sex if isinstance(row.sex, str) else "unknown", yes_no(row.is_single_parent),
               yes_no(row.is_lgbtiq), yes_no(row.has_disability))
        within = getattr(row, f"outcome_within_{window}m")
        counts[key]["participants"] += 1
        counts[key]["completed"] += int(getattr(row, f"completed_within_{window}m"))
        for outcome in OUTCOMES[1:]:
            counts[key][outcome] += int(within and row.outcome == outcome)
    truth = truth_cells(refreshed, window)
    assert sum(c["participants"] for c in truth.values()) > 0
    assert {k: dict(v) for k, v in counts.items()} == truth


@pytest.mark.parametrize("window", [3, 6])
def test_published_rates_equal_the_truth_or_are_suppressed(refreshed, window):
    frame = published(refreshed, "program_outcomes")
    frame = frame[frame.months_after_enrollment == window]
    truth = rolled_up(truth_cells(refreshed, window))
    keys = ["program", *DIMENSIONS]
    published_keys = {(*key, outcome) for key, outcome in
                      zip(frame[keys].itertuples(index=False, name=None), frame.outcome)}
    assert len(published_keys) == len(frame)
    assert published_keys == {(*key, outcome) for key in truth for outcome in OUTCOMES}
    for row in frame.itertuples(index=False):
        counts = truth[tuple(getattr(row, k) for k in keys)]
        n, with_outcome = counts["participants"], counts[row.outcome]
        context = (window, row)
        if n < K:
            assert is_null(row.participants), context
        else:
            assert row.participants == n, context
        if min(n, with_outcome, n - with_outcome) < K:
            assert row.reliability == "suppressed", context
            assert is_null(row.participants_with_outcome) and is_null(row.rate), context
        else:
            assert row.reliability == "reliable", context
            assert row.participants_with_outcome == with_outcome, context
            assert row.rate == pytest.approx(with_outcome / n), context
    if window == 3:  # the tiny data is large enough for published rates in the 3-month window
        assert (frame.reliability == "reliable").any()
    assert (frame.reliability == "suppressed").any()


def test_overlap_between_organizations_equals_the_truth(refreshed):
    truth = beneficiary_truth(refreshed)
    expected = {}
    for pair, counts in truth["organization_pairs"].items():
        a, b = pair.split("|")
        expected[(a, b, "any_program")] = counts["people"]
        expected[(a, b, "same_program")] = counts["people_same_program"]
    expected[("all", "all", "any_program")] = truth["ids_in_two_or_more_organizations"]
    expected[("all", "all", "same_program")] = truth["ids_in_same_program_with_two_or_more_organizations"]
    frame = published(refreshed, "program_participant_overlap")
    rows = {(r.organization_a, r.organization_b, r.overlap): r for r in frame.itertuples(index=False)}
    assert len(rows) == len(frame) and set(rows) == set(expected)
    for key, n in expected.items():
        row = rows[key]
        if n < K:
            assert row.reliability == "suppressed" and is_null(row.people), (key, n)
        else:
            assert row.reliability == "reliable" and row.people == n, (key, n)


def test_no_person_level_column_is_published(refreshed):
    for table in ("program_outcomes", "program_participant_overlap"):
        columns = set(published(refreshed, table).columns)
        assert not columns & {"beneficiary_key", "beneficiary_id", "enrolled_on", "birth_year"}, table
