"""`make demo-failure`: what a bad row and a broken partner file do, with the published file left untouched.

In a scratch area (`data/demo-failure/`, nothing shared with `make demo`): publish tiny demo data once, then
1. write the word "veinte" into a 5W beneficiary count: that row is set aside with its reason, the rest loads and
   publishes, and the partner gets an error report workbook naming the row and the rule;
2. deliver a 5W file that is not a workbook: the file is rejected whole, the blocking check stops the refresh, and
   the published file keeps its checksum (analysts still read the previous version).
"""

import csv
import dataclasses
import io
import shutil
import sys
from pathlib import Path
from typing import Callable

from dagster_project.settings import REPO_ROOT, Settings
from dagster_project.sources.landing import file_sha256
from dagster_project.sources.tabular import detect_delimiter, detect_encoding

BAD_ROW_FILE = "partners/5w/2024-02/Translated5W_2024-02.csv"
BROKEN_FILE = "partners/5w/2024-03/broken_delivery.xlsx"


def rewrite_csv(path: Path, change: Callable[[list[list[str]]], None]) -> None:
    """Apply `change(rows)` to a CSV's rows (header first), keeping its encoding and separator."""
    encoding = detect_encoding(path)
    delimiter = detect_delimiter(path, encoding)
    with path.open(encoding=encoding, newline="") as handle:
        rows = list(csv.reader(handle, delimiter=delimiter))
    change(rows)
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding=encoding)


def column_index(rows: list[list[str]], name: str) -> int:
    header = [h.replace("\ufeff", "").strip().lower() for h in rows[0]]
    return header.index(name.lower())


def scratch_settings(root: Path) -> Settings:
    return dataclasses.replace(
        Settings.from_env(),
        landing_dir=root / "landing", warehouse_db=root / "warehouse" / "warehouse.duckdb",
        published_db=root / "published" / "analytics.duckdb", data_docs_dir=root / "data_docs",
        reports_dir=root / "reports",
    )


def main() -> int:
    from dagster_project.__main__ import failure_report, run_refresh
    from dagster_project.demo.generator import generate_demo_landing
    from dagster_project.pseudonymize import ensure_key_file

    root = REPO_ROOT / "data" / "demo-failure"
    shutil.rmtree(root, ignore_errors=True)
    settings = scratch_settings(root)
    ensure_key_file(settings.pseudonym_key_file)
    generate_demo_landing(settings.landing_dir, scale="tiny")

    print("1/3 a good refresh publishes version 1 ...")
    if not run_refresh(settings, log_level="WARNING").success:
        print("the good refresh failed; run `make refresh` to see why", file=sys.stderr)
        return 1

    def veinte(rows):
        rows[2][column_index(rows, "New beneficiaries of the month")] = "veinte"

    rewrite_csv(settings.landing_dir / BAD_ROW_FILE, veinte)
    print(f"2/3 a partner re-delivers {BAD_ROW_FILE} with 'veinte' as a beneficiary count; refreshing ...")
    result = run_refresh(settings, log_level="CRITICAL")
    print(f"  refresh succeeded: {result.success} (one row set aside, the rest published)")
    reports = sorted((settings.reports_dir / "5w_error_reports").rglob("*.xlsx"))
    print("  error reports for partners: " + ", ".join(str(r.relative_to(REPO_ROOT)) for r in reports))
    before = file_sha256(settings.published_db)

    broken = settings.landing_dir / BROKEN_FILE
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    print(f"3/3 a partner delivers {BROKEN_FILE}, which is not a workbook; refreshing ...")
    result = run_refresh(settings, log_level="CRITICAL")
    after = file_sha256(settings.published_db)
    print(f"\nrefresh succeeded: {result.success}")
    for line in failure_report(result):
        print(f"  - {line}")
    print(f"\npublished file {settings.published_db}\n  sha256 before {before}\n  sha256 after  {after}")
    print("  unchanged: analysts still read the last good version" if before == after else "  CHANGED (this is a bug)")
    return 0 if (not result.success and before == after) else 1

if __name__ == "__main__":
    sys.exit(main())
