"""Great Expectations suites, the DataFrame runner and the Dagster asset checks built on them."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlparse

import dagster as dg
import pandas as pd
import pytest

from dagster_project.quality.checks import gx_asset_check, gx_checks_for
from dagster_project.quality.gx_runner import SuiteFileError, build_suite, validate_frame
from dagster_project.resources import QualityResource, WarehouseResource
from dagster_project.settings import EXPECTATIONS_DIR, Settings

SUITE_NAMES = [
    "raw__survey_members", "raw__survey_education", "raw__survey_health", "raw__survey_employment",
    "raw__survey_migration", "raw__registry_extracts", "raw__unhcr_population", "raw__unhcr_asylum_applications",
    "raw__unhcr_asylum_decisions", "raw__partner_5w_activities", "raw__partner_need", "raw__partner_indicators",
    "raw__partner_organizations", "raw__partner_beneficiaries", "marts__labor_gaps",
    "marts__integration_indicators", "marts__program_reach", "marts__registry_stock", "marts__indicators",
    "marts__occupations", "marts__indicator_definitions",
    "raw__migraciones_reference_figures", "intermediate__int_registry_extract_months",
    "marts__registry_stock_by_group", "marts__registry_regular_share", "marts__registry_status_transitions",
    "marts__registry_permits_expiring", "marts__registry_time_to_regular_status", "marts__registry_rows_quarantined",
    "marts__unhcr_venezuela_peru", "marts__registry_published_figures",
    "raw__partner_consolidated_reports", "marts__r4v_consolidated_by_month",  # issue 5: R4V consolidated workbook
    # R4V consolidation and coverage (issue 5, consolidation)
    "marts__r4v_sector_consolidation", "marts__r4v_intersector_consolidation", "marts__r4v_country_consolidation",
    "marts__program_coverage",
    "marts__partner_rows_quarantined",  # 5W row rules at load (issue 5, rules)
    "marts__program_outcomes", "marts__program_participant_overlap",  # program outcomes (issue 5, outcomes)
]
INDEX = ["source_file", "source_sheet", "source_row"]
MEMBERS_FILE = "survey/enahopv/2024/Enahopv01-2024-200.csv"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("WAREHOUSE_DB", str(tmp_path / "warehouse" / "warehouse.duckdb"))
    monkeypatch.setenv("WAREHOUSE_DATA_DOCS_DIR", str(tmp_path / "quality" / "data_docs"))
    return Settings.from_env()


def suite(name: str) -> Path:
    return EXPECTATIONS_DIR / f"{name}.json"


def page_of(url: str) -> Path:
    parsed = urlparse(url)
    assert parsed.scheme == "file", url
    return Path(unquote(parsed.path))


def members_frame() -> pd.DataFrame:
    """Three valid ENAHOPV module-200 rows, as raw.survey_members holds them."""
    return pd.DataFrame(
        {
            "survey": ["enahopv"] * 3,
            "wave": [2024] * 3,
            "conglome": ["000005"] * 3,
            "vivienda": ["002"] * 3,
            "hogar": ["11"] * 3,
            "codperso": ["01", "02", "03"],
            "estrato": [3] * 3,
            "weight": [29.77, 29.77, 31.5],
            "ubigeo": ["240101"] * 3,
            "p207": [2, 1, 2],
            "p208a": [34, 36, 5],
            "p209a": [2, 2, 1],
            "population_group": ["migrant", "migrant", None],
            "source_file": [MEMBERS_FILE] * 3,
            "source_row": [2, 3, 4],
        }
    )


def failure(outcome, expectation: str, column: str) -> dict:
    matches = [f for f in outcome.failed if f["expectation"] == expectation and f["column"] == column]
    assert matches, f"no failed {expectation} on {column}: {outcome.failed}"
    return matches[0]


# ------------------------------------------------------------------------------------------------------------------
# The suites
# ------------------------------------------------------------------------------------------------------------------


def test_every_suite_is_a_valid_gx_suite_with_plain_reasons() -> None:
    assert sorted(p.stem for p in EXPECTATIONS_DIR.glob("*.json")) == sorted(SUITE_NAMES)
    for name in SUITE_NAMES:
        data = json.loads(suite(name).read_text(encoding="utf-8"))
        assert data["name"] == name
        built = build_suite(suite(name))
        assert len(built.expectations) == len(data["expectations"]) > 0
        for expectation in data["expectations"]:
            assert expectation["meta"]["reason"].strip(), (name, expectation)


def test_a_misspelt_expectation_is_an_error_not_a_silently_dropped_check(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"name": "broken", "expectations": [
        {"type": "expect_column_values_to_not_be_nul", "kwargs": {"column": "a"}}]}))
    with pytest.raises(SuiteFileError, match="expect_column_values_to_not_be_nul"):
        build_suite(broken)


# ------------------------------------------------------------------------------------------------------------------
# validate_frame
# ------------------------------------------------------------------------------------------------------------------


def test_valid_survey_members_pass_and_write_their_data_docs_page(settings: Settings) -> None:
    outcome = validate_frame(members_frame(), suite("raw__survey_members"), settings.data_docs_dir, INDEX)

    assert outcome.success, outcome.summary()
    assert outcome.failed == [] and outcome.rows == 3
    assert outcome.evaluated == len(json.loads(suite("raw__survey_members").read_text())["expectations"])
    page = page_of(outcome.data_docs_url)
    assert page.is_file() and page.suffix == ".html"
    assert settings.data_docs_dir in page.parents
    assert (settings.data_docs_dir / "index.html").is_file()
    assert "passed" in outcome.summary()


def test_duplicate_person_and_negative_weight_fail_naming_file_row_and_column(settings: Settings) -> None:
    frame = members_frame()
    frame.loc[2, "codperso"] = "02"  # row 4 repeats the person of row 3
    frame.loc[0, "weight"] = -1.5  # row 2

    outcome = validate_frame(frame, suite("raw__survey_members"), settings.data_docs_dir, INDEX)

    assert not outcome.success
    assert len(outcome.failed) == 2

    duplicate = failure(outcome, "expect_compound_columns_to_be_unique",
                        "survey, wave, conglome, vivienda, hogar, codperso")
    assert duplicate["unexpected_count"] == 2
    assert sorted(e["source_row"] for e in duplicate["examples"]) == [3, 4]
    assert {e["source_file"] for e in duplicate["examples"]} == {MEMBERS_FILE}
    assert duplicate["examples"][0]["value"]["codperso"] == "02"

    weight = failure(outcome, "expect_column_values_to_be_between", "weight")
    assert weight["kwargs"] == {"column": "weight", "min_value": 0, "strict_min": True}
    assert weight["examples"] == [{"source_file": MEMBERS_FILE, "source_row": 2, "value": -1.5}]
    assert weight["reason"] == "The expansion factor (weight) must be greater than zero."

    text = outcome.summary()
    assert "FAILED" in text
    assert f"file {MEMBERS_FILE}, row 2: weight = -1.5" in text
    assert f"file {MEMBERS_FILE}, row 4:" in text and 'codperso = "02"' in text
    assert "must be greater than zero" in text and "may appear only once" in text
    assert page_of(outcome.data_docs_url).is_file()


def test_missing_column_is_reported_in_words(settings: Settings) -> None:
    outcome = validate_frame(members_frame().drop(columns=["weight"]), suite("raw__survey_members"),
                             settings.data_docs_dir, INDEX)
    assert not outcome.success
    missing = failure(outcome, "expect_column_to_exist", "weight")
    assert "missing" in missing["error"]
    assert 'Column "weight"' in outcome.summary()


def test_empty_frames_and_repeated_validations_of_one_suite(settings: Settings) -> None:
    empty = members_frame().iloc[0:0]
    urls = []
    for frame in (empty, members_frame(), empty):
        outcome = validate_frame(frame, suite("raw__survey_members"), settings.data_docs_dir, INDEX)
        assert outcome.success, outcome.summary()
        urls.append(outcome.data_docs_url)
    assert len(set(urls)) == 3
    assert all(page_of(url).is_file() for url in urls)
    # Validation results live next to the Data Docs (not in the repo), so later processes keep these pages.
    assert (settings.data_docs_dir.parent / "gx_validation_results" / "raw__survey_members").is_dir()


def test_a_mart_suite_reports_examples_without_provenance_columns(settings: Settings) -> None:
    frame = pd.DataFrame(
        {
            "year": [2024, 2024], "population_group": ["migrant", "host"], "sex": ["all", "all"],
            "region": ["Lima", "Lima"], "n_working_age": [900, 1200], "n_employed": [700, 800],
            "employment_rate": [0.78, 0.67], "unemployment_rate": [0.05, 0.04], "informality_rate": [0.9, 1.3],
            "labor_income_monthly_mean": [1400.0, 1900.0], "hourly_income_mean": [7.5, 10.0],
            "wage_gap_raw": [0.25, None], "gender_wage_gap": [0.1, 0.12],
        }
    )
    outcome = validate_frame(frame, suite("marts__labor_gaps"), settings.data_docs_dir, INDEX)
    assert not outcome.success
    [failed] = outcome.failed
    assert failed["column"] == "informality_rate" and failed["examples"] == [{"value": 1.3}]
    assert "between 0 and 1" in outcome.summary()


# ------------------------------------------------------------------------------------------------------------------
# The Dagster asset check
# ------------------------------------------------------------------------------------------------------------------


def members_asset(frame: pd.DataFrame) -> dg.AssetsDefinition:
    @dg.asset(key=["raw", "survey_members"], pool="duckdb")
    def survey_members(warehouse: WarehouseResource) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": warehouse.replace_table("raw", "survey_members", frame)})

    return survey_members


def run_check(settings: Settings, frame: pd.DataFrame) -> dg.AssetCheckEvaluation:
    check = gx_asset_check(dg.AssetKey(["raw", "survey_members"]), "raw", "survey_members", "raw__survey_members")
    result = dg.materialize(
        [members_asset(frame), check],
        resources={"warehouse": WarehouseResource(path=str(settings.warehouse_db)),
                   "quality": QualityResource(expectations_dir=str(settings.expectations_dir),
                                              data_docs_dir=str(settings.data_docs_dir))},
        raise_on_error=False,
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.check_name == "gx_raw__survey_members"
    assert evaluation.asset_key == dg.AssetKey(["raw", "survey_members"])
    return evaluation


def test_asset_check_passes_on_a_valid_table(settings: Settings) -> None:
    evaluation = run_check(settings, members_frame())

    assert evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    metadata = evaluation.metadata
    assert metadata["failed"].value == 0 and metadata["rows"].value == 3
    assert metadata["evaluated"].value > 20
    assert isinstance(metadata["data_docs"], dg.UrlMetadataValue)
    assert page_of(metadata["data_docs"].value).is_file()
    assert settings.data_docs_dir in page_of(metadata["data_docs"].value).parents


def test_asset_check_fails_with_metadata_naming_the_rows(settings: Settings) -> None:
    frame = members_frame()
    frame.loc[1, "weight"] = 0.0  # row 3: not strictly positive

    evaluation = run_check(settings, frame)

    assert not evaluation.passed
    metadata = evaluation.metadata
    assert metadata["failed"].value == 1
    assert f"file {MEMBERS_FILE}, row 3: weight = 0.0" in metadata["summary"].value
    assert "weight" in metadata["failing_expectations"].value  # markdown table
    [failed] = metadata["failing_expectations_json"].value
    assert failed["column"] == "weight" and failed["examples"][0]["source_row"] == 3
    assert page_of(metadata["data_docs"].value).is_file()


def test_asset_check_on_a_missing_table_fails_cleanly(settings: Settings) -> None:
    WarehouseResource(path=str(settings.warehouse_db)).replace_table("raw", "other", pd.DataFrame({"a": [1]}))
    [check] = gx_checks_for([(["raw", "survey_members"], "raw", "survey_members", "raw__survey_members")])
    result = dg.materialize(
        [dg.AssetSpec(["raw", "survey_members"]), check],
        resources={"warehouse": WarehouseResource(path=str(settings.warehouse_db)),
                   "quality": QualityResource(expectations_dir=str(settings.expectations_dir),
                                              data_docs_dir=str(settings.data_docs_dir))},
        selection=dg.AssetSelection.checks(check),
        raise_on_error=False,
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert "raw.survey_members" in evaluation.metadata["summary"].value
