"""Command line: the same refresh the UI runs, without the UI.

    python -m dagster_project refresh            load, build, check, publish (exit 1 if anything failed)
    python -m dagster_project demo [--scale S]   generate demo files if the landing zone is empty, then refresh
    python -m dagster_project versions           the kept published versions and the publish log
    python -m dagster_project rollback [--version N]
    python -m dagster_project query "select ..."   a read-only query on the published database
"""

from __future__ import annotations

import argparse
import os
import sys

from dagster_project.settings import Settings


def _instance():
    import dagster as dg

    # With DAGSTER_HOME set (the Makefile sets it), runs are recorded where the UI shows them.
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def run_refresh(settings: Settings, instance=None, log_level: str = "INFO"):
    """Run the full refresh job in this process; returns the Dagster execution result."""
    from dagster_project.definitions import FULL_REFRESH_JOB, build_definitions

    definitions = build_definitions(settings)
    job = definitions.resolve_job_def(FULL_REFRESH_JOB)
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    return job.execute_in_process(run_config=run_config, instance=instance or _instance(), raise_on_error=False)


def failure_report(result) -> list[str]:
    """What went wrong, in words: failed steps' errors and failed checks' summaries."""
    import dagster as dg

    lines = []
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            lines.append(f"step {event.step_key} failed: {error.message.strip() if error else ''}")
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed:
                summary = evaluation.metadata.get("summary")
                text = summary.value if summary is not None else ""
                lines.append(f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} failed: {text}")
        elif event.event_type == dg.DagsterEventType.STEP_SKIPPED:
            lines.append(f"step {event.step_key} skipped (an upstream step or blocking check failed)")
    return lines


EXAMPLE_QUERY = ("select sex, population_group, round(hourly_income_mean, 2) as hourly_income_pen, "
                 "round(wage_gap_raw, 3) as wage_gap from labor_gaps where region = 'all' order by sex, population_group")


def _print_published(settings: Settings) -> None:
    print(f"\nPublished analytics database (read-only for analysts): {settings.published_db}")
    print("Try a query:")
    print(f'  make query SQL="{EXAMPLE_QUERY}"')
    print("or from Python / the DuckDB 2.x CLI (DuckDB 1.5 and older cannot open this file):")
    print(f"  duckdb.connect('{settings.published_db}', read_only=True).sql(\"select * from meta.dictionary\")")
    print(f"  duckdb -readonly {settings.published_db}")


def command_query(settings: Settings, sql: str) -> int:
    import duckdb

    if not settings.published_db.exists():
        print(f"no published database at {settings.published_db} yet: run `make demo` or `make refresh`", file=sys.stderr)
        return 1
    with duckdb.connect(str(settings.published_db), read_only=True) as connection:
        connection.sql(sql).show(max_rows=200, max_width=200)
    return 0


def command_refresh(settings: Settings) -> int:
    result = run_refresh(settings)
    if result.success:
        print(f"refresh succeeded (run {result.run_id})")
        _print_published(settings)
        return 0
    print(f"refresh FAILED (run {result.run_id}); the published database was not changed.", file=sys.stderr)
    for line in failure_report(result):
        print(f"  - {line}", file=sys.stderr)
    return 1


def command_demo(settings: Settings, scale: str, seed: int) -> int:
    from dagster_project.demo.generator import generate_demo_landing
    from dagster_project.pseudonymize import ensure_key_file
    from dagster_project.sources.landing import is_complete_file

    if ensure_key_file(settings.pseudonym_key_file):
        print(f"created a random pseudonymization key in {settings.pseudonym_key_file} (keep it out of git)")
    landed = [p for p in settings.landing_dir.rglob("*") if is_complete_file(p)] if settings.landing_dir.exists() else []
    if landed:
        print(f"landing zone {settings.landing_dir} holds {len(landed)} files: using them (no demo data generated)")
    else:
        print(f"generating demo data (scale {scale}) in {settings.landing_dir}")
        generate_demo_landing(settings.landing_dir, scale=scale, seed=seed)
    return command_refresh(settings)


def command_versions(settings: Settings) -> int:
    import duckdb

    from dagster_project.publish.publisher import list_versions

    print(f"kept versions in {settings.versions_dir}: {list_versions(settings.versions_dir) or 'none'}")
    if settings.published_db.exists():
        with duckdb.connect(str(settings.published_db), read_only=True) as connection:
            print(connection.sql("select version, published_at, run_id, tables from meta.publish_log order by version"))
    return 0


def command_rollback(settings: Settings, version: int | None) -> int:
    from dagster_project.publish.publisher import PublishError, rollback

    try:
        restored = rollback(published_db=settings.published_db, versions_dir=settings.versions_dir, version=version)
    except PublishError as error:
        print(f"rollback refused: {error}", file=sys.stderr)
        return 1
    print(f"{settings.published_db} is now version {restored}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_project", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("refresh", help="load, build, check and publish")
    demo = commands.add_parser("demo", help="generate demo data if the landing zone is empty, then refresh")
    demo.add_argument("--scale", default="demo", help="tiny | demo | national, or a multiplier of demo (default demo)")
    demo.add_argument("--seed", type=int, default=2024)
    commands.add_parser("versions", help="list kept published versions")
    back = commands.add_parser("rollback", help="restore an earlier published version")
    back.add_argument("--version", type=int, default=None, help="version number (default: the previous one)")
    query = commands.add_parser("query", help="run a read-only SQL query on the published database")
    query.add_argument("sql")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    if args.command == "refresh":
        return command_refresh(settings)
    if args.command == "demo":
        return command_demo(settings, args.scale, args.seed)
    if args.command == "versions":
        return command_versions(settings)
    if args.command == "query":
        return command_query(settings, args.sql)
    return command_rollback(settings, args.version)


if __name__ == "__main__":
    sys.exit(main())
