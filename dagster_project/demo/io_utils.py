"""Small helpers shared by the demo writers: atomic writes (the landing contract's `.tmp` + rename), text
formatting of numeric columns the way INEI exports them, and date formatting by lookup (fast at 1.6M rows)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

EPOCH = np.datetime64("1970-01-01", "D")
BLANK = " "  # INEI writes an empty cell as a single space
MISSING_DAY = -(10**9)  # "no date" in int-day arrays (dates before 1970 are negative days)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield `path.tmp` to write to; rename it onto `path` once the block completes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_csv(frame: pd.DataFrame, path: Path, *, encoding: str = "utf-8", sep: str = ",") -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, encoding=encoding, sep=sep, lineterminator="\n")


def int_text(values: np.ndarray, width: int = 0, blank: str = BLANK) -> np.ndarray:
    """Integers as text (zero-padded to `width`); NaN → `blank`."""
    values = np.asarray(values, dtype=float)
    missing = ~np.isfinite(values)
    as_int = np.where(missing, 0, values).astype(np.int64)
    text = as_int.astype(str)
    if width:
        text = np.char.zfill(text, width)
    out = text.astype(object)
    out[missing] = blank
    return out


def float_text(values: np.ndarray, decimals: int, blank: str = BLANK) -> np.ndarray:
    """Floats rounded to `decimals` in their shortest text form (`165.6239`, `900.0`); NaN → `blank`."""
    values = np.round(np.asarray(values, dtype=float), decimals)
    missing = ~np.isfinite(values)
    out = values.astype(str).astype(object)
    out[missing] = blank
    return out


def to_days(dates: np.ndarray) -> np.ndarray:
    """datetime64 → int days since 1970-01-01."""
    return (np.asarray(dates, dtype="datetime64[D]") - EPOCH).astype(np.int64)


def day(text: str) -> int:
    return int((np.datetime64(text, "D") - EPOCH).astype(np.int64))


def iso(days: int) -> str:
    return str(EPOCH + np.timedelta64(int(days), "D"))


def date_categorical(days: np.ndarray, style: str = "iso") -> pd.Categorical:
    """Dates (int days; MISSING_DAY = missing) as a categorical of text: `iso` YYYY-MM-DD or `dmy` DD/MM/YYYY.
    Formats each distinct date once, so a 1.6M-row column costs one `np.unique`."""
    days = np.asarray(days, dtype=np.int64)
    present = days != MISSING_DAY
    uniques, inverse = np.unique(days[present], return_inverse=True)
    text = (EPOCH + uniques.astype("timedelta64[D]")).astype(str)
    if style == "dmy":
        text = np.array([f"{t[8:10]}/{t[5:7]}/{t[0:4]}" for t in text], dtype=object)
    codes = np.full(days.shape, -1, dtype=np.int64)
    codes[present] = inverse
    return pd.Categorical.from_codes(codes, categories=pd.Index(text, dtype=object))


def add_years(days: np.ndarray, years: int = 1) -> np.ndarray:
    """Same calendar day `years` later (29 Feb → 28 Feb), vectorized."""
    dates = EPOCH + np.asarray(days, dtype=np.int64).astype("timedelta64[D]")
    months = dates.astype("datetime64[M]")
    day_of_month = (dates - months.astype("datetime64[D]")).astype(np.int64)
    target = months + np.timedelta64(12 * years, "M")
    month_len = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        np.int64)
    out = target.astype("datetime64[D]") + np.minimum(day_of_month, month_len - 1).astype("timedelta64[D]")
    return to_days(out)


def month_end(month: str) -> int:
    """Last day (int days) of a `YYYY-MM` month."""
    start = np.datetime64(month, "M")
    return to_days((start + np.timedelta64(1, "M")).astype("datetime64[D]") - np.timedelta64(1, "D")).item()


def month_start(month: str) -> int:
    return to_days(np.datetime64(month, "M").astype("datetime64[D]")).item()


def month_list(first: str, count: int) -> list[str]:
    start = np.datetime64(first, "M")
    return [str(start + np.timedelta64(i, "M")) for i in range(count)]


def unique_ints(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """`n` distinct random integers in [low, high), in random order (no O(high) permutation)."""
    out = np.zeros(0, dtype=np.int64)
    while out.size < n:
        draw = rng.integers(low, high, size=int((n - out.size) * 1.05) + 16, dtype=np.int64)
        merged = np.concatenate([out, draw])
        _, first = np.unique(merged, return_index=True)
        out = merged[np.sort(first)]
    return out[:n]


def mojibake(text: str) -> str:
    """UTF-8 bytes read as Latin-1: `Orientación` → `OrientaciÃ³n` (what R4V's real error report shows)."""
    return text.encode("utf-8").decode("latin-1")
