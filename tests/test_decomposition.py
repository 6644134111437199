"""Oaxaca–Blinder decomposition with Rao–Wu bootstrap standard errors, on synthetic two-stage cluster samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dagster_project.sources.survey.decomposition import (
    RESULT_COLUMNS, oaxaca_blinder, oaxaca_blinder_cells, rao_wu_multipliers,
)

LEVELS = np.array(["primary", "secondary", "tertiary"])
LEVEL_RETURN = {"primary": 0.0, "secondary": 0.25, "tertiary": 0.6}
SLOPE = 0.08  # shared return to the numeric covariate
STRATUM_WEIGHT = np.array([50.0, 120.0, 300.0, 800.0])  # cluster weight factor of each stratum
STRATUM_SHIFT = np.array([-1.0, 0.0, 0.5, 1.5])  # stratum effect on the numeric covariate


def draw_group(rng, name, *, intercept, x_mean, level_probs, psus_per_stratum, persons, first_psu=0):
    """One two-stage cluster sample: in each stratum `psus_per_stratum` clusters with random effects on x and y,
    `persons` (min, max) persons each; weight = stratum factor × 20 / persons sampled in the cluster."""
    frames = []
    psu = first_psu
    for stratum, (factor, shift) in enumerate(zip(STRATUM_WEIGHT, STRATUM_SHIFT)):
        for _ in range(psus_per_stratum):
            m = int(rng.integers(persons[0], persons[1] + 1))
            x = x_mean + shift + rng.normal(0, 0.7) + rng.normal(0, 1.0, m)
            level = rng.choice(LEVELS, size=m, p=level_probs)
            returns = np.array([LEVEL_RETURN[v] for v in level])
            y = intercept + SLOPE * x + returns + rng.normal(0, 0.15) + rng.normal(0, 0.4, m)
            frames.append(pd.DataFrame({
                "group": name, "stratum": stratum, "psu": psu, "weight": factor * 20 / m,
                "x": x, "education": level, "log_wage": y,
            }))
            psu += 1
    return pd.concat(frames, ignore_index=True)


def population_mean_x(x_mean):
    return x_mean + STRATUM_SHIFT @ STRATUM_WEIGHT / STRATUM_WEIGHT.sum()


REF = dict(intercept=1.5, x_mean=10.0, level_probs=[0.2, 0.5, 0.3])
CMP = dict(intercept=1.2, x_mean=8.0, level_probs=[0.3, 0.3, 0.4])
DELTA = REF["intercept"] - CMP["intercept"]
TRUE_EXPLAINED = SLOPE * (population_mean_x(REF["x_mean"]) - population_mean_x(CMP["x_mean"])) + sum(
    LEVEL_RETURN[v] * (p_ref - p_cmp) for v, p_ref, p_cmp in zip(LEVELS, REF["level_probs"], CMP["level_probs"]))


def sample(rng, ref=REF, cmp=CMP, ref_psus=40, cmp_psus=25, ref_persons=(10, 30), cmp_persons=(5, 15)):
    return pd.concat([
        draw_group(rng, "host", psus_per_stratum=ref_psus, persons=ref_persons, **ref),
        draw_group(rng, "migrant", psus_per_stratum=cmp_psus, persons=cmp_persons, **cmp),
    ], ignore_index=True)


def decompose(data, **overrides):
    arguments = dict(outcome="log_wage", group="group", reference="host", comparison="migrant",
                     covariates=["x", "education"], categorical=["education"], weight="weight",
                     stratum="stratum", psu="psu", replicates=100, seed=1)
    return oaxaca_blinder(data, **(arguments | overrides))


def literal_decomposition(data, covariates, categorical, base):
    """Straight from the formula: WLS in each group with shared dummies (lstsq; a level a group lacks is an
    all-zero column, coefficient 0), explained = (xbar_ref − xbar_cmp)'b_ref,
    unexplained = xbar_cmp'(b_ref − b_cmp)."""
    data = data.dropna(subset=["log_wage", "weight", *covariates])
    columns = [pd.Series(1.0, index=data.index, name="const")] + [data[c].astype(float) for c in covariates
                                                                    if c not in categorical]
    for c in categorical:
        columns += [(data[c] == level).astype(float).rename(f"{c}={level}")
                    for level in sorted(data[c].unique()) if level != base[c]]
    x = pd.concat(columns, axis=1)
    fits = {}
    for name in ("host", "migrant"):
        rows = data["group"] == name
        xg, yg, wg = x[rows].to_numpy(), data.loc[rows, "log_wage"].to_numpy(), data.loc[rows, "weight"].to_numpy()
        root = np.sqrt(wg)
        beta = np.linalg.lstsq(xg * root[:, None], yg * root, rcond=None)[0]
        fits[name] = (wg @ xg / wg.sum(), wg @ yg / wg.sum(), beta)
    (x_ref, y_ref, b_ref), (x_cmp, y_cmp, b_cmp) = fits["host"], fits["migrant"]
    return y_ref - y_cmp, (x_ref - x_cmp) @ b_ref, x_cmp @ (b_ref - b_cmp)


def test_recovers_known_intercept_gap_and_covariate_part():
    data = sample(np.random.default_rng(11), ref_psus=60, cmp_psus=40)
    row = decompose(data).iloc[0]
    assert list(decompose(data).columns) == RESULT_COLUMNS
    assert abs(row.gap - (row.explained + row.unexplained)) < 1e-10
    assert abs(row.unexplained - DELTA) < 3.5 * row.se_unexplained
    assert abs(row.explained - TRUE_EXPLAINED) < 3.5 * row.se_explained
    assert row.n_reference == (data.group == "host").sum() and row.n_comparison == (data.group == "migrant").sum()
    assert row.explained_share == pytest.approx(row.explained / row.gap)
    assert 0 < row.se_unexplained < 0.1 and 0 < row.se_explained < 0.1
    # the shortcut (only the host regression is fitted) equals the literal two-regression formula
    host = data[data.group == "host"]
    base = {"education": host.groupby("education")["weight"].sum().idxmax()}
    gap, explained, unexplained = literal_decomposition(data, ["x", "education"], ["education"], base)
    assert (row.gap, row.explained, row.unexplained) == pytest.approx((gap, explained, unexplained), abs=1e-10)


def test_identical_groups_have_no_unexplained_gap():
    rng = np.random.default_rng(5)
    data = pd.concat([draw_group(rng, "host", psus_per_stratum=40, persons=(10, 30), **REF),
                      draw_group(rng, "migrant", psus_per_stratum=40, persons=(10, 30), **REF)], ignore_index=True)
    row = decompose(data).iloc[0]
    assert abs(row.unexplained) < 3 * row.se_unexplained
    assert abs(row.explained) < 3 * row.se_explained
    assert abs(row.gap - (row.explained + row.unexplained)) < 1e-10


def test_level_in_one_group_only_is_priced_at_the_base_level():
    data = sample(np.random.default_rng(3))
    host, migrant = data.group == "host", data.group == "migrant"
    data.loc[migrant & (data.index % 7 == 0), "education"] = "postgraduate"  # no host has it
    data.loc[host & (data.psu == 3), "education"] = "technical"  # hosts only, in a single PSU
    row = decompose(data).iloc[0]
    assert np.isfinite(row[["gap", "explained", "unexplained", "se_gap", "se_explained", "se_unexplained"]]
                       .astype(float)).all()
    assert abs(row.gap - (row.explained + row.unexplained)) < 1e-10
    base = {"education": data[host].groupby("education")["weight"].sum().idxmax()}
    expected = literal_decomposition(data, ["x", "education"], ["education"], base)
    assert (row.gap, row.explained, row.unexplained) == pytest.approx(expected, abs=1e-10)


def test_bootstrap_se_matches_monte_carlo_spread():
    rng = np.random.default_rng(2024)
    estimates, standard_errors = [], []
    for _ in range(100):
        data = sample(rng, ref_psus=10, cmp_psus=8, ref_persons=(8, 20), cmp_persons=(5, 12))
        result = oaxaca_blinder_cells(
            data, outcome="log_wage", group="group", reference="host", comparison="migrant",
            covariates=["x", "education"], categorical=["education"], weight="weight", stratum="stratum",
            psu="psu", replicates=100, seed=int(rng.integers(1 << 31)),
        )[0]
        estimates.append([result.gap, result.explained, result.unexplained])
        standard_errors.append([result.se_gap, result.se_explained, result.se_unexplained])
    monte_carlo_sd = np.std(estimates, axis=0, ddof=1)
    ratio = np.mean(standard_errors, axis=0) / monte_carlo_sd
    assert ((ratio > 0.75) & (ratio < 1.3)).all(), ratio


def test_by_gives_one_row_per_cell_with_the_cell_estimates():
    rng = np.random.default_rng(8)
    data = sample(rng)
    data["sex"] = rng.integers(1, 3, len(data))
    data["female"] = (data["sex"] == 2).astype(int)  # a covariate constant within each cell: coefficient 0
    data["log_wage"] += 0.1 * data["female"]
    covariates = ["x", "education", "female"]
    result = decompose(data, by=["sex"], covariates=covariates)
    assert list(result.columns) == ["sex", *RESULT_COLUMNS]
    assert result["sex"].tolist() == [1, 2]
    assert result["n_reference"].sum() == (data.group == "host").sum()
    for row in result.itertuples():
        cell = data[data.sex == row.sex]
        alone = decompose(cell, covariates=covariates).iloc[0]
        assert (row.gap, row.explained, row.unexplained) == pytest.approx(
            (alone.gap, alone.explained, alone.unexplained), abs=1e-10)
        assert np.isfinite([row.se_gap, row.se_explained, row.se_unexplained]).all()


def test_null_rows_are_dropped_and_counted():
    data = sample(np.random.default_rng(4))
    host = np.flatnonzero(data.group == "host")
    migrant = np.flatnonzero(data.group == "migrant")
    data.loc[host[:5], "log_wage"] = np.nan
    data.loc[host[5:8], "education"] = None
    data.loc[migrant[:4], "x"] = np.nan
    data.loc[migrant[4:6], "weight"] = np.nan
    data.loc[migrant[6], "log_wage"] = -np.inf  # log(0)
    row = decompose(data).iloc[0]
    assert (row.n_dropped_reference, row.n_dropped_comparison) == (8, 7)
    assert row.n_reference == len(host) - 8 and row.n_comparison == len(migrant) - 7
    assert np.isfinite(row.gap) and abs(row.gap - (row.explained + row.unexplained)) < 1e-10
    # a NULL `by` value: the row is in no cell (nor counted), its PSU stays in the design
    data["sex"] = np.where(data.index % 2 == 0, "f", "m")
    data.loc[host[-3:], "sex"] = None
    cells = decompose(data, by=["sex"])
    assert cells["sex"].tolist() == ["f", "m"]
    assert (cells.n_reference + cells.n_dropped_reference).sum() == len(host) - 3


def test_seed_makes_it_reproducible_and_bad_input_fails():
    data = sample(np.random.default_rng(6))
    pd.testing.assert_frame_equal(decompose(data, seed=3), decompose(data, seed=3))
    assert decompose(data, seed=3).se_gap[0] != decompose(data, seed=4).se_gap[0]
    with pytest.raises(ValueError, match="not in the data"):
        decompose(data, covariates=["x", "age"])
    with pytest.raises(ValueError, match="must also be covariates"):
        decompose(data, categorical=["education", "region"])
    with pytest.raises(ValueError, match="different groups"):
        decompose(data, comparison="host")
    broken = data.copy()
    broken.loc[0, "psu"] = None
    with pytest.raises(ValueError, match="'psu' is NULL"):
        decompose(broken)


def test_rao_wu_multipliers_resample_n_minus_one_psus_per_stratum():
    psu_stratum = np.array([0, 0, 0, 1, 1, 2, 1, 0, 5, 7])  # strata 2, 5 and 7 have a single PSU
    multipliers = rao_wu_multipliers(psu_stratum, 500, np.random.default_rng(0))
    assert multipliers.shape == (500, 10)
    times_drawn = multipliers[:, psu_stratum == 0] * 3 / 4
    assert np.allclose(times_drawn, np.round(times_drawn)) and (times_drawn.sum(axis=1) == 3).all()
    assert (multipliers[:, psu_stratum == 1] * 2 / 3).sum(axis=1).tolist() == [2] * 500
    lonely = np.isin(psu_stratum, [2, 5, 7])  # pooled: 2 of the 3 drawn, times 3/2
    assert (multipliers[:, lonely] * 2 / 3).sum(axis=1).tolist() == [2] * 500
    assert multipliers.mean() == pytest.approx(1, abs=0.05)
    one_lonely = rao_wu_multipliers(np.array([0, 0, 1]), 50, np.random.default_rng(0))
    assert (one_lonely[:, 2] == 1).all()
