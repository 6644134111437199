"""Keyed hashing of personal identifiers (HMAC-SHA256), applied at ingest before anything reaches DuckDB.

The key lives outside the warehouse and the repo (`WAREHOUSE_PSEUDONYM_KEY_FILE`). The same key gives the same
pseudonym for the same identifier across months and partners, which is what lets the registry history and the
cross-partner de-duplication join people without ever storing who they are.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from pathlib import Path
from typing import Iterable

import pandas as pd

_SEPARATORS = re.compile(r"[\s.\-/_]+")


def normalize_identifier(value: object) -> str | None:
    """Trim, upper-case and strip separators so `v-12.345.678 ` and `V12345678` are one document."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = _SEPARATORS.sub("", str(value).strip().upper())
    return text or None


def ensure_key_file(path: Path) -> bool:
    """Create a random key where none exists (demo and first run). Returns True when a key was created."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secrets.token_hex(32) + "\n")
    path.chmod(0o600)
    return True


class Pseudonymizer:
    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("the pseudonymization key must be at least 16 bytes")
        self._key = key

    @classmethod
    def from_key_file(cls, path: Path) -> "Pseudonymizer":
        if not path.exists():
            raise FileNotFoundError(
                f"pseudonymization key file {path} does not exist; set WAREHOUSE_PSEUDONYM_KEY_FILE "
                "or run `make demo`, which creates a random key for local use"
            )
        return cls(path.read_text().strip().encode())

    def fingerprint(self) -> str:
        """Identifies the key without revealing it: loads hashed with another key must be redone."""
        return hmac.new(self._key, b"key fingerprint", hashlib.sha256).hexdigest()[:16]

    def hash_one(self, value: object, namespace: str = "") -> str | None:
        normalized = normalize_identifier(value)
        if normalized is None:
            return None
        message = f"{namespace}|{normalized}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def hash_series(self, values: Iterable[object], namespace: str = "") -> pd.Series:
        """Pseudonyms for a column; `namespace` keeps ids of different kinds from colliding."""
        values = pd.Series(values, dtype="object")
        uniques = values.dropna().unique()
        mapping = {v: self.hash_one(v, namespace) for v in uniques}
        return values.map(mapping).astype("object")
