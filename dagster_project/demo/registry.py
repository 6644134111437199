"""Migraciones monthly extracts (registry/migraciones/extract_<YYYY-MM>.csv) from a simulated registry.

The registry is a columnar population (numpy arrays, one slot per person ever known) stepped month by month:
people leave, permits expire (renewed or not), statuses move by the monthly transition probabilities, new people
arrive. Each month's active people are written as that month's full snapshot, alternating the two delivery
formats (odd months: comma, UTF-8, ISO dates; even months: semicolon, Latin-1, DD/MM/YYYY).

Each extract also carries planted defects (truth.yaml `planted_defects_per_month`): a few people's rows with one
value corrupted so that the row breaks exactly one rule of the load's quarantine (or, for `unique_person`, written
twice). They draw from a child of the registry stream, so the simulation and every other row are the same with or
without them. The exact figures the warehouse must reproduce are computed on the valid rows only (the defect rows,
and both rows of a duplicated person, count as absent from that month) and returned per month, with the time to
first regular status over all months.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .geography import DEPARTMENTS
from .io_utils import (EPOCH, MISSING_DAY, add_years, date_categorical, day, iso, month_end, month_list, unique_ints,
                       write_csv)

STATUSES = ["IRREGULAR", "TURISTA", "PTP", "CPP", "RESIDENTE", "SOLICITANTE_REFUGIO", "REFUGIADO", "HUMANITARIA",
            "NACIONALIZADO"]
CODE = {name: i for i, name in enumerate(STATUSES)}
NO_EXPIRY = MISSING_DAY
EXTRACT_COLUMNS = ["id_persona", "tipo_documento", "num_documento", "nombres", "apellidos", "sexo",
                   "fecha_nacimiento", "nacionalidad", "fecha_ultimo_ingreso", "calidad_migratoria",
                   "fecha_inicio_calidad", "fecha_vencimiento", "ubigeo_residencia"]
DOCUMENT_TYPES = ["PASAPORTE", "CEDULA", "CE", "CPP", "PTP", "DNI"]
DOC_BY_STATUS = {"PTP": "PTP", "CPP": "CPP", "RESIDENTE": "CE", "REFUGIADO": "CE", "HUMANITARIA": "CE",
                 "NACIONALIZADO": "DNI"}  # other statuses keep their travel document (PASAPORTE or CEDULA)
DOC_RANGE = 24_000_000  # per-person document base numbers are distinct values in [0, DOC_RANGE)
DOC_MULTIPLIERS = {"CEDULA": 7, "CE": 11, "CPP": 13, "PTP": 17, "DNI": 19, "PASAPORTE": 23, "CEDULA_OTHER": 29}

DATE_COLUMNS = ["fecha_nacimiento", "fecha_ultimo_ingreso", "fecha_inicio_calidad", "fecha_vencimiento"]

# The row rules of the extract's quarantine (expectations/raw__registry_extracts.json), in the order defects are planted
QUARANTINE_RULES = ["status_code", "document_type_code", "sex_code", "nationality_code", "date_format",
                    "birth_before_entry", "entry_before_status_start", "status_start_before_expiry",
                    "date_after_extract_month", "ubigeo_code", "unique_person"]
BAD_CODES = {"status_code": ("calidad_migratoria", "VISITANTE"), "document_type_code": ("tipo_documento", "LICENCIA"),
             "sex_code": ("sexo", "X"), "nationality_code": ("nacionalidad", "XXX")}
BAD_UBIGEOS = ["999999", "150199"]  # no such department / no such district of Lima province (alternating)
AGE_BANDS = ["0-17", "18-29", "30-44", "45-59", "60+"]
AGE_BAND_LOWER = [18, 30, 45, 60]  # lower bounds of the bands after the first
SEX_NAMES = ["male", "female"]     # by the `female` flag
EXPIRING_DAYS = [30, 60, 90]
PERCENTILES = {"q1": 0.25, "median": 0.5, "q3": 0.75}

FEMALE_NAMES = ["María", "Ana", "Sofía", "Valentina", "Génesis", "Yéssica", "Andreína", "Mariángel", "Dayana",
                "Luisa", "Carmen", "Rosa", "Daniela", "Gabriela", "Isabel", "Nazareth", "Yulimar", "Milagros",
                "Inés", "Belén", "Raquel", "Mónica", "Verónica", "Lucía", "Angélica", "Fabiola", "Yusmary",
                "Katherine", "Oriana", "Dulce"]
MALE_NAMES = ["José", "Luis", "Carlos", "Jesús", "Ángel", "Andrés", "Jhonny", "Yorman", "Wilmer", "Miguel",
              "Rafael", "Víctor", "Óscar", "Héctor", "Julián", "Simón", "Adrián", "Darío", "Néstor", "Rubén",
              "Joaquín", "Martín", "Tomás", "Germán", "Iván", "Juan", "Pedro", "Franklin", "Yonaiker", "Eliézer"]
SURNAMES = ["González", "Rodríguez", "Pérez", "Hernández", "García", "Martínez", "López", "Díaz", "Sánchez",
            "Ramírez", "Núñez", "Peña", "Briceño", "Muñoz", "Chacón", "Guzmán", "Suárez", "Márquez", "Rojas",
            "Torres", "Gómez", "Fernández", "Álvarez", "Jiménez", "Gutiérrez", "Castillo", "Morales", "Rivas",
            "Mendoza", "Ortiz", "Salazar", "Quintero", "Carreño", "Colmenárez", "Añez", "Zambrano", "Villalobos",
            "Urdaneta", "Medina", "Bolívar"]
HAITIAN_FIRST = ["Jean", "Pierre", "Marie", "Louis", "Roselène", "Widlène", "Jérôme", "Fabienne"]
HAITIAN_SURNAMES = ["Joseph", "Jean-Baptiste", "Pierre", "Louis", "Charles", "Saint-Fleur", "Désir"]
CHINESE_FIRST = ["Wei", "Fang", "Lei", "Jing", "Hao", "Min"]
CHINESE_SURNAMES = ["Wang", "Li", "Zhang", "Liu", "Chen", "Huang"]


# ----------------------------------------------------------------------------------------------------------------
# names and documents

def _name_tables() -> tuple[list[str], dict[str, tuple[int, int]], list[str], dict[str, tuple[int, int]]]:
    """All given-name and surname strings, with (offset, count) blocks per kind; one categorical per column."""
    given: list[str] = []
    given_blocks: dict[str, tuple[int, int]] = {}
    for kind, names in (("F", FEMALE_NAMES), ("M", MALE_NAMES)):
        block = names + [f"{a} {b}" for a in names for b in names if a != b]
        given_blocks[kind] = (len(given), len(block))
        given.extend(block)
    for kind, names in (("HTI", HAITIAN_FIRST), ("CHN", CHINESE_FIRST)):
        given_blocks[kind] = (len(given), len(names))
        given.extend(names)
    surnames: list[str] = []
    surname_blocks: dict[str, tuple[int, int]] = {}
    block = [f"{a} {b}" for a in SURNAMES for b in SURNAMES]
    surname_blocks["ES"] = (0, len(block))
    surnames.extend(block)
    for kind, names in (("HTI", HAITIAN_SURNAMES), ("CHN", CHINESE_SURNAMES)):
        surname_blocks[kind] = (len(surnames), len(names))
        surnames.extend(names)
    return given, given_blocks, surnames, surname_blocks


def _scramble(base: np.ndarray, kind: str) -> np.ndarray:
    """A bijection of [0, DOC_RANGE) per document kind, so each person's numbers differ across document types."""
    return (base * DOC_MULTIPLIERS[kind] + 4_999_999) % DOC_RANGE


def _canonical_documents(doc_type: np.ndarray, base: np.ndarray, venezuelan: np.ndarray) -> np.ndarray:
    """num_documento in its clean form per document type (strings; CE keeps its leading zeros)."""
    out = np.empty(doc_type.size, dtype=object)
    for t in DOCUMENT_TYPES:
        mask = doc_type == t
        if not mask.any():
            continue
        b = base[mask]
        if t == "CEDULA":
            ven = venezuelan[mask]
            text = np.where(ven, np.char.add("V", (10_000_000 + _scramble(b, "CEDULA")).astype(str)),
                            (1_000_000_000 + _scramble(b, "CEDULA_OTHER")).astype(str))
        elif t == "PASAPORTE":
            s = _scramble(b, "PASAPORTE")
            letters = np.array([chr(65 + i) for i in range(26)])[s // 1_000_000]
            digits = np.char.zfill((s % 1_000_000).astype(str), 6)
            text = np.where(venezuelan[mask], (100_000_000 + s).astype(str),
                            np.char.add(np.char.add("A", letters), digits))
        elif t == "CE":
            text = np.char.zfill((1_000_000 + _scramble(b, "CE")).astype(str), 9)
        elif t == "CPP":
            text = (100_000_000 + _scramble(b, "CPP")).astype(str)
        elif t == "PTP":
            text = (300_000_000 + _scramble(b, "PTP")).astype(str)
        else:  # DNI
            text = (70_000_000 + _scramble(b, "DNI")).astype(str)
        out[mask] = text
    return out


def _messy_documents(rng: np.random.Generator, clean: np.ndarray, doc_type: np.ndarray, share: float) -> np.ndarray:
    """Rewrite a share of document numbers the way registries do (separators, lower case, spaces); each rewritten
    value normalizes (trim, upper case, strip separators) back to the clean one."""
    out = clean.copy()
    pick = np.flatnonzero(rng.random(clean.size) < share)
    if pick.size == 0:
        return out
    text = pd.Series(clean[pick], dtype=object)
    variant = rng.integers(0, 4, size=pick.size)
    ven_cedula = (doc_type[pick] == "CEDULA") & text.str.startswith("V").to_numpy()
    digits = text.str[1:]
    dotted = "V-" + digits.str[:2] + "." + digits.str[2:5] + "." + digits.str[5:]
    dashed_9 = text.str[:3] + "-" + text.str[3:6] + "-" + text.str[6:]
    choices = [
        np.where(ven_cedula, dotted, text.str.lower() + " "),            # V-12.345.678 / ab123456_
        np.where(ven_cedula, dotted.str.lower() + " ", " " + text),      # v-12.345.678_ / _012345678
        np.where(ven_cedula, " " + text.str.lower(), dashed_9),          # _v12345678 / 012-345-678
        np.where(ven_cedula, "V-" + digits, text + "  "),                # V-12345678 / 012345678__
    ]
    out[pick] = np.select([variant == i for i in range(4)], choices, default="")
    return out


# ----------------------------------------------------------------------------------------------------------------
# the simulated registry

class Registry:
    """Columnar registry state; slots are never reused, `active` marks who is in the current extract."""

    def __init__(self, rng: np.random.Generator, cfg: dict, capacity: int):
        self.rng, self.cfg, self.capacity, self.n = rng, cfg, capacity, 0
        self.pid = 100_000_000 + unique_ints(rng, capacity, 0, 900_000_000)
        self.doc_base = unique_ints(rng, capacity, 0, DOC_RANGE)
        self.nationalities = list(cfg["nationality_mix"])
        self.ubigeos = _residence_districts()
        # department index of each district (last slot: the empty ubigeo, index -1 → 'unknown')
        district_dept = [d[:2] for d in self.ubigeos[0]] + ["unknown"]
        self.dept_codes = sorted(set(district_dept))
        self.district_dept = np.array([self.dept_codes.index(d) for d in district_dept], dtype=np.int64)
        self.given_names, self.given_blocks, self.surname_names, self.surname_blocks = _name_tables()
        fields = {"active": bool, "female": bool, "nat": np.int16, "birth": np.int64, "entry": np.int64,
                  "status": np.int16, "start": np.int64, "expiry": np.int64, "ubigeo": np.int32,
                  "travel_cedula": bool, "given": np.int32, "surname": np.int32}
        for name, dtype in fields.items():
            setattr(self, name, np.zeros(capacity, dtype=dtype))

    # -- people ---------------------------------------------------------------------------------------------------
    def add_people(self, statuses: np.ndarray, entry: np.ndarray, start: np.ndarray, as_of: int) -> None:
        """Append people with given status, entry and status-start dates; other attributes drawn here."""
        rng, cfg, k = self.rng, self.cfg, statuses.size
        if self.n + k > self.capacity:
            raise RuntimeError("registry capacity exceeded")
        sl = slice(self.n, self.n + k)
        self.active[sl] = True
        self.female[sl] = rng.random(k) < cfg["female_share"]
        nat = rng.choice(len(self.nationalities), size=k, p=_probs(cfg["nationality_mix"]))
        self.nat[sl] = nat
        birth = as_of - _ages_in_days(rng, k)
        self.birth[sl] = np.minimum(birth, entry - rng.integers(1, 400, size=k))
        self.entry[sl] = entry
        self.status[sl] = statuses
        self.start[sl] = start
        self.expiry[sl] = _expiry(cfg, statuses, start)
        self.ubigeo[sl] = self._draw_ubigeo(k)
        venezuelan = np.array(self.nationalities)[nat] == "VEN"
        self.travel_cedula[sl] = np.where(venezuelan, rng.random(k) < 0.6, rng.random(k) < 0.3)
        self.given[sl], self.surname[sl] = self._draw_names(np.array(self.nationalities)[nat], self.female[sl])
        self.n += k

    def _draw_ubigeo(self, k: int) -> np.ndarray:
        districts, probs = self.ubigeos
        idx = self.rng.choice(len(districts), size=k, p=probs)
        return np.where(self.rng.random(k) < self.cfg["empty_ubigeo_share"], -1, idx)

    def _draw_names(self, nat: np.ndarray, female: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = nat.size
        given = np.zeros(k, dtype=np.int64)
        surname = np.zeros(k, dtype=np.int64)
        kinds = np.where(np.isin(nat, ("HTI", "CHN")), nat, np.where(female, "F", "M"))
        for kind in np.unique(kinds):
            mask = kinds == kind
            offset, count = self.given_blocks[kind]
            given[mask] = offset + self.rng.integers(0, count, size=mask.sum())
            offset, count = self.surname_blocks.get(kind, self.surname_blocks["ES"])
            surname[mask] = offset + self.rng.integers(0, count, size=mask.sum())
        return given, surname

    # -- monthly dynamics -----------------------------------------------------------------------------------------
    def step(self, previous_end: int, end: int) -> dict:
        """One month: leaving, expiries, transitions, arrivals. Returns the month's arriving/leaving counts."""
        rng, cfg = self.rng, self.cfg
        active = np.flatnonzero(self.active[: self.n])
        stock = active.size
        leaving = active[rng.random(stock) < cfg["leaving_rate"]]
        self.active[leaving] = False
        active = np.flatnonzero(self.active[: self.n])
        expiring = active[(self.expiry[active] != NO_EXPIRY) & (self.expiry[active] < end)]
        self._expire(expiring)
        staying = np.setdiff1d(active, expiring, assume_unique=True)
        self._transition(staying, previous_end, end)
        arrivals = int(rng.binomial(stock, cfg["arrival_rate"]))
        self._arrive(arrivals, previous_end, end)
        return {"arriving": arrivals, "leaving": int(leaving.size)}

    def _expire(self, idx: np.ndarray) -> None:
        """Permits past their expiry: renewed (same status) or replaced, starting the day after expiry."""
        status_before = self.status[idx].copy()  # each person is processed once, by the status that expired
        for status, outcomes in self.cfg["on_expiry"].items():
            sub = idx[status_before == CODE[status]]
            if sub.size == 0:
                continue
            new = np.array([CODE[s] for s in outcomes])[
                self.rng.choice(len(outcomes), size=sub.size, p=_probs(outcomes))]
            start = self.expiry[sub] + 1
            self.status[sub], self.start[sub] = new, start
            self.expiry[sub] = _expiry(self.cfg, new, start)

    def _transition(self, idx: np.ndarray, previous_end: int, end: int) -> None:
        """Monthly status changes (e.g. IRREGULAR → CPP) on a day of the month."""
        status_before = self.status[idx].copy()
        for status, targets in self.cfg["monthly_transitions"].items():
            sub = idx[status_before == CODE[status]]
            if sub.size == 0:
                continue
            u = self.rng.random(sub.size)
            thresholds = np.cumsum(list(targets.values()))
            target = np.searchsorted(thresholds, u, side="right")
            moving = target < len(targets)
            if not moving.any():
                continue
            movers = sub[moving]
            new = np.array([CODE[s] for s in targets])[target[moving]]
            start = self.rng.integers(previous_end + 1, end + 1, size=movers.size)
            self.status[movers], self.start[movers] = new, start
            self.expiry[movers] = _expiry(self.cfg, new, start)

    def _arrive(self, k: int, previous_end: int, end: int) -> None:
        """New people: tourists and asylum seekers who entered this month, and long-time residents registering now
        (irregular, or with a CPP granted this month)."""
        if k == 0:
            return
        rng, cfg = self.rng, self.cfg
        statuses = np.array([CODE[s] for s in cfg["arrival_mix"]])[
            rng.choice(len(cfg["arrival_mix"]), size=k, p=_probs(cfg["arrival_mix"]))]
        recent = rng.integers(previous_end + 1, end + 1, size=k)
        earlier = rng.integers(day(cfg["earliest_entry"]), end + 1, size=k)
        new_entry = np.isin(statuses, (CODE["TURISTA"], CODE["SOLICITANTE_REFUGIO"]))
        entry = np.where(new_entry, recent, earlier)
        start = np.where(statuses == CODE["CPP"], np.maximum(entry, recent), entry)
        self.add_people(statuses, entry, start, end)

    # -- snapshot ---------------------------------------------------------------------------------------------------
    def snapshot_index(self) -> np.ndarray:
        return np.flatnonzero(self.active[: self.n])

    def extract_frame(self, idx: np.ndarray, date_style: str, messy_share: float) -> pd.DataFrame:
        """The month's extract rows (contract columns) for the people at `idx`."""
        status_names = np.array(STATUSES, dtype=object)[self.status[idx]]
        nat = np.array(self.nationalities, dtype=object)[self.nat[idx]]
        travel = np.where(self.travel_cedula[idx], "CEDULA", "PASAPORTE")
        doc_type = pd.Series(status_names).map(DOC_BY_STATUS).fillna(pd.Series(travel)).to_numpy(dtype=object)
        clean = _canonical_documents(doc_type, self.doc_base[idx], nat == "VEN")
        districts = self.ubigeos[0]
        return pd.DataFrame({
            "id_persona": self.pid[idx].astype(str),
            "tipo_documento": pd.Categorical(doc_type, categories=DOCUMENT_TYPES),
            "num_documento": _messy_documents(self.rng, clean, doc_type, messy_share),
            "nombres": pd.Categorical.from_codes(self.given[idx], categories=self.given_names),
            "apellidos": pd.Categorical.from_codes(self.surname[idx], categories=self.surname_names),
            "sexo": pd.Categorical.from_codes(self.female[idx].astype(np.int64), categories=["M", "F"]),
            "fecha_nacimiento": date_categorical(self.birth[idx], date_style),
            "nacionalidad": nat,
            "fecha_ultimo_ingreso": date_categorical(self.entry[idx], date_style),
            "calidad_migratoria": pd.Categorical.from_codes(self.status[idx].astype(np.int64), categories=STATUSES),
            "fecha_inicio_calidad": date_categorical(self.start[idx], date_style),
            "fecha_vencimiento": date_categorical(self.expiry[idx], date_style),
            "ubigeo_residencia": pd.Categorical.from_codes(self.ubigeo[idx].astype(np.int64), categories=districts),
        })[EXTRACT_COLUMNS]

    def month_truth(self, idx: np.ndarray, as_of: int, regular: set[str]) -> dict:
        """Exact counts over the month's valid rows `idx`: stock, regular stock, by status and department, permits
        expiring within 30/60/90 days, and the finest stock cube (status × sex × age band × department ×
        nationality)."""
        status = self.status[idx].astype(np.int64)
        is_regular = np.isin(status, [CODE[s] for s in regular])
        n_dept = len(self.dept_codes)
        dept = self.district_dept[self.ubigeo[idx]]
        registered = np.bincount(dept, minlength=n_dept)
        regular_by_dept = np.bincount(dept[is_regular], minlength=n_dept)
        expiry = self.expiry[idx]
        expiring, expiring_total = {}, {}
        for days in EXPIRING_DAYS:
            mask = (expiry != NO_EXPIRY) & (expiry > as_of) & (expiry <= as_of + days)
            counts = np.bincount(dept[mask], minlength=n_dept)
            expiring[str(days)] = {self.dept_codes[i]: int(c) for i, c in enumerate(counts) if c}
            expiring_total[str(days)] = int(mask.sum())
        band = np.searchsorted(AGE_BAND_LOWER, completed_years(self.birth[idx], as_of), side="right")
        n_nat = len(self.nationalities)
        key = (((status * 2 + self.female[idx]) * len(AGE_BANDS) + band) * n_dept + dept) * n_nat + self.nat[idx]
        cell_keys, cell_counts = np.unique(key, return_counts=True)
        cells = {}
        for k, c in zip(cell_keys.tolist(), cell_counts.tolist()):
            k, nat = divmod(k, n_nat)
            k, d = divmod(k, n_dept)
            k, b = divmod(k, len(AGE_BANDS))
            s, female = divmod(k, 2)
            parts = (STATUSES[s], SEX_NAMES[female], AGE_BANDS[b], self.dept_codes[d], self.nationalities[nat])
            cells["|".join(parts)] = c
        by_status = np.bincount(status, minlength=len(STATUSES))
        return {
            "as_of": iso(as_of),
            "registered_stock": int(idx.size),
            "regular_stock": int(is_regular.sum()),
            "regular_share": float(is_regular.mean()) if idx.size else None,
            "by_status": {s: int(c) for s, c in zip(STATUSES, by_status) if c},
            "by_department": {self.dept_codes[i]: {"registered": int(r), "regular": int(g)}
                              for i, (r, g) in enumerate(zip(registered, regular_by_dept)) if r},
            "expiring_90d": expiring["90"],
            "expiring_90d_total": expiring_total["90"],
            "expiring": expiring,
            "expiring_total": expiring_total,
            "cells": cells,
        }


def completed_years(birth: np.ndarray, as_of: int) -> np.ndarray:
    """Age in completed years at `as_of`: year difference, minus 1 if (month, day) of as_of < that of birth."""
    dates = EPOCH + np.asarray(birth, dtype=np.int64).astype("timedelta64[D]")
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    month_start = dates.astype("datetime64[M]")
    month_day = ((month_start.astype(np.int64) % 12 + 1) * 100
                 + (dates - month_start.astype("datetime64[D]")).astype(np.int64) + 1)
    ref = EPOCH + np.timedelta64(int(as_of), "D")
    ref_year = int(str(ref)[:4])
    ref_month_day = int(str(ref)[5:7]) * 100 + int(str(ref)[8:10])
    return ref_year - year - (ref_month_day < month_day)


def _probs(mapping: dict) -> np.ndarray:
    values = np.array(list(mapping.values()), dtype=float)
    return values / values.sum()


def _ages_in_days(rng: np.random.Generator, k: int) -> np.ndarray:
    """Ages of the registered population (children ~25%, mostly young adults)."""
    ages = np.arange(0, 86)
    weights = np.select([ages < 18, ages < 30, ages < 45, ages < 65], [1.4, 2.4, 2.0, 0.6], 0.15)
    years = rng.choice(ages, size=k, p=weights / weights.sum())
    return years * 365 + rng.integers(0, 365, size=k)


def _expiry(cfg: dict, status: np.ndarray, start: np.ndarray) -> np.ndarray:
    """fecha_vencimiento by status: days or calendar years after the start; none for IRREGULAR/NACIONALIZADO."""
    out = np.full(status.size, NO_EXPIRY, dtype=np.int64)
    for name, days in cfg["validity_days"].items():
        mask = status == CODE[name]
        out[mask] = start[mask] + days
    yearly = np.isin(status, [CODE[s] for s in cfg["validity_years"]])
    if yearly.any():
        out[yearly] = add_years(start[yearly], 1)
    return out


def _residence_districts() -> tuple[list[str], np.ndarray]:
    """Residence districts and their probabilities: 70% Lima Metropolitana/Callao, rest by Venezuelan presence."""
    lima_callao = [d for dep in DEPARTMENTS if dep.code in ("15", "07") for d in dep.districts
                   if dep.code == "07" or d.startswith("1501")]
    others = {"13": 0.16, "04": 0.12, "20": 0.09, "14": 0.08, "11": 0.09, "24": 0.07, "08": 0.05, "12": 0.05,
              "02": 0.06, "23": 0.06}
    districts, probs = list(lima_callao), [0.70 / len(lima_callao)] * len(lima_callao)
    rest_total = sum(others.values())
    small = [dep for dep in DEPARTMENTS if dep.code not in others and dep.code not in ("15", "07")]
    for dep in DEPARTMENTS:
        if dep.code in ("15", "07"):
            continue
        share = 0.27 * others[dep.code] / rest_total if dep.code in others else 0.03 / len(small)
        districts.extend(dep.districts)
        probs.extend([share / len(dep.districts)] * len(dep.districts))
    probs_arr = np.array(probs)
    return districts, probs_arr / probs_arr.sum()


# ----------------------------------------------------------------------------------------------------------------
# initial stock, solved for the target regular share

def expected_final_regular_share(cfg: dict, initial_regular_share: float, months: int) -> float:
    """The expected regular share after `months` steps of the (mean-field) monthly dynamics."""
    regular = set(cfg["regular_statuses"])
    x = np.zeros(len(STATUSES))
    for s, p in cfg["initial_regular_mix"].items():
        x[CODE[s]] += initial_regular_share * p
    for s, p in cfg["initial_irregular_mix"].items():
        x[CODE[s]] += (1 - initial_regular_share) * p
    hazard = np.zeros(len(STATUSES))
    for s, d in cfg["validity_days"].items():
        hazard[CODE[s]] = 30.4375 / d
    for s, y in cfg["validity_years"].items():
        hazard[CODE[s]] = 1 / (12 * y)
    arrival_mix = np.zeros(len(STATUSES))
    for s, p in cfg["arrival_mix"].items():
        arrival_mix[CODE[s]] = p
    for _ in range(months):
        total = x.sum()
        x = x * (1 - cfg["leaving_rate"])
        y = np.zeros_like(x)
        for s in STATUSES:
            i = CODE[s]
            expiring = x[i] * hazard[i]
            for t, p in cfg["on_expiry"].get(s, {}).items():
                y[CODE[t]] += expiring * p
            staying = x[i] - expiring
            moves = cfg["monthly_transitions"].get(s, {})
            for t, p in moves.items():
                y[CODE[t]] += staying * p
            y[i] += staying * (1 - sum(moves.values()))
        x = y + cfg["arrival_rate"] * total * arrival_mix / arrival_mix.sum()
    return float(sum(x[CODE[s]] for s in regular) / x.sum())


def solve_initial_regular_share(cfg: dict, months: int) -> float:
    """Initial regular share whose expected share after `months` equals `regular_share_target` (linear in it)."""
    low = expected_final_regular_share(cfg, 0.0, months)
    high = expected_final_regular_share(cfg, 1.0, months)
    share = (cfg["regular_share_target"] - low) / (high - low)
    return float(np.clip(share, 0.01, 0.99))


def _initial_stock(registry: Registry, n: int, as_of: int, initial_regular_share: float) -> None:
    """The registry before the first extract month: statuses, entries and starts consistent with `as_of`."""
    rng, cfg = registry.rng, registry.cfg
    mix = {s: initial_regular_share * p for s, p in cfg["initial_regular_mix"].items()}
    mix.update({s: (1 - initial_regular_share) * p for s, p in cfg["initial_irregular_mix"].items()})
    status = np.array([CODE[s] for s in mix])[rng.choice(len(mix), size=n, p=_probs(mix))]
    earliest = day(cfg["earliest_entry"])
    entry = rng.integers(earliest, as_of + 1, size=n)
    start = entry.copy()
    tourist = status == CODE["TURISTA"]
    entry[tourist] = as_of - rng.integers(0, 183, size=tourist.sum())
    start[tourist] = entry[tourist]
    asylum = status == CODE["SOLICITANTE_REFUGIO"]
    start[asylum] = np.maximum(entry[asylum], as_of - rng.integers(0, 60, size=asylum.sum()))
    yearly = np.isin(status, [CODE[s] for s in cfg["validity_years"]])
    start[yearly] = np.maximum(entry[yearly], as_of - rng.integers(0, 365, size=yearly.sum()))
    irregular = status == CODE["IRREGULAR"]
    overstay = irregular & (rng.random(n) < 0.5)
    start[overstay] = np.minimum(entry[overstay] + 184, as_of)
    national = status == CODE["NACIONALIZADO"]
    entry[national] = rng.integers(earliest, as_of - 3 * 365, size=national.sum())
    start[national] = rng.integers(entry[national] + 2 * 365, as_of + 1)
    registry.add_people(status, entry, start, as_of)


# ----------------------------------------------------------------------------------------------------------------
# the monthly extracts and their truth

def generate_registry(rng: np.random.Generator, truth: dict, sizes: dict, landing_dir: Path) -> tuple[dict, list[Path]]:
    """Write every monthly extract, with the planted defects; return the exact per-month figures of the valid rows."""
    cfg = truth["registry"]
    months = month_list(truth["first_month"], sizes["registry_months"])
    n0 = sizes["registry_people"]
    capacity = int(n0 * (1 + cfg["arrival_rate"] * 1.2 * len(months))) + 1000
    defect_counts = planted_defect_counts(cfg)
    # defects draw from a child stream: the simulation (and every clean row) is the same with or without them
    defect_rng = rng.spawn(1)[0]
    registry = Registry(rng, cfg, capacity)
    initial_share = solve_initial_regular_share(cfg, len(months))
    previous_end = month_end(str(np.datetime64(months[0], "M") - np.timedelta64(1, "M")))
    _initial_stock(registry, n0, previous_end, initial_share)
    folder = landing_dir / "registry" / "migraciones"
    regular = set(cfg["regular_statuses"])
    regular_codes = [CODE[s] for s in regular]
    first_regular_start = np.full(capacity, np.iinfo(np.int64).max, dtype=np.int64)
    per_month: dict[str, dict] = {}
    paths: list[Path] = []
    before_idx = before_status = None
    for number, month in enumerate(months):
        end = month_end(month)
        registry.step(previous_end, end)
        idx = registry.snapshot_index()
        style = "iso" if int(month[5:7]) % 2 == 1 else "dmy"
        defects = plant_defects(defect_rng, registry, idx, end, style, defect_counts, number)
        path, planted = _write_extract(registry, idx, month, folder, cfg["messy_document_share"], defects,
                                       defect_rng)
        paths.append(path)
        valid = np.delete(idx, defects.positions)  # corrupted rows (and both rows of a duplicated person) are out
        quarantined = {rule: int(n) for rule in QUARANTINE_RULES
                       if (n := defects.rows_per_rule.get(rule, 0))}
        figures = {"rows_written": int(idx.size + defects.duplicates.size), "quarantined": quarantined,
                   "quarantined_rows": sum(quarantined.values()), "planted_defects": planted}
        figures.update(registry.month_truth(valid, end, regular))
        status = registry.status[valid].copy()
        if before_idx is not None:
            figures["arriving"] = int(np.setdiff1d(valid, before_idx, assume_unique=True).size)
            figures["leaving"] = int(np.setdiff1d(before_idx, valid, assume_unique=True).size)
            figures["transitions"] = _transitions(before_idx, before_status, valid, status)
        per_month[month] = figures
        reg = valid[np.isin(status, regular_codes)]
        first_regular_start[reg] = np.minimum(first_regular_start[reg], registry.start[reg])
        before_idx, before_status, previous_end = valid, status, end
    realized = {"department_names": {d.code: d.name for d in DEPARTMENTS},
                "initial_regular_share": initial_share,
                "expected_final_regular_share": expected_final_regular_share(cfg, initial_share, len(months)),
                "planted_defects_per_month": defect_counts,
                "months": per_month,
                "time_to_regular_status": _time_to_regular_status(registry, first_regular_start)}
    return realized, paths


# ----------------------------------------------------------------------------------------------------------------
# planted defects: rows the load's quarantine must set aside, each breaking exactly one rule

def planted_defect_counts(cfg: dict) -> dict[str, int]:
    """Rows corrupted per rule and month: truth.yaml `planted_defects_per_month` (a rule left out: 1)."""
    configured = cfg.get("planted_defects_per_month") or {}
    unknown = set(configured) - set(QUARANTINE_RULES)
    if unknown:
        raise ValueError(f"planted_defects_per_month: unknown rule(s) {sorted(unknown)}; rules: {QUARANTINE_RULES}")
    return {rule: int(configured.get(rule, 1)) for rule in QUARANTINE_RULES}


@dataclass
class Defects:
    """One month's planted defects, by position in the month's snapshot `idx`."""
    edits: list[tuple[int, str, str | None]] = field(default_factory=list)  # (position, column, text; None = empty)
    rule_of: dict[int, str] = field(default_factory=dict)                    # position → rule it breaks
    duplicates: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # rows written twice
    rows_per_rule: dict[str, int] = field(default_factory=dict)             # rows quarantined per rule

    @property
    def positions(self) -> np.ndarray:
        return np.array(sorted(self.rule_of), dtype=np.int64)


def _date_text(days: int, style: str) -> str:
    text = iso(days)
    return text if style == "iso" else f"{text[8:10]}/{text[5:7]}/{text[0:4]}"


def _not_a_date(year: int, month: int, day_of_month: int, style: str) -> str:
    """A date-shaped text in the month's style that is no calendar date (31/02/2024, 2024-13-05)."""
    return f"{year:04d}-{month:02d}-{day_of_month:02d}" if style == "iso" else \
        f"{day_of_month:02d}/{month:02d}/{year:04d}"


def plant_defects(rng: np.random.Generator, registry: Registry, idx: np.ndarray, as_of: int, style: str,
                  counts: dict[str, int], month_number: int) -> Defects:
    """Pick distinct people of the month's snapshot and corrupt one value of each (or duplicate the row, for
    unique_person) so that the row breaks exactly one quarantine rule, dates written in the month's style."""
    out = Defects()
    birth, entry, start, expiry = (getattr(registry, a)[idx] for a in ("birth", "entry", "start", "expiry"))
    has_expiry = expiry != NO_EXPIRY
    taken = np.zeros(idx.size, dtype=bool)
    everyone = np.ones(idx.size, dtype=bool)

    def pick(eligible: np.ndarray, k: int, rule: str) -> list[int]:
        candidates = np.flatnonzero(eligible & ~taken)
        if candidates.size < k:
            raise RuntimeError(f"not enough people to plant {k} {rule} defect(s) in the extract of {iso(as_of)}")
        chosen = np.sort(rng.choice(candidates, size=k, replace=False))
        taken[chosen] = True
        for position in chosen.tolist():
            out.rule_of[position] = rule
        return chosen.tolist()

    def edit(position: int, column: str, text: str | None) -> None:
        out.edits.append((position, column, text))

    for rule in QUARANTINE_RULES:
        k = counts[rule]
        if k == 0:
            continue
        out.rows_per_rule[rule] = 2 * k if rule == "unique_person" else k
        if rule in BAD_CODES:
            column, value = BAD_CODES[rule]
            for p in pick(everyone, k, rule):
                edit(p, column, value)
        elif rule == "ubigeo_code":
            for i, p in enumerate(pick(everyone, k, rule)):
                edit(p, "ubigeo_residencia", BAD_UBIGEOS[(month_number + i) % len(BAD_UBIGEOS)])
        elif rule == "unique_person":
            out.duplicates = np.array(pick(everyone, k, rule), dtype=np.int64)
        elif rule == "date_format":
            for i in range(k):
                variant = (month_number + i) % 4  # which date column, cycling month by month
                column = DATE_COLUMNS[variant]
                (p,) = pick(has_expiry if variant == 3 else everyone, 1, rule)
                if variant == 0:    # no 30/31 February
                    year = int(iso(birth[p])[:4])
                    text = _not_a_date(year, 2, 30, style) if style == "iso" else _not_a_date(year, 2, 31, style)
                elif variant == 1:  # month 13
                    text = _not_a_date(int(iso(entry[p])[:4]), 13, int(iso(entry[p])[8:10]), style)
                elif variant == 2:  # missing
                    text = None
                else:               # no 31 April
                    text = _not_a_date(int(iso(expiry[p])[:4]), 4, 31, style)
                edit(p, column, text)
        elif rule == "birth_before_entry":   # born on or after the last entry (still not after the month)
            for p in pick(everyone, k, rule):
                edit(p, "fecha_nacimiento", _date_text(entry[p] + rng.integers(0, min(as_of - entry[p], 400) + 1),
                                                       style))
        elif rule == "entry_before_status_start":  # entered after the status started (still within the month)
            for p in pick(start < as_of, k, rule):
                edit(p, "fecha_ultimo_ingreso", _date_text(start[p] + rng.integers(1, min(as_of - start[p], 400) + 1),
                                                           style))
        elif rule == "status_start_before_expiry":  # the permit expires before it starts
            for p in pick(has_expiry, k, rule):
                edit(p, "fecha_vencimiento", _date_text(start[p] - rng.integers(1, 60), style))
        elif rule == "date_after_extract_month":    # the status starts after the extract's month; expiry moves along
            for p in pick(everyone, k, rule):
                shift = int(as_of - start[p] + rng.integers(1, 45))
                edit(p, "fecha_inicio_calidad", _date_text(start[p] + shift, style))
                if has_expiry[p]:
                    edit(p, "fecha_vencimiento", _date_text(expiry[p] + shift, style))
    return out


def _apply_edits(frame: pd.DataFrame, edits: list[tuple[int, str, str | None]]) -> None:
    """Write the handful of corrupted values into the (categorical) columns, in place."""
    by_column: dict[str, list[tuple[int, str | None]]] = {}
    for position, column, text in edits:
        by_column.setdefault(column, []).append((position, text))
    for column, items in by_column.items():
        values = frame[column]
        texts = [t for _, t in items if t is not None]
        if isinstance(values.dtype, pd.CategoricalDtype):
            new = [t for t in dict.fromkeys(texts) if t not in values.cat.categories]
            values = values.cat.add_categories(new) if new else values.copy()
        else:
            values = values.copy()
        positions = [p for p, _ in items]
        values.iloc[positions] = [np.nan if t is None else t for _, t in items]
        frame[column] = values


# ----------------------------------------------------------------------------------------------------------------
# writing an extract

def _write_extract(registry: Registry, idx: np.ndarray, month: str, folder: Path, messy_share: float,
                   defects: Defects, rng: np.random.Generator) -> tuple[Path, list[dict]]:
    """Write the month's extract with its defects; return the path and the planted rows ({rule, source_row,
    column}; source_row = line in the file, the header being line 1)."""
    odd = int(month[5:7]) % 2 == 1
    frame = registry.extract_frame(idx, "iso" if odd else "dmy", messy_share)
    _apply_edits(frame, defects.edits)
    order = np.arange(idx.size, dtype=np.int64)
    if defects.duplicates.size:  # the copy goes to a random place in the file
        at = np.sort(rng.integers(0, idx.size + 1, size=defects.duplicates.size))
        order = np.insert(order, at, defects.duplicates)
        frame = frame.take(order)
    columns = {}
    for position, column, _ in defects.edits:
        columns.setdefault(position, []).append(column)
    planted = []
    lines = np.flatnonzero(np.isin(order, defects.positions))
    for line, position in zip(lines.tolist(), order[lines].tolist()):
        rule = defects.rule_of[position]
        planted.append({"rule": rule, "source_row": line + 2,
                        "column": "id_persona" if rule == "unique_person" else columns[position][0]})
    path = folder / f"extract_{month}.csv"
    write_csv(frame, path, encoding="utf-8" if odd else "latin-1", sep="," if odd else ";")
    return path, planted


def _time_to_regular_status(registry: Registry, first_regular_start: np.ndarray) -> dict:
    """Days from the last entry to the first regular status start, per entry cohort × sex (and × all):
    n and percentile_disc quartiles (the value at 1-based position ceil(p·n) of the sorted days)."""
    people = np.flatnonzero(first_regular_start[: registry.n] != np.iinfo(np.int64).max)
    days = first_regular_start[people] - registry.entry[people]
    cohort = (EPOCH + registry.entry[people].astype("timedelta64[D]")).astype("datetime64[Y]").astype(np.int64) + 1970
    female = registry.female[people]
    out = {}
    for year in np.unique(cohort).tolist():
        in_cohort = cohort == year
        for sex, mask in (("male", in_cohort & ~female), ("female", in_cohort & female), ("all", in_cohort)):
            values = np.sort(days[mask])
            if values.size == 0:
                continue
            n = int(values.size)
            out[f"{year}|{sex}"] = {"n": n, **{name: int(values[math.ceil(p * n) - 1])
                                               for name, p in PERCENTILES.items()}}
    return out


def _transitions(before_idx: np.ndarray, before_status: np.ndarray, idx: np.ndarray, status: np.ndarray) -> dict:
    """People in both extracts whose status differs, counted by 'FROM->TO'."""
    common, at_before, at_now = np.intersect1d(before_idx, idx, assume_unique=True, return_indices=True)
    old, new = before_status[at_before], status[at_now]
    changed = old != new
    pairs = old[changed].astype(np.int64) * len(STATUSES) + new[changed]
    counts = np.bincount(pairs, minlength=len(STATUSES) ** 2)
    return {f"{STATUSES[i // len(STATUSES)]}->{STATUSES[i % len(STATUSES)]}": int(c)
            for i, c in enumerate(counts) if c}
