"""Intervals for the figures of a review (DESIGN.md §6).

Every proportion carries its n and a Wilson score interval; NPS carries the interval
from its standard error. Functions are vectorised over NumPy arrays and work on the small
aggregated outputs of the KPI calculators.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as _st

__all__ = [
    "z_value", "wilson_interval", "nps_standard_error", "mean_interval", "se_from_interval",
    "difference_of_proportions", "difference_of_estimates", "verdict", "target_status",
    "median_interval", "median_intervals", "counted_medians", "group_order",
]


def z_value(confidence: float = 0.95) -> float:
    """Two-sided normal quantile for ``confidence`` (1.959964 for 95 %).

    Parameters
    ----------
    confidence : float, default 0.95
        Confidence level, between 0 and 1.

    Returns
    -------
    float
        The quantile ``z`` with ``P(-z < Z < z) = confidence`` for a standard normal ``Z``.

    Examples
    --------
    >>> round(z_value(), 2), round(z_value(0.90), 3)
    (1.96, 1.645)
    """
    return float(_st.norm.ppf(0.5 + confidence / 2))


def wilson_interval(
    successes: ArrayLike, n: ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion ``successes / n``.

    ``n = 0`` gives ``nan`` bounds: there is nothing to estimate.

    Parameters
    ----------
    successes : array_like
        Number of successes (answers in the top box, tickets transferred...).
    n : array_like
        Number of trials; ``successes`` and ``n`` broadcast together.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    low : numpy.ndarray
        Lower bounds, between 0 and 1.
    high : numpy.ndarray
        Upper bounds, between 0 and 1.

    Examples
    --------
    >>> lo, hi = wilson_interval(8, 10)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.4902, 0.9433)
    """
    k = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    z = z_value(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / m
        denom = 1 + z**2 / m
        centre = (p + z**2 / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
    return centre - half, centre + half


def nps_standard_error(promoters: ArrayLike, detractors: ArrayLike, n: ArrayLike) -> np.ndarray:
    """Standard error of NPS in points: 100·√[(p + d − (p − d)²)/n] (DESIGN.md §5).

    Parameters
    ----------
    promoters : array_like
        Number of answers 9-10.
    detractors : array_like
        Number of answers 0-6.
    n : array_like
        Number of answers.

    Returns
    -------
    numpy.ndarray
        The standard error in NPS points (``nan`` where ``n`` is 0).

    Examples
    --------
    >>> round(float(nps_standard_error(50, 20, 100)), 4)  # 100·√[(0.5 + 0.2 − 0.3²)/100]
    7.8102
    """
    m = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.asarray(promoters, dtype=float) / m
        d = np.asarray(detractors, dtype=float) / m
        return 100 * np.sqrt((p + d - (p - d) ** 2) / m)


def difference_of_proportions(
    k1: ArrayLike, n1: ArrayLike, k2: ArrayLike, n2: ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Change ``k1/n1 − k2/n2`` with Newcombe's hybrid score interval (method 10), built
    from the two Wilson intervals; ``nan`` when either n is 0.

    Parameters
    ----------
    k1, n1 : array_like
        Successes and trials of the first (current) figure.
    k2, n2 : array_like
        Successes and trials of the second (previous) figure.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    difference : numpy.ndarray
        The change, as a share (0.05 is 5 points).
    low : numpy.ndarray
        Lower bound of its interval.
    high : numpy.ndarray
        Upper bound of its interval.

    Examples
    --------
    >>> d, lo, hi = difference_of_proportions(56, 70, 48, 80)  # Newcombe (1998), example
    >>> round(float(d), 4), round(float(lo), 4), round(float(hi), 4)
    (0.2, 0.0524, 0.3339)
    """
    l1, u1 = wilson_interval(k1, n1, confidence)
    l2, u2 = wilson_interval(k2, n2, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p1 = np.asarray(k1, dtype=float) / np.asarray(n1, dtype=float)
        p2 = np.asarray(k2, dtype=float) / np.asarray(n2, dtype=float)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high


def difference_of_estimates(
    value1: ArrayLike, se1: ArrayLike, value2: ArrayLike, se2: ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Change ``value1 − value2`` of two independent estimates with SE = √(SE₁² + SE₂²).

    This is the NPS rule of DESIGN.md §5; the review applies it as well to means (CES)
    and medians (durations), whose SE comes from their own interval
    (:func:`se_from_interval`).

    Parameters
    ----------
    value1, se1 : array_like
        The first (current) estimate and its standard error.
    value2, se2 : array_like
        The second (previous) estimate and its standard error.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    difference : numpy.ndarray
        The change.
    low : numpy.ndarray
        Lower bound of its normal interval.
    high : numpy.ndarray
        Upper bound of its normal interval.

    Examples
    --------
    >>> d, lo, hi = difference_of_estimates(30, 7.8102, 20, 6.0)  # NPS 30 vs 20
    >>> round(float(d), 1), round(float(lo), 2), round(float(hi), 2)
    (10.0, -9.3, 29.3)
    """
    d = np.asarray(value1, dtype=float) - np.asarray(value2, dtype=float)
    se = np.sqrt(np.asarray(se1, dtype=float) ** 2 + np.asarray(se2, dtype=float) ** 2)
    half = z_value(confidence) * se
    return d, d - half, d + half


def welch_difference(
    mean1: ArrayLike, var1: ArrayLike, n1: ArrayLike, mean2: ArrayLike, var2: ArrayLike, n2: ArrayLike,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Change of two means ``mean1 − mean2`` with Welch's interval (unequal variances,
    Welch-Satterthwaite degrees of freedom), from the means, sample variances and counts a
    group-by gives; all ``nan`` where either group has fewer than 2 values. The interval of
    :func:`scipy.stats.ttest_ind` with ``equal_var=False``.

    Parameters
    ----------
    mean1, var1, n1 : array_like
        Mean, sample variance (ddof 1) and count of the first (current) group.
    mean2, var2, n2 : array_like
        The same of the second (previous) group.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    difference : numpy.ndarray
        The change.
    low : numpy.ndarray
        Lower bound of Welch's interval.
    high : numpy.ndarray
        Upper bound of Welch's interval.

    Examples
    --------
    >>> a, b = np.array([5.0, 6, 5, 6]), np.array([10.0, 11, 10, 12])
    >>> d, lo, hi = welch_difference(a.mean(), a.var(ddof=1), 4, b.mean(), b.var(ddof=1), 4)
    >>> ci = _st.ttest_ind(a, b, equal_var=False).confidence_interval()
    >>> float(d), bool(np.isclose(lo, ci.low) and np.isclose(hi, ci.high))
    (-5.25, True)
    """
    m1, m2 = np.asarray(n1, dtype=float), np.asarray(n2, dtype=float)
    enough = (m1 >= 2) & (m2 >= 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.asarray(var1, dtype=float) / m1
        b = np.asarray(var2, dtype=float) / m2
        df = (a + b) ** 2 / (a**2 / (m1 - 1) + b**2 / (m2 - 1))
        half = _st.t.ppf(0.5 + confidence / 2, df) * np.sqrt(a + b)
        d = np.asarray(mean1, dtype=float) - np.asarray(mean2, dtype=float)
    nan = np.full(np.broadcast(d, enough).shape, np.nan)
    return (np.where(enough, d, nan), np.where(enough, d - half, nan), np.where(enough, d + half, nan))


def mean_interval(
    total: ArrayLike, sum_of_squares: ArrayLike, n: ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean with its Student-t interval, from the sums a group-by gives.

    Returns ``mean, low, high, se`` with ``se = s / √n`` (sample standard deviation
    ``s``); bounds are ``nan`` for ``n < 2``.

    Parameters
    ----------
    total : array_like
        Sum of the values of each group.
    sum_of_squares : array_like
        Sum of the squared values of each group.
    n : array_like
        Number of values of each group.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    mean : numpy.ndarray
        The mean.
    low : numpy.ndarray
        Lower bound of its Student-t interval.
    high : numpy.ndarray
        Upper bound of its Student-t interval.
    se : numpy.ndarray
        Its standard error.

    Examples
    --------
    >>> x = np.array([7, 6, 5, 3, 7])  # mean 5.6, s = 1.6733
    >>> [round(float(v), 4) for v in mean_interval(x.sum(), (x ** 2).sum(), 5)]
    [5.6, 3.5223, 7.6777, 0.7483]
    """
    s1, s2 = np.asarray(total, dtype=float), np.asarray(sum_of_squares, dtype=float)
    m = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / m
        variance = np.clip((s2 - m * mean**2) / (m - 1), 0, None)
        se = np.where(m > 1, np.sqrt(variance / m), np.nan)
        t = _st.t.ppf(0.5 + confidence / 2, np.where(m > 1, m - 1, np.nan))
    return mean, mean - t * se, mean + t * se, se


def se_from_interval(low: ArrayLike, high: ArrayLike, confidence: float = 0.95) -> np.ndarray:
    """Standard error implied by a (roughly symmetric) interval: (high − low) / (2·z).

    Used for medians, whose order-statistic or Kaplan-Meier interval has no closed-form
    SE; the change of two medians then follows :func:`difference_of_estimates` (a normal
    approximation, fair for the n ≥ ``min_n`` a verdict needs).

    Parameters
    ----------
    low, high : array_like
        Bounds of the interval.
    confidence : float, default 0.95
        Confidence level the interval was built for.

    Returns
    -------
    numpy.ndarray
        The implied standard error.

    Examples
    --------
    >>> round(float(se_from_interval(8.04, 11.96)), 4)
    1.0
    """
    return (np.asarray(high, dtype=float) - np.asarray(low, dtype=float)) / (2 * z_value(confidence))


def verdict(low: ArrayLike, high: ArrayLike, *, higher_is_better: bool, change: ArrayLike | None = None,
            threshold: ArrayLike = 0.0) -> np.ndarray:
    """``improved`` / ``worsened`` when the interval of the change excludes 0 and the change
    reaches ``threshold`` (the minimum important difference), ``real but small`` when the
    interval excludes 0 but the change is smaller than that, else ``within noise``
    (``not comparable`` when the interval is missing; DESIGN.md §6).

    Parameters
    ----------
    low, high : array_like
        Bounds of the interval of the change (current minus previous).
    higher_is_better : bool
        Whether a rise of the KPI is good (CSAT) or bad (reopen rate).
    change : array_like, optional
        The change itself; needed for ``threshold`` (default: the middle of the interval).
    threshold : array_like, default 0.0
        The smallest change worth acting on, in the KPI's unit (broadcast to the bounds).

    Returns
    -------
    numpy.ndarray
        One verdict (text) per interval, dtype object.

    Examples
    --------
    >>> verdict([0.05, -0.1, np.nan], [0.2, 0.1, np.nan], higher_is_better=False).tolist()
    ['worsened', 'within noise', 'not comparable']

    A first response 36 s (0.01 h) faster, interval −0.015 to −0.005 h, against a minimum
    important difference of 0.25 h: real, but too small to matter.

    >>> verdict([-0.015], [-0.005], higher_is_better=False, change=[-0.01], threshold=0.25).tolist()
    ['real but small']
    """
    lo, hi = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    d = (lo + hi) / 2 if change is None else np.asarray(change, dtype=float)
    big = np.abs(d) >= np.broadcast_to(np.asarray(threshold, dtype=float), lo.shape) - 1e-12
    up, down = lo > 0, hi < 0
    better, worse = (up, down) if higher_is_better else (down, up)
    out = np.where(better & big, "improved", np.where(worse & big, "worsened",
                   np.where(up | down, "real but small", "within noise")))
    return np.where(np.isnan(lo) | np.isnan(hi), "not comparable", out).astype(object)


def target_status(
    low: ArrayLike, high: ArrayLike, target: ArrayLike, *, higher_is_better: bool
) -> np.ndarray:
    """Status against a planned target (review.yml ``targets``), judged on the interval.

    ``met`` when the whole interval is on the good side of the target, ``missed`` when
    it is wholly on the bad side, ``unclear`` when it straddles the target, ``no target``
    when none is planned (``nan``) and ``not measured`` when there is no interval.

    Parameters
    ----------
    low, high : array_like
        Bounds of the KPI's interval.
    target : array_like
        The planned target (``nan``: none), broadcast to the bounds.
    higher_is_better : bool
        Whether a higher KPI is better.

    Returns
    -------
    numpy.ndarray
        One status (text) per interval, dtype object.

    Examples
    --------
    >>> target_status([0.82, 0.70, 0.78, 0.8], [0.90, 0.79, 0.83, 0.9], [0.8, 0.8, 0.8, np.nan],
    ...               higher_is_better=True).tolist()
    ['met', 'missed', 'unclear', 'no target']
    """
    lo, hi = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    goal = np.broadcast_to(np.asarray(target, dtype=float), lo.shape)
    good_low, good_high = (lo, hi) if higher_is_better else (-hi, -lo)
    aim = goal if higher_is_better else -goal
    with np.errstate(invalid="ignore"):
        out = np.where(good_low >= aim, "met", np.where(good_high < aim, "missed", "unclear"))
    out = np.where(np.isnan(lo) | np.isnan(hi), "not measured", out)
    return np.where(np.isnan(goal), "no target", out).astype(object)


def group_order(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Positions that sort rows by group code, then by value; rows equal in both come in
    any order (callers aggregate them). The result of ``numpy.lexsort((values, codes))``
    up to such ties, in a fraction of its time: one unstable sort of the values (NumPy's
    vectorised sort), then a stable radix sort of the small group codes.

    Parameters
    ----------
    codes : numpy.ndarray
        Group of each row, whole numbers from 0.
    values : numpy.ndarray
        The values sorted within each group (``nan`` last, as NumPy sorts them).

    Returns
    -------
    numpy.ndarray
        Row positions, int64.

    Examples
    --------
    >>> codes, values = np.array([1, 0, 1, 0]), np.array([3.0, 5.0, 1.0, 2.0])
    >>> group_order(codes, values).tolist(), np.lexsort((values, codes)).tolist()
    ([3, 1, 2, 0], [3, 1, 2, 0])
    """
    codes = np.asarray(codes)
    order = np.argsort(values)
    if len(codes) and codes.max() > codes.min():
        top = int(codes.max())
        small = np.int16 if top <= np.iinfo(np.int16).max else np.int32 if top <= np.iinfo(np.int32).max else np.int64
        order = order[np.argsort(codes[order].astype(small), kind="stable")]  # radix sort for int16
    return order


def sorted_by_group(values: np.ndarray, codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The non-missing ``values`` sorted within their group: ``(sorted, start, n)`` where
    group ``g`` holds ``sorted[start[g] : start[g] + n[g]]`` in ascending order.

    Examples
    --------
    >>> x, start, n = sorted_by_group(np.array([3.0, 1.0, np.nan, 2.0]), np.array([1, 1, 0, 0]), 2)
    >>> x.tolist(), start.tolist(), n.tolist()
    ([2.0, 1.0, 3.0], [0, 1], [1, 2])
    """
    values = np.asarray(values, dtype=float)
    keep = ~np.isnan(values)
    v, c = values[keep], np.asarray(codes)[keep]
    order = group_order(c, v)
    n = np.bincount(c, minlength=size)
    return v[order], np.cumsum(n) - n, n


def group_quantile(x: np.ndarray, start: np.ndarray, n: np.ndarray, q: float, at=None) -> np.ndarray:
    """Quantile ``q`` of each group of :func:`sorted_by_group`, exactly as
    :func:`numpy.quantile` (linear method) computes it; ``nan`` for an empty group.
    ``at`` (optional) gives the value at a rank where ``x`` holds counted values
    (:func:`median_intervals` with ``counts``).

    Examples
    --------
    >>> x, start, n = sorted_by_group(np.array([1.0, 2.0, 4.0, 10.0]), np.array([0, 0, 0, 1]), 3)
    >>> group_quantile(x, start, n, 0.5).tolist()
    [2.0, 10.0, nan]
    """
    ok = n > 0
    out = np.full(len(n), np.nan)
    if not ok.any():
        return out
    s, m = start[ok], n[ok]
    virtual = (m - 1) * q
    below = np.floor(virtual).astype(np.int64)
    above = np.minimum(below + 1, m - 1)
    t = virtual - below
    pick = (lambda rank: x[rank]) if at is None else at
    a, b = pick(s + below), pick(s + above)
    diff = b - a
    out[ok] = np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)
    return out


def median_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Median of ``values`` with its distribution-free (order-statistic) interval.

    The interval comes from :func:`scipy.stats.quantile_test`; it is ``nan`` when there
    are too few values to reach the confidence.

    Parameters
    ----------
    values : numpy.ndarray
        The values; missing ones (``nan``) are left out.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    median : float
        The median; ``nan`` without values.
    low : float
        Lower bound of its interval; ``nan`` when too few values.
    high : float
        Upper bound of its interval; ``nan`` when too few values.

    Examples
    --------
    >>> [round(float(v), 2) for v in median_interval(np.arange(1.0, 12.0))]
    [6.0, 2.0, 10.0]
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if not len(x):
        return np.nan, np.nan, np.nan
    ci = _st.quantile_test(x, q=np.median(x), p=0.5).confidence_interval(confidence)
    return float(np.median(x)), float(ci.low), float(ci.high)


def group_median(x: np.ndarray, start: np.ndarray, n: np.ndarray, at=None) -> np.ndarray:
    """Median of each group of :func:`sorted_by_group`, as
    :func:`numpy.median` computes it (mean of the two middle values when n is even);
    ``at`` as in :func:`group_quantile`.
    """
    out = np.full(len(n), np.nan)
    ok = n > 0
    s, m = start[ok], n[ok]
    pick = (lambda rank: x[rank]) if at is None else at
    low, high = pick(s + (m - 1) // 2), pick(s + m // 2)
    out[ok] = np.where(m % 2 == 1, high, (low + high) / 2)
    return out


def median_intervals(
    values: np.ndarray, codes: np.ndarray, size: int, confidence: float = 0.95, counts: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """:func:`median_interval` of every group at once, with the p90 and n.

    ``values[i]`` belongs to group ``codes[i]`` (``0 .. size - 1``); missing values are
    left out. The order-statistic interval is the one of :func:`scipy.stats.quantile_test`
    (binomial quantiles of each group's n), computed for all groups in one call. With
    ``counts``, ``values[i]`` occurs ``counts[i]`` times: the aggregate an engine's
    group-by gives (distinct values with their counts) yields the figures of the values
    written out.

    Parameters
    ----------
    values : numpy.ndarray
        The values of every group, in any order.
    codes : numpy.ndarray
        Group of each value, a whole number from 0 to ``size - 1``.
    size : int
        Number of groups.
    confidence : float, default 0.95
        Confidence level.
    counts : numpy.ndarray, optional
        How many times each value occurs (default once).

    Returns
    -------
    dict
        ``value, ci_low, ci_high, p90, n, max`` as arrays of length ``size``.

    Examples
    --------
    >>> r = median_intervals(np.r_[np.arange(1.0, 12.0), 5.0], np.r_[[0] * 11, 1], 2)
    >>> [[float(v) for v in r[c]] for c in ("value", "ci_low", "ci_high", "n")]
    [[6.0, 5.0], [2.0, nan], [10.0, nan], [11.0, 1.0]]
    >>> r = median_intervals(np.array([1.0, 2.0, 9.0]), np.zeros(3, int), 1, counts=np.array([5, 1, 5]))
    >>> float(r["value"][0]), int(r["n"][0]), float(r["max"][0])  # 1 five times, 2, 9 five times
    (2.0, 11, 9.0)
    """
    if counts is None:
        x, start, n = sorted_by_group(values, codes, size)
        at = None
    else:  # ranks in the values written out, found by their cumulative counts
        x, start, n, at = _counted(values, counts, codes, size)
    pick = (lambda rank: x[rank]) if at is None else at
    low = np.full(size, np.nan)
    high = np.full(size, np.nan)
    ok = n > 0
    if ok.any():
        alpha = (1 - confidence) / 2
        m = n[ok]
        low_index = _st.binom.ppf(alpha, m, 0.5).astype(np.int64) - 1
        high_index = _st.binom.isf(alpha, m, 0.5).astype(np.int64)
        s = start[ok]
        low[ok] = np.where(low_index >= 0, pick(s + np.maximum(low_index, 0)), np.nan)
        high[ok] = np.where(high_index < m, pick(s + np.minimum(high_index, m - 1)), np.nan)
    top = np.full(size, np.nan)
    top[ok] = pick(start[ok] + n[ok] - 1)
    return {"value": group_median(x, start, n, at), "ci_low": low, "ci_high": high,
            "p90": group_quantile(x, start, n, 0.9, at), "n": n, "max": top}


def counted_medians(values: np.ndarray, counts: np.ndarray, codes: np.ndarray, size: int, *,
                    presorted: bool = False) -> np.ndarray:
    """Median of each group where ``values[i]`` occurs ``counts[i]`` times, as
    :func:`numpy.median` of the values written out (mean of the two middle values when the
    group's count is even); ``nan`` for an empty group. This is the median of an aggregate:
    the distinct values of each group with how often they occur, as an engine's group-by
    gives them; missing values (``nan``) are left out. See :func:`median_intervals`.

    Parameters
    ----------
    values : numpy.ndarray
        The distinct values of every group, in any order (a value may repeat).
    counts : numpy.ndarray
        How many times each value occurs (whole numbers, 0 allowed).
    codes : numpy.ndarray
        Group of each value, a whole number from 0 to ``size - 1``.
    size : int
        Number of groups.
    presorted : bool, default False
        The values are already in order of group, then value (a caller that sorted them
        for another figure): they are not sorted again.

    Returns
    -------
    numpy.ndarray
        One median per group.

    Examples
    --------
    >>> counted_medians(np.array([1.0, 5.0, 2.0, 7.0]), np.array([2, 1, 1, 3]), np.array([0, 0, 1, 1]), 3).tolist()
    [1.0, 7.0, nan]
    >>> float(np.median([1.0, 1.0, 5.0])), float(np.median([2.0, 7.0, 7.0, 7.0]))
    (1.0, 7.0)
    """
    return group_median(*_counted(values, counts, codes, size, presorted=presorted))


def _counted(values: np.ndarray, counts: np.ndarray, codes: np.ndarray, size: int, *, presorted: bool = False
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """Counted values as :func:`sorted_by_group` gives raw ones, ``(sorted, start, n, at)``:
    group ``g`` is ranks ``start[g] .. start[g] + n[g] - 1`` of its values written out,
    and ``at(rank)`` the value at a rank (found by the cumulative counts). Missing values
    and counts of 0 are left out; ``presorted``: already in order of group, then value.
    """
    values, weight = np.asarray(values, dtype=float), np.asarray(counts, dtype=np.int64)
    keep = ~np.isnan(values) & (weight > 0)
    x, w, c = values[keep], weight[keep], np.asarray(codes)[keep]
    if not presorted:
        order = group_order(c, x)
        x, w, c = x[order], w[order], c[order]
    upto = np.cumsum(w)
    n = np.bincount(c, weights=w, minlength=size).astype(np.int64)

    def at(rank: np.ndarray) -> np.ndarray:
        return x[np.searchsorted(upto, rank, side="right")]
    return x, np.cumsum(n) - n, n, at
