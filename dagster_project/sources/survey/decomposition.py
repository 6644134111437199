"""Oaxaca–Blinder decomposition of a mean gap between two independently sampled survey populations.

Used for the adjusted wage gap: the log hourly-wage gap between hosts (ENAHO, the reference) and Venezuelan
migrants (ENAHOPV, the comparison), by sex, split into the part explained by covariates (education, age, sex,
region, hours, sector) and the unexplained part.

Twofold decomposition with the reference group's coefficients (the host wage structure):

    gap         = ybar_ref − ybar_cmp
    explained   = (xbar_ref − xbar_cmp)' beta_ref
    unexplained = xbar_cmp' (beta_ref − beta_cmp)

with an intercept in x, weighted means and weighted least squares (the expansion weights) within each group.
Because every WLS fit with an intercept passes through its weighted means (xbar_cmp' beta_cmp = ybar_cmp),
`unexplained = xbar_cmp' beta_ref − ybar_cmp`: only the reference group's regression is fitted, so the
comparison group's (smaller) sample never has to identify every coefficient. gap = explained + unexplained
holds to rounding (it is the reference group's own intercept normal equation).

Design choices (the lead should know them):
- Covariate coding is per `by` cell. Numeric covariates are centred at the reference group's weighted mean
  (numerics only; totals do not change). Each categorical is dummy-coded over the levels seen in either group
  in the cell, with one base level shared by both groups: the level with the largest weighted count in the
  reference group (ties: first in sorted order). The coding is fixed before resampling, so every replicate
  uses the same columns.
- A coefficient the reference group cannot identify is 0: a level absent from the reference group (so the
  comparison rows with that level are priced at the base level's return), a covariate constant within the
  cell (e.g. sex when `by` is sex) and, in general, any column linearly dependent on the columns before it
  (order: intercept, numeric covariates, dummies). In a bootstrap replicate that happens to draw no PSU with a
  level, that level's coefficient is 0 in that replicate too.
- Rows with a NULL (or non-finite) outcome, covariate or weight are dropped from the estimation and counted
  (`n_dropped_*`); they still count in the design (their PSUs exist). Pass the whole person sample of each
  survey (not only wage earners): the employed with a wage, and each `by` cell, are then domains of the full
  design, and the number of PSUs per stratum is right (the convention of `estimation.py`). Rows of any other
  group are ignored; rows with a NULL `by` value belong to no cell but stay in the design; a NULL stratum or PSU
  in the two groups is an error. Pooled waves: pass a stratum column that includes the wave.
- Standard errors: Rao–Wu rescaling bootstrap, independently in each group (independent samples). A PSU is a
  (stratum, psu) pair. In each stratum with n_h ≥ 2 PSUs, n_h − 1 PSUs are drawn with replacement and the
  weights of a PSU drawn r times are multiplied by r · n_h / (n_h − 1). Strata with a single PSU are pooled
  into one pseudo-stratum, resampled like the others, so they add variance instead of silently adding none (in
  the spirit of `estimation.py`'s lonely-PSU "adjust"); a lone single-PSU stratum keeps its weights. The same
  replicate weights serve every `by` cell. se = standard deviation of the replicate estimates (ddof=1, around
  their mean); a replicate where a group's cell has no weight at all (possible only in tiny cells) is left out.
- Computation: per-PSU weighted cross-products of [x, y] are summed once; each replicate's moments are then
  one matrix product with the replicate's PSU multipliers, so 200 replicates cost little more than one fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

RESULT_COLUMNS = [
    "gap", "explained", "unexplained", "se_gap", "se_explained", "se_unexplained",
    "n_reference", "n_comparison", "explained_share", "n_dropped_reference", "n_dropped_comparison",
]
_IDENTIFICATION_TOLERANCE = 1e-9  # a column whose residual variance is below this share of its own is dropped
_CHUNK_ELEMENTS = 2_000_000  # cross-products are formed this many array elements at a time


@dataclass(frozen=True)
class DecompositionResult:
    """The decomposition for one `by` cell (cell = its values of the `by` columns, in order)."""

    cell: tuple
    gap: float
    explained: float
    unexplained: float
    se_gap: float
    se_explained: float
    se_unexplained: float
    n_reference: int  # rows used (non-NULL outcome, covariates and weight)
    n_comparison: int
    n_dropped_reference: int  # rows of the cell dropped for a NULL outcome, covariate or weight
    n_dropped_comparison: int
    # (replicates, 3): gap, explained, unexplained of each bootstrap replicate, e.g. for intervals or the se of a ratio
    replicate_estimates: np.ndarray = field(repr=False, compare=False)

    @property
    def explained_share(self) -> float:
        return self.explained / self.gap if self.gap != 0 else float("nan")

    def as_row(self, by: Sequence[str]) -> dict:
        row = dict(zip(by, self.cell))
        for column in RESULT_COLUMNS:
            row[column] = getattr(self, column)
        return row


def oaxaca_blinder(data: pd.DataFrame, *, outcome: str, group: str, reference: str, comparison: str,
                   covariates: list[str], categorical: list[str], weight: str, stratum: str, psu: str,
                   by: Sequence[str] = (), replicates: int = 200, seed: int = 0) -> pd.DataFrame:
    """Twofold decomposition of mean(outcome | reference) − mean(outcome | comparison) with the reference
    group's coefficients, one row per `by` cell (sorted by `by`):
    by + gap, explained, unexplained, se_gap, se_explained, se_unexplained, n_reference, n_comparison,
    explained_share (= explained / gap), n_dropped_reference, n_dropped_comparison.

    `categorical` lists the covariates (a subset of `covariates`) to dummy-code; the others must be numeric.
    See the module docstring for the coding, identification and bootstrap choices."""
    results = oaxaca_blinder_cells(
        data, outcome=outcome, group=group, reference=reference, comparison=comparison, covariates=covariates,
        categorical=categorical, weight=weight, stratum=stratum, psu=psu, by=by, replicates=replicates, seed=seed,
    )
    by = list(by)
    frame = pd.DataFrame([result.as_row(by) for result in results], columns=by + RESULT_COLUMNS)
    for column in ("n_reference", "n_comparison", "n_dropped_reference", "n_dropped_comparison"):
        frame[column] = frame[column].astype("int64")
    return frame


def oaxaca_blinder_cells(data: pd.DataFrame, *, outcome: str, group: str, reference: str, comparison: str,
                         covariates: list[str], categorical: list[str], weight: str, stratum: str, psu: str,
                         by: Sequence[str] = (), replicates: int = 200, seed: int = 0) -> list[DecompositionResult]:
    """`oaxaca_blinder` as one DecompositionResult per `by` cell (with the replicate estimates)."""
    by, covariates, categorical = list(by), list(covariates), list(categorical)
    _validate(data, outcome, group, reference, comparison, covariates, categorical, weight, stratum, psu, by,
              replicates)
    numeric = [c for c in covariates if c not in categorical]

    rows = data.loc[data[group].isin([reference, comparison])].reset_index(drop=True)
    is_reference = (rows[group] == reference).to_numpy()
    for column in [stratum, psu]:
        if rows[column].isna().any():
            raise ValueError(f"{column!r} is NULL in {int(rows[column].isna().sum())} row(s) of the two groups")

    # design: each row's PSU and the replicate multipliers of each group's PSUs (row 0 = the full sample)
    ref_seed, cmp_seed = np.random.SeedSequence(seed).spawn(2)
    psu_index = np.empty(len(rows), dtype=np.int64)
    multipliers = {}
    for flag, group_seed in ((True, ref_seed), (False, cmp_seed)):
        members = np.flatnonzero(is_reference == flag)
        keys = rows.loc[members, [stratum, psu]]
        psu_codes = keys.groupby([stratum, psu], sort=True, observed=True).ngroup().to_numpy()
        psu_stratum = np.zeros(psu_codes.max() + 1 if len(members) else 0, dtype=np.int64)
        psu_stratum[psu_codes] = pd.factorize(keys[stratum], sort=True)[0]
        psu_index[members] = psu_codes
        replicate = rao_wu_multipliers(psu_stratum, replicates, np.random.default_rng(group_seed))
        multipliers[flag] = np.vstack([np.ones((1, len(psu_stratum))), replicate])

    y = _numeric(rows[outcome])
    w = _numeric(rows[weight])
    if (w < 0).any():
        raise ValueError(f"{weight!r} has negative weights")
    numeric_values = np.column_stack([_numeric(rows[c]) for c in numeric]) if numeric else np.empty((len(rows), 0))
    usable = (np.isfinite(y) & np.isfinite(w) & np.isfinite(numeric_values).all(axis=1)
              & rows[categorical].notna().all(axis=1).to_numpy())

    cells = rows.groupby(by, sort=True, dropna=True, observed=True).indices if by else {(): np.arange(len(rows))}
    results = []
    for key, positions in cells.items():
        cell = key if isinstance(key, tuple) else (key,)
        ref_all, cmp_all = positions[is_reference[positions]], positions[~is_reference[positions]]
        ref, cmp = ref_all[usable[ref_all]], cmp_all[usable[cmp_all]]
        counts = dict(n_reference=len(ref), n_comparison=len(cmp), n_dropped_reference=len(ref_all) - len(ref),
                      n_dropped_comparison=len(cmp_all) - len(cmp))
        if len(ref) == 0 or len(cmp) == 0:
            estimates = np.full((replicates + 1, 3), np.nan)
        else:
            x_ref, x_cmp = _design_matrices(
                w[ref], numeric_values[ref], numeric_values[cmp],
                [rows[c].to_numpy()[ref] for c in categorical], [rows[c].to_numpy()[cmp] for c in categorical],
            )
            estimates = _cell_estimates(
                (x_ref, y[ref], w[ref], psu_index[ref], multipliers[True]),
                (x_cmp, y[cmp], w[cmp], psu_index[cmp], multipliers[False]),
            )
        se = _replicate_se(estimates[1:])
        results.append(DecompositionResult(
            cell=cell, gap=float(estimates[0, 0]), explained=float(estimates[0, 1]),
            unexplained=float(estimates[0, 2]), se_gap=se[0], se_explained=se[1], se_unexplained=se[2],
            replicate_estimates=estimates[1:], **counts,
        ))
    return sorted(results, key=lambda r: r.cell) if by else results


def rao_wu_multipliers(psu_stratum: np.ndarray, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """Rao–Wu rescaling bootstrap weight multipliers, shape (replicates, n_psu), for PSUs whose stratum codes
    are `psu_stratum`: in each stratum with n_h ≥ 2 PSUs, draw n_h − 1 PSUs with replacement; a PSU drawn r
    times gets r · n_h / (n_h − 1). The PSUs of single-PSU strata are first pooled into one stratum; when there
    is only one such PSU, it gets 1."""
    psu_stratum = np.asarray(psu_stratum)
    n_psu = len(psu_stratum)
    _, stratum_of_psu, stratum_size = np.unique(psu_stratum, return_inverse=True, return_counts=True)
    lonely = stratum_size[stratum_of_psu] == 1
    if lonely.sum() > 1:  # pool the single-PSU strata into one pseudo-stratum
        stratum_of_psu = np.where(lonely, -1, stratum_of_psu)
        _, stratum_of_psu, stratum_size = np.unique(stratum_of_psu, return_inverse=True, return_counts=True)
    order = np.argsort(stratum_of_psu, kind="stable")  # PSUs grouped by stratum
    first = np.concatenate([[0], np.cumsum(stratum_size)[:-1]])  # each stratum's first position in `order`

    draw_stratum = np.repeat(np.arange(len(stratum_size)), np.maximum(stratum_size - 1, 0))
    offsets = (rng.random((replicates, len(draw_stratum))) * stratum_size[draw_stratum]).astype(np.int64)
    drawn = order[first[draw_stratum] + offsets]  # (replicates, draws): the PSU of each draw
    flat = (np.arange(replicates)[:, None] * n_psu + drawn).ravel()
    times_drawn = np.bincount(flat, minlength=replicates * n_psu).reshape(replicates, n_psu)

    size = stratum_size[stratum_of_psu]
    rescale = np.where(size > 1, size / np.maximum(size - 1, 1), 0.0)
    return np.where(size > 1, times_drawn * rescale, 1.0)


# --- internals ------------------------------------------------------------------------------------------------

def _validate(data, outcome, group, reference, comparison, covariates, categorical, weight, stratum, psu, by,
              replicates) -> None:
    needed = [outcome, group, weight, stratum, psu, *covariates, *by]
    missing = [c for c in dict.fromkeys(needed) if c not in data.columns]
    if missing:
        raise ValueError(f"columns not in the data: {missing}")
    if extra := [c for c in categorical if c not in covariates]:
        raise ValueError(f"categorical columns must also be covariates: {extra}")
    if reference == comparison:
        raise ValueError("reference and comparison must be different groups")
    if replicates < 2:
        raise ValueError("replicates must be at least 2")


def _numeric(values: pd.Series) -> np.ndarray:
    """Float values, NULL as NaN (nullable dtypes, booleans and numeric text included)."""
    return pd.to_numeric(values).to_numpy(dtype=float, na_value=np.nan)


def _design_matrices(ref_weight, ref_numeric, cmp_numeric, ref_categories, cmp_categories):
    """X for both groups of a cell with the shared coding: intercept, centred numerics, dummies."""
    total = ref_weight.sum()
    centre = ref_weight @ ref_numeric / total if total > 0 else np.zeros(ref_numeric.shape[1])
    ref_columns, cmp_columns = [np.ones((len(ref_weight), 1)), ref_numeric - centre], [
        np.ones((len(cmp_numeric), 1)), cmp_numeric - centre]
    for ref_values, cmp_values in zip(ref_categories, cmp_categories):
        pooled = np.concatenate([ref_values, cmp_values])
        try:
            codes, levels = pd.factorize(pooled, sort=True)
        except TypeError:  # mixed types that do not sort: first-seen order
            codes, levels = pd.factorize(pooled)
        ref_codes, cmp_codes = codes[: len(ref_values)], codes[len(ref_values):]
        weighted_count = np.bincount(ref_codes, weights=ref_weight, minlength=len(levels))
        base = int(np.argmax(weighted_count))  # most common in the reference group, first on ties
        others = np.array([level for level in range(len(levels)) if level != base], dtype=np.int64)
        ref_columns.append((ref_codes[:, None] == others).astype(float))
        cmp_columns.append((cmp_codes[:, None] == others).astype(float))
    return np.hstack(ref_columns), np.hstack(cmp_columns)


def _cell_estimates(reference, comparison) -> np.ndarray:
    """(1 + replicates, 3) gap, explained, unexplained; row 0 is the full-sample estimate.
    Each group is (x, y, weight, psu index, multipliers (1 + replicates, n_psu))."""
    x_ref, y_ref, w_ref, psu_ref, multipliers_ref = reference
    x_cmp, y_cmp, w_cmp, psu_cmp, multipliers_cmp = comparison
    p = x_ref.shape[1]

    # reference: moment matrix of [x, y] per replicate -> means and WLS coefficients
    psus, cross_products = _psu_cross_products(np.column_stack([x_ref, y_ref]), w_ref, psu_ref)
    moments = _symmetric(multipliers_ref[:, psus] @ cross_products, p + 1)
    gram, xty = moments[:, :p, :p], moments[:, :p, p]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_x_ref = gram[:, 0, :] / gram[:, :1, 0]
        mean_y_ref = xty[:, 0] / gram[:, 0, 0]
    beta = _wls_coefficients(gram, xty, _identified_columns(gram[0]))

    # comparison: weighted totals of [x, y] per replicate -> means (x[:, 0] = 1 gives the total weight)
    psus, totals = _psu_totals(np.column_stack([x_cmp, y_cmp]) * w_cmp[:, None], psu_cmp)
    sums = multipliers_cmp[:, psus] @ totals
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_x_cmp = sums[:, :p] / sums[:, :1]
        mean_y_cmp = sums[:, p] / sums[:, 0]

    gap = mean_y_ref - mean_y_cmp
    explained = np.einsum("rj,rj->r", mean_x_ref - mean_x_cmp, beta)
    unexplained = np.einsum("rj,rj->r", mean_x_cmp, beta) - mean_y_cmp  # = xbar_cmp'(beta_ref - beta_cmp)
    return np.column_stack([gap, explained, unexplained])


def _psu_order(psu: np.ndarray):
    """Row order grouping rows by PSU, each PSU's first position in it, and the PSU ids in that order."""
    order = np.argsort(psu, kind="stable")
    sorted_psu = psu[order]
    starts = np.flatnonzero(np.r_[True, sorted_psu[1:] != sorted_psu[:-1]])
    return order, starts, sorted_psu[starts]


def _psu_totals(values: np.ndarray, psu: np.ndarray):
    """PSU ids and the column sums of `values` within each of them."""
    order, starts, psus = _psu_order(psu)
    return psus, np.add.reduceat(values[order], starts, axis=0)


def _psu_cross_products(z: np.ndarray, w: np.ndarray, psu: np.ndarray):
    """PSU ids and, per PSU, the upper triangle (np.triu_indices order) of sum_i w_i z_i z_i',
    formed a few thousand rows at a time (chunks end at PSU boundaries)."""
    order, starts, psus = _psu_order(psu)
    z, w = z[order], w[order]
    upper, lower = np.triu_indices(z.shape[1])
    chunk_rows = max(1, _CHUNK_ELEMENTS // len(upper))
    chunk_first = np.unique(np.searchsorted(starts, np.arange(0, len(z), chunk_rows), side="right") - 1)
    chunk_bounds = np.append(chunk_first, len(starts))
    out = np.empty((len(starts), len(upper)))
    for first, last in zip(chunk_bounds[:-1], chunk_bounds[1:]):
        begin = starts[first]
        end = starts[last] if last < len(starts) else len(z)
        products = (w[begin:end, None] * z[begin:end, upper]) * z[begin:end, lower]
        out[first:last] = np.add.reduceat(products, starts[first:last] - begin, axis=0)
    return psus, out


def _symmetric(upper_triangles: np.ndarray, size: int) -> np.ndarray:
    """(n, size*(size+1)/2) upper triangles -> (n, size, size) symmetric matrices."""
    upper, lower = np.triu_indices(size)
    matrices = np.empty((len(upper_triangles), size, size))
    matrices[:, upper, lower] = upper_triangles
    matrices[:, lower, upper] = upper_triangles
    return matrices


def _identified_columns(gram: np.ndarray) -> np.ndarray:
    """Indices of the columns kept, in order: a column is dropped when it is all zero or (almost) a linear
    combination of the kept columns before it (residual variance < tolerance × its own)."""
    kept: list[int] = []
    for j in range(gram.shape[0]):
        own = gram[j, j]
        if own <= 0:
            continue
        if kept:
            cross = gram[kept, j]
            residual = own - cross @ np.linalg.lstsq(gram[np.ix_(kept, kept)], cross, rcond=None)[0]
        else:
            residual = own
        if residual > _IDENTIFICATION_TOLERANCE * own:
            kept.append(j)
    return np.array(kept, dtype=np.int64)


def _wls_coefficients(gram: np.ndarray, xty: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """(n, p) coefficients solving gram_r beta = xty_r on the kept columns (0 elsewhere). A kept column that is
    all zero in a replicate (a level no drawn PSU has) gets 0. Solved after scaling to a unit diagonal."""
    g = gram[:, kept[:, None], kept[None, :]]
    b = xty[:, kept]
    diagonal = np.diagonal(g, axis1=1, axis2=2)
    empty = diagonal <= 0
    scale = np.sqrt(np.where(empty, 1.0, diagonal))
    g = g / scale[:, :, None] / scale[:, None, :]
    replicate, column = np.nonzero(empty)
    g[replicate, column, column] = 1.0  # its row and column are 0, and so is its b: the coefficient is 0
    b = b / scale
    try:
        solved = np.linalg.solve(g, b[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:  # an exactly singular replicate: minimum-norm least squares, one at a time
        solved = np.stack([np.linalg.lstsq(gi, bi, rcond=None)[0] for gi, bi in zip(g, b)])
    beta = np.zeros(xty.shape)
    beta[:, kept] = solved / scale
    return beta


def _replicate_se(replicate_estimates: np.ndarray) -> list[float]:
    """Standard deviation (ddof=1) of each column over its finite replicates; NaN with fewer than 2."""
    se = []
    for values in replicate_estimates.T:
        values = values[np.isfinite(values)]
        se.append(float(values.std(ddof=1)) if len(values) >= 2 else float("nan"))
    return se
