"""Time and memory of a full refresh at a given demo scale (not a test: numbers for the notes).

    .venv/bin/python benchmarks/refresh_benchmark.py --scale demo
    .venv/bin/python benchmarks/refresh_benchmark.py --scale national --root /tmp/national

Reports the generator's time, the refresh's time per step kind (raw loads, dbt, checks, publish), and the peak
resident memory of the largest process (this one, or dbt's subprocess).
"""

import argparse
import dataclasses
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dagster_project.__main__ import run_refresh  # noqa: E402
from dagster_project.demo.generator import generate_demo_landing  # noqa: E402
from dagster_project.pseudonymize import ensure_key_file  # noqa: E402
from dagster_project.settings import Settings  # noqa: E402


def peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def step_seconds(result) -> dict[str, float]:
    import dagster as dg

    totals = defaultdict(float)
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            key = event.step_key
            kind = ("checks" if "_gx_" in key else "raw loads" if key.startswith("raw__")
                    else "estimation" if key.startswith("estimates__")
                    else "publish" if key.startswith("published") else "dbt build")
            totals[kind] += event.event_specific_data.duration_ms / 1000
    return dict(totals)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--root", type=Path, default=None, help="scratch folder (default: a new temporary one)")
    args = parser.parse_args()
    root = args.root or Path(tempfile.mkdtemp(prefix="warehouse-benchmark-"))
    settings = dataclasses.replace(
        Settings.from_env(), landing_dir=root / "landing", warehouse_db=root / "warehouse.duckdb",
        published_db=root / "published" / "analytics.duckdb", data_docs_dir=root / "data_docs",
        pseudonym_key_file=root / "pseudonym.key",
    )
    ensure_key_file(settings.pseudonym_key_file)

    start = time.perf_counter()
    if not settings.landing_dir.exists():
        generate_demo_landing(settings.landing_dir, scale=args.scale)
    generated = time.perf_counter() - start
    start = time.perf_counter()
    result = run_refresh(settings, log_level="WARNING")
    refreshed = time.perf_counter() - start

    print(f"scale {args.scale} in {root}")
    print(f"  generate demo files   {generated:8.1f} s")
    print(f"  full refresh          {refreshed:8.1f} s  (success: {result.success})")
    for kind, seconds in sorted(step_seconds(result).items()):
        print(f"    {kind:<18} {seconds:8.1f} s")
    # dbt's subprocess is forked from this one, so its peak includes ours at fork time: report the larger.
    print(f"  peak RSS (largest process)  {max(peak_mib(resource.RUSAGE_SELF), peak_mib(resource.RUSAGE_CHILDREN)):8.0f} MiB")
    if settings.published_db.exists():
        print(f"  published file {settings.published_db.stat().st_size / 2**20:.1f} MiB, "
              f"warehouse {settings.warehouse_db.stat().st_size / 2**20:.1f} MiB")
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
