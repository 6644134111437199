"""Time harmonization plus all survey estimates at national scale (5 ENAHO-size waves); not a test.

    .venv/bin/python benchmarks/survey_benchmark.py                        # national, in a new temp folder
    .venv/bin/python benchmarks/survey_benchmark.py --root /tmp/survey-national   # reuse generated files there
    .venv/bin/python benchmarks/survey_benchmark.py --scale tiny --root /tmp/survey-tiny   # quick smoke run

Three timed steps, in one process:

1. Generate the survey files only (no registry or partner files): ENAHO waves 2020–2024 (~110,000 persons each at
   `--scale national`) and ENAHOPV 2024 (~11,000 persons), under <root>/landing. Reused when <root> already holds
   files generated with the same scale, seed and waves (<root>/survey_landing.json says which).
2. The Dagster refresh restricted to the survey path, in a fresh warehouse <root>/warehouse.duckdb: the raw survey
   tables, every dbt model they feed up to intermediate.int_survey_persons_harmonized, the seeds these need, the
   marts that depend only on survey data, `estimates/survey_indicators` and the dbt `indicators` model, with the
   asset checks of those assets (GX suites, dbt tests). Nothing is published. Durations per step come from Dagster's
   STEP_SUCCESS events.
3. `compute_survey_indicators` alone on the harmonized persons read from the warehouse: the cost of the
   design-based estimation apart from ingest and dbt, with its row count and reliability counts.

dbt tests: the project runs dbt with cautious indirect selection (transform/assets.py), so selecting the survey
path does not run a relationships test whose other parent is a registry model.

Memory figures: see benchmarks/measure.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dagster as dg  # noqa: E402

from dagster_project.__main__ import failure_report  # noqa: E402
from dagster_project.definitions import build_definitions  # noqa: E402
from dagster_project.demo.generator import generate_survey_landing  # noqa: E402
from dagster_project.pseudonymize import ensure_key_file  # noqa: E402
from dagster_project.resources import WarehouseResource  # noqa: E402
from dagster_project.sources.survey.assets import SURVEY_TABLES  # noqa: E402
from measure import StepMemory, benchmark_settings, maxrss_mib, path_selection, run_selection, step_figures, step_kind, table_rows  # noqa: E402

HARMONIZED = dg.AssetKey(["intermediate", "int_survey_persons_harmonized"])
REPORTED_TABLES = [*(f"raw.{t.name}" for t in SURVEY_TABLES), "intermediate.int_survey_persons_harmonized",
                   "estimates.survey_indicators"]


# ---------------------------------------------------------------------------------------------------------------
# the three steps

def generate_or_reuse(root: Path, landing: Path, scale: str, seed: int, waves: list[int]) -> tuple[dict, bool]:
    """The survey landing files for (scale, seed, waves): reused if already generated so, else written anew."""
    marker = root / "survey_landing.json"
    wanted = {"scale": scale, "seed": seed, "waves": waves}
    if marker.exists():
        realized = json.loads(marker.read_text(encoding="utf-8"))
        if realized.get("request") == wanted and all((landing / f).exists() for f in realized["files"]):
            return realized, True
    if landing.exists():
        shutil.rmtree(landing)
    realized = generate_survey_landing(landing, scale=scale, seed=seed, waves=waves)
    realized["request"] = wanted
    marker.write_text(json.dumps(realized, ensure_ascii=False, indent=1), encoding="utf-8")
    return realized, False


STEP_KINDS = [("raw__", "raw loads (read + harmonize)"), ("estimates__", "estimates (Python)"),
              ("dbt_models_after_estimation", "dbt after estimates (indicators)"),
              ("dbt_models", "dbt build (staging → marts)")]


# ---------------------------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None, help="scratch folder (default: a new temporary one)")
    parser.add_argument("--scale", default="national", help="generator preset or multiplier (default: national)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--waves", default="2020,2021,2022,2023,2024", help="ENAHO waves (comma-separated)")
    args = parser.parse_args()
    root = (args.root or Path(tempfile.mkdtemp(prefix="survey-benchmark-"))).resolve()
    root.mkdir(parents=True, exist_ok=True)
    waves = sorted(int(w) for w in args.waves.split(",") if w.strip())
    settings = benchmark_settings(root)
    ensure_key_file(settings.pseudonym_key_file)
    timings: list[tuple[str, float, StepMemory, tuple[float, float]]] = []  # (step, seconds, memory, maxrss)

    # 1. survey files only
    with StepMemory() as memory:
        start = time.perf_counter()
        realized, reused = generate_or_reuse(root, settings.landing_dir, args.scale, args.seed, waves)
        seconds = time.perf_counter() - start
    timings.append(("1 generate survey files" + (" (reused)" if reused else ""), seconds, memory, maxrss_mib()))
    sizes = realized["survey"].get("enaho_waves") or {str(waves[-1]): realized["survey"]["enaho"]}
    landing_mib = sum(p.stat().st_size for p in settings.landing_dir.rglob("*") if p.is_file()) / 2**20

    # 2. the Dagster refresh of the survey path, in a fresh warehouse
    settings.warehouse_db.unlink(missing_ok=True)
    selection = path_selection(build_definitions(settings), {dg.AssetKey(["raw", t.name]) for t in SURVEY_TABLES})
    result, instance, memory, seconds = run_selection(settings, selection)
    timings.append(("2 Dagster refresh, survey path", seconds, memory, maxrss_mib()))
    per_step = step_figures(result, instance, memory)
    checks = [e.event_specific_data for e in result.all_events
              if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]

    # 3. the estimation alone, on the harmonized persons the refresh built
    from dagster_project.sources.survey.indicators import compute_survey_indicators

    indicators = None
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    if HARMONIZED in materialized:
        warehouse = WarehouseResource(path=str(settings.warehouse_db))
        with StepMemory() as memory:
            start = time.perf_counter()
            persons = warehouse.read_table("intermediate", "int_survey_persons_harmonized")
            read_seconds = time.perf_counter() - start
            indicators = compute_survey_indicators(persons)
            seconds = time.perf_counter() - start
        timings.append((f"3 compute_survey_indicators (read {read_seconds:.1f} s + estimate)", seconds, memory,
                        maxrss_mib()))

    # report
    print(f"\nsurvey benchmark, scale {args.scale}, seed {args.seed}, in {root}")
    print(f"  landing: {len(realized['files'])} files, {landing_mib:.0f} MiB; ENAHO persons per wave: "
          + ", ".join(f"{w}: {s['persons']:,}" for w, s in sorted(sizes.items()))
          + f"; ENAHOPV {realized['survey']['enahopv']['persons']:,} persons")
    print(f"\n  {'step':<56}{'seconds':>8}{'RSS at':>8}{'own':>7}{'dbt':>7}   {'ru_maxrss MiB':>13}")
    print(f"  {'':<56}{'':>8}{'start':>8}{'peak':>7}{'peak':>7}   {'SELF / CHILD':>13}")
    for name, seconds, memory, (own_max, child_max) in timings:
        print(f"  {name:<56}{seconds:8.1f}{memory.start_mib:8.0f}{memory.own_mib:7.0f}{memory.child_mib:7.0f}"
              f"   {own_max:6.0f} / {child_max:<6.0f}")
    print("  MiB. RSS at start, own peak: this process (VmHWM reset at the step's start); dbt peak: largest sampled\n"
          "  subprocess; ru_maxrss: since start (CHILDREN counts this process's size when dbt was started).")

    print(f"\n  refresh: success {result.success}, {len(selection)} assets selected; STEP_SUCCESS durations,"
          " sampled peak RSS during each step")
    kinds = defaultdict(float)
    for key, (seconds, _, _) in per_step.items():
        kinds[step_kind(key, STEP_KINDS)] += seconds
    for kind, seconds in sorted(kinds.items(), key=lambda item: -item[1]):
        print(f"    {kind:<44}{seconds:9.1f} s")
    print(f"    {'by step':<66}{'seconds':>9}{'own MiB':>9}{'dbt MiB':>9}")
    for key, (seconds, own, child) in sorted(per_step.items(), key=lambda item: -item[1][0]):
        print(f"      {key:<64}{seconds:9.1f}{own:9.0f}{child:9.0f}")
    failed_checks = [c for c in checks if not c.passed]
    print(f"    asset checks evaluated: {len(checks)}, failed: {len(failed_checks)}")
    if not result.success:
        for line in failure_report(result):
            print(f"    FAILED: {line}")

    if settings.warehouse_db.exists():
        print("\n  warehouse rows" + f" ({settings.warehouse_db.stat().st_size / 2**20:.0f} MiB file)")
        for name, rows in table_rows(settings.warehouse_db, REPORTED_TABLES).items():
            print(f"    {name:<50}{'missing' if rows is None else f'{rows:>12,}'}")
    if indicators is not None:
        reliability = indicators["reliability"].value_counts().to_dict()
        print(f"\n  compute_survey_indicators: {len(indicators):,} indicator rows, "
              f"{indicators['indicator_id'].nunique()} indicators, periods "
              f"{', '.join(sorted(indicators['period'].unique()))}")
        print("    reliability: " + ", ".join(f"{k} {v:,}" for k, v in sorted(reliability.items())))
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
