"""UNHCR Refugee Data Finder tables (registry/unhcr/*.csv) in the published column layout: years and counts
written as floats (`2024.0`, `4942.0`) and `oip` left empty where UNHCR leaves it empty, as in the real files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .io_utils import write_csv

COUNTRIES = {  # ISO alpha-3 → (name, UNHCR code, ISO code) as the Refugee Data Finder writes them
    "VEN": ("Venezuela (Bolivarian Republic of)", "VEN", "VEN"),
    "PER": ("Peru", "PER", "PER"),
    "COL": ("Colombia", "COL", "COL"),
    "CUB": ("Cuba", "CUB", "CUB"),
    "HTI": ("Haiti", "HAI", "HTI"),
    "CHL": ("Chile", "CHL", "CHL"),
    "ECU": ("Ecuador", "ECU", "ECU"),
}
KEY_COLUMNS = ["year", "coo_name", "coo", "coo_iso", "coa_name", "coa", "coa_iso"]
POPULATION_COUNTS = ["refugees", "asylum_seekers", "returned_refugees", "idps", "returned_idps", "stateless", "ooc",
                     "oip", "hst"]
DECISION_COUNTS = ["dec_recognized", "dec_other", "dec_rejected", "dec_closed"]


def _keys(year: int, coo: str, coa: str) -> dict:
    o, a = COUNTRIES[coo], COUNTRIES[coa]
    return {"year": f"{float(year)}", "coo_name": o[0], "coo": o[1], "coo_iso": o[2],
            "coa_name": a[0], "coa": a[1], "coa_iso": a[2]}


def _count(value: float | None) -> str:
    return "" if value is None else f"{float(value)}"


def _population_rows(cfg: dict, year: int) -> list[dict]:
    rows = []
    for y, v in cfg["venezuela_peru_population"].items():
        counts = {c: 0 for c in POPULATION_COUNTS} | v
        rows.append(_keys(y, "VEN", "PER") | {c: _count(counts[c]) for c in POPULATION_COUNTS})
    for v in cfg["other_population_rows"]:
        given = {k: x for k, x in v.items() if k not in ("coo", "coa")}
        counts = {c: 0 for c in POPULATION_COUNTS if c != "oip"} | given
        rows.append(_keys(year, v["coo"], v["coa"]) | {c: _count(counts.get(c)) for c in POPULATION_COUNTS})
    return rows


def _application_rows(cfg: dict, year: int) -> list[dict]:
    codes = {"procedure_type": "G", "app_type": "N", "dec_level": "FI", "app_pc": "P"}
    rows = [_keys(y, "VEN", "PER") | codes | {"applied": _count(v)}
            for y, v in cfg["venezuela_peru_applications"].items()]
    rows += [_keys(year, v["coo"], v["coa"]) | codes | {"applied": _count(v["applied"])}
             for v in cfg["other_application_rows"]]
    return rows


def _decision_rows(cfg: dict, year: int) -> list[dict]:
    codes = {"procedure_type": "G", "dec_level": "FI", "dec_pc": "P"}

    def row(y: int, coo: str, coa: str, values: list[int]) -> dict:
        counts = dict(zip(DECISION_COUNTS, values))
        return _keys(y, coo, coa) | codes | {c: _count(counts[c]) for c in DECISION_COUNTS} | {
            "dec_total": _count(sum(values))}

    rows = [row(y, "VEN", "PER", v) for y, v in cfg["venezuela_peru_decisions"].items()]
    rows += [row(year, v["coo"], v["coa"], v["decisions"]) for v in cfg["other_decision_rows"]]
    return rows


def _sorted(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    return frame.sort_values(["year", "coa_name", "coo_name"], kind="stable").reset_index(drop=True)


def generate_unhcr(truth: dict, landing_dir: Path) -> tuple[dict, list[Path]]:
    cfg, year = truth["unhcr"], truth["year"]
    folder = landing_dir / "registry" / "unhcr"
    tables = {"population.csv": _population_rows(cfg, year),
              "asylum_applications.csv": _application_rows(cfg, year),
              "asylum_decisions.csv": _decision_rows(cfg, year)}
    paths = []
    for name, rows in tables.items():
        path = folder / name
        write_csv(_sorted(rows), path)
        paths.append(path)
    realized = {
        "venezuela_peru_population": {str(y): v for y, v in cfg["venezuela_peru_population"].items()},
        "venezuela_peru_applications": {str(y): v for y, v in cfg["venezuela_peru_applications"].items()},
        "venezuela_peru_decisions": {str(y): dict(zip(DECISION_COUNTS + ["dec_total"], v + [sum(v)]))
                                     for y, v in cfg["venezuela_peru_decisions"].items()},
        "rows": {name: len(rows) for name, rows in tables.items()},
    }
    return realized, paths
