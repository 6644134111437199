"""Design-based estimation for survey indicators: domain ratios, gaps and quantiles with Taylor-linearized SEs.

Conventions (see the shared indicator-definitions.md and the docs of the `indicators` table):

- Every indicator is a ratio estimator R_d = sum w*y*1[d] / sum w*x*1[d]. A rate has 0/1 flags with y ⊂ x (x is
  the universe, e.g. working age); a mean has x = 1 on the universe. NULL in y or x counts as 0 (outside).
- `data` holds ALL rows of one survey (or of one wave), so every PSU of every stratum is known; domains (`by`)
  are subpopulations, never filters. Rows with NULL in a `by` column belong to no domain but stay in the design.
  A NULL weight counts as 0 (the row still makes its PSU part of the design).
- Variance: with-replacement (ultimate cluster) Taylor linearization with strata and PSUs, no finite population
  correction, as R `survey` does for `svydesign(ids=~psu, strata=~stratum, weights=~w, nest=TRUE)`:
      v(R_d) = sum_h n_h/(n_h-1) sum_i (z_dhi - zbar_dh)^2,   z_dhi = sum_{k in PSU hi} 1[d] w_k (y_k - R_d x_k) / X_d
  where n_h counts all PSUs of stratum h in the design; PSUs without domain members have z = 0.
- Strata with a single PSU follow R's `options(survey.lonely.psu = "adjust")` (svy: `singleton="center"`): the
  PSU total is centred at the grand mean instead of its (undefined) stratum mean and enters with factor 1. The
  grand mean is the domain's total over the PSUs of the strata holding domain members (what R and svy compute on
  the domain subset); for ratios, gaps and CDF shares the linearized values sum to 0, so the lonely stratum adds
  z^2: variance instead of silently none. A stratum with several PSUs of which only one holds domain members is
  not lonely (R's default `survey.adjust.domain.lonely = FALSE`).
- Pooled waves: pass a stratum column that includes the wave (PSU codes are then unique within it).
- Normal intervals: ci = estimate ± 1.96 se (see `finalize`).

Everything is vectorized over domains: rows are integer-coded once and all sums are `np.bincount`s, so the cost is
O(rows) whatever the number of domains. `estimate_ratio` can also estimate many independent samples in one call:
stack them with a sample id in both the stratum column and `by`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

Z_95 = 1.96


@dataclass(frozen=True)
class Design:
    weight: str  # column of expansion factors
    stratum: str  # column of strata
    psu: str  # column of primary sampling units (unique within stratum; (stratum, psu) is the PSU id)


# ---------------------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------------------

def linearized_ratio(data: pd.DataFrame, numerator: str, denominator: str, design: Design,
                     by: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Domain ratios and their linearized PSU totals.

    Returns (estimates, psu_totals):
    - estimates: by + ['estimate', 'n_unweighted', 'weighted_denominator'], one row per combination of the `by`
      columns present in the data; n_unweighted = rows with x != 0; estimate is NULL when the domain has no
      weighted denominator.
    - psu_totals: by + [stratum, psu, 'z'], one row per (domain, PSU) holding a domain row with x != 0 or y != 0
      (PSUs without such rows have z = 0 and are omitted). Feed it to `variance_from_psu_totals`, or combine the
      z of several estimates of the same design first (delta method).
    """
    codes = _DesignCodes.from_data(data, design)
    domain, keys = _domain_codes(data, by)
    ratio = _ratio(_numeric(data[numerator]), _numeric(data[denominator]), codes.weight, domain, len(keys))
    estimates = keys.assign(estimate=ratio.estimate, n_unweighted=ratio.n_unweighted,
                            weighted_denominator=ratio.denominator)
    z_domain, z_psu, z = _psu_totals(domain[ratio.rows], codes.psu[ratio.rows], ratio.u, codes.n_psu)
    psu_totals = keys.iloc[z_domain].reset_index(drop=True)
    # (a `by` column that is the stratum or psu itself already holds the same values)
    if design.stratum not in psu_totals:
        psu_totals[design.stratum] = codes.stratum_labels.take(codes.psu_stratum[z_psu])
    if design.psu not in psu_totals:
        psu_totals[design.psu] = codes.psu_labels.take(z_psu)
    psu_totals["z"] = z
    return estimates, psu_totals


def variance_from_psu_totals(psu_totals: pd.DataFrame, data: pd.DataFrame, design: Design, by: list[str],
                             value: str = "z") -> pd.DataFrame:
    """Taylor-linearization variance of each domain of `psu_totals`: by + ['variance'].

    v_d = sum_h n_h/(n_h-1) sum_i (z_dhi - zbar_dh)^2 with n_h = all PSUs of stratum h in `data` (PSUs missing
    from `psu_totals` have z = 0); single-PSU strata are centred at the grand mean (R's lonely.psu = "adjust";
    the strata a domain "holds members in" are those with a row of it in `psu_totals`, which only matters when
    the z do not sum to 0, e.g. totals). Duplicate (domain, PSU) rows are summed. Only domains present in
    `psu_totals` are returned: a domain with no rows there has variance 0 if its estimate exists.
    """
    codes = _DesignCodes.from_data(data, design)
    domain, keys = _domain_codes(psu_totals, by)
    psu = codes.locate(psu_totals[design.stratum], psu_totals[design.psu])
    z = np.nan_to_num(_numeric(psu_totals[value]))
    member = domain >= 0
    z_domain, z_psu, z = _psu_totals(domain[member], psu[member], z[member], codes.n_psu)
    return keys.assign(variance=_variance(z_domain, z_psu, z, codes, len(keys)))


def estimate_ratio(data: pd.DataFrame, numerator: str, denominator: str, design: Design,
                   by: list[str]) -> pd.DataFrame:
    """Domain ratio with its linearized SE: by + ['estimate', 'se', 'n_unweighted', 'weighted_denominator'].

    A rate when y ⊂ x are 0/1 flags, a mean when x = 1 on the universe. estimate and se are NULL for a domain
    without weighted denominator (n_unweighted is then 0 unless all its weights are 0).
    """
    codes = _DesignCodes.from_data(data, design)
    domain, keys = _domain_codes(data, by)
    n_domains = len(keys)
    ratio = _ratio(_numeric(data[numerator]), _numeric(data[denominator]), codes.weight, domain, n_domains)
    z_domain, z_psu, z = _psu_totals(domain[ratio.rows], codes.psu[ratio.rows], ratio.u, codes.n_psu)
    variance = _variance(z_domain, z_psu, z, codes, n_domains)
    se = np.where(np.isfinite(ratio.estimate), np.sqrt(variance), np.nan)
    return keys.assign(estimate=ratio.estimate, se=se, n_unweighted=ratio.n_unweighted,
                       weighted_denominator=ratio.denominator)


def ratio_gap_independent(est_a, se_a, est_b, se_b):
    """Gap 1 - a/b between ratios from INDEPENDENT samples (e.g. migrants in ENAHOPV vs hosts in ENAHO).

    Delta method with zero covariance: var = se_a^2 / b^2 + a^2 se_b^2 / b^4. Works on scalars, numpy arrays
    and aligned pandas Series; returns (gap, se) of the same kind.
    """
    gap = 1 - est_a / est_b
    se = np.sqrt((se_a / est_b) ** 2 + (est_a * se_b / est_b ** 2) ** 2)
    return gap, se


def ratio_gap_same_design(data: pd.DataFrame, numerator: str, denominator: str, design: Design, by: list[str],
                          contrast_column: str, a_value, b_value) -> pd.DataFrame:
    """Gap 1 - R_a/R_b between two groups of ONE survey (e.g. female vs male hourly income), per `by` domain.

    R_a is the ratio over rows of the domain with contrast_column == a_value, R_b the same with b_value; rows
    with any other value (or NULL) are in neither. The groups share PSUs, so the SE comes from the linearized
    gap z = -(1/R_b) z_a + (R_a/R_b^2) z_b, which carries their covariance.
    Returns by + ['estimate', 'se', 'n_unweighted'] with n_unweighted = min(n_a, n_b) (both ratios must rest
    on enough observations for the gap to be published).
    """
    codes = _DesignCodes.from_data(data, design)
    domain, keys = _domain_codes(data, by)
    n_domains = len(keys)
    contrast = data[contrast_column]
    group = np.where(_equals(contrast, a_value), 0, np.where(_equals(contrast, b_value), 1, -1))
    cell = np.where((domain >= 0) & (group >= 0), 2 * domain + group, -1)  # cell 2d = (d, a), 2d+1 = (d, b)
    ratio = _ratio(_numeric(data[numerator]), _numeric(data[denominator]), codes.weight, cell, 2 * n_domains)
    r_a, r_b = ratio.estimate[0::2], ratio.estimate[1::2]
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = 1 - r_a / r_b
        gradient = np.empty(2 * n_domains)
        gradient[0::2] = -1 / r_b
        gradient[1::2] = r_a / r_b ** 2
    defined = np.isfinite(gap)
    gap = np.where(defined, gap, np.nan)
    row_cell = cell[ratio.rows]
    keep = defined[row_cell // 2]
    u = ratio.u[keep] * gradient[row_cell[keep]]
    rows = ratio.rows[keep]
    z_domain, z_psu, z = _psu_totals(row_cell[keep] // 2, codes.psu[rows], u, codes.n_psu)
    variance = _variance(z_domain, z_psu, z, codes, n_domains)
    n = np.minimum(ratio.n_unweighted[0::2], ratio.n_unweighted[1::2])
    return keys.assign(estimate=gap, se=np.where(defined, np.sqrt(variance), np.nan), n_unweighted=n)


def weighted_quantile(data: pd.DataFrame, value: str, universe: str | None, design: Design, by: list[str],
                      q: float = 0.5) -> pd.DataFrame:
    """Weighted domain quantile with Woodruff SE: by + ['estimate', 'se', 'n_unweighted'].

    The universe is rows with universe != 0 (all rows when None) and a non-NULL value; n_unweighted counts them.
    Quantile rule: the smallest value whose weighted CDF reaches q (R svyquantile's qrule="math"). SE (Woodruff,
    as R's svyquantile and svy): F = CDF at the estimate, a share with linearized se_F; the interval
    F ± 1.96 se_F is mapped back through the same rule and se = (upper - lower) / (2 * 1.96). Where that interval
    leaves [0, 1] (tiny domains) it is clipped, i.e. mapped to the domain's minimum or maximum (R gives NA).
    """
    if not 0 < q < 1:
        raise ValueError(f"q must be strictly between 0 and 1, got {q}")
    codes = _DesignCodes.from_data(data, design)
    domain, keys = _domain_codes(data, by)
    n_domains = len(keys)
    y = _numeric(data[value])
    inside = (domain >= 0) & ~np.isnan(y)
    if universe is not None:
        inside &= np.nan_to_num(_numeric(data[universe])) != 0
    n = np.bincount(domain[inside], minlength=n_domains)

    cdf = _DomainCDF(y, codes.weight, domain, inside, n_domains)
    estimate = cdf.quantile(np.full(n_domains, q))
    # Woodruff: the CDF at the estimate is the ratio (w * 1[y <= q_d]) / (w * 1[universe]).
    below = np.zeros(len(y))
    below[inside] = y[inside] <= estimate[domain[inside]]
    share = _ratio(below, inside.astype(float), codes.weight, domain, n_domains)
    z_domain, z_psu, z = _psu_totals(domain[share.rows], codes.psu[share.rows], share.u, codes.n_psu)
    se_share = np.sqrt(_variance(z_domain, z_psu, z, codes, n_domains))
    lower = cdf.quantile(np.clip(share.estimate - Z_95 * se_share, 0, 1))
    upper = cdf.quantile(np.clip(share.estimate + Z_95 * se_share, 0, 1))
    return keys.assign(estimate=estimate, se=(upper - lower) / (2 * Z_95), n_unweighted=n)


def finalize(estimates: pd.DataFrame, *, share: bool, min_n: int = 30, max_cv: float = 0.15,
             z: float = Z_95) -> pd.DataFrame:
    """Adds ci_low, ci_high, cv and reliability to a frame with estimate, se and n_unweighted.

    - ci = estimate ± z se, clipped to [0, 1] when `share`.
    - cv = se / |estimate| (a fraction, not %), NULL when the estimate is 0.
    - reliability: 'suppressed' when n_unweighted < min_n (or NULL, or the estimate is not finite): estimate,
      se, ci and cv are set to NULL but the row is kept; else 'referential' when cv > max_cv or the se is
      unknown; else 'reliable' (an estimate of exactly 0 with se 0 has no cv and is 'reliable').
    """
    out = estimates.copy()
    estimate = _numeric(out["estimate"])
    se = _numeric(out["se"])
    n = _numeric(out["n_unweighted"])
    ci_low, ci_high = estimate - z * se, estimate + z * se
    if share:
        ci_low, ci_high = np.clip(ci_low, 0, 1), np.clip(ci_high, 0, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(estimate != 0, se / np.abs(estimate), np.nan)
    suppressed = ~(n >= min_n) | ~np.isfinite(estimate)
    referential = ~suppressed & ((cv > max_cv) | ~np.isfinite(se))
    withheld = np.where(suppressed, np.nan, 1.0)  # NaN reaches DuckDB as NULL
    out["estimate"] = estimate * withheld
    out["se"] = se * withheld
    out["ci_low"] = ci_low * withheld
    out["ci_high"] = ci_high * withheld
    out["cv"] = cv * withheld
    out["reliability"] = np.select([suppressed, referential], ["suppressed", "referential"], "reliable")
    return out


# ---------------------------------------------------------------------------------------------------------------
# Internals: integer codes and bincount sums
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _DesignCodes:
    weight: np.ndarray  # per row, NULL -> 0
    psu: np.ndarray  # per row: PSU id 0..n_psu-1 of its (stratum, psu) pair
    psu_stratum: np.ndarray  # per PSU id: stratum code
    stratum_size: np.ndarray  # per stratum code: number of PSUs in the design (n_h)
    stratum_labels: pd.Index  # per stratum code: the stratum value
    psu_values: pd.Index  # distinct psu values (a psu code is unique only within its stratum)
    pairs: pd.Index  # per PSU id: stratum code * len(psu_values) + position in psu_values

    @property
    def n_psu(self) -> int:
        return len(self.pairs)

    @property
    def psu_labels(self) -> pd.Index:
        """Per PSU id: the psu value."""
        return self.psu_values.take(self.pairs % len(self.psu_values))

    @classmethod
    def from_data(cls, data: pd.DataFrame, design: Design) -> "_DesignCodes":
        stratum_code, stratum_values = pd.factorize(data[design.stratum])
        psu_code, psu_values = pd.factorize(data[design.psu])
        if (stratum_code < 0).any() or (psu_code < 0).any():
            raise ValueError(f"design columns {design.stratum!r} and {design.psu!r} must not be NULL")
        psu, pairs = pd.factorize(stratum_code.astype(np.int64) * len(psu_values) + psu_code)
        psu_stratum = pairs // len(psu_values)
        return cls(
            weight=np.nan_to_num(_numeric(data[design.weight])),
            psu=psu,
            psu_stratum=psu_stratum,
            stratum_size=np.bincount(psu_stratum, minlength=len(stratum_values)),
            stratum_labels=pd.Index(stratum_values),
            psu_values=pd.Index(psu_values),
            pairs=pd.Index(pairs),
        )

    def locate(self, stratum: pd.Series, psu: pd.Series) -> np.ndarray:
        """PSU ids of (stratum, psu) value pairs; every pair must exist in the design."""
        stratum_code = self.stratum_labels.get_indexer(stratum)
        psu_code = self.psu_values.get_indexer(psu)
        ids = self.pairs.get_indexer(stratum_code.astype(np.int64) * len(self.psu_values) + psu_code)
        if ((stratum_code < 0) | (psu_code < 0) | (ids < 0)).any():
            raise ValueError("psu_totals has (stratum, psu) pairs that are not in the design data")
        return ids


@dataclass(frozen=True)
class _Ratio:
    estimate: np.ndarray  # per domain; NaN when the weighted denominator is 0
    n_unweighted: np.ndarray  # per domain: rows with x != 0
    denominator: np.ndarray  # per domain: sum w x
    rows: np.ndarray  # rows carrying a linearized value (domain members with x != 0 or y != 0, estimate defined)
    u: np.ndarray  # their linearized values w (y - R x) / X


def _numeric(column: pd.Series) -> np.ndarray:
    return column.to_numpy(dtype="float64", na_value=np.nan)


def _equals(column: pd.Series, value) -> np.ndarray:
    return column.eq(value).to_numpy(dtype=bool, na_value=False)


def _domain_codes(data: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Domain code per row (-1 when a `by` column is NULL) and the domains' `by` values, in sorted order."""
    by = list(by)
    if not by:
        return np.zeros(len(data), dtype=np.int64), pd.DataFrame(index=pd.RangeIndex(1))
    groups = data.groupby(by, sort=True, dropna=True, observed=True)
    codes = groups.ngroup().to_numpy(dtype="float64", na_value=np.nan)  # NaN for rows in no group
    keys = groups.size().index.to_frame(index=False)
    return np.nan_to_num(codes, nan=-1).astype(np.int64), keys


def _ratio(y: np.ndarray, x: np.ndarray, weight: np.ndarray, domain: np.ndarray, n_domains: int) -> _Ratio:
    y, x = np.nan_to_num(y), np.nan_to_num(x)
    rows = np.flatnonzero(domain >= 0)
    d = domain[rows]
    wy, wx = weight[rows] * y[rows], weight[rows] * x[rows]
    numerator = np.bincount(d, wy, minlength=n_domains)
    denominator = np.bincount(d, wx, minlength=n_domains)
    n = np.bincount(d[x[rows] != 0], minlength=n_domains)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.where(denominator != 0, numerator / denominator, np.nan)
    carries = ((y[rows] != 0) | (x[rows] != 0)) & (denominator[d] != 0)
    rows, d, wy, wx = rows[carries], d[carries], wy[carries], wx[carries]
    u = (wy - estimate[d] * wx) / denominator[d]
    return _Ratio(estimate, n, denominator, rows, u)


def _psu_totals(domain: np.ndarray, psu: np.ndarray, u: np.ndarray,
                n_psu: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum u by (domain, PSU): returns (domain, psu, z) of the pairs present."""
    cell, pairs = pd.factorize(domain.astype(np.int64) * n_psu + psu)
    z = np.bincount(cell, u, minlength=len(pairs))
    return pairs // n_psu, pairs % n_psu, z


def _variance(z_domain: np.ndarray, z_psu: np.ndarray, z: np.ndarray, codes: _DesignCodes,
              n_domains: int) -> np.ndarray:
    """Per-domain sum_h n_h/(n_h-1) sum_i (z_hi - zbar_h)^2 over ALL PSUs of each stratum (absent ones are 0)."""
    n_strata = len(codes.stratum_size)
    stratum = codes.psu_stratum[z_psu]
    cell, pairs = pd.factorize(z_domain * n_strata + stratum)  # (domain, stratum) cells touched by the domain
    cell_domain, cell_stratum = pairs // n_strata, pairs % n_strata
    n_h = codes.stratum_size[cell_stratum].astype(float)
    touched = np.bincount(cell, minlength=len(pairs))
    total = np.bincount(cell, z, minlength=len(pairs))
    mean = total / n_h
    # two-pass sum of squares: deviations of the touched PSUs plus the untouched PSUs (z = 0) at distance mean
    squares = np.bincount(cell, (z - mean[cell]) ** 2, minlength=len(pairs)) + (n_h - touched) * mean ** 2
    several = n_h > 1
    variance = np.bincount(cell_domain[several], squares[several] * n_h[several] / (n_h[several] - 1),
                           minlength=n_domains)

    lonely = ~several
    if lonely.any():
        # R lonely.psu="adjust" (as R and svy compute it on the domain's subset): a single-PSU stratum holding
        # domain members adds (z - c)^2, c = the domain's total over the PSUs of the strata it touches. For a
        # ratio the z sum to 0, so c = 0.
        d = cell_domain[lonely]
        psus_in_touched_strata = np.bincount(cell_domain, n_h, minlength=n_domains)
        center = np.bincount(cell_domain, total, minlength=n_domains) / np.maximum(psus_in_touched_strata, 1)
        variance += np.bincount(d, (total[lonely] - center[d]) ** 2, minlength=n_domains)
    return np.maximum(variance, 0.0)


class _DomainCDF:
    """Weighted CDFs of `y` within every domain, for vectorized quantile look-ups."""

    def __init__(self, y: np.ndarray, weight: np.ndarray, domain: np.ndarray, inside: np.ndarray,
                 n_domains: int):
        rows = np.flatnonzero(inside & (weight > 0))  # zero weights cannot move a quantile (R drops them too)
        rows = rows[np.lexsort((y[rows], domain[rows]))]
        self.domain = domain[rows]
        self.y = y[rows]
        w = weight[rows]
        self.cumulative = pd.Series(w).groupby(self.domain).cumsum().to_numpy()
        self.total = np.bincount(self.domain, w, minlength=n_domains)
        self.n_domains = n_domains

    def quantile(self, p: np.ndarray) -> np.ndarray:
        """Per domain: the smallest y whose CDF reaches p_d (NaN for an empty domain or a NaN p_d)."""
        target = p[self.domain] * self.total[self.domain]
        # relative slack so that a CDF equal to p up to rounding counts as reaching it
        reached = np.flatnonzero(self.cumulative >= target - 1e-12 * self.total[self.domain])
        out = np.full(self.n_domains, np.nan)
        if len(reached):
            # rows are sorted by domain, so the first reaching row of each domain starts a new domain run
            first = reached[np.r_[True, self.domain[reached[1:]] != self.domain[reached[:-1]]]]
            out[self.domain[first]] = self.y[first]
        return out
