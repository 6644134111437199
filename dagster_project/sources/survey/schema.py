"""The raw survey tables' columns and types (docs/raw-tables.md); crosswalks map each wave onto these."""

from __future__ import annotations

KEY_WIDTHS = {"conglome": 6, "vivienda": 3, "hogar": 2, "codperso": 2}
KEY_COLUMNS = list(KEY_WIDTHS)

# type names: "key" zero-padded text, "code<N>" zero-padded code text of width N, "int", "float", "rule" (set by
# the crosswalk's population rule, not read from a variable)
COMMON_COLUMNS = {**{k: "key" for k in KEY_COLUMNS}, "estrato": "int", "weight": "float"}

MODULE_COLUMNS: dict[str, dict[str, str]] = {
    "survey_members": {"ubigeo": "code6", "p207": "int", "p208a": "int", "p209a": "int", "population_group": "rule"},
    "survey_education": {"p301a": "int"},
    "survey_health": {f"p419{i}": "int" for i in range(1, 9)},
    "survey_employment": {
        "ocu500": "int", "ocupinf": "int", "p505r4": "code4", "p506r4": "code4", "p507": "int",
        "p511a": "int", "contract_or_receipt": "int", "p513t": "float", "p518": "float", "p521": "int", "p521a": "int",
        **{c: "float" for c in ("i524a1", "d529t", "i530a", "d536", "i538a1", "d540t", "i541a", "d543", "d544t")},
        **{f"p558a{i}": "int" for i in range(1, 6)},  # pension system: the option's code when marked, else 0
    },
    # Not ENAHO variables: contract_or_receipt (1 yes, 2 no) is ENPOVE's yes/no contract question, for surveys
    # without p511a's contract types; p1009 (felt discriminated since arriving, 1 yes 2 no) and p1011_1 (the
    # workplace marked among the places, 1 = marked) are ENAHOPV module 1000's names.
    "survey_migration": {"p1002": "int", "p1000_mes": "int", "p1000_anho": "int", "p1009": "int", "p1011_1": "int"},
}

PROVENANCE_COLUMNS = {"source_file": "str", "source_row": "int"}


def table_columns(table: str) -> dict[str, str]:
    """Every column of a raw survey table in order, with its type."""
    return {"survey": "str", "wave": "int", **COMMON_COLUMNS, **MODULE_COLUMNS[table], **PROVENANCE_COLUMNS}
