"""The dbt project, in its own module so `dagster-dbt project prepare-and-package --file` can prepare its
manifest at install time (never `dbt parse` at import time)."""

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from dagster_project.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target="dev")


def dbt_executable() -> str:
    """The `dbt` installed beside this Python (the venv), even when the venv's bin is not on PATH."""
    beside_python = Path(sys.executable).parent / "dbt"
    return str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")
