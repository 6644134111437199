"""The Definitions load, the graph is what we think it is, and every writer is in the one-writer pool."""

from __future__ import annotations

import yaml

import dagster as dg

from dagster_project.definitions import FULL_REFRESH_JOB, build_definitions
from dagster_project.settings import REPO_ROOT, Settings

# A rename or a new asset is a visible decision: update this list in the same change.
EXPECTED_ASSET_KEYS = sorted([
    *[f"raw/{t}" for t in ("survey_members", "survey_education", "survey_health", "survey_employment",
                            "survey_migration", "registry_extracts", "unhcr_population", "unhcr_asylum_applications",
                            "unhcr_asylum_decisions", "partner_5w_activities", "partner_need", "partner_indicators",
                            "partner_organizations", "partner_beneficiaries")],
    *[f"staging/stg_survey__{t}" for t in ("members", "education", "health", "employment", "migration")],
    "staging/stg_registry__extracts",
    *[f"staging/stg_unhcr__{t}" for t in ("population", "asylum_applications", "asylum_decisions")],
    *[f"staging/stg_partners__{t}" for t in ("5w_activities", "need", "indicators", "organizations", "beneficiaries")],
    "intermediate/int_survey_persons_harmonized", "intermediate/int_registry_person_months",
    "intermediate/int_partner_5w_activities", "intermediate/int_partner_need",
    "marts/labor_gaps", "marts/integration_indicators", "marts/program_reach", "marts/registry_stock",
    "estimates/survey_indicators", "marts/indicators", "estimates/survey_occupations", "marts/occupations",
    "reference/isco08_groups", "estimates/indicator_definitions", "marts/indicator_definitions",
    "reference/departments", "published/analytics_db",
    # registry family in depth (issue 4)
    "raw/migraciones_reference_figures", "staging/stg_migraciones__reference_figures",
    "intermediate/int_registry_extract_months", "intermediate/int_registry_status_history",
    "intermediate/int_registry_indicators", "intermediate/int_unhcr_indicators",
    "marts/registry_stock_by_group", "marts/registry_regular_share", "marts/registry_status_transitions",
    "marts/registry_permits_expiring", "marts/registry_time_to_regular_status", "marts/registry_rows_quarantined",
    "marts/unhcr_venezuela_peru", "marts/registry_published_figures",
    "reference/inei_ubigeo", "reference/iso3166_countries", "reference/registry_indicator_definitions",
    "reference/unhcr_indicator_definitions", "reference/reference_figure_measures", "raw/registry_extracts_quarantine",
    # partner family in depth (issue 5): R4V's consolidated-per-organization workbook
    "raw/partner_consolidated_reports", "staging/stg_partners__consolidated_reports", "marts/r4v_consolidated_by_month",
    # R4V consolidation and coverage (issue 5, consolidation)
    "intermediate/int_partner_5w_pin_breakdowns", "marts/r4v_sector_consolidation",
    "marts/r4v_intersector_consolidation", "marts/r4v_country_consolidation", "marts/program_coverage",
    "intermediate/int_program_indicators", "reference/program_subsectors", "reference/program_indicator_definitions",
    # 5W row rules at load (issue 5, rules)
    "raw/partner_5w_activities_quarantine", "marts/partner_rows_quarantined", "reference/r4v_admin1_admin2",
    "reference/r4v_country_admin1", "reference/r4v_organizations", "reference/r4v_sector_indicators",
    # program outcomes (issue 5, outcomes)
    "intermediate/int_program_participants", "marts/program_outcomes", "marts/program_participant_overlap",
])


def load():
    return build_definitions(Settings.from_env())


def test_asset_keys_are_the_expected_ones():
    graph = load().resolve_asset_graph()
    assert sorted(k.to_user_string() for k in graph.get_all_asset_keys()) == EXPECTED_ASSET_KEYS


def test_every_raw_table_and_mart_has_a_blocking_gx_check():
    graph = load().resolve_asset_graph()
    checked = {}
    for check_key in graph.asset_check_keys:
        if check_key.name.startswith("gx_"):
            spec = graph.get_check_spec(check_key)
            checked[check_key.asset_key.to_user_string()] = spec.blocking
    # (a quarantine table holds the rows that failed the suite of its raw table: nothing to check it against)
    expected = [k for k in EXPECTED_ASSET_KEYS if k.startswith(("raw/", "marts/")) and not k.endswith("_quarantine")]
    expected.append("intermediate/int_registry_extract_months")  # the month-on-month registry stock bound
    assert sorted(checked) == sorted(expected)
    assert all(checked.values()), "every GX check must be blocking"


def test_everything_that_opens_the_warehouse_is_in_the_duckdb_pool():
    definitions = load()
    graph = definitions.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        pool = graph.get(key).assets_def.op.pool
        assert pool == "duckdb", f"{key.to_user_string()} runs outside the duckdb pool: {pool}"
    for checks_def in definitions.asset_checks or []:
        assert checks_def.op.pool == "duckdb", f"check {checks_def} runs outside the duckdb pool"


def test_instance_limits_every_pool_to_one_and_dbt_runs_one_thread():
    instance_settings = yaml.safe_load((REPO_ROOT / "dagster_home" / "dagster.yaml").read_text())
    assert instance_settings["concurrency"]["pools"]["default_limit"] == 1
    profile = yaml.safe_load((REPO_ROOT / "dbt" / "profiles.yml").read_text())
    assert all(target["threads"] == 1 for target in profile["warehouse"]["outputs"].values())


def test_full_refresh_job_covers_every_asset_and_has_a_monthly_schedule():
    definitions = load()
    job = definitions.resolve_job_def(FULL_REFRESH_JOB)
    assert job.asset_layer.executable_asset_keys == set(definitions.resolve_asset_graph().executable_asset_keys)
    schedule = definitions.resolve_schedule_def("monthly_full_refresh")
    assert schedule.job_name == FULL_REFRESH_JOB and schedule.cron_schedule.split()[2:4] == ["3", "*"]


def test_assets_have_descriptions_groups_and_owners():
    graph = load().resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name and node.group_name != "default", key
        assert node.owners, f"{key.to_user_string()} has no owner"
        assert node.description, f"{key.to_user_string()} has no description"


def test_the_module_level_definitions_are_lazy():
    import dagster_project.definitions as module

    # `defs` is built when Dagster loads the code location, not when the module is imported
    assert not isinstance(module.defs, dg.Definitions)


def test_survey_assets_alone_materialize_without_the_other_families(tiny_landing, tmp_path, monkeypatch):
    """An operator may refresh one family from the UI: dbt must not run tests of models outside the selection."""
    import shutil

    from tests.conftest import environment_for

    shutil.copytree(tiny_landing[0] / "survey", tmp_path / "landing" / "survey")
    for name, value in environment_for(tmp_path).items():
        monkeypatch.setenv(name, value)
    definitions = build_definitions(Settings.from_env())
    graph = definitions.resolve_asset_graph()
    survey_path = [k for k in graph.get_all_asset_keys()
                   if k.path[-1].startswith(("survey_", "stg_survey__", "int_survey_"))]
    selection = [*survey_path, dg.AssetKey(["reference", "departments"]),
                 dg.AssetKey(["estimates", "indicator_definitions"]), dg.AssetKey(["marts", "indicators"])]
    job = definitions.resolve_job_def(FULL_REFRESH_JOB)
    result = job.execute_in_process(asset_selection=selection, instance=dg.DagsterInstance.ephemeral(),
                                    raise_on_error=False)
    failures = [e.event_specific_data.error.message[:300] for e in result.all_events
                if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert result.success, failures
