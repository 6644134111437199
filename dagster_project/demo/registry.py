"""Migraciones monthly extracts (registry/migraciones/extract_<YYYY-MM>.csv) from a simulated registry.

The registry is a columnar population (numpy arrays, one slot per person ever known) stepped month by month:
people leave, permits expire (renewed or not), statuses move by the monthly transition probabilities, new people
arrive. Each month's active people are written as that month's full snapshot, alternating the two delivery
formats (odd months: comma, UTF-8, ISO dates; even months: semicolon, Latin-1, DD/MM/YYYY). The exact counts the
warehouse must reproduce are returned per month.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .geography import DEPARTMENTS
from .io_utils import MISSING_DAY, add_years, date_categorical, day, iso, month_end, month_list, unique_ints, write_csv

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
        """Exact counts of the month's extract: stock, regular stock, by department, expiring within 90 days."""
        status = self.status[idx]
        is_regular = np.isin(status, [CODE[s] for s in regular])
        districts = np.array(self.ubigeos[0] + [""], dtype=object)
        dept = np.array([d[:2] if d else "unknown" for d in districts], dtype=object)[self.ubigeo[idx]]
        expiry = self.expiry[idx]
        expiring = (expiry != NO_EXPIRY) & (expiry > as_of) & (expiry <= as_of + 90)
        frame = pd.DataFrame({"dept": dept, "regular": is_regular, "expiring": expiring})
        by_dept = frame.groupby("dept", sort=True).agg(registered=("regular", "size"), regular=("regular", "sum"),
                                                       expiring=("expiring", "sum"))
        counts = np.bincount(status, minlength=len(STATUSES))
        return {
            "as_of": iso(as_of),
            "registered_stock": int(idx.size),
            "regular_stock": int(is_regular.sum()),
            "regular_share": float(is_regular.mean()) if idx.size else None,
            "by_status": {s: int(c) for s, c in zip(STATUSES, counts) if c},
            "by_department": {d: {"registered": int(r.registered), "regular": int(r.regular)}
                              for d, r in by_dept.iterrows()},
            "expiring_90d": {d: int(r.expiring) for d, r in by_dept.iterrows() if r.expiring},
            "expiring_90d_total": int(expiring.sum()),
        }


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
# files

def generate_registry(rng: np.random.Generator, truth: dict, sizes: dict, landing_dir: Path) -> tuple[dict, list[Path]]:
    """Write every monthly extract; return the exact per-month figures."""
    cfg = truth["registry"]
    months = month_list(truth["first_month"], sizes["registry_months"])
    n0 = sizes["registry_people"]
    capacity = int(n0 * (1 + cfg["arrival_rate"] * 1.2 * len(months))) + 1000
    registry = Registry(rng, cfg, capacity)
    initial_share = solve_initial_regular_share(cfg, len(months))
    previous_end = month_end(str(np.datetime64(months[0], "M") - np.timedelta64(1, "M")))
    _initial_stock(registry, n0, previous_end, initial_share)
    folder = landing_dir / "registry" / "migraciones"
    regular = set(cfg["regular_statuses"])
    per_month: dict[str, dict] = {}
    paths: list[Path] = []
    before_idx = registry.snapshot_index()
    before_status = registry.status[before_idx].copy()
    for month in months:
        end = month_end(month)
        flows = registry.step(previous_end, end)
        idx = registry.snapshot_index()
        paths.append(_write_extract(registry, idx, month, folder, cfg["messy_document_share"]))
        figures = registry.month_truth(idx, end, regular)
        if month != months[0]:
            figures.update(flows)
            figures["transitions"] = _transitions(before_idx, before_status, idx, registry.status[idx])
        per_month[month] = figures
        before_idx, before_status, previous_end = idx, registry.status[idx].copy(), end
    realized = {"department_names": {d.code: d.name for d in DEPARTMENTS},
                "initial_regular_share": initial_share,
                "expected_final_regular_share": expected_final_regular_share(cfg, initial_share, len(months)),
                "months": per_month}
    return realized, paths


def _write_extract(registry: Registry, idx: np.ndarray, month: str, folder: Path, messy_share: float) -> Path:
    odd = int(month[5:7]) % 2 == 1
    frame = registry.extract_frame(idx, "iso" if odd else "dmy", messy_share)
    path = folder / f"extract_{month}.csv"
    write_csv(frame, path, encoding="utf-8" if odd else "latin-1", sep="," if odd else ";")
    return path


def _transitions(before_idx: np.ndarray, before_status: np.ndarray, idx: np.ndarray, status: np.ndarray) -> dict:
    """People in both extracts whose status differs, counted by 'FROM->TO'."""
    common, at_before, at_now = np.intersect1d(before_idx, idx, assume_unique=True, return_indices=True)
    old, new = before_status[at_before], status[at_now]
    changed = old != new
    pairs = old[changed].astype(np.int64) * len(STATUSES) + new[changed]
    counts = np.bincount(pairs, minlength=len(STATUSES) ** 2)
    return {f"{STATUSES[i // len(STATUSES)]}->{STATUSES[i % len(STATUSES)]}": int(c)
            for i, c in enumerate(counts) if c}
