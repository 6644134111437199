"""Shared fixtures: settings in tmp_path, tiny demo landing data, one real refresh per test session."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from dagster_project.settings import REPO_ROOT, Settings

ENV_NAMES = {
    "landing_dir": "WAREHOUSE_LANDING_DIR",
    "warehouse_db": "WAREHOUSE_DB",
    "published_db": "WAREHOUSE_PUBLISHED_DB",
    "pseudonym_key_file": "WAREHOUSE_PSEUDONYM_KEY_FILE",
    "data_docs_dir": "WAREHOUSE_DATA_DOCS_DIR",
    "reports_dir": "WAREHOUSE_REPORTS_DIR",
}


def real_data_dir() -> Path:
    return Path(os.environ.get("WAREHOUSE_REAL_DATA_DIR") or REPO_ROOT.parent / "shared" / "data" / "real")


@pytest.fixture
def real_data() -> Path:
    folder = real_data_dir()
    if not folder.is_dir():
        pytest.skip(f"real public data not found at {folder} (set WAREHOUSE_REAL_DATA_DIR to ../shared/data/real)")
    return folder


def environment_for(root: Path) -> dict[str, str]:
    """Every warehouse path under `root`, as the environment variables Settings reads."""
    return {
        "WAREHOUSE_LANDING_DIR": str(root / "landing"),
        "WAREHOUSE_DB": str(root / "warehouse" / "warehouse.duckdb"),
        "WAREHOUSE_PUBLISHED_DB": str(root / "published" / "analytics.duckdb"),
        "WAREHOUSE_PSEUDONYM_KEY_FILE": str(root / "secrets" / "pseudonym.key"),
        "WAREHOUSE_DATA_DOCS_DIR": str(root / "data_docs"),
        "WAREHOUSE_REPORTS_DIR": str(root / "reports"),
    }


@dataclass
class Refresh:
    root: Path
    settings: Settings
    result: object  # dagster ExecuteInProcessResult
    truth: dict  # the demo generator's realized truth (demo_truth.json)
    instance: object = None  # the (ephemeral) Dagster instance the run logged to


def run_refresh_in(root: Path, monkeypatch: pytest.MonkeyPatch, truth: dict | None = None) -> Refresh:
    import dagster as dg

    from dagster_project.__main__ import run_refresh
    from dagster_project.pseudonymize import ensure_key_file

    for name, value in environment_for(root).items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    ensure_key_file(settings.pseudonym_key_file)
    instance = dg.DagsterInstance.ephemeral()
    result = run_refresh(settings, instance=instance)
    return Refresh(root, settings, result, truth or {}, instance)


@pytest.fixture(scope="session")
def tiny_landing(tmp_path_factory) -> tuple[Path, dict]:
    """Tiny demo landing files, generated once per session (seeded: the same files every run)."""
    from dagster_project.demo.generator import generate_demo_landing

    landing = tmp_path_factory.mktemp("tiny") / "landing"
    truth = generate_demo_landing(landing, scale="tiny", seed=2024)
    return landing, truth


@pytest.fixture(scope="session")
def refreshed(tmp_path_factory, tiny_landing) -> Refresh:
    """One full refresh of the tiny demo data into a tmp_path warehouse, published; shared by read-only tests."""
    landing, truth = tiny_landing
    root = tmp_path_factory.mktemp("refresh")
    shutil.copytree(landing, root / "landing")
    with pytest.MonkeyPatch.context() as monkeypatch:
        refresh = run_refresh_in(root, monkeypatch, truth)
    return refresh


def clone_refresh(source: Refresh, target: Path) -> Path:
    """A copy of a refreshed environment (landing, warehouse, published file, key) to break things in."""
    for part in ("landing", "warehouse", "published", "secrets"):
        shutil.copytree(source.root / part, target / part)
    return target
