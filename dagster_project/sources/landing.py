"""The landing zone: which files count, and the error every reader raises for bad input.

Writers drop `name.tmp` and rename when complete; names ending `.tmp`/`.part` or starting `~$`/`.` are
not (yet) files of ours. File-name matching is case-insensitive (INEI ships `Enahopv01-…` and `enaho01-…`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

IGNORED_SUFFIXES = (".tmp", ".part")
IGNORED_PREFIXES = ("~$", ".")


class LandingFileError(ValueError):
    """Input that cannot be loaded, with where and why: file, row (1-based, header = row 1), column, reason."""

    def __init__(self, file: Path | str, reason: str, row: int | None = None, column: str | None = None):
        self.file, self.row, self.column, self.reason = str(file), row, column, reason
        where = [f"file {self.file}"]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {reason}")


def is_complete_file(path: Path) -> bool:
    name = path.name
    return path.is_file() and not name.lower().endswith(IGNORED_SUFFIXES) and not name.startswith(IGNORED_PREFIXES)


def find_files(folder: Path, pattern: str) -> list[Path]:
    """Complete files directly in `folder` whose name matches the regex `pattern` (case-insensitive), sorted."""
    if not folder.is_dir():
        return []
    regex = re.compile(pattern, re.IGNORECASE)
    return sorted(p for p in folder.iterdir() if is_complete_file(p) and regex.fullmatch(p.name))


def find_dirs(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def relative_name(path: Path, landing_dir: Path) -> str:
    """The name a file is reported under: its path inside the landing zone."""
    try:
        return path.resolve().relative_to(landing_dir.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class LandedFile:
    """A file an asset read, for metadata and the publish log."""

    name: str
    sha256: str
    rows: int
