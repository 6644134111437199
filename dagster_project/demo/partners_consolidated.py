"""Demo R4V consolidated-per-organization workbook (partners/consolidated/), laid out like the real
`Consolidated_per_Org_and_Per_Country.xlsx`: one sheet per country (here 'Peru') and a 'Regional' sheet, each row
an appealing organization × month × subsector, plus one 'Intersector' row per organization × month (monthly total
= the sum over its sectors, consolidated figures = its largest sector, age/sex left blank as R4V does). A notes
sheet the reader must skip comes first.

Returns the realized truth: per sheet country × month × subsector, the number of rows and organizations and the
sum of every count column (exact: integers).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .io_utils import atomic_path, month_list

HEADERS = {  # raw column → the header R4V's workbook writes
    "monthly_total_beneficiaries": "Monthly Total Beneficiaries",
    "monthly_cva_beneficiaries": "Monthly CVA Beneficiaries",
    "consolidated_total": "Consolidated Total",
    "in_destination": "Consolidated In Destination",
    "in_transit": "Consolidated In Transit",
    "host_communities": "Consolidated Host Communities",
    "pendulars": "Consolidated Pendular",
    "returnees": "Consolidated Returnees",
    "girls": "Consolidated Girls",
    "boys": "Consolidated Boys",
    "women": "Consolidated Women",
    "men": "Consolidated Men",
    "other_under_18": "Consolidated Other under 18",
    "other_above_18": "Consolidated Other above 18",
    "consolidated_cva_beneficiaries": "Consolidated CVA Beneficiaries",
}
POPULATION_TYPES = ["in_destination", "in_transit", "host_communities", "pendulars", "returnees"]
AGE_SEX_GROUPS = ["girls", "boys", "women", "men", "other_under_18", "other_above_18"]
SHEETS = {"Peru": ("Peru", "Country level"), "Regional": ("Regional", "Regional level")}
SECTORS_PER_ORGANIZATION = (1, 4)  # each organization reports this many subsectors a month (inclusive)


def _sector_row(rng: np.random.Generator, has_cva: bool) -> dict[str, int]:
    total = int(rng.integers(5, 800))
    populations = rng.multinomial(total, [0.7, 0.1, 0.15, 0.03, 0.02])
    groups = rng.multinomial(total, [0.2, 0.2, 0.3, 0.26, 0.02, 0.02])
    cva = int(rng.integers(0, total + 1)) if has_cva else 0
    row = {"monthly_total_beneficiaries": total + int(rng.integers(0, 50)), "consolidated_total": total,
           "monthly_cva_beneficiaries": cva, "consolidated_cva_beneficiaries": cva}
    row.update(zip(POPULATION_TYPES, map(int, populations)))
    row.update(zip(AGE_SEX_GROUPS, map(int, groups)))
    return row


def _intersector_row(sectors: list[dict]) -> dict:
    """R4V's per-organization cross-sector row: sums of the monthly figures, the largest sector's consolidation."""
    largest = max(sectors, key=lambda row: row["consolidated_total"])
    row = {column: largest[column] for column in ["consolidated_total", *POPULATION_TYPES]}
    row["monthly_total_beneficiaries"] = sum(s["monthly_total_beneficiaries"] for s in sectors)
    row["monthly_cva_beneficiaries"] = sum(s["monthly_cva_beneficiaries"] for s in sectors)
    row["consolidated_cva_beneficiaries"] = max(s["consolidated_cva_beneficiaries"] for s in sectors)
    row.update({group: None for group in AGE_SEX_GROUPS})  # blank in R4V's file
    return row


def _sheet(rng: np.random.Generator, country: str, admin1: str, months: list[str], organizations: list[str],
           subsectors: list[str]) -> pd.DataFrame:
    rows = []
    for month in months:
        for organization in organizations:
            picked = rng.choice(subsectors, size=int(rng.integers(SECTORS_PER_ORGANIZATION[0],
                                                                 SECTORS_PER_ORGANIZATION[1] + 1)), replace=False)
            sectors = [_sector_row(rng, has_cva=subsector.startswith("Multipurpose")) for subsector in sorted(picked)]
            keys = {"Country": country, "Admin1": admin1, "Appealing_org": organization, "Month": month}
            rows += [{**keys, "Subsector": s, **row} for s, row in zip(sorted(picked), sectors)]
            rows.append({**keys, "Subsector": "Intersector", **_intersector_row(sectors)})
    return pd.DataFrame(rows).rename(columns=HEADERS)[["Country", "Admin1", "Appealing_org", "Month", "Subsector",
                                                       *HEADERS.values()]]


def _truth(sheet: pd.DataFrame) -> list[dict]:
    frame = sheet.rename(columns={v: k for k, v in HEADERS.items()})
    cells = []
    for (country, month, subsector), group in frame.groupby(["Country", "Month", "Subsector"]):
        sums = {column: (None if group[column].isna().all() else int(group[column].sum())) for column in HEADERS}
        cells.append({"country": country, "month": month, "subsector": subsector, "report_rows": len(group),
                      "organizations": int(group["Appealing_org"].nunique()), **sums})
    return cells


def write_consolidated(rng: np.random.Generator, truth: dict, sizes: dict, landing_dir: Path,
                       written: list[Path]) -> dict:
    """Write partners/consolidated/consolidated_per_org_<year>.xlsx, append its path to `written`, return the truth."""
    from .partners import INDICATORS, ORGANIZATIONS  # here, not at import: partners.py calls this module

    organizations = [name for name, _, role in ORGANIZATIONS if role == "appealing"]
    subsectors = sorted({indicator[0] for indicator in INDICATORS})
    months = month_list(truth["first_month"], sizes["fivew_months"])
    sheets = {name: _sheet(rng, country, admin1, months, organizations, subsectors)
              for name, (country, admin1) in SHEETS.items()}
    path = landing_dir / "partners" / "consolidated" / f"consolidated_per_org_{truth['year']}.xlsx"
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            pd.DataFrame({"Notes": ["Reached beneficiaries per appealing organization, consolidated by R4V.",
                                    "One sheet per country; 'Intersector' rows consolidate across sectors."]}
                         ).to_excel(writer, sheet_name="Notes", index=False)
            for name, sheet in sheets.items():
                sheet.to_excel(writer, sheet_name=name, index=False)
    written.append(path)
    return {"file": path.relative_to(landing_dir).as_posix(),
            "rows": {name: len(sheet) for name, sheet in sheets.items()},
            "cells": [cell for sheet in sheets.values() for cell in _truth(sheet)]}
