"""Values that suites take as `{"$PARAMETER": name}`: reference code lists and configurable bounds.

Reference lists live once, as dbt seeds (the models join them too); a suite names the list instead of copying it,
so a new INEI district or country code is one seed row.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=8)
def _seed_column(path: Path, column: str, mtime: float) -> tuple[str, ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(sorted({row[column].strip() for row in csv.DictReader(handle) if row[column].strip()}))


def seed_codes(seeds_dir: Path, seed: str, column: str) -> list[str]:
    path = Path(seeds_dir) / f"{seed}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"reference seed {path} is missing (suites use its column {column!r})")
    return list(_seed_column(path, column, path.stat().st_mtime))


def suite_parameters(seeds_dir: Path, registry_max_monthly_stock_change: float) -> dict:
    return {
        "inei_ubigeo_codes": seed_codes(seeds_dir, "inei_ubigeo", "ubigeo"),
        "iso3166_alpha3_codes": seed_codes(seeds_dir, "iso3166_countries", "iso3"),
        "registry_stock_change_min": -registry_max_monthly_stock_change,
        "registry_stock_change_max": registry_max_monthly_stock_change,
    }
