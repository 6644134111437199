"""Validate a pandas DataFrame with a Great Expectations 1.x suite kept as JSON in `expectations/`.

Why a DataFrame: GX 1.x cannot validate DuckDB through SQLAlchemy (every expectation fails, GX issues #10738 and
#11579), so the caller reads the table read-only into pandas, closes the connection, and hands the frame here.

One GX context per process and Data Docs directory, created on first use and cached. It is an ephemeral context
(no `great_expectations.yml`, nothing written inside the repo) whose stores live in memory, except two:

* the validation results, in `<data_docs_dir>/../gx_validation_results/` — kept on disk because every Dagster step
  runs in its own process, and the Data Docs index drops any page whose result its context cannot see; with
  results in memory, each check would delete the pages of the checks that ran before it;
* the Data Docs site itself, at `data_docs_dir` (a local-filesystem site).

Per suite, the context holds one pandas dataframe asset (whole-dataframe batch definition), one validation
definition and one checkpoint with an `UpdateDataDocsAction`, so each validation writes its own Data Docs page.
They are built the first time a suite is validated in the process and rebuilt only when the suite file or the
index columns change, so the same suite can be validated any number of times.

`great_expectations` is imported inside the functions: the import alone costs seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

logger = logging.getLogger(__name__)

SITE_NAME = "local_site"
DATASOURCE_NAME = "warehouse_frames"
RESULTS_DIR_NAME = "gx_validation_results"
EXAMPLES_PER_FAILURE = 10
KEEP_RESULTS_PER_SUITE = 30
INDEX_RESULTS_LIMIT = 300
PROVENANCE_COLUMNS = ("source_file", "source_sheet", "source_row")
EXPECTATION_KEYS = {"type", "kwargs", "meta", "notes", "description", "id"}


class SuiteFileError(ValueError):
    """A suite file that cannot be read as a GX 1.x suite (GX itself would silently drop the bad expectation)."""


# --------------------------------------------------------------------------------------------------------------
# The outcome
# --------------------------------------------------------------------------------------------------------------


@dataclass
class ValidationOutcome:
    """What one validation found, in a shape that Dagster metadata and partners can read.

    `failed` holds one dict per failed expectation: `expectation` (GX type), `column` (a column name, several joined
    by ", ", or None for table-level checks), `kwargs`, `reason` (the suite's plain-language `meta.reason`),
    `unexpected_count`, `unexpected_percent`, `examples` (up to 10 failing rows, each `{source_file, source_row,
    value}` — plus `source_sheet` for workbooks — when index columns were given, else `{value}`) and `error`
    (why GX could not evaluate it, e.g. a missing column; None otherwise).
    """

    suite: str
    success: bool
    evaluated: int
    rows: int
    failed: list[dict[str, Any]] = field(default_factory=list)
    data_docs_url: str = ""
    # With `collect_rows`: per row-rule expectation (one with `meta.rule`) that found failing rows, even when it
    # passed under its `mostly` tolerance: {rule, column, reason, rows: [{index and checked columns: value}, ...]}.
    row_failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed_count(self) -> int:
        return len(self.failed)

    def summary(self) -> str:
        """Plain text: for each failed check, the file, row, column and the reason, in words."""
        rows = _plural(self.rows, "row")
        if self.success:
            text = f'Data check "{self.suite}" passed: all {self.evaluated} checks hold on {rows}.'
            return text + (f"\nDetails: {self.data_docs_url}" if self.data_docs_url else "")
        lines = [
            f'Data check "{self.suite}" FAILED: {self.failed_count} of {self.evaluated} checks failed on {rows}.'
        ]
        for number, failure in enumerate(self.failed, start=1):
            lines.append(f"{number}. {_subject(failure)}: {failure['reason']}")
            if failure.get("error"):
                lines.append(f"   This could not be checked: {failure['error']}")
                continue
            count = failure.get("unexpected_count")
            if count:
                percent = failure.get("unexpected_percent")
                share = f" ({percent:.2f}% of the checked values)" if isinstance(percent, (int, float)) else ""
                verb = "breaks" if count == 1 else "break"
                lines.append(f"   {_plural(count, 'row')} {verb} this{share}.")
            elif count == 0:
                lines.append("   No single row breaks it; the table as a whole does not meet it.")
            for example in failure.get("examples", []):
                lines.append(f"   - {_describe_example(example, failure.get('column'))}")
            shown = len(failure.get("examples", []))
            if count and shown and count > shown:
                lines.append(f"   - … and {_plural(count - shown, 'more row')} (see the Data Docs page).")
        if self.data_docs_url:
            lines.append(f"Details: {self.data_docs_url}")
        return "\n".join(lines)

    def failed_markdown(self) -> str:
        """The failed checks as a markdown table (for Dagster metadata)."""
        if not self.failed:
            return "No failed checks."
        lines = ["| check | column | reason | failing rows | first failing rows |", "|---|---|---|---|---|"]
        for failure in self.failed:
            examples = "; ".join(_describe_example(e, failure.get("column")) for e in failure["examples"][:3])
            if failure.get("error"):
                examples = f"not evaluated: {failure['error']}"
            count = failure.get("unexpected_count")
            lines.append(
                "| "
                + " | ".join(
                    _md(cell)
                    for cell in (
                        failure["expectation"],
                        failure.get("column") or "(table)",
                        failure["reason"],
                        "" if count is None else str(count),
                        examples,
                    )
                )
                + " |"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "success": self.success,
            "evaluated": self.evaluated,
            "rows": self.rows,
            "failed": self.failed,
            "data_docs_url": self.data_docs_url,
        }


# --------------------------------------------------------------------------------------------------------------
# The public entry point
# --------------------------------------------------------------------------------------------------------------


def validate_frame(
    frame: "pd.DataFrame",
    suite_file: Path,
    data_docs_dir: Path,
    unexpected_index_columns: list[str] | None = None,
    *,
    run_name: str | None = None,
    parameters: dict[str, Any] | None = None,
    collect_rows: bool = False,
) -> ValidationOutcome:
    """Validate `frame` with the suite in `suite_file` (its name is the file stem) and write its Data Docs page.

    `unexpected_index_columns` (e.g. `["source_file", "source_row"]`) name the columns that identify a failing
    row in the examples; the ones missing from `frame` are ignored. `run_name` (e.g. the Dagster run id) labels
    the result in Data Docs. `parameters` fill the suite's `{"$PARAMETER": name}` values (reference lists,
    configurable bounds). `collect_rows` asks GX for every failing row of the row rules (`outcome.row_failures`),
    which the load step quarantines.
    """
    suite_file = Path(suite_file)
    data_docs_dir = Path(data_docs_dir).resolve()
    index_columns = [c for c in (unexpected_index_columns or []) if c in frame.columns]
    with _LOCK:
        session = _session_for(data_docs_dir)
        return session.validate(frame, suite_file, index_columns, run_name, parameters or {}, collect_rows)


def load_suite_dict(suite_file: Path) -> dict[str, Any]:
    """The suite file as a dict, checked: a name equal to the file stem and a list of expectations."""
    suite_file = Path(suite_file)
    try:
        data = json.loads(suite_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise SuiteFileError(f"Cannot read the expectation suite {suite_file}: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("expectations"), list):
        raise SuiteFileError(f"{suite_file} is not a GX suite: it needs a list under 'expectations'")
    name = data.get("name") or suite_file.stem
    if name != suite_file.stem:
        raise SuiteFileError(f"{suite_file}: the suite name {name!r} must equal the file name {suite_file.stem!r}")
    return data


def build_suite(suite_file: Path):
    """The suite file as a `gx.ExpectationSuite`, each expectation built and checked one by one.

    `gx.ExpectationSuite(expectations=[...dicts])` logs and DROPS an expectation of an unknown type, so a typo would
    silently remove a check; here it raises with the file and the position instead.
    """
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    data = load_suite_dict(suite_file)
    expectations = []
    for position, item in enumerate(data["expectations"]):
        try:
            unknown = set(item) - EXPECTATION_KEYS
            if unknown:
                raise ValueError(f"unknown keys {sorted(unknown)}; an expectation has {sorted(EXPECTATION_KEYS)}")
            meta = dict(item.get("meta") or {})
            configuration = ExpectationConfiguration(
                type=item["type"],
                kwargs=dict(item.get("kwargs") or {}),
                meta=meta,
                # Data Docs render `notes` under the expectation: the plain-language reason shows there too.
                notes=item.get("notes") or meta.get("reason"),
                description=item.get("description"),
            )
            expectations.append(configuration.to_domain_obj())
        except Exception as error:  # noqa: BLE001 - any configuration error is a suite-file error
            raise SuiteFileError(
                f"{suite_file}: expectation #{position} ({item.get('type') if isinstance(item, dict) else item!r})"
                f" is not valid: {error}"
            ) from error
    return gx.ExpectationSuite(
        name=suite_file.stem,
        expectations=expectations,
        meta=dict(data.get("meta") or {}),
        notes=data.get("notes"),
    )


def reset_contexts() -> None:
    """Forget the cached GX contexts (tests)."""
    with _LOCK:
        _SESSIONS.clear()


# --------------------------------------------------------------------------------------------------------------
# The cached context
# --------------------------------------------------------------------------------------------------------------

_LOCK = threading.RLock()
_SESSIONS: dict[Path, "_GxSession"] = {}


def _session_for(data_docs_dir: Path) -> "_GxSession":
    session = _SESSIONS.get(data_docs_dir)
    if session is None:
        session = _GxSession(data_docs_dir)
        _SESSIONS[data_docs_dir] = session
    return session


@dataclass
class _Prepared:
    signature: tuple
    checkpoint: Any


class _GxSession:
    """One ephemeral GX context, its pandas datasource and the per-suite checkpoints built so far."""

    def __init__(self, data_docs_dir: Path) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        self.data_docs_dir = data_docs_dir
        self.results_dir = data_docs_dir.parent / RESULTS_DIR_NAME
        self.data_docs_dir.mkdir(parents=True, exist_ok=True)
        self.results_dir.mkdir(parents=True, exist_ok=True)

        defaults = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
        defaults.stores[defaults.validation_results_store_name]["store_backend"] = {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(self.results_dir),
        }
        config = DataContextConfig(
            store_backend_defaults=defaults,
            data_docs_sites={
                SITE_NAME: {
                    "class_name": "SiteBuilder",
                    "show_how_to_buttons": False,
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(self.data_docs_dir),
                    },
                    "site_index_builder": {
                        "class_name": "DefaultSiteIndexBuilder",
                        "validation_results_limit": INDEX_RESULTS_LIMIT,
                    },
                }
            },
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
        self.context = gx.get_context(project_config=config)
        self.datasource = self.context.data_sources.add_pandas(name=DATASOURCE_NAME)
        self.prepared: dict[str, _Prepared] = {}
        self.known_suite_dirs: set[Path] = set()

    # -- suites, assets, checkpoints ---------------------------------------------------------------------------

    def _register_sibling_suites(self, suite_dir: Path) -> None:
        """Put every suite of the directory in the (in-memory) suite store, once.

        The Data Docs index deletes the page of any suite its context does not know; registering the siblings
        keeps every suite's page when the index is rebuilt by a process that validates only one table.
        """
        if suite_dir in self.known_suite_dirs:
            return
        self.known_suite_dirs.add(suite_dir)
        for sibling in sorted(suite_dir.glob("*.json")):
            if sibling.stem in self.prepared:
                continue
            try:
                self.context.suites.add_or_update(build_suite(sibling))
            except Exception as error:  # noqa: BLE001 - a broken sibling must not block this validation
                logger.warning("Skipping expectation suite %s: %s", sibling, error)

    def _checkpoint_for(self, suite_file: Path, index_columns: list[str], collect_rows: bool):
        import great_expectations as gx

        name = suite_file.stem
        content = suite_file.read_bytes()
        signature = (hashlib.sha256(content).hexdigest(), tuple(index_columns), collect_rows)
        prepared = self.prepared.get(name)
        if prepared is not None and prepared.signature == signature:
            return prepared.checkpoint

        suite = self.context.suites.add_or_update(build_suite(suite_file))
        try:
            asset = self.datasource.get_asset(name)
        except LookupError:
            asset = self.datasource.add_dataframe_asset(name=name)
        try:
            batch_definition = asset.get_batch_definition("whole_frame")
        except (KeyError, LookupError):
            batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
        validation_definition = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=f"validate_{name}", data=batch_definition, suite=suite)
        )
        result_format: dict[str, Any] = {
            "result_format": "COMPLETE" if collect_rows else "SUMMARY",
            "partial_unexpected_count": EXAMPLES_PER_FAILURE,
        }
        if index_columns:
            result_format["unexpected_index_column_names"] = list(index_columns)
        checkpoint = self.context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=f"checkpoint_{name}",
                validation_definitions=[validation_definition],
                actions=[gx.checkpoint.UpdateDataDocsAction(name="update_data_docs", site_names=[SITE_NAME])],
                result_format=result_format,
            )
        )
        self.prepared[name] = _Prepared(signature=signature, checkpoint=checkpoint)
        return checkpoint

    # -- one validation ----------------------------------------------------------------------------------------

    def validate(
        self, frame: "pd.DataFrame", suite_file: Path, index_columns: list[str], run_name: str | None,
        parameters: dict[str, Any], collect_rows: bool,
    ) -> ValidationOutcome:
        from great_expectations.core.run_identifier import RunIdentifier

        checkpoint = self._checkpoint_for(suite_file, index_columns, collect_rows)
        self._register_sibling_suites(suite_file.parent.resolve())

        # Checks of one Dagster run may validate in parallel processes sharing these directories. Rebuilding the
        # Data Docs index deletes every page whose result it did not list a moment before, so a page written by
        # another process in between would be lost: one validation (and index rebuild) at a time per directory.
        with _directory_lock(self.results_dir / ".validation.lock"):
            self._prune_results(suite_file.stem)
            run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(timezone.utc))
            checkpoint_result = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=run_id,
                                               expectation_parameters=parameters or None)
        (result_key, suite_result), *_ = checkpoint_result.run_results.items()

        failed = [_describe_failure(result, index_columns) for result in suite_result.results if not result.success]
        row_failures = [_row_failures(result, index_columns) for result in suite_result.results] if collect_rows else []
        return ValidationOutcome(
            suite=suite_file.stem,
            success=bool(suite_result.success),
            evaluated=len(suite_result.results),
            rows=int(len(frame)),
            failed=failed,
            data_docs_url=self._page_url(result_key),
            row_failures=[entry for entry in row_failures if entry],
        )

    def _page_url(self, result_key) -> str:
        try:
            for site in self.context.get_docs_sites_urls(
                resource_identifier=result_key, site_names=[SITE_NAME], only_if_exists=True
            ):
                if site.get("site_url"):
                    return str(site["site_url"])
        except Exception as error:  # noqa: BLE001 - fall back to the index page
            logger.warning("Could not find the Data Docs page of %s: %s", result_key, error)
        return (self.data_docs_dir / "index.html").as_uri()

    def _prune_results(self, suite_name: str) -> None:
        """Keep the newest results of this suite on disk; the index rebuild then drops the older pages."""
        store = self.context.validation_results_store
        try:
            keys = [key for key in store.list_keys() if key.expectation_suite_identifier.name == suite_name]
            keys.sort(key=lambda key: key.run_id.run_time or datetime.min.replace(tzinfo=timezone.utc))
            for key in keys[: max(0, len(keys) - (KEEP_RESULTS_PER_SUITE - 1))]:
                store.remove_key(key)
        except Exception as error:  # noqa: BLE001 - housekeeping must never fail a validation
            logger.warning("Could not prune old validation results of %s: %s", suite_name, error)


@contextmanager
def _directory_lock(lock_file: Path) -> Iterator[None]:
    """An exclusive advisory lock between processes (POSIX `flock`; no-op where `fcntl` does not exist)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(lock_file, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --------------------------------------------------------------------------------------------------------------
# Turning GX results into plain words
# --------------------------------------------------------------------------------------------------------------


def _describe_failure(result, index_columns: list[str]) -> dict[str, Any]:
    config = result.expectation_config
    kwargs = {k: v for k, v in dict(config.kwargs).items() if k != "batch_id"}
    meta = dict(config.meta or {})
    details = dict(result.result or {})
    columns = _columns_of(kwargs)
    error = _exception_message(result.exception_info)
    if config.type == "expect_column_to_exist" and not error:
        error = f'the column "{kwargs.get("column")}" is missing from the table'

    examples: list[dict[str, Any]] = []
    if index_columns and details.get("partial_unexpected_index_list"):
        for entry in list(details["partial_unexpected_index_list"])[:EXAMPLES_PER_FAILURE]:
            example = {name: _plain(entry.get(name)) for name in index_columns}
            example["value"] = _value_of(entry, columns)
            examples.append(example)
    elif details.get("partial_unexpected_list"):
        examples = [{"value": _plain(v)} for v in list(details["partial_unexpected_list"])[:EXAMPLES_PER_FAILURE]]

    return {
        "expectation": config.type,
        "column": ", ".join(columns) if columns else None,
        "kwargs": _plain({k: _shorten(v) for k, v in kwargs.items()}),
        "reason": meta.get("reason") or _default_reason(config.type, kwargs),
        "unexpected_count": details.get("unexpected_count"),
        "unexpected_percent": _plain(details.get("unexpected_percent")),
        "examples": examples,
        "error": error,
    }


def _row_failures(result, index_columns: list[str]) -> dict[str, Any] | None:
    """Every failing row of a row-rule expectation (one whose meta names a `rule`), from a COMPLETE result."""
    config = result.expectation_config
    meta = dict(config.meta or {})
    rows = list((result.result or {}).get("unexpected_index_list") or [])
    if not meta.get("rule") or not rows:
        return None
    kwargs = {k: v for k, v in dict(config.kwargs).items() if k != "batch_id"}
    columns = _columns_of(kwargs)
    return {
        "rule": meta["rule"],
        "column": ", ".join(columns),
        "reason": meta.get("reason") or _default_reason(config.type, kwargs),
        # the columns as the sender knows them, when the rule checks a helper column (`_…`) derived from them
        "columns": [str(c) for c in meta.get("columns") or []],
        "rows": [{str(name): _plain(value) for name, value in dict(entry).items()} for entry in rows],
    }


def _shorten(value: Any) -> Any:
    """A long reference list (e.g. 1,890 ubigeos filled in from a seed) shown by its size in reports."""
    if isinstance(value, (list, tuple, set)) and len(value) > 20:
        return f"<{len(value)} values>"
    return value


def _columns_of(kwargs: dict[str, Any]) -> list[str]:
    if kwargs.get("column"):
        return [str(kwargs["column"])]
    for key in ("column_list", "column_set"):
        if kwargs.get(key):
            return [str(c) for c in kwargs[key]]
    if kwargs.get("column_A") and kwargs.get("column_B"):
        return [str(kwargs["column_A"]), str(kwargs["column_B"])]
    return []


def _value_of(entry: dict[str, Any], columns: list[str]) -> Any:
    if len(columns) == 1:
        return _plain(entry.get(columns[0]))
    if columns:
        return {c: _plain(entry.get(c)) for c in columns}
    return None


def _exception_message(exception_info: Any) -> str | None:
    """GX reports an exception either flat or keyed by metric; return the first message, if any."""
    if not exception_info:
        return None
    candidates = [exception_info] if "raised_exception" in exception_info else list(exception_info.values())
    for info in candidates:
        if isinstance(info, dict) and (info.get("raised_exception") or info.get("exception_message")):
            message = str(info.get("exception_message") or "GX raised an error").strip().splitlines()[0]
            return message.removeprefix("Error: ")
    return None


def _default_reason(expectation_type: str, kwargs: dict[str, Any]) -> str:
    """A plain sentence for an expectation whose suite entry has no `meta.reason`."""
    column = kwargs.get("column")
    if expectation_type == "expect_column_to_exist":
        return f'the table must have a column "{column}"'
    if expectation_type == "expect_column_values_to_not_be_null":
        return "the value must not be empty"
    if expectation_type == "expect_column_values_to_be_in_set":
        return "the value must be one of " + ", ".join(map(str, kwargs.get("value_set", [])))
    if expectation_type == "expect_column_values_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        if low is not None and high is not None:
            return f"the value must be between {low} and {high}"
        if low is not None:
            return f"the value must be {'greater than' if kwargs.get('strict_min') else 'at least'} {low}"
        return f"the value must be {'less than' if kwargs.get('strict_max') else 'at most'} {high}"
    if expectation_type == "expect_column_values_to_match_regex":
        return f"the value must have the form {kwargs.get('regex')}"
    if expectation_type in ("expect_compound_columns_to_be_unique", "expect_column_values_to_be_unique"):
        return "each row must be unique on these columns"
    return expectation_type.replace("_", " ").removeprefix("expect ")


def _describe_example(example: dict[str, Any], column: str | None) -> str:
    where = []
    if "source_file" in example:
        where.append(f"file {example['source_file']}")
    if example.get("source_sheet") not in (None, ""):
        where.append(f"sheet {example['source_sheet']}")
    if "source_row" in example:
        where.append(f"row {example['source_row']}")
    for name, value in example.items():
        if name not in ("value", *PROVENANCE_COLUMNS):
            where.append(f"{name} {value}")
    value = example.get("value")
    if isinstance(value, dict):
        shown = ", ".join(f"{k} = {_show(v)}" for k, v in value.items())
    else:
        shown = f"{column} = {_show(value)}" if column else _show(value)
    return (", ".join(where) + ": " if where else "") + shown


def _subject(failure: dict[str, Any]) -> str:
    column = failure.get("column")
    if not column:
        return "The table"
    if ", " in column:
        return f"Columns {column} (together)"
    return f'Column "{column}"'


def _show(value: Any) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _plain(value: Any) -> Any:
    """JSON-friendly: NaN/NaT to None, numpy scalars to Python, containers recursively."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)
