"""Intervals for the figures of a review (DESIGN.md §6).

Every proportion carries its n and a Wilson score interval; NPS carries the interval
from its standard error. Functions are vectorised over NumPy arrays and work on the small
aggregated outputs of the KPI calculators.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as _st

__all__ = ["z_value", "wilson_interval", "nps_standard_error"]


def z_value(confidence: float = 0.95) -> float:
    """Two-sided normal quantile for ``confidence`` (1.959964 for 95 %)."""
    return float(_st.norm.ppf(0.5 + confidence / 2))


def wilson_interval(
    successes: ArrayLike, n: ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion ``successes / n``.

    ``n = 0`` gives ``nan`` bounds: there is nothing to estimate.

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
