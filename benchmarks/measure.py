"""What the benchmarks share: scratch settings, memory sampling and per-step figures from a Dagster run.

Memory: "peak RSS" is the brief's measure, max(ru_maxrss of this process, of its children) — cumulative since start.
dbt runs as a subprocess started from this (large) process, so the children figure can include this process's
size at the time dbt started; each step therefore also reports this process's own peak during the step (VmHWM,
reset before the step) and the largest resident size sampled from any descendant process (dbt) during the step.
"""

from __future__ import annotations

import dataclasses
import os
import re
import resource
import threading
import time
from collections import defaultdict
from pathlib import Path

import dagster as dg

from dagster_project.settings import Settings


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
# scratch settings and Dagster step figures

def benchmark_settings(root: Path) -> Settings:
    return dataclasses.replace(
        Settings.from_env(), landing_dir=root / "landing", warehouse_db=root / "warehouse.duckdb",
        published_db=root / "published" / "analytics.duckdb", data_docs_dir=root / "data_docs",
        reports_dir=root / "reports", pseudonym_key_file=root / "pseudonym.key",
    )


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


def path_selection(definitions: dg.Definitions, raw_keys: set[dg.AssetKey]) -> list[dg.AssetKey]:
    """The raw tables `raw_keys`, everything they feed and everything those need (seeds), keeping only assets whose
    raw inputs are all among `raw_keys` (so the publish asset and any mart that also reads other families drop out)."""
    graph = definitions.resolve_asset_graph()
    candidates = dg.AssetSelection.assets(*raw_keys).downstream().upstream().resolve(graph)

    def raw_inputs(key: dg.AssetKey) -> set[dg.AssetKey]:
        upstream = dg.AssetSelection.assets(key).upstream().resolve(graph)
        return {k for k in upstream if k.path[0] == "raw"}

    return sorted((k for k in candidates if raw_inputs(k) <= raw_keys), key=lambda k: k.to_user_string())


def table_rows(warehouse_db: Path, tables: list[str], marts_prefix: str = "marts.") -> dict[str, int | None]:
    """Row counts of `tables` ("schema.table") and of every table whose name starts with `marts_prefix`;
    None for a table the warehouse does not have."""
    import duckdb

    rows = {}
    with duckdb.connect(str(warehouse_db), read_only=True) as connection:
        names = {f"{s}.{t}" for s, t in connection.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}
        marts = sorted(n for n in names if n.startswith(marts_prefix))
        for name in tables + marts:
            rows[name] = connection.execute(f"select count(*) from {name}").fetchone()[0] if name in names else None
    return rows


def run_selection(settings: Settings, selection: list[dg.AssetKey]) -> tuple[dg.ExecuteInProcessResult, dg.DagsterInstance, StepMemory, float]:
    """The full-refresh job restricted to `selection`, in process, on an ephemeral instance: (result, instance,
    memory during the run, seconds)."""
    from dagster_project.definitions import FULL_REFRESH_JOB, build_definitions

    definitions = build_definitions(settings)
    job = definitions.resolve_job_def(FULL_REFRESH_JOB)
    instance = dg.DagsterInstance.ephemeral()
    with StepMemory() as memory:
        start = time.perf_counter()
        result = job.execute_in_process(
            asset_selection=selection, instance=instance, raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        seconds = time.perf_counter() - start
    return result, instance, memory, seconds


def step_kind(step_key: str, kinds: list[tuple[str, str]]) -> str:
    """A Dagster step's kind for the report: "GX checks" for a check step, else the label of the first
    (step-key prefix, label) of `kinds` it starts with, else the key itself."""
    if "_gx_" in step_key:
        return "GX checks"
    return next((label for prefix, label in kinds if step_key.startswith(prefix)), step_key)


def report_run(title: str, result, instance, memory: StepMemory, seconds: float, selection,
               kinds_by_prefix: list[tuple[str, str]]) -> None:
    """Print one run's figures: wall time, memory, seconds per step kind, the longest steps and dbt models, checks."""
    from dagster_project.__main__ import failure_report

    own_max, child_max = maxrss_mib()
    print(f"\n  {title}: success {result.success}, {len(selection)} assets, {seconds:.1f} s wall; "
          f"RSS at start {memory.start_mib:.0f} MiB, own peak {memory.own_mib:.0f} MiB, "
          f"dbt peak {memory.child_mib:.0f} MiB; ru_maxrss since start SELF {own_max:.0f} / CHILD {child_max:.0f}")
    per_step = step_figures(result, instance, memory)
    kinds = defaultdict(float)
    for key, (step_seconds, _, _) in per_step.items():
        kinds[step_kind(key, kinds_by_prefix)] += step_seconds
    for kind, step_seconds in sorted(kinds.items(), key=lambda item: -item[1]):
        print(f"    {kind:<60}{step_seconds:9.1f} s")
    print(f"    {'by step (the ten longest)':<66}{'seconds':>9}{'own MiB':>9}{'dbt MiB':>9}")
    for key, (step_seconds, own, child) in sorted(per_step.items(), key=lambda item: -item[1][0])[:10]:
        print(f"      {key:<64}{step_seconds:9.1f}{own:9.0f}{child:9.0f}")
    model_seconds = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if "Execution Duration" in materialization.metadata:  # dagster-dbt's per-model duration
            model_seconds[materialization.asset_key.to_user_string()] = \
                materialization.metadata["Execution Duration"].value
    print(f"    {'dbt models (the eight longest)':<66}{'seconds':>9}")
    for key, model in sorted(model_seconds.items(), key=lambda item: -item[1])[:8]:
        print(f"      {key:<64}{model:9.1f}")
    checks = [e.event_specific_data for e in result.all_events
              if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
    failed = [c.check_name for c in checks if not c.passed]
    print(f"    asset checks evaluated: {len(checks)}, failed: {len(failed)} {failed if failed else ''}")
    if not result.success:
        for line in failure_report(result):
            print(f"    FAILED: {line}")
