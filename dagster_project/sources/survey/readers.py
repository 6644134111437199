"""INEI survey microdata (ENAHO, ENAHOPV, ENPOVE) → the raw survey tables, through per-wave crosswalks.

Layout: <landing>/survey/<survey>/<year>/<module file>.{csv,sav,dta}. A folder is read only through the
crosswalk `crosswalks/<survey>-<year>.yaml`; a wave without one is an error (nothing is guessed).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from dagster_project.sources.landing import (
    LandedFile, LandingFileError, file_sha256, find_dirs, find_files, relative_name,
)
from dagster_project.sources.survey.schema import KEY_WIDTHS, MODULE_COLUMNS, table_columns
from dagster_project.sources.tabular import normalize_header, read_delimited_text

CROSSWALK_DIR = Path(__file__).parent / "crosswalks"
MODULE_EXTENSIONS = ("csv", "sav", "dta")


@dataclass(frozen=True)
class DerivedVariable:
    """A raw column computed from several of the wave's variables by a SQL expression (evaluated with DuckDB at
    ingest). Inputs are numbers (blank = NULL); a name starting with `_` is a helper later expressions can use.
    `strict`: a row with any input present must get a value, else the load stops naming the row."""

    inputs: tuple[str, ...]
    sql: str
    strict: bool = False


@dataclass(frozen=True)
class ModuleMapping:
    table: str
    file_stem: str
    rename: dict[str, str] = field(default_factory=dict)  # raw column -> this wave's variable name
    absent: tuple[str, ...] = ()  # raw columns this wave does not have (loaded as NULL)
    optional: tuple[str, ...] = ()  # raw columns loaded when the file has them, NULL when it does not
    labels: dict[str, dict[str, int]] = field(default_factory=dict)  # raw column -> {label: code}
    recode: dict[str, dict[int, int]] = field(default_factory=dict)  # raw column -> {this wave's code: INEI code}
    compose: dict[str, tuple[tuple[str, ...], int]] = field(default_factory=dict)  # raw column -> (variables, width)
    derive: dict[str, DerivedVariable] = field(default_factory=dict)  # raw column or `_helper` -> its rule, in order

    def source_variable(self, column: str) -> str:
        return normalize_header(self.rename.get(column, column))

    def source_variables(self, column: str) -> list[str]:
        """The wave's variables a raw column is read from (several when it is composed or derived)."""
        if column in self.compose:
            return [normalize_header(v) for v in self.compose[column][0]]
        if column in self.derive:
            return list(self.derive[column].inputs)
        return [self.source_variable(column)]

    def helper_variables(self) -> list[str]:
        """The inputs of `_helper` derivations (needed even though no raw column names them)."""
        return [v for name, rule in self.derive.items() if name.startswith("_") for v in rule.inputs]


@dataclass(frozen=True)
class PopulationRule:
    """Who in the wave's members is in the `group` population: everyone, or those whose `variable` equals `equals`."""

    group: str  # host | migrant
    variable: str | None = None
    equals: int | None = None

    def apply(self, frame: pd.DataFrame, source_file: str) -> pd.Series:
        if self.variable is None:
            return pd.Series(self.group, index=frame.index, dtype="string")
        column = normalize_header(self.variable)
        if column not in frame.columns:
            raise LandingFileError(source_file, f"missing variable {column}, which the crosswalk's population rule "
                                                f"({self.group} when {column} = {self.equals}) needs")
        matches = pd.to_numeric(frame[column], errors="coerce") == self.equals
        return pd.Series(self.group, index=frame.index, dtype="string").where(matches)


@dataclass(frozen=True)
class Crosswalk:
    survey: str
    wave: int
    modules: tuple[ModuleMapping, ...]
    path: Path
    population: PopulationRule

    @classmethod
    def load(cls, path: Path, wave: int) -> "Crosswalk":
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        shared_labels = {}
        if isinstance(spec.get("labels"), str):  # a file of label sets shared by several crosswalks
            shared_labels = yaml.safe_load((path.parent / spec["labels"]).read_text(encoding="utf-8")) or {}
        modules = tuple(
            ModuleMapping(
                table=m["table"],
                file_stem=str(m["file"]).format(wave=wave),
                rename={k: str(v) for k, v in (m.get("rename") or {}).items()},
                absent=tuple(m.get("absent") or ()),
                optional=tuple(m.get("optional") or ()),
                labels={
                    column: {_label_key(label): int(code) for label, code in mapping.items()}
                    for column, mapping in {**shared_labels, **(m.get("labels") or {})}.items()
                },
                recode={column: {int(k): int(v) for k, v in codes.items()}
                        for column, codes in (m.get("recode") or {}).items()},
                compose={column: (tuple(part["variables"]), int(part.get("width", 2)))
                         for column, part in (m.get("compose") or {}).items()},
                derive={column: DerivedVariable(inputs=tuple(normalize_header(v) for v in rule["from"]),
                                                sql=str(rule["sql"]).strip(), strict=bool(rule.get("strict", False)))
                        for column, rule in (m.get("derive") or {}).items()},
            )
            for m in spec["modules"]
        )
        unknown = [m.table for m in modules if m.table not in MODULE_COLUMNS]
        if unknown:
            raise ValueError(f"crosswalk {path}: unknown raw tables {unknown}; known: {sorted(MODULE_COLUMNS)}")
        for mapping in modules:
            _check_derivations(mapping, path)
        rule = spec["population"]
        when = rule.get("when") or {}
        population = PopulationRule(group=rule["group"], variable=when.get("variable"),
                                    equals=int(when["equals"]) if "equals" in when else None)
        return cls(survey=str(spec["survey"]).lower(), wave=wave, modules=modules, path=path, population=population)

    @staticmethod
    def waves_of(path: Path) -> list[int]:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        return [int(w) for w in spec.get("waves") or [spec["wave"]]]


def _check_derivations(mapping: ModuleMapping, path: Path) -> None:
    """Fail at load, before any file is read, on a derive rule that targets no raw column or whose SQL does not
    run on its declared inputs (e.g. it uses a variable missing from its `from` list)."""
    columns = table_columns(mapping.table)
    empty = pd.DataFrame({v: pd.Series(dtype="float64") for v in
                          {v for rule in mapping.derive.values() for v in rule.inputs}})
    for name in mapping.derive:
        if not name.startswith("_") and name not in columns:
            raise ValueError(f"crosswalk {path.name}: derive {name!r} is not a column of {mapping.table} "
                             f"(helpers start with '_')")
    try:
        _evaluate_derivations(empty, mapping)
    except _DerivationError as error:
        raise ValueError(f"crosswalk {path.name}, {mapping.table}: derive {error.name!r} does not run on its inputs "
                         f"{list(mapping.derive[error.name].inputs)}: {error.reason}") from None


class _DerivationError(Exception):
    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


def _evaluate_derivations(numbers: pd.DataFrame, mapping: ModuleMapping) -> dict[str, pd.Series]:
    """Every derive rule of a module, in order, over its numeric inputs; each result can feed the next rules."""
    import duckdb  # only crosswalks with `derive` need it

    frame = numbers.copy()
    frame["_source_position"] = np.arange(len(frame), dtype="int64")
    results: dict[str, pd.Series] = {}
    connection = duckdb.connect()
    try:
        for name, rule in mapping.derive.items():
            connection.register("module", frame)
            try:
                values = connection.execute(
                    f"select ({rule.sql}) as derived from module order by _source_position").df()["derived"]
            except duckdb.Error as error:
                raise _DerivationError(name, str(error).splitlines()[0]) from None
            if values.dtype != bool:
                try:
                    values = pd.to_numeric(values).astype("float64")
                except (TypeError, ValueError):
                    raise _DerivationError(name, "the expression does not give numbers") from None
            values.index = numbers.index
            results[name] = frame[name] = values
            connection.unregister("module")
    finally:
        connection.close()
    return results


def _derived_columns(frame: pd.DataFrame, mapping: ModuleMapping, source_file: str) -> dict[str, pd.Series]:
    """The module's derived raw columns: inputs parsed as numbers (a non-number stops the load with its row and
    column), rules evaluated, and `strict` rules checked row by row."""
    if not mapping.derive:
        return {}
    inputs = sorted({v for rule in mapping.derive.values() for v in rule.inputs})
    numbers = pd.DataFrame({v: _parsed_numbers(frame[v], v, source_file) for v in inputs}, index=frame.index)
    try:
        results = _evaluate_derivations(numbers, mapping)
    except _DerivationError as error:
        raise LandingFileError(source_file, f"the crosswalk's derive rule for {error.name} failed: {error.reason}") from None
    for name, rule in mapping.derive.items():
        if not rule.strict:
            continue
        unexplained = results[name].isna() & numbers[list(rule.inputs)].notna().any(axis=1)
        if unexplained.any():
            position = int(np.flatnonzero(unexplained.to_numpy())[0])
            row = numbers.iloc[position]
            present = ", ".join(f"{v.upper()}={row[v]:g}" for v in rule.inputs if pd.notna(row[v]))
            raise LandingFileError(
                source_file, f"{present}: the crosswalk's rule for {name} gives no value (a code it does not map); "
                             f"{int(unexplained.sum())} such row(s)",
                row=position + 2, column=next(v for v in rule.inputs if pd.notna(row[v])))
    return {name: values for name, values in results.items() if not name.startswith("_")}


def _parsed_numbers(values: pd.Series, column: str, source_file: str) -> pd.Series:
    text = values.astype("string").str.strip()
    text = text.mask(text == "")
    numbers = pd.to_numeric(text, errors="coerce")
    unparsed = numbers.isna() & text.notna()
    if unparsed.any():
        position = int(np.flatnonzero(unparsed.to_numpy())[0])
        raise LandingFileError(source_file, f"value {text.iloc[position]!r} is not a number; "
                                            f"{int(unparsed.sum())} such value(s) in this column",
                               row=position + 2, column=column)
    return numbers.astype("float64")


def _label_key(label: object) -> str:
    """Labels match ignoring case, accents and repeated spaces (`Sí` = `si`, `más` = `mas`)."""
    text = unicodedata.normalize("NFKD", str(label).strip().lower())
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).split())


def find_crosswalk(survey: str, wave: str, crosswalk_dir: Path = CROSSWALK_DIR) -> Crosswalk:
    """The wave's own crosswalk (`<survey>-<wave>.yaml`) if there is one, else the survey's that lists the wave."""
    survey = survey.lower()
    if wave.isdigit():
        for path in (crosswalk_dir / f"{survey}-{wave}.yaml", crosswalk_dir / f"{survey}.yaml"):
            if path.exists() and int(wave) in Crosswalk.waves_of(path):
                return Crosswalk.load(path, int(wave))
    raise LandingFileError(
        f"survey/{survey}/{wave}",
        f"no crosswalk for survey {survey!r} wave {wave}; add the wave to crosswalks/{survey}.yaml if its "
        f"variable names are the same, or write crosswalks/{survey}-{wave}.yaml",
    )


def read_module_file(path: Path, display_name: str | None = None) -> pd.DataFrame:
    """A module file as text with lower-case column names, whatever its format."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_delimited_text(path, display_name=display_name)
    import pyreadstat  # heavy, and only needed for SPSS/Stata files

    reader = pyreadstat.read_sav if suffix == ".sav" else pyreadstat.read_dta
    try:
        frame, _meta = reader(str(path))
    except UnicodeDecodeError:
        frame, _meta = reader(str(path), encoding="latin1")  # older INEI exports are Latin-1
    except Exception as error:  # pyreadstat raises its own exception types
        raise LandingFileError(display_name or path, f"cannot be read as {suffix[1:]}: {error}") from error
    frame.columns = [normalize_header(c) for c in frame.columns]
    return frame.apply(_as_text)


def _as_text(values: pd.Series) -> pd.Series:
    """Numbers from SPSS/Stata as the text INEI's CSVs would hold (5.0 -> '5')."""
    if pd.api.types.is_numeric_dtype(values):
        as_int = values.dropna()
        if (as_int == as_int.round()).all():
            return values.map(lambda v: None if pd.isna(v) else str(int(v)))
        return values.map(lambda v: None if pd.isna(v) else repr(float(v)))
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def harmonize_module(frame: pd.DataFrame, mapping: ModuleMapping, crosswalk: Crosswalk, source_file: str) -> pd.DataFrame:
    """Select, rename and type one module's variables into its raw table's shape."""
    columns = table_columns(mapping.table)
    absent = set(mapping.absent) | {c for c in mapping.optional
                                    if any(v not in frame.columns for v in mapping.source_variables(c))}
    wanted = [c for c in columns if c not in ("survey", "wave", "source_file", "source_row") and c not in absent
              and columns[c] != "rule"]
    needed = {v for c in wanted for v in mapping.source_variables(c)} | set(mapping.helper_variables())
    missing = sorted(v for v in needed if v not in frame.columns)
    if missing:
        raise LandingFileError(
            source_file,
            f"missing variables {', '.join(missing)} that crosswalk {crosswalk.path.name} needs for "
            f"{mapping.table}",
        )
    derived = _derived_columns(frame, mapping, source_file)
    out = pd.DataFrame(index=frame.index)
    out["survey"] = crosswalk.survey
    out["wave"] = crosswalk.wave
    for column, kind in columns.items():
        if column in ("survey", "wave", "source_file", "source_row"):
            continue
        if kind == "rule":
            out[column] = crosswalk.population.apply(frame, source_file)
            continue
        if column in absent:
            out[column] = pd.Series(pd.NA, index=frame.index, dtype=_dtype(kind))
            continue
        if column in derived:
            out[column] = _typed_numbers(derived[column], column, kind, mapping, source_file)
            continue
        values = _composed(frame, *mapping.compose[column]) if column in mapping.compose \
            else frame[mapping.source_variable(column)]
        out[column] = _typed(values, column, kind, mapping, source_file)
    out["source_file"] = source_file
    out["source_row"] = np.arange(2, len(frame) + 2, dtype="int64")
    return out.reset_index(drop=True)


def _dtype(kind: str) -> str:
    return {"int": "Int64", "float": "Float64"}.get(kind, "string")  # keys, codes, rules: text


def _composed(frame: pd.DataFrame, variables: tuple[str, ...], width: int) -> pd.Series:
    """One code from several variables, each zero-padded to `width` (ENPOVE's CCDD, CCPP, CCDI → ubigeo)."""
    parts = [frame[normalize_header(v)].astype("string").str.strip().str.zfill(width) for v in variables]
    composed = parts[0]
    for part in parts[1:]:
        composed = composed + part
    return composed


def _recoded(numbers: pd.Series, column: str, mapping: ModuleMapping, source_file: str) -> pd.Series:
    """This wave's codes as INEI's (ENAHO) codes; a code the crosswalk does not map stops the load."""
    codes = mapping.recode[column]
    unmapped = numbers.notna() & ~numbers.isin(list(codes))
    if unmapped.any():
        position = int(np.flatnonzero(unmapped.to_numpy())[0])
        raise LandingFileError(source_file, f"code {numbers.iloc[position]:g} has no `recode` entry in the crosswalk "
                                            f"(known: {sorted(codes)})", row=position + 2,
                               column=mapping.source_variable(column))
    return numbers.map(codes, na_action="ignore").astype("Float64")


def _typed(values: pd.Series, column: str, kind: str, mapping: ModuleMapping, source_file: str) -> pd.Series:
    text = values.astype("string").str.strip()
    text = text.mask(text == "")
    if kind == "key" or kind.startswith("code"):
        width = KEY_WIDTHS.get(column) or int(kind[4:])
        digits = text.str.fullmatch(r"\d+").fillna(False)
        return text.where(~digits, text.str.zfill(width)).astype("string")
    numbers = pd.to_numeric(text, errors="coerce")
    unparsed = numbers.isna() & text.notna()
    if unparsed.any() and column in mapping.labels:
        codes = text[unparsed].map(lambda v: mapping.labels[column].get(_label_key(v)))
        numbers = numbers.where(~unparsed, codes)
        unparsed = numbers.isna() & text.notna()
    if unparsed.any():
        position = int(np.flatnonzero(unparsed.to_numpy())[0])
        source_name = mapping.source_variable(column)
        hint = " (a label the crosswalk's `labels` does not map)" if column in mapping.labels else ""
        raise LandingFileError(
            source_file,
            f"value {text.iloc[position]!r} is not a number{hint}; {int(unparsed.sum())} such value(s) in this column",
            row=position + 2, column=source_name,
        )
    return _typed_numbers(numbers, column, kind, mapping, source_file)


def _typed_numbers(numbers: pd.Series, column: str, kind: str, mapping: ModuleMapping, source_file: str) -> pd.Series:
    """Numbers as the raw column's type: whole codes (recoded when the crosswalk says so), floats, or code text."""
    numbers = numbers.astype("float64") if numbers.dtype == bool else numbers
    if kind == "key" or kind.startswith("code"):  # a derived key or code: its digits, zero-padded
        text = numbers.map(lambda v: None if pd.isna(v) else str(int(v))).astype("string")
        return _typed(text, column, kind, mapping, source_file)
    if kind == "int":
        fractional = numbers.notna() & (numbers != numbers.round())
        if fractional.any():
            position = int(np.flatnonzero(fractional.to_numpy())[0])
            raise LandingFileError(source_file, f"code {numbers.iloc[position]} is not a whole number",
                                   row=position + 2, column=mapping.source_variable(column))
        if column in mapping.recode:
            numbers = _recoded(numbers, column, mapping, source_file)
        return numbers.astype("Float64").round().astype("Int64")
    return numbers.astype("Float64")


def empty_table(table: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=_dtype(k) if k != "str" else "string") for c, k in table_columns(table).items()})


def read_survey_table(landing_dir: Path, table: str, crosswalk_dir: Path = CROSSWALK_DIR) -> tuple[pd.DataFrame, list[LandedFile]]:
    """Every wave's module file for one raw survey table, harmonized through its crosswalk."""
    frames, landed = [], []
    for survey_dir in find_dirs(landing_dir / "survey"):
        for wave_dir in find_dirs(survey_dir):
            crosswalk = find_crosswalk(survey_dir.name, wave_dir.name, crosswalk_dir)
            for mapping in crosswalk.modules:
                if mapping.table != table:
                    continue
                pattern = rf"{mapping.file_stem}\.({'|'.join(MODULE_EXTENSIONS)})"
                files = find_files(wave_dir, pattern)
                if len(files) > 1:
                    raise LandingFileError(relative_name(wave_dir, landing_dir),
                                           f"{len(files)} files for module {mapping.file_stem}: {[f.name for f in files]}; keep one")
                for path in files:
                    name = relative_name(path, landing_dir)
                    frame = harmonize_module(read_module_file(path, name), mapping, crosswalk, name)
                    frames.append(frame)
                    landed.append(LandedFile(name=name, sha256=file_sha256(path), rows=len(frame)))
    if not frames:
        return empty_table(table), landed
    return pd.concat(frames, ignore_index=True), landed
