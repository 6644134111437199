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

Memory: "peak RSS" is the brief's measure, max(ru_maxrss of this process, of its children) — cumulative since start.
dbt runs as a subprocess started from this (large) process, so the children figure can include this process's
size at the time dbt started; each step therefore also reports this process's own peak during the step (VmHWM,
reset before the step) and the largest resident size sampled from any descendant process (dbt) during the step.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dagster as dg  # noqa: E402

from dagster_project.__main__ import failure_report  # noqa: E402
from dagster_project.definitions import FULL_REFRESH_JOB, build_definitions  # noqa: E402
from dagster_project.demo.generator import generate_survey_landing  # noqa: E402
from dagster_project.pseudonymize import ensure_key_file  # noqa: E402
from dagster_project.resources import WarehouseResource  # noqa: E402
from dagster_project.settings import Settings  # noqa: E402
from dagster_project.sources.survey.assets import SURVEY_TABLES  # noqa: E402

HARMONIZED = dg.AssetKey(["intermediate", "int_survey_persons_harmonized"])
REPORTED_TABLES = [*(("raw", t.name) for t in SURVEY_TABLES), ("intermediate", "int_survey_persons_harmonized"),
                   ("estimates", "survey_indicators")]


# ---------------------------------------------------------------------------------------------------------------
# memory

def _mib_from_status(pid: int | str, field: str) -> float:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


def maxrss_mib() -> tuple[float, float]:
    """The brief's figures: ru_maxrss of this process and of its waited-for children, since start (Linux: KiB)."""
    return tuple(resource.getrusage(who).ru_maxrss / 1024 for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def _descendants(root_pid: int) -> list[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])  # field 4: ppid
    found, frontier = [], [root_pid]
    while frontier:
        children = [pid for pid, ppid in parents.items() if ppid in frontier]
        found += children
        frontier = children
    return found


class StepMemory:
    """Memory during a block: this process's resident size at the start and its peak (VmHWM, reset at the start),
    and samples every `interval` s of (time, own RSS, largest descendant RSS) to attribute peaks to Dagster steps."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.samples: list[tuple[float, float, float]] = []
        self._stop = threading.Event()

    def __enter__(self) -> "StepMemory":
        try:
            Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark (Linux >= 4.0)
        except OSError:
            pass
        self.start_mib = _mib_from_status("self", "VmRSS")
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            children = [_mib_from_status(pid, "VmRSS") for pid in _descendants(os.getpid())]
            self.samples.append((time.time(), _mib_from_status("self", "VmRSS"), max(children, default=0.0)))

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.own_mib = _mib_from_status("self", "VmHWM")
        self.child_mib = max((child for _, _, child in self.samples), default=0.0)

    def peaks_between(self, start: float, end: float) -> tuple[float, float]:
        inside = [(own, child) for t, own, child in self.samples if start <= t <= end]
        return max((o for o, _ in inside), default=0.0), max((c for _, c in inside), default=0.0)


# ---------------------------------------------------------------------------------------------------------------
# the three steps

def benchmark_settings(root: Path) -> Settings:
    return dataclasses.replace(
        Settings.from_env(), landing_dir=root / "landing", warehouse_db=root / "warehouse.duckdb",
        published_db=root / "published" / "analytics.duckdb", data_docs_dir=root / "data_docs",
        reports_dir=root / "reports", pseudonym_key_file=root / "pseudonym.key",
    )


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


def survey_selection(definitions: dg.Definitions) -> list[dg.AssetKey]:
    """Raw survey tables, everything they feed and everything those need (seeds), keeping only assets whose raw
    inputs are all survey tables (so the publish asset and any mart that also reads other families drop out)."""
    graph = definitions.resolve_asset_graph()
    raw_survey = {dg.AssetKey(["raw", t.name]) for t in SURVEY_TABLES}
    candidates = dg.AssetSelection.assets(*raw_survey).downstream().upstream().resolve(graph)

    def raw_inputs(key: dg.AssetKey) -> set[dg.AssetKey]:
        upstream = dg.AssetSelection.assets(key).upstream().resolve(graph)
        return {k for k in upstream if k.path[0] == "raw"}

    return sorted((k for k in candidates if raw_inputs(k) <= raw_survey), key=lambda k: k.to_user_string())


def step_kind(step_key: str) -> str:
    if "_gx_" in step_key:
        return "GX checks"
    if step_key.startswith("raw__"):
        return "raw loads (read + harmonize)"
    if step_key.startswith("estimates__"):
        return "estimates (Python)"
    if step_key.startswith("dbt_models_after_estimation"):
        return "dbt after estimates (indicators)"
    if step_key.startswith("dbt_models"):
        return "dbt build (staging → marts)"
    return step_key


def step_figures(result, instance: dg.DagsterInstance, memory: StepMemory) -> dict[str, tuple[float, float, float]]:
    """step key → (seconds from STEP_SUCCESS, sampled peak RSS of this process, of a dbt subprocess) during it."""
    started, figures = {}, {}
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[event.step_key] = entry.timestamp
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            own, child = memory.peaks_between(started.get(event.step_key, 0.0), entry.timestamp)
            figures[event.step_key] = (event.event_specific_data.duration_ms / 1000, own, child)
    return figures


def table_rows(warehouse_db: Path) -> dict[str, int | None]:
    import duckdb

    rows = {}
    with duckdb.connect(str(warehouse_db), read_only=True) as connection:
        names = {f"{s}.{t}" for s, t in connection.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}
        marts = sorted(n for n in names if n.startswith("marts."))
        for name in [f"{s}.{t}" for s, t in REPORTED_TABLES] + marts:
            rows[name] = connection.execute(f"select count(*) from {name}").fetchone()[0] if name in names else None
    return rows


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
    definitions = build_definitions(settings)
    selection = survey_selection(definitions)
    job = definitions.resolve_job_def(FULL_REFRESH_JOB)
    instance = dg.DagsterInstance.ephemeral()
    with StepMemory() as memory:
        start = time.perf_counter()
        result = job.execute_in_process(
            asset_selection=selection, instance=instance, raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        seconds = time.perf_counter() - start
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
        kinds[step_kind(key)] += seconds
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
        for name, rows in table_rows(settings.warehouse_db).items():
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
