"""What the 5W row rules of `expectations/raw__partner_5w_activities.json` need besides the rows as read.

The rules themselves live in the suite (R4V's row checks from `R/2_data_quality_check.R`, plus type and range
checks). This module gives them two things:

* the reference lists, as suite parameters (`{"$PARAMETER": "r4v_…"}`): country–admin1 pairs, admin1–admin2 pairs,
  appealing organizations, all organizations (implementing partners), sector–indicator pairs. A list in the landing
  zone wins over the default the project ships as a dbt seed (`dbt/seeds/r4v_*.csv`):

  | list                    | landing zone (wins)                                   | default seed                    |
  |-------------------------|-------------------------------------------------------|---------------------------------|
  | country–admin1          | `partners/reference/Proportions.xlsx` (PiN/Target)    | `r4v_country_admin1.csv`        |
  | admin1–admin2           | `partners/reference/admin2.csv` (country,admin1,admin2)| `r4v_admin1_admin2.csv`        |
  | organizations           | `partners/reference/organizations.csv`                | `r4v_organizations.csv`         |
  | sector–indicator + type | `partners/reference/indicators.csv`                   | `r4v_sector_indicators.csv`     |

* helper columns (`_…`, dropped before the rows are written) on each file's rows: folded keys, so that values
  compare case-, accent- and space-insensitively (`Junin` = `Junín`); counts as numbers; the indicator's type (PiN,
  Capacity Building, Other) looked up in the list; the breakdown sums; the month as a month number; and, for a row
  identical to an earlier row of the same file, that row's number.

Keys are folded WITHOUT repairing double-encoded text: the reader repairs text before the rules run, so the keys see
what the warehouse keeps; a test that validates text as sent sees `CÃ³rdoba` fail, as R4V's check did.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from dagster_project.sources.landing import LandingFileError, find_files, relative_name
from dagster_project.sources.partners import readers
from dagster_project.settings import REPO_ROOT

SEEDS_DIR = REPO_ROOT / "dbt" / "seeds"
REFERENCE_FOLDER = ("partners", "reference")
ADMIN2_FILE = "admin2.csv"
ADMIN2_COLUMNS = ["country", "admin1", "admin2"]

POPULATION_TYPE_COLUMNS = ["in_destination", "in_transit", "host_communities", "pendulars", "returnees"]
AGE_SEX_COLUMNS = ["girls", "boys", "women", "men", "other_under", "other_above"]
COUNT_COLUMNS = ["value", "quantity_output", "total_monthly", "new_beneficiaries",
                 *POPULATION_TYPE_COLUMNS, *AGE_SEX_COLUMNS]
# the columns whose values make two rows "the same row" (the form's 30 columns; provenance excluded)
FORM_COLUMNS = ["country", "admin1", "admin2", "appealing_org", "implementation", "implementing_partner", "month",
                "subsector", "indicator", "activity_name", "activity_description", "rmrp_activity", "covid19", "cva",
                "delivery_mechanism", *COUNT_COLUMNS]
# an indicator's type as R4V's rules branch on it; any other type in a list counts as "Other"
INDICATOR_TYPES = {"pin": "PiN", "capacity building": "Capacity Building", "other": "Other"}
PAIR = " | "  # joins the parts of a pair key ("peru | lima")

_SPACES = re.compile(r"\s+")


def key(value: object) -> str | None:
    """A value as the rules compare it: trimmed, single-spaced, case and accents ignored (no text repair)."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _SPACES.sub(" ", text).strip().casefold()
    return text or None


def pair_key(*values: object) -> str | None:
    keys = [key(v) for v in values]
    return None if any(k is None for k in keys) else PAIR.join(keys)


@dataclass(frozen=True)
class ReferenceLists:
    country_admin1: frozenset[str]
    admin1_admin2: frozenset[str]
    appealing_organizations: frozenset[str]
    organizations: frozenset[str]
    indicator_types: dict[str, str]  # sector–indicator key (English or Spanish names) → PiN | Capacity Building | Other
    english_subsectors: dict[str, str] = field(default_factory=dict)  # subsector key (English or Spanish) → English key
    sources: dict[str, str] = field(default_factory=dict)  # list → where it came from

    def parameters(self) -> dict:
        return {
            "r4v_country_admin1_keys": sorted(self.country_admin1),
            "r4v_admin1_admin2_keys": sorted(self.admin1_admin2),
            "r4v_appealing_organization_keys": sorted(self.appealing_organizations),
            "r4v_organization_keys": sorted(self.organizations),
            "r4v_sector_indicator_keys": sorted(self.indicator_types),
        }

    def fingerprint(self) -> str:
        """Changes when any list changes: the loaded 5W files are then validated again."""
        content = repr(sorted(self.parameters().items())) + repr(sorted(self.indicator_types.items()))
        return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]

    @classmethod
    def from_frames(cls, locations: pd.DataFrame, admin2: pd.DataFrame, organizations: pd.DataFrame,
                    indicators: pd.DataFrame, sources: dict[str, str] | None = None) -> "ReferenceLists":
        """Lists from frames with the landing contract's columns (locations: country, admin1; admin2: country,
        admin1, admin2; organizations: name, name_es, role; indicators: subsector, subsector_es, indicator,
        indicator_es, indicator_type)."""
        names = [*organizations["name"], *organizations["name_es"]]
        appealing = organizations[organizations["role"].map(key) == "appealing"]
        types: dict[str, str] = {}
        english: dict[str, str] = {}
        for row in indicators.itertuples(index=False):
            for subsector, indicator in ((row.subsector, row.indicator), (row.subsector_es, row.indicator_es)):
                pair = pair_key(subsector, indicator)
                if pair is not None:
                    types.setdefault(pair, INDICATOR_TYPES.get(key(row.indicator_type), "Other"))
                if key(subsector) is not None and key(row.subsector) is not None:
                    english.setdefault(key(subsector), key(row.subsector))
        return cls(
            country_admin1=frozenset(filter(None, map(pair_key, locations["country"], locations["admin1"]))),
            admin1_admin2=frozenset(filter(None, map(pair_key, admin2["admin1"], admin2["admin2"]))),
            appealing_organizations=frozenset(filter(None, map(key, [*appealing["name"], *appealing["name_es"]]))),
            organizations=frozenset(filter(None, map(key, names))),
            indicator_types=types,
            english_subsectors=english,
            sources=dict(sources or {}),
        )


def _seed(seeds_dir: Path, name: str) -> pd.DataFrame:
    path = Path(seeds_dir) / f"{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"reference seed {path} is missing (the 5W row rules use it)")
    return pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)


def load_reference_lists(landing_dir: Path, seeds_dir: Path = SEEDS_DIR) -> ReferenceLists:
    """The reference lists the 5W rules use: each from the landing zone when it is there, else the seed."""
    landing_dir = Path(landing_dir)
    sources = {}
    need, need_files = readers.read_partner_need(landing_dir)
    if need_files:
        locations = need[["country", "admin1"]].drop_duplicates()
        sources["country_admin1"] = ", ".join(f.name for f in need_files)
    else:
        locations, sources["country_admin1"] = _seed(seeds_dir, "r4v_country_admin1"), "seed r4v_country_admin1"
    admin2, admin2_name = _landed_admin2(landing_dir)
    if admin2 is None:
        admin2, admin2_name = _seed(seeds_dir, "r4v_admin1_admin2"), "seed r4v_admin1_admin2"
    sources["admin1_admin2"] = admin2_name
    organizations, organization_files = readers.read_partner_organizations(landing_dir)
    if organization_files:
        sources["organizations"] = ", ".join(f.name for f in organization_files)
    else:
        organizations, sources["organizations"] = _seed(seeds_dir, "r4v_organizations"), "seed r4v_organizations"
    indicators, indicator_files = readers.read_partner_indicators(landing_dir)
    if indicator_files:
        sources["sector_indicators"] = ", ".join(f.name for f in indicator_files)
    else:
        indicators = _seed(seeds_dir, "r4v_sector_indicators")
        sources["sector_indicators"] = "seed r4v_sector_indicators"
    return ReferenceLists.from_frames(locations, admin2, organizations, indicators, sources)


def _landed_admin2(landing_dir: Path) -> tuple[pd.DataFrame | None, str]:
    paths = find_files(landing_dir.joinpath(*REFERENCE_FOLDER), re.escape(ADMIN2_FILE))
    if not paths:
        return None, ""
    name = relative_name(paths[0], landing_dir)
    frame = readers._select_columns(readers.read_csv(paths[0], name), name, ADMIN2_COLUMNS)
    if frame.empty:
        raise LandingFileError(name, "the admin1–admin2 list has no rows")
    return frame, name


# ---------------------------------------------------------------------------------------------------------------
# helper columns


def month_index(month: object) -> int | None:
    """YYYY-MM → months since year 0 (comparable as a number); None for anything else."""
    text = str(month) if month is not None else ""
    match = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", text)
    return int(match.group(1)) * 12 + int(match.group(2)) - 1 if match else None


def current_month_index(today: date | None = None) -> int:
    today = today or date.today()
    return today.year * 12 + today.month - 1


def _number(values: pd.Series) -> pd.Series:
    # float64 (NaN when empty or not a number): GX's range and pair expectations read plain floats best
    return pd.to_numeric(values.astype("string").str.strip(), errors="coerce").astype("float64")


def add_rule_columns(frame: pd.DataFrame, lists: ReferenceLists) -> pd.DataFrame:
    """The rows with the helper columns the suite's row rules check (see the module docstring)."""
    out = frame.copy()
    out["_country_admin1_key"] = [pair_key(c, a) for c, a in zip(out["country"], out["admin1"])]
    out["_admin1_admin2_key"] = [pair_key(a, b) for a, b in zip(out["admin1"], out["admin2"])]
    out["_appealing_org_key"] = out["appealing_org"].map(key)
    out["_implementing_partner_key"] = out["implementing_partner"].map(key)
    out["_sector_indicator_key"] = [pair_key(s, i) for s, i in zip(out["subsector"], out["indicator"])]
    # the subsector's English name (folded), whichever language the file uses: MultipurposeSector checks it
    out["_subsector_en_key"] = out["subsector"].map(lambda v: lists.english_subsectors.get(key(v), key(v)))
    out["_indicator_type"] = out["_sector_indicator_key"].map(lambda k: lists.indicator_types.get(k) if k else None)
    for column in COUNT_COLUMNS:
        out[f"_{column}_number"] = _number(out[column])
    # R4V sums the breakdowns with na.rm = TRUE: an empty breakdown cell counts as 0
    out["_population_type_sum"] = sum(out[f"_{c}_number"].fillna(0) for c in POPULATION_TYPE_COLUMNS)
    out["_age_sex_sum"] = sum(out[f"_{c}_number"].fillna(0) for c in AGE_SEX_COLUMNS)
    out["_month_index"] = pd.Series([month_index(m) for m in out["month"]], index=out.index, dtype="float64")
    out["_duplicate_of_row"] = _first_copy(out)
    return out


def _first_copy(frame: pd.DataFrame) -> pd.Series:
    """For a row with the same form values as an earlier row of the same file: that first row's number (with its
    sheet when the file has several); None for every first occurrence."""
    # counts compare as numbers ("24" = "24.0"), text as folded keys
    values = pd.DataFrame({c: (frame[f"_{c}_number"].astype("string") if c in COUNT_COLUMNS else frame[c].map(key))
                           for c in FORM_COLUMNS}).astype("string").fillna("\x00")
    groups = values.groupby(FORM_COLUMNS, sort=False, dropna=False).ngroup()
    first = groups.map(pd.Series(range(len(frame)), index=groups).groupby(level=0).min())
    sheets = frame["source_sheet"] if "source_sheet" in frame else pd.Series(None, index=frame.index)
    several_sheets = sheets.nunique(dropna=True) > 1
    result = []
    for position, first_position in enumerate(first):
        if first_position == position:
            result.append(None)
            continue
        row = int(frame["source_row"].iloc[first_position])
        sheet = sheets.iloc[first_position]
        result.append(f"{sheet}!{row}" if several_sheets and sheet is not None else str(row))
    return pd.Series(result, index=frame.index, dtype="object")


# ---------------------------------------------------------------------------------------------------------------
# the 5W file reader for the file-by-file load


_LISTS_CACHE: dict[tuple, ReferenceLists] = {}


def reference_lists_for(landing_dir: Path, seeds_dir: Path = SEEDS_DIR) -> ReferenceLists:
    """`load_reference_lists`, read again only when a list file changed (one load reads many 5W files)."""
    landing_dir = Path(landing_dir)
    files = [*find_files(landing_dir.joinpath(*REFERENCE_FOLDER), r".*"), *Path(seeds_dir).glob("r4v_*.csv")]
    signature = (str(landing_dir), str(seeds_dir), tuple(sorted((str(p), p.stat().st_mtime_ns) for p in files)))
    lists = _LISTS_CACHE.get(signature)
    if lists is None:
        _LISTS_CACHE.clear()
        lists = _LISTS_CACHE[signature] = load_reference_lists(landing_dir, seeds_dir)
    return lists


def read_5w_batch(path: Path, landing_dir: Path, _pseudonymizer=None) -> pd.DataFrame:
    """One 5W file's rows in the raw table's columns plus the rule helper columns."""
    mapping = readers.load_5w_mapping()
    frame = readers.read_5w_file(path, landing_dir, mapping)
    frame = readers._combine([frame], mapping.output_columns)
    return add_rule_columns(frame, reference_lists_for(landing_dir))


def rule_parameters(landing_dir: Path) -> dict:
    """The suite parameters the 5W rules take: the reference lists and the current month."""
    return {**reference_lists_for(landing_dir).parameters(), "current_month_index": current_month_index()}


def rules_fingerprint(landing_dir: Path) -> str:
    return reference_lists_for(landing_dir).fingerprint()
