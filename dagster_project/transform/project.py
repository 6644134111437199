"""The dbt project, in its own module so `dagster-dbt project prepare-and-package --file` can prepare its
manifest at install time (never `dbt parse` at import time)."""

from dagster_dbt import DbtProject

from dagster_project.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target="dev")
