"""One settings object for every path and knob of the warehouse.

Every value comes from an environment variable with a default relative to the repository root, so `make demo`
works with nothing set and a deployment overrides only what differs. Nothing here runs at import time:
call `Settings.from_env()` where the values are needed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"


def _path(env_name: str, default: str) -> Path:
    value = os.environ.get(env_name) or default
    path = Path(value).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path)


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse_db: Path
    published_db: Path
    pseudonym_key_file: Path
    data_docs_dir: Path
    reports_dir: Path
    keep_versions: int = 5
    # The registered stock may move by at most this share from one extract month to the next; a bigger jump is a
    # broken delivery (a halving is not news) and blocks publishing until confirmed or fixed.
    registry_max_monthly_stock_change: float = 0.2
    expectations_dir: Path = field(default=EXPECTATIONS_DIR)
    dbt_project_dir: Path = field(default=DBT_PROJECT_DIR)

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            landing_dir=_path("WAREHOUSE_LANDING_DIR", "data/landing"),
            warehouse_db=_path("WAREHOUSE_DB", "data/warehouse/warehouse.duckdb"),
            published_db=_path("WAREHOUSE_PUBLISHED_DB", "data/published/analytics.duckdb"),
            pseudonym_key_file=_path("WAREHOUSE_PSEUDONYM_KEY_FILE", ".secrets/pseudonym.key"),
            data_docs_dir=_path("WAREHOUSE_DATA_DOCS_DIR", "data/quality/data_docs"),
            reports_dir=_path("WAREHOUSE_REPORTS_DIR", "data/reports"),
            keep_versions=int(os.environ.get("WAREHOUSE_KEEP_VERSIONS", "5")),
            registry_max_monthly_stock_change=float(
                os.environ.get("WAREHOUSE_REGISTRY_MAX_MONTHLY_STOCK_CHANGE", "0.2")),
        )

    @property
    def versions_dir(self) -> Path:
        """Earlier published files, kept for rollback, next to the published file."""
        return self.published_db.parent / "versions"
