"""Time the partner-program path at national scale: ~50,000 5W rows and ~500,000 beneficiary records; not a test.

    .venv/bin/python benchmarks/partner_benchmark.py                           # in a new temp folder
    .venv/bin/python benchmarks/partner_benchmark.py --root /tmp/partners-national   # reuse generated files there
    .venv/bin/python benchmarks/partner_benchmark.py --fivew-rows 2000 --beneficiaries 20000 --root /tmp/p-small

Two timed steps, in one process:

1. Generate the partner family only (reference lists, Proportions.xlsx, the consolidated workbook, 12 monthly 5W
   files cycling the three header variants with their planted defects, and 3 organizations × 12 monthly beneficiary
   files), sized to `--fivew-rows` 5W rows and ~93% of `--beneficiaries` beneficiary records (the default gives ~502,000). Reused when <root>
   already holds files of the same request (<root>/partner_landing.json).
2. The Dagster refresh restricted to the partner path, in a fresh warehouse <root>/warehouse.duckdb: every raw
   partner table (5W read + GX row rules + quarantine + error report workbooks, beneficiaries read + keyed hash),
   every dbt model they feed whose raw inputs are partner tables only (consolidation, coverage, outcomes), the seeds
   they need, and all their asset checks. Nothing is published.

Durations per step come from Dagster's STEP_SUCCESS events; memory figures are explained in benchmarks/measure.py.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dagster as dg  # noqa: E402

from dagster_project.definitions import build_definitions  # noqa: E402
from dagster_project.demo.generator import family_stream  # noqa: E402
from dagster_project.demo.partners import generate_partners  # noqa: E402
from dagster_project.demo.truth import load_truth, resolve_sizes  # noqa: E402
from dagster_project.pseudonymize import ensure_key_file  # noqa: E402
from dagster_project.sources.partners.assets import PARTNER_TABLES  # noqa: E402
from measure import StepMemory, benchmark_settings, path_selection, report_run, run_selection, table_rows  # noqa: E402

MONTHS = 12
ORGANIZATIONS = 3
REPORTED_TABLES = ["raw.partner_5w_activities", "raw.partner_5w_activities_quarantine", "raw.partner_beneficiaries",
                   "intermediate.int_partner_5w_activities", "intermediate.int_program_participants"]
STEP_KINDS = [("raw__partner_5w", "5W load (read, row rules, quarantine, error reports)"),
              ("raw__partner_beneficiaries", "beneficiaries load (read, keyed hash)"),
              ("raw__", "other raw loads (reference lists, need, consolidated workbook)"),
              ("dbt_models", "dbt build (staging → consolidation, coverage, outcomes)")]


def generate_or_reuse(root: Path, landing: Path, seed: int, fivew_rows: int, beneficiaries: int) -> tuple[dict, bool]:
    marker = root / "partner_landing.json"
    wanted = {"seed": seed, "fivew_rows": fivew_rows, "beneficiaries": beneficiaries}
    if marker.exists():
        realized = json.loads(marker.read_text(encoding="utf-8"))
        if realized.get("request") == wanted and all((landing / f).exists() for f in realized["files"]):
            return realized, True
    shutil.rmtree(landing, ignore_errors=True)
    truth = load_truth()
    sizes = {**resolve_sizes(truth, "national"), "fivew_months": MONTHS,
             "fivew_rows_per_month": math.ceil(fivew_rows / MONTHS), "beneficiary_organizations": ORGANIZATIONS,
             "beneficiary_months": MONTHS,
             "beneficiary_records_per_file": math.ceil(beneficiaries / (ORGANIZATIONS * MONTHS))}
    figures, paths = generate_partners(family_stream(seed, "fivew"), family_stream(seed, "beneficiaries"), truth, sizes, landing)
    records = figures["beneficiaries"]["records"]
    realized = {"request": wanted, "files": [str(p.relative_to(landing)) for p in paths],
                "fivew_rows": sum(f["rows"] for f in figures["files"].values()),
                "fivew_planted_defects": sum(sum(r.values()) for r in figures["fivew_quarantined"].values()),
                "beneficiary_records": sum(sum(months.values()) for months in records.values())}
    marker.write_text(json.dumps(realized, indent=1), encoding="utf-8")
    return realized, False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None, help="scratch folder (default: a new temporary one)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--fivew-rows", type=int, default=50_000, help="valid 5W rows over 12 months")
    parser.add_argument("--beneficiaries", type=int, default=540_000,
                        help="beneficiary records asked of the generator (it writes ~93%%: 540,000 gives ~502,000)")
    args = parser.parse_args()
    root = (args.root or Path(tempfile.mkdtemp(prefix="partner-benchmark-"))).resolve()
    root.mkdir(parents=True, exist_ok=True)
    settings = benchmark_settings(root)
    ensure_key_file(settings.pseudonym_key_file)

    with StepMemory() as generate_memory:
        start = time.perf_counter()
        realized, reused = generate_or_reuse(root, settings.landing_dir, args.seed, args.fivew_rows, args.beneficiaries)
        generate_seconds = time.perf_counter() - start
    landing_mib = sum(p.stat().st_size for p in settings.landing_dir.rglob("*") if p.is_file()) / 2**20

    settings.warehouse_db.unlink(missing_ok=True)
    shutil.rmtree(settings.reports_dir, ignore_errors=True)
    raw_keys = {dg.AssetKey(["raw", t.name]) for t in PARTNER_TABLES}
    raw_keys |= {dg.AssetKey(["raw", f"{t.name}_quarantine"]) for t in PARTNER_TABLES if t.row_rules_suite}
    selection = path_selection(build_definitions(settings), raw_keys)
    result, instance, memory, seconds = run_selection(settings, selection)

    print(f"\npartner benchmark, seed {args.seed}, in {root}")
    print(f"  generate{' (reused)' if reused else ''}: {generate_seconds:.1f} s, own peak "
          f"{generate_memory.own_mib:.0f} MiB; {len(realized['files'])} files, {landing_mib:.0f} MiB; "
          f"{realized['fivew_rows']:,} valid 5W rows + {realized['fivew_planted_defects']:,} planted defects, "
          f"{realized['beneficiary_records']:,} beneficiary records")
    report_run("refresh of the partner path", result, instance, memory, seconds, selection, STEP_KINDS)
    reports = list((settings.reports_dir / "5w_error_reports").rglob("*.xlsx"))
    print(f"  error report workbooks written: {len(reports)}")
    if settings.warehouse_db.exists():
        print(f"\n  warehouse rows ({settings.warehouse_db.stat().st_size / 2**20:.0f} MiB file)")
        rows = table_rows(settings.warehouse_db, REPORTED_TABLES, marts_prefix="marts.")
        for name, count in rows.items():
            print(f"    {name:<60}{'missing' if count is None else f'{count:>12,}'}")
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
