"""Time the registry path at national scale: 12 monthly extracts of ~1.6 M people, then one more month; not a test.

    .venv/bin/python benchmarks/registry_benchmark.py                          # national, in a new temp folder
    .venv/bin/python benchmarks/registry_benchmark.py --root /tmp/registry-national   # reuse generated files there
    .venv/bin/python benchmarks/registry_benchmark.py --scale tiny --months 3 --root /tmp/registry-tiny   # smoke run

Three timed steps, in one process:

1. Generate the Migraciones extracts only (no survey, UNHCR or partner file): `--months` + 1 monthly extracts
   (2024-01 on) of the `--scale` preset's registry population, with the planted defects. The last month is held
   back in <root>/held_back. Reused when <root> already holds files of the same request (<root>/registry_landing.json).
2. The Dagster refresh restricted to the registry extracts' path, in a fresh warehouse <root>/warehouse.duckdb:
   raw.registry_extracts (read, pseudonymize, GX row rules with quarantine, month by month), every dbt model it
   feeds whose raw inputs are the extracts only (staging, int_registry_extract_months, the status history built
   from scratch, the registry marts and indicators), the seeds they need and all their asset checks. Nothing is
   published.
3. The held-back month lands and the same selection runs again: only the new file is read and validated, the
   history model adds the month incrementally, the marts are rebuilt.

Durations per step come from Dagster's STEP_SUCCESS events; memory figures are explained in benchmarks/measure.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dagster as dg  # noqa: E402

from dagster_project.definitions import build_definitions  # noqa: E402
from dagster_project.demo.generator import family_stream  # noqa: E402
from dagster_project.demo.registry import generate_registry  # noqa: E402
from dagster_project.demo.truth import load_truth, resolve_sizes  # noqa: E402
from dagster_project.pseudonymize import ensure_key_file  # noqa: E402
from measure import StepMemory, benchmark_settings, path_selection, report_run, run_selection, table_rows  # noqa: E402


RAW_KEYS = {dg.AssetKey(["raw", "registry_extracts"]), dg.AssetKey(["raw", "registry_extracts_quarantine"])}
REPORTED_TABLES = ["raw.registry_extracts", "raw.registry_extracts_quarantine",
                   "intermediate.int_registry_status_history"]


def generate_or_reuse(root: Path, landing: Path, scale: str, seed: int, months: int) -> tuple[dict, bool]:
    """`months` + 1 extracts for (scale, seed): reused when already generated so, else written anew. The last one
    is moved to <root>/held_back."""
    marker = root / "registry_landing.json"
    wanted = {"scale": scale, "seed": seed, "months": months}
    held_back = root / "held_back"
    if marker.exists():
        realized = json.loads(marker.read_text(encoding="utf-8"))
        if realized.get("request") == wanted:
            last = Path(realized["files"][-1])
            if (held_back / last.name).exists() or (landing / last).exists():
                for relative in realized["files"][:-1]:
                    if not (landing / relative).exists():
                        break
                else:
                    return realized, True
    shutil.rmtree(landing, ignore_errors=True)
    shutil.rmtree(held_back, ignore_errors=True)
    truth = load_truth()
    sizes = {**resolve_sizes(truth, scale), "registry_months": months + 1}
    figures, paths = generate_registry(family_stream(seed, "registry"), truth, sizes, landing)
    realized = {"request": wanted, "people_before_first_month": sizes["registry_people"],
                "files": [str(p.relative_to(landing)) for p in paths],
                "rows_written": {m: f["rows_written"] for m, f in figures["months"].items()}}
    marker.write_text(json.dumps(realized, indent=1), encoding="utf-8")
    return realized, False


def hold_back_last(root: Path, landing: Path, realized: dict) -> Path:
    """Move the last month out of the landing zone (a previous run may have left it in); return its landing path."""
    last = landing / realized["files"][-1]
    held = root / "held_back" / last.name
    held.parent.mkdir(parents=True, exist_ok=True)
    if last.exists():
        shutil.move(last, held)
    return last


STEP_KINDS = [("raw__", "raw load (read, pseudonymize, row rules, quarantine)"),
              ("dbt_models", "dbt build (staging → history → marts)")]


def registry_rows(warehouse_db: Path) -> dict[str, int | None]:
    rows = table_rows(warehouse_db, REPORTED_TABLES, marts_prefix="marts.registry_")
    if rows.get("intermediate.int_registry_status_history") is not None:
        import duckdb

        with duckdb.connect(str(warehouse_db), read_only=True) as connection:
            rows["  of which open spells (is_current)"] = connection.execute(
                "select count(*) from intermediate.int_registry_status_history where is_current").fetchone()[0]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None, help="scratch folder (default: a new temporary one)")
    parser.add_argument("--scale", default="national", help="generator preset or multiplier (default: national)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--months", type=int, default=12, help="months in the first build (one more is added)")
    args = parser.parse_args()
    root = (args.root or Path(tempfile.mkdtemp(prefix="registry-benchmark-"))).resolve()
    root.mkdir(parents=True, exist_ok=True)
    settings = benchmark_settings(root)
    ensure_key_file(settings.pseudonym_key_file)

    # 1. the extracts only
    with StepMemory() as memory:
        start = time.perf_counter()
        realized, reused = generate_or_reuse(root, settings.landing_dir, args.scale, args.seed, args.months)
        generate_seconds = time.perf_counter() - start
    generate_memory = memory
    last = hold_back_last(root, settings.landing_dir, realized)
    landing_mib = sum(p.stat().st_size for p in settings.landing_dir.rglob("*") if p.is_file()) / 2**20

    # 2. full build of the first months, fresh warehouse
    settings.warehouse_db.unlink(missing_ok=True)
    selection = path_selection(build_definitions(settings), RAW_KEYS)
    first = run_selection(settings, selection)
    rows_after_first = registry_rows(settings.warehouse_db) if settings.warehouse_db.exists() else {}

    # 3. one more month lands
    shutil.move(root / "held_back" / last.name, last)
    second = run_selection(settings, selection)

    print(f"\nregistry benchmark, scale {args.scale}, seed {args.seed}, in {root}")
    print(f"  generate {args.months + 1} extracts{' (reused)' if reused else ''}: {generate_seconds:.1f} s, "
          f"own peak {generate_memory.own_mib:.0f} MiB; {args.months} months in landing, {landing_mib:.0f} MiB; "
          f"{realized['people_before_first_month']:,} people before the first month")
    print("  rows written per month: " + ", ".join(f"{m} {n:,}" for m, n in realized["rows_written"].items()))
    report_run(f"2 full build, {args.months} months", *first, selection, STEP_KINDS)
    report_run("3 one more month (incremental)", *second, selection, STEP_KINDS)
    rows_after_second = registry_rows(settings.warehouse_db)
    print(f"\n  warehouse rows ({settings.warehouse_db.stat().st_size / 2**20:.0f} MiB file)"
          f"{'':<22}{'after 2':>12}{'after 3':>12}")
    for name, rows in rows_after_second.items():
        before = rows_after_first.get(name)
        print(f"    {name:<60}{'—' if before is None else f'{before:>12,}'}"
              f"{'missing' if rows is None else f'{rows:>12,}'}")
    return 0 if first[0].success and second[0].success else 1


if __name__ == "__main__":
    sys.exit(main())
