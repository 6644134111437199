"""Reading delimited text files as INEI, Migraciones and partners really send them.

Everything is read as text (`dtype=str`) so that nothing is silently coerced: typing is each reader's explicit
step, where a bad value can be reported with its file, row and column.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from dagster_project.sources.landing import LandingFileError

ENCODINGS = ("utf-8-sig", "latin-1")  # UTF-8 with or without BOM first; Latin-1 accepts any byte sequence


def detect_encoding(path: Path, sample_bytes: int = 1 << 20) -> str:
    sample = path.read_bytes()[:sample_bytes]
    try:
        sample.decode("utf-8-sig")
        return "utf-8-sig"
    except UnicodeDecodeError as error:
        # a multi-byte character cut by the sample's end is not a decoding problem
        if error.start >= len(sample) - 4:
            return "utf-8-sig"
        return "latin-1"


def detect_delimiter(path: Path, encoding: str, display_name: str | None = None) -> str:
    with path.open(encoding=encoding, newline="") as handle:
        header = handle.readline()
    if not header.strip():
        raise LandingFileError(display_name or path, "the file is empty (no header line)")
    counts = {delimiter: header.count(delimiter) for delimiter in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        raise LandingFileError(display_name or path, "cannot find the column separator in the header line (tried , ; tab |)")
    return best


def normalize_header(name: object) -> str:
    return str(name).replace("\ufeff", "").strip().lower()


def read_delimited_text(path: Path, usecols=None, display_name: str | None = None) -> pd.DataFrame:
    """A CSV-like file as a DataFrame of stripped strings; empty and blank (" ") cells become NA.

    Column names are lower-cased. `usecols` (a callable on the lower-cased name) lets a reader leave
    columns unread, e.g. names of people, which must never enter memory longer than needed.
    """
    encoding = detect_encoding(path)
    delimiter = detect_delimiter(path, encoding, display_name)
    selector = None if usecols is None else (lambda name: usecols(normalize_header(name)))
    try:
        frame = pd.read_csv(
            path, sep=delimiter, encoding=encoding, dtype=str, keep_default_na=False,
            quoting=csv.QUOTE_MINIMAL, usecols=selector, engine="c",
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise LandingFileError(display_name or path,
                               f"cannot be read as a {delimiter!r}-separated text file: {error}") from error
    frame.columns = [normalize_header(c) for c in frame.columns]
    for column in frame.columns:
        values = frame[column].str.strip()
        frame[column] = values.mask(values == "")
    return frame
